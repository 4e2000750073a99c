// A QEMU started by hand, with a QMP socket, shows up in tsvirtd's `list` without any attach
// call (discovery), is tainted as externally launched, and is stopped through tsvirsh. A QEMU
// whose monitor socket is named like a daemon's guest is left to that daemon.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Libvirtd } from '../harness/libvirtd.js';
import { describeRun, runVirsh } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { tsvirsh } from '../harness/tsvirsh.js';
import { discoveryScope } from '../../src/drivers/qemu/discover.js';
import { QEMU_BIN, killGuestsIn, qemuEnv, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = qemuSkipReason();
const base = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-discover-'));
let daemon: Libvirtd | undefined;
const saved = { ...process.env };

before(() => {
  // Only QMP sockets under this test's directory: other tests start QEMUs by hand at the same time.
  Object.assign(process.env, qemuEnv(join(base, 'driver')), { TSVIRT_QEMU_DISCOVER: base });
});

after(async () => {
  await daemon?.stop();
  process.env = saved;
  killGuestsIn(base);
  rmSync(base, { recursive: true, force: true });
});

/** A paused diskless QEMU with a QMP socket at `sock`, started the way a user would. */
async function handStarted(name: string, sock: string): Promise<ChildProcess> {
  const qemu = spawn(QEMU_BIN, [
    '-machine', 'pc,accel=tcg', '-m', '64', '-nodefaults', '-no-user-config', '-display', 'none', '-S',
    '-name', name, '-qmp', `unix:${sock},server=on,wait=off`,
  ], { stdio: 'ignore' });
  for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(sock), `QEMU ${name} made its monitor socket`);
  return qemu;
}

function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

test('a hand-started QEMU appears in list and is destroyed through tsvirsh', { skip, timeout: 60_000 }, async () => {
  const mine = await handStarted('handmade', join(base, 'handmade.qmp'));
  // Named like a daemon's guest socket: discovery must not take its monitor.
  mkdirSync(join(base, 'domain-7-other'));
  const other = await handStarted('other', join(base, 'domain-7-other', 'monitor.sock'));
  daemon = await startTsvirtd();
  const uri = daemon.uri('qemu');

  const list = await runVirsh(uri, ['list', '--all']);
  assert.equal(list.code, 0, describeRun(list));
  assert.match(list.stdout, /^ \d+\s+handmade\s+paused\s*$/m, list.stdout);
  assert.doesNotMatch(list.stdout, /other/);

  const msgs = await runVirsh(uri, ['dominfo', 'handmade']);
  assert.match(msgs.stdout, /^Persistent:\s+no$/m);
  assert.match(msgs.stdout, /^Messages:\s+tainted: managing externally launched configuration$/m);

  const resumed = await tsvirsh(uri, ['resume', 'handmade']);
  assert.deepEqual(resumed, { stdout: "Domain 'handmade' resumed\n\n", stderr: '', code: 0 });
  const destroyed = await tsvirsh(uri, ['destroy', 'handmade']);
  assert.deepEqual(destroyed, { stdout: "Domain 'handmade' destroyed\n\n", stderr: '', code: 0 });
  for (let i = 0; i < 200 && !gone(mine.pid ?? -1); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(gone(mine.pid ?? -1), 'the hand-started QEMU ended');

  // Gone from the list, and not found again by the next scan.
  await new Promise((r) => setTimeout(r, 1100));
  const after = await runVirsh(uri, ['list', '--all', '--name']);
  assert.equal(after.stdout.trim(), '');
  assert.ok(!gone(other.pid ?? -1), 'the daemon-style QEMU was left running');
  other.kill('SIGKILL');
});

test('discovery scope: off, everything, or one directory; the environment wins over qemu.conf', () => {
  const conf = new Map([['discover_external', '/run/qemu']]);
  assert.deepEqual(discoveryScope(new Map(), {}), { kind: 'all' });
  assert.deepEqual(discoveryScope(conf, {}), { kind: 'under', dir: '/run/qemu/' });
  assert.deepEqual(discoveryScope(conf, { TSVIRT_QEMU_DISCOVER: 'no' }), { kind: 'none' });
  assert.deepEqual(discoveryScope(new Map([['discover_external', '0']]), {}), { kind: 'none' });
  assert.deepEqual(discoveryScope(new Map(), { TSVIRT_QEMU_DISCOVER: '/tmp/x/' }), { kind: 'under', dir: '/tmp/x/' });
});
