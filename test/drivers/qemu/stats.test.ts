// Guest statistics and screenshots through stock virsh against tsvirtd's QEMU driver: a running
// TCG guest with a qcow2 disk (SeaBIOS reads its boot sector), a virtio balloon with a stats
// period, a user-mode NIC and a VGA card. The key sets are those a real libvirtd 9.0 printed
// for the same XML (captured by hand: its define takes ~30 s here).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, runVirsh } from '../../harness/run.js';
import { startTsvirtd } from '../../harness/tsvirtd.js';
import type { Libvirtd } from '../../harness/libvirtd.js';
import { guestXml, killGuestsIn, QEMU_BIN, qemuEnv, qemuSkipReason } from './driver-guest.js';

const skip = qemuSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-stats-'));
const disk = join(dir, 'disk.qcow2');
const NAME = 'stats-guest';
let ours: Libvirtd | undefined;

const XML = `<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <emulator>${QEMU_BIN}</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='user'><mac address='52:54:00:11:22:33'/><model type='virtio'/></interface>
    <video><model type='vga'/></video>
    <memballoon model='virtio'><stats period='2'/></memballoon>
  </devices>
</domain>
`;

/** `virsh domstats` of real libvirtd 9.0 for XML above (values stripped). */
const REAL_DOMSTATS_KEYS = [
  'state.state', 'state.reason', 'cpu.time', 'cpu.user', 'cpu.system', 'cpu.cache.monitor.count', 'cpu.haltpoll.success.time',
  'cpu.haltpoll.fail.time', 'balloon.current', 'balloon.maximum', 'balloon.last-update', 'balloon.rss', 'vcpu.current', 'vcpu.maximum',
  'vcpu.0.state', 'vcpu.0.time', 'vcpu.0.wait', 'vcpu.0.delay', 'vcpu.1.state', 'vcpu.1.time', 'vcpu.1.wait', 'vcpu.1.delay', 'net.count',
  'block.count', 'block.0.name', 'block.0.path', 'block.0.backingIndex', 'block.0.rd.reqs', 'block.0.rd.bytes', 'block.0.rd.times',
  'block.0.wr.reqs', 'block.0.wr.bytes', 'block.0.wr.times', 'block.0.fl.reqs', 'block.0.fl.times', 'block.0.allocation',
  'block.0.capacity', 'block.0.physical', 'dirtyrate.calc_status', 'dirtyrate.calc_start_time', 'dirtyrate.calc_period',
  'dirtyrate.calc_mode',
];

before(async () => {
  if (skip) return;
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  writeFileSync(join(dir, 'guest.xml'), XML);
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  ours = await startTsvirtd();
  await virsh(['define', join(dir, 'guest.xml')]);
  await virsh(['start', NAME]);
});

after(async () => {
  await ours?.stop();
  killGuestsIn(join(dir, 'tsvirt'));
  rmSync(dir, { recursive: true, force: true });
});

async function virsh(args: string[]): Promise<string> {
  const r = await runVirsh(ours!.uri('qemu'), args);
  assert.equal(r.code, 0, describeRun(r));
  return r.stdout;
}

/** "vda rd_req 1" / "key=value" lines -> map. */
function pairs(out: string, re: RegExp): Map<string, string> {
  return new Map([...out.matchAll(re)].map((m) => [m[1] as string, m[2] as string]));
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('domblkstat and domblkinfo: libvirt field names, reads counted', { skip }, async () => {
  // SeaBIOS reads the boot sector of the disk it tries to boot from.
  const st = await until(async () => pairs(await virsh(['domblkstat', NAME, 'vda']), /^vda (\S+) (\d+)$/gm), (m) => Number(m.get('rd_req')) > 0);
  assert.deepEqual([...st.keys()], ['rd_req', 'rd_bytes', 'wr_req', 'wr_bytes', 'flush_operations', 'rd_total_times', 'wr_total_times', 'flush_total_times']);
  assert.ok(Number(st.get('rd_req')) >= 1 && Number(st.get('rd_bytes')) >= 512, JSON.stringify([...st]));
  const byPath = pairs(await virsh(['domblkstat', NAME, disk]), /^\S+ (\S+) (\d+)$/gm);
  assert.equal(byPath.get('rd_req'), st.get('rd_req'));
  const info = await virsh(['domblkinfo', NAME, 'vda']);
  assert.match(info, /^Capacity:\s+67108864$/m);
  assert.ok(Number(/^Allocation:\s+(\d+)$/m.exec(info)?.[1]) > 0);
  assert.equal(Number(/^Physical:\s+(\d+)$/m.exec(info)?.[1]), readFileSync(disk).length);
  const bad = await runVirsh(ours!.uri('qemu'), ['domblkstat', NAME, 'vdz']);
  assert.match(bad.stderr, /invalid argument: invalid path: vdz/);
});

test('dommemstat with a balloon, domifstat on user networking', { skip }, async () => {
  const mem = pairs(await virsh(['dommemstat', NAME]), /^(\S+) (\d+)$/gm);
  // No guest balloon driver runs (SeaBIOS only): what real libvirtd prints then.
  assert.deepEqual([...mem.keys()], ['actual', 'last_update', 'rss']);
  assert.equal(mem.get('actual'), '65536');
  assert.ok(Number(mem.get('rss')) > 1024);
  const r = await runVirsh(ours!.uri('qemu'), ['domifstat', NAME, '52:54:00:11:22:33']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /internal error: Interface name not provided/);
  const r2 = await runVirsh(ours!.uri('qemu'), ['domifstat', NAME, 'net0']);
  assert.match(r2.stderr, /invalid argument: 'net0' is not a known interface/);
});

test('vcpuinfo and domstats: real libvirtd key set, CPU time grows', { skip }, async () => {
  const vcpu = await virsh(['vcpuinfo', NAME]);
  assert.equal([...vcpu.matchAll(/^VCPU:\s+(\d+)$/gm)].length, 2);
  assert.match(vcpu, /^State:\s+running$/m);
  assert.match(vcpu, /^CPU Affinity:\s+y+$/m);
  const stats = async (): Promise<Map<string, string>> => pairs(await virsh(['domstats', NAME]), /^ {2}([\w.-]+)=(.*)$/gm);
  const first = await stats();
  assert.deepEqual([...first.keys()], REAL_DOMSTATS_KEYS);
  assert.equal(first.get('state.state'), '1');
  assert.equal(first.get('block.0.path'), disk);
  assert.equal(first.get('block.0.capacity'), '67108864');
  assert.equal(first.get('dirtyrate.calc_mode'), 'page-sampling');
  const later = await until(stats, (m) => BigInt(m.get('cpu.time') ?? '0') > BigInt(first.get('cpu.time') ?? '0'), 10_000);
  assert.ok(BigInt(later.get('cpu.time') ?? '0') > BigInt(first.get('cpu.time') ?? '0'), 'cpu.time did not grow');
  const total = await virsh(['cpu-stats', NAME, '--total']);
  assert.match(total, /cpu_time\s+[\d.]+ seconds/);
});

test('screenshot: a PNG of the VGA screen; no video, libvirt error', { skip }, async () => {
  const file = join(dir, 'shot.png');
  const out = await virsh(['screenshot', NAME, file]);
  assert.match(out, /with type of image\/png/);
  const png = readFileSync(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  const w = png.readUInt32BE(16);
  const h = png.readUInt32BE(20);
  assert.ok(w >= 320 && w <= 4096 && h >= 200 && h <= 4096, `${w}x${h}`);
  const noScreen = await runVirsh(ours!.uri('qemu'), ['screenshot', NAME, file, '--screen', '1']);
  assert.match(noScreen.stderr, /Requested operation is not valid: no such screen ID/);
  // A guest without any video device.
  writeFileSync(join(dir, 'plain.xml'), guestXml({ name: 'stats-plain' }));
  await virsh(['create', join(dir, 'plain.xml')]);
  const r = await runVirsh(ours!.uri('qemu'), ['screenshot', 'stats-plain', file]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Requested operation is not valid: no screens to take screenshot from/);
  await virsh(['destroy', 'stats-plain']);
});
