// Host procedures of the QEMU driver through stock virsh against tsvirtd: node info agrees
// with /proc and sysfs, capabilities list the installed emulators with their machines, and the
// capabilities/domcapabilities documents have the same element structure as a real libvirtd's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elementsOf, parseXml, type XmlEl } from '../../../src/api/xml/tree.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../../harness/libvirtd.js';
import { describeRun, runVirsh } from '../../harness/run.js';
import { startTsvirtd } from '../../harness/tsvirtd.js';
import { killGuestsIn, qemuEnv, qemuSkipReason } from './driver-guest.js';

const skip = qemuSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-host-'));
let ours: Libvirtd | undefined;

before(async () => {
  if (skip) return;
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  ours = await startTsvirtd();
});

after(async () => {
  await ours?.stop();
  killGuestsIn(join(dir, 'tsvirt'));
  rmSync(dir, { recursive: true, force: true });
});

async function virsh(args: string[], uri = ours!.uri('qemu')): Promise<string> {
  const r = await runVirsh(uri, args);
  assert.equal(r.code, 0, describeRun(r));
  return r.stdout;
}

const field = (out: string, name: string): string => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1]?.trim() ?? '';

/** Every element path of a document ("capabilities/host/cpu/feature"), as a set. */
function paths(el: XmlEl, prefix = '', out = new Set<string>()): Set<string> {
  const p = prefix ? `${prefix}/${el.name}` : el.name;
  out.add(p);
  for (const c of elementsOf(el)) paths(c, p, out);
  return out;
}

test('nodeinfo agrees with /proc and sysfs', { skip }, async () => {
  const out = await virsh(['nodeinfo']);
  assert.equal(field(out, 'CPU model'), 'x86_64');
  const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const ncpus = online.split(',').reduce((n, r) => {
    const [a, b] = r.split('-').map(Number);
    return n + (b === undefined ? 1 : b - (a as number) + 1);
  }, 0);
  assert.equal(Number(field(out, 'CPU\\(s\\)')), ncpus);
  const [sockets, cores, threads, cells] = ['CPU socket\\(s\\)', 'Core\\(s\\) per socket', 'Thread\\(s\\) per core', 'NUMA cell\\(s\\)'].map((f) => Number(field(out, f)));
  assert.equal((sockets as number) * (cores as number) * (threads as number) * (cells as number), ncpus);
  // Memory is the NUMA nodes' total (what libvirt sums), else /proc/meminfo's.
  let total = 0;
  try {
    for (const n of readdirSync('/sys/devices/system/node').filter((x) => /^node\d+$/.test(x))) {
      total += Number(/MemTotal:\s+(\d+)/.exec(readFileSync(`/sys/devices/system/node/${n}/meminfo`, 'utf8'))?.[1]);
    }
  } catch {
    total = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  }
  assert.equal(field(out, 'Memory size'), `${total} KiB`);
  const mhz = Math.trunc(Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '0'));
  assert.equal(field(out, 'CPU frequency'), `${mhz} MHz`);
});

test('capabilities list x86_64 with its machines and domain types', { skip }, async () => {
  const xml = await virsh(['capabilities']);
  const doc = parseXml(xml, 'capabilities', 'capabilities', 0);
  const guest = elementsOf(doc, 'guest').find((g) => elementsOf(g, 'arch')[0]?.attrs.some(([k, v]) => k === 'name' && v === 'x86_64'));
  assert.ok(guest, xml);
  const arch = elementsOf(guest, 'arch')[0] as XmlEl;
  const machines = elementsOf(arch, 'machine').map((m) => m.children.map((c) => ('text' in c ? c.text : '')).join(''));
  assert.ok(machines.includes('pc'), machines.join(' '));
  assert.ok(machines.some((m) => m.startsWith('pc-i440fx-')));
  assert.ok(!machines.includes('none'));
  assert.ok(elementsOf(arch, 'domain').some((d) => d.attrs.some(([k, v]) => k === 'type' && v === 'qemu')));
  assert.match(xml, /^<capabilities>\n\n {2}<host>\n {4}<uuid>[0-9a-f-]{36}<\/uuid>/);
});

test('virsh host commands run clean and agree with each other', { skip }, async () => {
  await virsh(['domcapabilities']);
  await virsh(['domcapabilities', '--machine', 'q35', '--virttype', 'qemu']);
  const free = await virsh(['freecell', '--all']);
  assert.match(free, /Total:\s+\d+ KiB/);
  const mem = await virsh(['nodememstats']);
  assert.match(mem, /^total\s*:\s+\d+ KiB$/m);
  assert.match(mem, /^cached\s*:\s+\d+ KiB$/m);
  const cpu = await virsh(['nodecpustats']);
  for (const k of ['user', 'system', 'idle', 'iowait']) assert.match(cpu, new RegExp(`^${k}:\\s+\\d+$`, 'm'));
  assert.match(await virsh(['nodecpumap']), /CPUs online:\s+\d+/);
  assert.match(await virsh(['maxvcpus']), /^\d+\n/);
  const bad = await runVirsh(ours!.uri('qemu'), ['domcapabilities', '--machine', 'nope']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid argument: the machine 'nope' is not supported by emulator '\/usr\/bin\/qemu-system-x86_64'/);
  // No readable SMBIOS tables: libvirt's error; with them, a sysinfo document.
  const si = await runVirsh(ours!.uri('qemu'), ['sysinfo']);
  if (si.code === 0) assert.match(si.stdout, /^<sysinfo type='smbios'>/);
  else assert.match(si.stderr, /unsupported configuration: Host SMBIOS information is not available/);
});

test('capabilities and domcapabilities have the element structure of a real libvirtd', { skip: skip ?? libvirtdSkipReason() }, async () => {
  let real: Libvirtd | undefined;
  try {
    real = await startLibvirtd();
    for (const cmd of [['capabilities'], ['domcapabilities'], ['domcapabilities', '--machine', 'q35', '--virttype', 'qemu']]) {
      const [a, b] = await Promise.all([virsh(cmd, real.uri('qemu')), virsh(cmd)]);
      const root = cmd[0] === 'capabilities' ? 'capabilities' : 'domainCapabilities';
      const want = paths(parseXml(a, root, root, 0));
      const got = paths(parseXml(b, root, root, 0));
      assert.deepEqual([...got].sort(), [...want].sort(), cmd.join(' '));
    }
  } finally {
    await real?.stop();
  }
});
