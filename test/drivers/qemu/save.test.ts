// Save, restore and managed save through tsvirtd with stock virsh, on the bootable test guest:
// the image has libvirt's layout, the guest comes back without booting again (its RAM is the
// same byte for byte, its serial log shows one boot, and it still answers the power button),
// the lifecycle events are libvirtd 9.0's, and bad images fail with libvirt's errors leaving
// no QEMU behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootDomainXml, bootImage, bootImageSkipReason } from '../../harness/boot-image.js';
import type { Libvirtd } from '../../harness/libvirtd.js';
import { describeRun, runPython, runVirsh, type RunResult } from '../../harness/run.js';
import { startTsvirtd } from '../../harness/tsvirtd.js';
import { finishImage, HEADER_SIZE, readSaveImage, writeImageHeader } from '../../../src/drivers/qemu/save-image.js';
import { guestPidsIn, killGuestsIn, qemuEnv, qemuSkipReason } from './driver-guest.js';

const skip = qemuSkipReason() ?? bootImageSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-save-'));
const base = join(dir, 'tsvirt');
const NAME = 'save-guest';
const serialLog = join(dir, 'serial.log');
let daemon: Libvirtd | undefined;
let uri = '';

before(async () => {
  if (skip) return;
  const saved = { ...process.env };
  Object.assign(process.env, qemuEnv(base));
  daemon = await startTsvirtd();
  Object.assign(process.env, saved);
  uri = daemon.uri('qemu');
  const img = await bootImage();
  // A file serial port in append mode: the log spans every QEMU run of the guest.
  const xml = bootDomainXml(img, NAME)
    .replace(/<serial type='pty'>[^]*?<\/console>/, `<serial type='file'><source path='${serialLog}' append='on'/><target port='0'/></serial>`);
  writeFileSync(join(dir, 'guest.xml'), xml);
});

after(async () => {
  await daemon?.stop();
  killGuestsIn(base);
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function virsh(...args: string[]): Promise<string> {
  const r = await runVirsh(uri, args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `virsh ${args.join(' ')}: ${describeRun(r)}`);
  return r.stdout;
}

async function virshFails(args: string[], message: string): Promise<RunResult> {
  const r = await runVirsh(uri, args, { timeoutMs: 60_000 });
  assert.equal(r.code, 1, `virsh ${args.join(' ')} should fail: ${describeRun(r)}`);
  assert.ok(r.stderr.includes(message), `virsh ${args.join(' ')}: expected ${JSON.stringify(message)}: ${describeRun(r)}`);
  return r;
}

const domstate = async () => (await virsh('domstate', '--reason', NAME)).trim();
const serial = () => (existsSync(serialLog) ? readFileSync(serialLog, 'utf8') : '');
const count = (text: string, needle: string) => text.split(needle).length - 1;

async function waitFor(what: string, pred: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** 4 MiB of guest RAM from 16 MiB (where the kernel sits), through QMP's pmemsave. */
async function guestRam(tag: string): Promise<Buffer> {
  const file = join(dir, `ram-${tag}`);
  await virsh('qemu-monitor-command', NAME, JSON.stringify({ execute: 'pmemsave', arguments: { val: 16 << 20, size: 4 << 20, filename: file } }));
  return readFileSync(file);
}

const PY_PARAMS = `
import libvirt, sys
c = libvirt.open(sys.argv[1])
d = c.lookupByName(sys.argv[2])
d.saveParams({libvirt.VIR_DOMAIN_SAVE_PARAM_FILE: sys.argv[3]})
print(d.state())
c.restoreParams({libvirt.VIR_DOMAIN_SAVE_PARAM_FILE: sys.argv[3]})
print(d.state())
d.saveParams({})
print(d.state(), d.hasManagedSaveImage())
`;

function lifecycleLines(out: string): string[] {
  return out.split('\n').filter((l) => l.includes("event 'lifecycle'")).map((l) => l.replace(/^.*: /, ''));
}

test('managedsave, start, save and restore keep the running guest', { skip, timeout: 120_000 }, async () => {
  await virsh('define', join(dir, 'guest.xml'));
  let eventText = '';
  const events: ChildProcess = spawn('virsh', ['-c', uri, 'event', '--loop', '--event', 'lifecycle', '--domain', NAME], { stdio: ['ignore', 'pipe', 'pipe'] });
  events.stdout?.setEncoding('utf8').on('data', (s: string) => (eventText += s));
  try {
    await sleep(500);
    await virsh('start', NAME);
    await waitFor('the guest to boot', () => serial().includes('tsvirt test guest: up'), 45_000);

    // Managed save of the running guest: shut off as saved, the image where libvirt's would be.
    assert.match(await virsh('managedsave', NAME), /Domain '?save-guest'? state saved by libvirt/);
    assert.equal(await domstate(), 'shut off (saved)');
    assert.deepEqual(guestPidsIn(base), []);
    assert.match(await virsh('dominfo', NAME), /^Managed save:\s+yes$/m);
    assert.match(await virsh('list', '--all', '--with-managed-save', '--name'), new RegExp(`^${NAME}$`, 'm'));
    assert.doesNotMatch(await virsh('list', '--all', '--without-managed-save', '--name'), new RegExp(NAME));
    assert.match(await virsh('managedsave-dumpxml', NAME), new RegExp(`<name>${NAME}</name>`));
    const image = join(base, 'etc', 'save', `${NAME}.save`);
    const head = readFileSync(image).subarray(0, 200_000);
    // libvirt's layout: magic, version 2, data length, was_running, raw format, no cookie.
    assert.equal(head.toString('latin1', 0, 16), 'LibvirtQemudSave');
    assert.equal(head.readUInt32LE(16), 2);
    assert.equal(head.readUInt32LE(24), 1);
    assert.equal(head.readUInt32LE(28), 0);
    assert.equal(head.toString('latin1', 92, 100), "<domain ");
    assert.equal(head.toString('latin1', 92 + head.readUInt32LE(20), 96 + head.readUInt32LE(20)), 'QEVM');
    await virshFails(['undefine', NAME], 'Refusing to undefine while domain managed save image exists');

    // start restores it: running (restored), image gone, no second boot.
    await virsh('start', NAME);
    assert.equal(await domstate(), 'running (restored)');
    assert.ok(!existsSync(image));
    assert.match(await virsh('dominfo', NAME), /^Managed save:\s+no$/m);

    // A paused guest saved to a file comes back paused with the very same memory.
    await virsh('suspend', NAME);
    const before = await guestRam('before');
    assert.ok(before.some((x) => x !== 0), 'the RAM sample is all zeros: nothing to compare');
    const file = join(dir, 'guest.img');
    assert.match(await virsh('save', NAME, file), /Domain '?save-guest'? saved to /);
    assert.equal(await domstate(), 'shut off (saved)');
    assert.match(await virsh('save-image-dumpxml', file), new RegExp(`<name>${NAME}</name>`));
    assert.equal(readFileSync(file).readUInt32LE(24), 0);
    assert.match(await virsh('restore', file), /Domain restored from /);
    assert.equal(await domstate(), 'paused (migrating)');
    assert.ok(before.equals(await guestRam('after')), 'guest RAM differs after restore');
    await virshFails(['restore', file], `domain '${NAME}' is already active`);
    await virsh('resume', NAME);

    // The restored guest is alive: it answers the ACPI power button and powers off.
    await virsh('shutdown', NAME);
    await waitFor('the guest to power off', async () => (await domstate()).startsWith('shut off'), 30_000);
    assert.equal(count(serial(), 'tsvirt test guest: up'), 1, serial());
    assert.match(serial(), /power button, powering off/);
    await sleep(300);
  } finally {
    events.kill();
  }
  // Taken from libvirtd 9.0 doing the same (virsh event --loop --all), minus its
  // migration-iteration and job-completed events, which this driver does not raise.
  assert.deepEqual(lifecycleLines(eventText), [
    'Resumed Unpaused', 'Started Booted',
    'Suspended Paused', 'Stopped Saved',
    'Started Restored', 'Resumed Snapshot',
    'Suspended Paused',
    'Stopped Saved',
    'Started Restored', 'Suspended Restored',
    'Resumed Unpaused',
    'Shutdown Finished after guest request', 'Stopped Shutdown',
  ]);
});

test('bad requests and bad images fail as libvirt does, leaving no QEMU', { skip, timeout: 60_000 }, async () => {
  if ((await runVirsh(uri, ['dominfo', NAME])).code !== 0) await virsh('define', join(dir, 'guest.xml'));
  await virshFails(['save', NAME, join(dir, 'x.img')], 'Requested operation is not valid: domain is not running');
  await virshFails(['managedsave', NAME], 'Requested operation is not valid: domain is not running');
  assert.ok(!existsSync(join(dir, 'x.img')));
  const missing = join(dir, 'missing.img');
  await virshFails(['restore', missing], `Failed to open file '${missing}': No such file or directory`);
  await virshFails(['save-image-dumpxml', missing], `Failed to open file '${missing}': No such file or directory`);
  writeFileSync(join(dir, 'garbage.img'), 'hello world garbage '.repeat(100));
  await virshFails(['restore', join(dir, 'garbage.img')], 'operation failed: image magic is incorrect');
  writeFileSync(join(dir, 'short.img'), 'x');
  await virshFails(['restore', join(dir, 'short.img')], 'operation failed: failed to read qemu header');
  await virshFails(['managedsave-dumpxml', NAME], 'Requested operation is not valid: domain does not have managed save image');

  // A good header over a stream QEMU cannot load: QEMU exits, the restore fails, nothing runs.
  const xml = (await virsh('dumpxml', '--inactive', NAME)).replace(/<uuid>[^<]*<\/uuid>/, '').replaceAll(NAME, 'junk-guest');
  const junk = join(dir, 'junk.img');
  const offset = writeImageHeader(junk, xml, true, { exclusive: true });
  writeFileSync(junk, Buffer.concat([readFileSync(junk).subarray(0, offset), Buffer.from('QEVM\0\0\0\x03 this is not a migration stream')]));
  const r = await runVirsh(uri, ['restore', junk], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /error: Failed to restore domain from /);
  assert.doesNotMatch(await virsh('list', '--all', '--name'), /junk-guest/);
  assert.deepEqual(guestPidsIn(base), []);

  // FORCE_BOOT discards a managed save image and boots.
  await virsh('start', NAME);
  await virsh('managedsave', NAME);
  await virsh('start', '--force-boot', NAME);
  assert.equal(await domstate(), 'running (booted)');
  assert.match(await virsh('dominfo', NAME), /^Managed save:\s+no$/m);

  // A save that cannot create its file resumes the guest (libvirtd 9.0 says the same).
  await virshFails(['save', NAME, '/nonexistent/dir/x.img'], "Failed to create file '/nonexistent/dir/x.img': No such file or directory");
  assert.equal(await domstate(), 'running (save canceled)');

  // virDomainSaveParams/RestoreParams from libvirt-python: with a file, or none for a managed save.
  const py = await runPython(PY_PARAMS, [uri, NAME, join(dir, 'params.img')], { timeoutMs: 60_000 });
  assert.equal(py.code, 0, describeRun(py));
  assert.equal(py.stdout, '[5, 5]\n[1, 3]\n[5, 5] 1\n');
  assert.match(await virsh('managedsave-remove', NAME), /Removed managedsave image/);
  await virsh('start', NAME);
  await virsh('managedsave', NAME);
  assert.match(await virsh('undefine', '--managed-save', NAME), /has been undefined/);
  assert.ok(!existsSync(join(base, 'etc', 'save', `${NAME}.save`)));
});

test('save images: sizes from the header are bounded by the file, FIFOs are refused without blocking', () => {
  const d = mkdtempSync(join(tmpdir(), 'tsvirt-save-image-'));
  try {
    const huge = join(d, 'huge.img');
    const offset = writeImageHeader(huge, '<domain/>', true, { exclusive: true });
    finishImage(huge);
    const b = readFileSync(huge);
    b.writeUInt32LE(0x7fffffff, 20); // data_len far beyond the file
    writeFileSync(huge, b.subarray(0, offset));
    assert.throws(() => readSaveImage(huge), /failed to read domain XML/);
    b.writeUInt32LE(offset - HEADER_SIZE, 20);
    b.writeUInt32LE(0xffffffff, 32); // cookie offset beyond the data
    writeFileSync(huge, b.subarray(0, offset));
    assert.throws(() => readSaveImage(huge), /invalid cookie offset/);

    const fifo = join(d, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    assert.throws(() => readSaveImage(fifo), /is not a regular file or block device/);
    assert.ok(Date.now() - t0 < 1000);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
