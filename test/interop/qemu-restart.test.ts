// tsvirtd's QEMU driver across daemon restarts: a daemon killed with SIGKILL leaves its guest
// running, and the next daemon finds it again (status file + monitor socket), lists it running
// and can drive and destroy it; autostart domains start when the daemon starts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTsvirtd } from '../harness/tsvirtd.js';
import type { Libvirtd } from '../harness/libvirtd.js';
import { describeRun, runVirsh } from '../harness/run.js';
import { GUEST_NAME, guestPidsIn, guestXml, killGuestsIn, qemuEnv, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = qemuSkipReason();
const base = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-restart-'));
const daemons: Libvirtd[] = [];

before(() => {
  Object.assign(process.env, qemuEnv(base));
  writeFileSync(join(base, 'guest.xml'), guestXml());
  writeFileSync(join(base, 'auto.xml'), guestXml({ name: 'auto-guest' }));
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  killGuestsIn(base);
  rmSync(base, { recursive: true, force: true });
});

async function daemon(): Promise<Libvirtd> {
  const d = await startTsvirtd();
  daemons.push(d);
  return d;
}

async function virsh(d: Libvirtd, ...args: string[]): Promise<string> {
  const r = await runVirsh(d.uri('qemu'), args);
  assert.equal(r.code, 0, `virsh ${args.join(' ')}: ${describeRun(r)}`);
  return r.stdout;
}

/** Gone, or a zombie waiting for init to reap it. */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

test('a guest survives tsvirtd SIGKILL and the next daemon reconnects to it', { skip, timeout: 60_000 }, async () => {
  const first = await daemon();
  await virsh(first, 'define', join(base, 'guest.xml'));
  await virsh(first, 'start', GUEST_NAME);
  const [pid] = guestPidsIn(base);
  assert.ok(pid !== undefined, 'QEMU is running');
  assert.ok(existsSync(join(base, 'run', `${GUEST_NAME}.xml`)), 'status file written');

  process.kill(first.pid, 'SIGKILL');
  await first.stop();
  assert.ok(!processGone(pid), 'QEMU outlives the daemon');

  const second = await daemon();
  assert.match(await virsh(second, 'list', '--all'), new RegExp(`^\\s*1\\s+${GUEST_NAME}\\s+running$`, 'm'));
  assert.equal((await virsh(second, 'domstate', '--reason', GUEST_NAME)).trim(), 'running (booted)');
  // Monitor events reach the new daemon: suspend/resume go through QEMU's STOP/RESUME.
  await virsh(second, 'suspend', GUEST_NAME);
  assert.equal((await virsh(second, 'domstate', '--reason', GUEST_NAME)).trim(), 'paused (user)');
  await virsh(second, 'resume', GUEST_NAME);
  assert.equal((await virsh(second, 'domstate', '--reason', GUEST_NAME)).trim(), 'running (unpaused)');
  assert.match(await virsh(second, 'dominfo', GUEST_NAME), /^CPU time:\s+\d+\.\ds$/m);

  await virsh(second, 'destroy', GUEST_NAME);
  assert.equal((await virsh(second, 'domstate', '--reason', GUEST_NAME)).trim(), 'shut off (destroyed)');
  // destroy returned once QEMU closed its monitor on exit; init reaps it shortly after.
  const deadline = Date.now() + 2000;
  while (!processGone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(processGone(pid), 'QEMU has exited');
  assert.ok(!existsSync(join(base, 'run', `${GUEST_NAME}.xml`)), 'status file removed');
  await virsh(second, 'undefine', GUEST_NAME);
  await second.stop();
});

test('autostart domains start with the daemon; running ones are not started twice', { skip, timeout: 60_000 }, async () => {
  const d1 = await daemon();
  await virsh(d1, 'define', join(base, 'auto.xml'));
  await virsh(d1, 'autostart', 'auto-guest');
  assert.ok(existsSync(join(base, 'etc', 'autostart', 'auto-guest.xml')));
  await d1.stop();
  assert.equal(guestPidsIn(base).length, 0);

  const d2 = await daemon();
  // The daemon starts it without any client asking; the first client sees it running.
  const deadline = Date.now() + 20_000;
  while (guestPidsIn(base).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(await virsh(d2, 'domstate', '--reason', 'auto-guest'), /running \(booted\)/);
  await d2.stop();

  const d3 = await daemon();
  assert.match(await virsh(d3, 'domstate', '--reason', 'auto-guest'), /running \(booted\)/);
  assert.equal(guestPidsIn(base).length, 1, 'one QEMU, reconnected rather than started again');
  await virsh(d3, 'destroy', 'auto-guest');
  await virsh(d3, 'undefine', 'auto-guest');
  assert.ok(!existsSync(join(base, 'etc', 'autostart', 'auto-guest.xml')));
  assert.equal(guestPidsIn(base).length, 0);
});
