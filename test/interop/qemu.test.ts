// Stock virsh and libvirt-python against tsvirtd's QEMU driver and against a private real
// libvirtd's QEMU driver, with the same diskless TCG guest: the transcripts (ids, uuids, CPU
// times, paths normalised) and the lifecycle event sequences must be the same — for the
// lifecycle, managed save, save/restore, live vCPUs, disk hot-plug and statistics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { describeRun, runPython, runVirsh } from '../harness/run.js';
import { GUEST_NAME, guestXml, killGuestsIn, qemuEnv, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = libvirtdSkipReason() ?? qemuSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-interop-'));
const xmlFile = join(dir, 'guest.xml');
const xml2File = join(dir, 'guest2.xml');
const G2 = 'probe-guest2';
/** Two possible vCPUs, one present, and ACPI: what PCI and CPU hot-plug need. */
const HOTPLUG_XML = `<domain type='qemu'>
  <name>${G2}</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices><memballoon model='none'/></devices>
</domain>
`;
let real: Libvirtd | undefined;
let ours: Libvirtd | undefined;

before(async () => {
  if (skip) return;
  writeFileSync(xmlFile, guestXml());
  writeFileSync(xml2File, HOTPLUG_XML);
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
});

after(async () => {
  await Promise.all([real?.stop(), ours?.stop()]);
  killGuestsIn(join(dir, 'tsvirt'));
  rmSync(dir, { recursive: true, force: true });
});

/** Text that differs between any two runs: ids, uuids, CPU time, sockets. */
function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
    .replace(/^(Id:\s+)\d+/gm, '$1ID')
    .replace(/^(\s*)\d+(\s+probe-guest)/gm, '$1ID$2')
    .replace(/^(CPU time:\s+)[\d.]+s/gm, '$1Ts')
    .replace(/^rss \d+$/gm, 'rss N')
    .replace(/socket=[^\s']+/g, 'socket=SOCK')
    .split(dir).join('DIR');
}

interface EventWatch {
  proc: ChildProcess;
  out(): string;
}

function watchEvents(uri: string): EventWatch {
  const proc = spawn('virsh', ['-c', uri, 'event', '--all', '--loop'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return { proc, out: () => out };
}

/** Waits until `watch` printed `n` lines (or a deadline), then stops it. */
async function stopWatch(w: EventWatch, n: number): Promise<string> {
  const deadline = Date.now() + 5000;
  while (w.out().split('\n').filter(Boolean).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  w.proc.kill();
  return w.out();
}

const SCRIPT_A: string[][] = [
  ['define', '@XML'],
  ['domstate', '--reason', GUEST_NAME],
  ['dominfo', GUEST_NAME],
  ['start', GUEST_NAME],
  ['domstate', '--reason', GUEST_NAME],
  ['dominfo', GUEST_NAME],
  ['list', '--all'],
  ['start', GUEST_NAME],
  ['suspend', GUEST_NAME],
  ['domstate', '--reason', GUEST_NAME],
  ['suspend', GUEST_NAME],
  ['resume', GUEST_NAME],
  ['domstate', '--reason', GUEST_NAME],
  ['domid', GUEST_NAME],
  ['dommemstat', GUEST_NAME],
  ['destroy', GUEST_NAME],
  ['domstate', '--reason', GUEST_NAME],
  ['destroy', GUEST_NAME],
  ['suspend', GUEST_NAME],
  ['dommemstat', GUEST_NAME],
  ['list', '--all'],
  ['list', '--inactive', '--name'],
];

const SCRIPT_B: string[][] = [
  ['autostart', GUEST_NAME],
  ['dominfo', GUEST_NAME],
  ['list', '--all', '--autostart', '--name'],
  ['autostart', '--disable', GUEST_NAME],
  ['undefine', GUEST_NAME],
  ['domstate', GUEST_NAME],
  ['list', '--all'],
];

async function transcript(d: Libvirtd, script: string[][]): Promise<string> {
  const uri = d.uri('qemu');
  let text = '';
  for (const cmd of script) {
    const args = cmd.map((a) => a.replace('@XML2', xml2File).replace('@XML', xmlFile).replace('@DIR', dir));
    // libvirtd's define probes every installed emulator (~30 s on a busy 2-CPU host).
    const r = await runVirsh(uri, args, { timeoutMs: 90_000 });
    assert.ok(!r.timedOut, `virsh ${args.join(' ')}: ${describeRun(r)}`);
    text += `$ virsh ${cmd.join(' ')} [${r.code}]\n${r.stdout}${r.stderr}`;
  }
  return normalise(text);
}

async function transcriptWithEvents(d: Libvirtd, script: string[][], nEvents: number): Promise<{ text: string; events: string }> {
  const w = watchEvents(d.uri('qemu'));
  await new Promise((r) => setTimeout(r, 300));
  const text = await transcript(d, script);
  return { text, events: await stopWatch(w, nEvents) };
}

test('virsh against tsvirtd and libvirtd QEMU drivers: same transcript and events', { skip, timeout: 120_000 }, async () => {
  // Defined, Resumed+Started, Suspended, Resumed, Shutdown+Stopped.
  const theirs = await transcriptWithEvents(real!, SCRIPT_A, 7);
  const mine = await transcriptWithEvents(ours!, SCRIPT_A, 7);
  assert.equal(mine.text, theirs.text);
  assert.equal(mine.events, theirs.events);
  assert.match(mine.events, /Resumed Unpaused\n.*Started Booted\n/);
  assert.match(mine.events, /Shutdown Finished after host request\n.*Stopped Destroyed\n/);
});

const PY = `
import libvirt, sys
c = libvirt.open(sys.argv[1])
d = c.lookupByName(sys.argv[2])
print(c.getType(), d.name(), d.isActive(), d.isPersistent(), d.state(), d.OSType(), d.maxMemory())
d.create()
info = d.info()
print(d.isActive(), d.state(), info[0], info[1], info[2], info[3], d.ID() > 0, d.maxVcpus())
print(sorted(x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)))
print(sorted(x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)))
d.suspend(); print(d.state())
d.resume(); print(d.state())
try:
    d.create()
except libvirt.libvirtError as e:
    print('error', e.get_error_code(), e.get_error_domain(), e)
d.destroy(); print(d.state(), d.ID(), d.isActive())
try:
    c.lookupByName('no-such-guest')
except libvirt.libvirtError as e:
    print('error', e.get_error_code(), e.get_error_domain(), e)
`;

test('libvirt-python sees the same QEMU driver behaviour', { skip, timeout: 60_000 }, async () => {
  const run = async (d: Libvirtd) => {
    const r = await runPython(PY, [d.uri('qemu'), GUEST_NAME], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, describeRun(r));
    return r.stdout;
  };
  const theirs = await run(real!);
  const mine = await run(ours!);
  assert.equal(mine, theirs);
  assert.match(mine, /^QEMU probe-guest 0 1 \[5, 2\] hvm 65536\n1 \[1, 1\]/);
});

/** Every step is run against both daemons, one after the other, with the same files. */
const SCRIPT_C: string[][] = [
  ['define', '@XML2'], ['start', G2], ['vcpucount', G2], ['setvcpus', G2, '2', '--live'], ['vcpucount', G2], ['dominfo', G2],
  ['managedsave', G2], ['domstate', '--reason', G2], ['dominfo', G2], ['list', '--all', '--with-managed-save'],
  ['start', G2], ['domstate', '--reason', G2], ['vcpucount', G2], ['dominfo', G2],
  ['save', G2, '@DIR/g2.save'], ['domstate', '--reason', G2], ['save-image-dumpxml', '@DIR/g2.save', '--xpath', '//vcpu'],
  ['restore', '@DIR/g2.save'], ['domstate', '--reason', G2], ['suspend', G2], ['save', G2, '@DIR/g2p.save'],
  ['restore', '@DIR/g2p.save'], ['domstate', '--reason', G2], ['resume', G2], ['domstate', '--reason', G2],
  ['attach-disk', G2, '@DIR/extra.qcow2', 'vdb', '--driver', 'qemu', '--subdriver', 'qcow2'], ['domblklist', G2],
  ['domblkinfo', G2, 'vdb'], ['domblkstat', G2, 'vdb'], ['attach-disk', G2, '@DIR/extra.qcow2', 'vdb'],
  ['managedsave', G2], ['start', G2, '--force-boot'], ['destroy', G2], ['undefine', G2], ['managedsave-remove', G2],
];

test('managed save, save/restore, live vCPUs and disk hot-plug: same transcript and events', { skip, timeout: 180_000 }, async () => {
  const img = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'extra.qcow2'), '16M']);
  assert.equal(img.status, 0, String(img.stderr));
  // About 130 lines of `event --loop` output in libvirtd's own run (job-completed takes 19 each).
  const theirs = await transcriptWithEvents(real!, SCRIPT_C, 130);
  const mine = await transcriptWithEvents(ours!, SCRIPT_C, 130);
  // Statistics are the guest's and the clock's: values are masked, names and order are compared.
  const stats = (t: string) => t.replace(/^(vdb \S+) \d+$/gm, '$1 N').replace(/^(Allocation|Physical):\s+\d+$/gm, '$1: N');
  // memory_bps is there only when QEMU measured a rate, which a fast save may not give it time to.
  const jobStats = (t: string) =>
    t.replace(/^\tmemory_bps: \d+\n/gm, '').replace(/^\t(\w+): \d+$/gm, (m, k: string) => (k === 'operation' ? m : `\t${k}: N`));
  assert.equal(stats(mine.text), stats(theirs.text));
  assert.equal(jobStats(mine.events), jobStats(theirs.events));
  assert.match(mine.text, /running \(restored\)/);
  assert.match(mine.events, /Stopped Saved\n/);
});

/** Monitor passthrough: QEMU's own `stop` pauses the guest; the domain is tainted for it. */
const SCRIPT_D: string[][] = [
  ['start', GUEST_NAME], ['qemu-monitor-command', GUEST_NAME, '{"execute":"stop"}'], ['domstate', '--reason', GUEST_NAME],
  ['dominfo', GUEST_NAME], ['qemu-monitor-command', GUEST_NAME, '--hmp', 'info status'], ['resume', GUEST_NAME],
  ['domstate', '--reason', GUEST_NAME], ['destroy', GUEST_NAME], ['dominfo', GUEST_NAME],
];

test('monitor passthrough: paused reason, taint messages and events as libvirtd', { skip, timeout: 60_000 }, async () => {
  // Each daemon numbers its own monitor commands (libvirt-N, tsvirt-N).
  const ids = (t: string) => t.replace(/"id":"(?:libvirt|tsvirt)-\d+"/g, '"id":"ID"');
  const theirs = await transcriptWithEvents(real!, SCRIPT_D, 6);
  const mine = await transcriptWithEvents(ours!, SCRIPT_D, 6);
  assert.equal(ids(mine.text), ids(theirs.text));
  assert.equal(mine.events, theirs.events);
  assert.match(mine.text, /tainted: custom monitor control commands issued/);
});

test('autostart and undefine: same transcript', { skip, timeout: 60_000 }, async () => {
  const theirs = await transcript(real!, SCRIPT_B);
  const mine = await transcript(ours!, SCRIPT_B);
  assert.equal(mine, theirs);
});

test('qemu URIs are checked as libvirt does', { skip }, async () => {
  for (const path of ['/', '/foo']) {
    const a = await runVirsh(ours!.uri('qemu', { path }), ['uri']);
    const b = await runVirsh(real!.uri('qemu', { path }), ['uri']);
    assert.equal(a.code, 1);
    assert.equal(a.stderr, b.stderr);
  }
  const s = await runVirsh(ours!.uri('qemu', { path: '/session' }), ['uri']);
  assert.equal(s.code, 0, describeRun(s));
});
