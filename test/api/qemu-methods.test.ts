// The typed API against a private real libvirtd's QEMU driver with a running guest (the boot image,
// a qcow2 virtio disk, a user NIC, VGA, a virtio balloon with stats, one of two vCPUs), call by
// call against libvirt-python on the same daemon: each phase runs once as a python script and once
// through connect(uri), and both transcripts must agree, exactly or, for counters that move with
// time, in their key sets and types. Events seen by domainEvents() must match python's callbacks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection, DomainEvent } from '../../src/api/connection.js';
import type { Domain } from '../../src/api/domain.js';
import { DomainMemoryStatTag, type TypedParameters } from '../../src/api/info.js';
import { connect } from '../../src/connect.js';
import { VirError } from '../../src/rpc/errors.js';
import { bootDomainXml, bootImage, bootImageSkipReason, LOGIN_BANNER } from '../harness/boot-image.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { describeRun, runPython } from '../harness/run.js';
import { killGuestsIn, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = libvirtdSkipReason() ?? qemuSkipReason() ?? bootImageSkipReason() ?? (existsSync('/usr/bin/qemu-img') ? undefined : 'qemu-img not installed');
const NAME = `tsvirt-methods-${process.pid}`;
const OFF = `${NAME}-off`;
const LIVE = 1;
const CONFIG = 2;
const INACTIVE_XML = 2;
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-methods-'));
const serialLog = join(dir, 'serial.log');
const savePath = join(dir, 'guest.save');
const extraDisk = join(dir, 'extra.qcow2');
const DISK2 = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${extraDisk}'/><target dev='vdb' bus='virtio'/></disk>`;
const MISSING = `<disk type='file' device='disk'><source file='${dir}/none.qcow2'/><target dev='vdz' bus='virtio'/></disk>`;
const MAC = '52:54:00:aa:bb:01';
const META_NS = 'http://tsvirt.example/meta';

/** The boot image with the devices the brief names; its serial console goes to a file we poll for the banner. */
async function guestXml(): Promise<string> {
  const base = bootDomainXml(await bootImage(), NAME);
  const devices = [
    `    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${dir}/root.qcow2'/><target dev='vda' bus='virtio'/></disk>`,
    `    <interface type='user'><mac address='${MAC}'/><model type='virtio'/></interface>`,
    `    <serial type='file'><source path='${serialLog}'/><target port='0'/></serial>`,
    `    <video><model type='vga'/></video>`,
    `    <memballoon model='virtio'><stats period='1'/></memballoon>`,
  ].join('\n');
  const xml = base
    .replace('<vcpu>1</vcpu>', "<vcpu placement='static' current='1'>2</vcpu>")
    .replace(/ *<serial type='pty'>.*\n *<console .*\n *<memballoon model='none'\/>/, devices);
  assert.ok(xml.includes("current='1'") && xml.includes('<video>'), `bootDomainXml changed shape:\n${xml}`);
  return xml;
}

/** Python side: one script per phase; `t(label, fn)` records a value or a libvirt error. */
const PY_PRELUDE = String.raw`
import libvirt, sys, json, time, os, re
uri, work = sys.argv[1], sys.argv[2]
libvirt.registerErrorHandler(lambda ctx, e: None, None)
R = {}
def norm(v):
    if isinstance(v, bool): return int(v)
    if isinstance(v, (list, tuple)): return [norm(x) for x in v]
    if isinstance(v, dict): return {str(k): norm(x) for k, x in v.items()}
    if isinstance(v, bytes): return v.hex()
    if v is None: return 0
    return v
def shape(v):
    if isinstance(v, dict): return {k: type(x).__name__ for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)): return [shape(x) for x in v]
    return type(v).__name__
def t(label, f):
    try:
        R[label] = ['ok', norm(f())]
    except libvirt.libvirtError as e:
        R[label] = ['err', e.get_error_code(), e.get_error_domain(), e.get_error_message()]
c = libvirt.open(uri)
d = c.lookupByName(${JSON.stringify(NAME)})
`;

type Transcript = Record<string, unknown[]>;
interface Step {
  readonly label: string;
  readonly py: string;
  readonly ts: () => Promise<unknown>;
}
const step = (label: string, py: string, ts: () => Promise<unknown>): Step => ({ label, py, ts });

async function runPy(steps: readonly Step[]): Promise<Transcript> {
  const body = steps.map((s) => (s.label.startsWith('!') ? s.py : `t(${JSON.stringify(s.label)}, lambda: ${s.py})`)).join('\n');
  const r = await runPython(`${PY_PRELUDE}${body}\nprint(json.dumps(R))\n`, [uri, dir], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  return JSON.parse(r.stdout) as Transcript;
}

/** JSON as python's norm() prints it: ints for booleans and bigints, 0 for void calls. */
function norm(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined || v === null) return 0;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(norm);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

async function runTs(steps: readonly Step[]): Promise<Transcript> {
  const out: Transcript = {};
  for (const s of steps) {
    if (s.label.startsWith('!')) {
      await s.ts();
      continue;
    }
    try {
      out[s.label] = ['ok', norm(await s.ts())];
    } catch (e) {
      if (!(e instanceof VirError)) throw e;
      out[s.label] = ['err', e.code, e.domain, e.message];
    }
  }
  return out;
}

function assertSame(py: Transcript, ts: Transcript): void {
  const diffs = Object.keys(py).flatMap((k) => {
    try {
      assert.deepStrictEqual(ts[k], py[k]);
      return [];
    } catch {
      return [`${k}\n  python ${JSON.stringify(py[k])}\n  tsvirt ${JSON.stringify(ts[k])}`];
    }
  });
  assert.deepEqual(Object.keys(ts).sort(), Object.keys(py).sort());
  assert.equal(diffs.length, 0, `${diffs.length} calls differ:\n${diffs.join('\n')}`);
}

/** Runs a phase on both sides; `tsFirst` when the python side repeats what tsvirt changed. */
async function compare(steps: readonly Step[], tsFirst = false): Promise<void> {
  if (tsFirst) {
    const ts = await runTs(steps);
    assertSame(await runPy(steps), ts);
  } else {
    const py = await runPy(steps);
    assertSame(py, await runTs(steps));
  }
}

/** Typed parameters as python's dicts: plain values. */
const plain = (p: TypedParameters): Record<string, unknown> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.value]));
const PY_TYPE = { int: 'int', uint: 'int', llong: 'int', ullong: 'int', double: 'float', boolean: 'bool', string: 'str' } as const;
/** Key set and python type names, sorted as python's shape() sorts them. */
const shape = (p: TypedParameters): Record<string, string> =>
  Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, PY_TYPE[v.type]]));
/** python's type name for a value of ours (counters are bigint or number on our side, int in python). */
const pyType = (v: unknown): string =>
  typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)) ? 'int' : typeof v === 'number' ? 'float' : typeof v === 'string' ? 'str' : typeof v;
const types = (o: object): string[] => Object.values(o).map(pyType);
/** libvirt-python's names for memory statistics, by tag. */
const PY_MEMSTAT: Record<DomainMemoryStatTag, string> = {
  [DomainMemoryStatTag.SWAP_IN]: 'swap_in', [DomainMemoryStatTag.SWAP_OUT]: 'swap_out', [DomainMemoryStatTag.MAJOR_FAULT]: 'major_fault',
  [DomainMemoryStatTag.MINOR_FAULT]: 'minor_fault', [DomainMemoryStatTag.UNUSED]: 'unused', [DomainMemoryStatTag.AVAILABLE]: 'available',
  [DomainMemoryStatTag.ACTUAL_BALLOON]: 'actual', [DomainMemoryStatTag.RSS]: 'rss', [DomainMemoryStatTag.USABLE]: 'usable',
  [DomainMemoryStatTag.LAST_UPDATE]: 'last_update', [DomainMemoryStatTag.DISK_CACHES]: 'disk_caches',
  [DomainMemoryStatTag.HUGETLB_PGALLOC]: 'hugetlb_pgalloc', [DomainMemoryStatTag.HUGETLB_PGFAIL]: 'hugetlb_pgfail',
};

let real: Libvirtd | undefined;
let uri = '';
let c: Connection;
let d: Domain;

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

describe('typed API versus libvirt-python on libvirtd\'s QEMU driver', { skip, timeout: 90_000 }, () => {
  before(async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'root.qcow2'), '32M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', extraDisk, '16M']);
    const xml = await guestXml();
    real = await startLibvirtd();
    uri = real.uri('qemu');
    c = await connect(uri, { keepalive: false });
    d = await c.defineDomain(xml);
    await c.defineDomain(bootDomainXml(await bootImage(), OFF));
    await d.create();
    // ACPI unplug needs the guest's kernel up.
    const up = await until(() => existsSync(serialLog) && readFileSync(serialLog, 'utf8').includes(LOGIN_BANNER), 45_000);
    assert.ok(up, `no login banner:\n${existsSync(serialLog) ? readFileSync(serialLog, 'utf8').slice(-2000) : '(no serial log)'}`);
  });

  after(async () => {
    for (const name of [NAME, OFF, `${OFF}-ts`, `${OFF}-py`]) {
      const dom = await c?.domainLookupByName(name).catch(() => undefined);
      await dom?.destroy().catch(() => undefined);
      await dom?.managedSaveRemove().catch(() => undefined);
      await dom?.undefine().catch(() => undefined);
    }
    await c?.close().catch(() => undefined);
    await real?.stop();
    // libvirtd leaves guests running when it stops; its QEMU names itself guest=NAME.
    killGuestsIn(`guest=${NAME},`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('read-only domain calls on the running guest', async () => {
    // Let the balloon driver report at least once so both sides see the same statistics.
    await until(() => false, 1500);
    await compare([
      step('state', 'd.state()', async () => Object.values(await d.state())),
      step('info', 'd.info()[:4]', async () => Object.values(await d.info()).slice(0, 4)),
      step('info.shape', 'shape(d.info())', async () => types(await d.info())),
      step('maxMemory', 'd.maxMemory()', () => d.maxMemory()),
      step('maxVcpus', 'd.maxVcpus()', () => d.maxVcpus()),
      step('vcpusFlags', '[d.vcpusFlags(0), d.vcpusFlags(1), d.vcpusFlags(2), d.vcpusFlags(1 | 4), d.vcpusFlags(2 | 4)]', async () =>
        [await d.vcpus(0), await d.vcpus(LIVE), await d.vcpus(CONFIG), await d.vcpus(LIVE | 4), await d.vcpus(CONFIG | 4)]),
      step('vcpus', '[[v[0], v[1]] for v in d.vcpus()[0]] + [d.vcpus()[1]]', async () => {
        const v = await d.vcpuInfo();
        return [...v.map((x) => [x.number, x.state]), v.map((x) => x.affinity)];
      }),
      step('xml', 'd.XMLDesc(0)', () => d.xmlDesc()),
      step('xml.inactive', `d.XMLDesc(${INACTIVE_XML})`, () => d.xmlDesc(INACTIVE_XML)),
      step('osType', 'd.OSType()', () => d.osType()),
      step('persistent', '[d.isActive(), d.isPersistent(), d.isUpdated(), d.autostart()]', async () =>
        [await d.isActive(), await d.isPersistent(), await d.isUpdated(), await d.autostart()]),
      step('hasManagedSave', 'd.hasManagedSaveImage(0)', () => d.hasManagedSaveImage()),
      step('blockStats', 'shape(d.blockStats("vda"))', async () => types(await d.blockStats('vda'))),
      step('blockStats.path', `len(d.blockStats(${JSON.stringify(join(dir, 'root.qcow2'))}))`, async () => Object.keys(await d.blockStats(join(dir, 'root.qcow2'))).length),
      step('blockStatsFlags', 'shape(d.blockStatsFlags("vda", 0))', async () => shape(await d.blockStatsFlags('vda'))),
      step('blockStats.missing', 'd.blockStats("vdq")', () => d.blockStats('vdq')),
      step('blockInfo', 'd.blockInfo("vda", 0)', async () => Object.values(await d.blockInfo('vda'))),
      step('interfaceStats', `d.interfaceStats(${JSON.stringify(MAC)})`, async () => Object.values(await d.interfaceStats(MAC))),
      step('memoryStats', 'shape(d.memoryStats())', async () => {
        const s = await d.memoryStats();
        return Object.fromEntries(s.map((x) => [PY_MEMSTAT[x.tag], pyType(x.value)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
      }),
      step('memoryStats.actual', 'd.memoryStats()["actual"]', async () => (await d.memoryStats()).find((x) => x.tag === DomainMemoryStatTag.ACTUAL_BALLOON)?.value),
      step('cpuStats.total', 'shape(d.getCPUStats(True))', async () => (await d.cpuStats(true)).map(shape)),
      step('cpuStats.percpu', 'shape(d.getCPUStats(False))', async () => (await d.cpuStats(false)).map(shape)),
      step('schedType', 'd.schedulerType()', async () => Object.values(await d.schedulerType())),
      step('schedParams', 'd.schedulerParameters()', async () => plain(await d.schedulerParameters())),
      step('schedParamsFlags', 'd.schedulerParametersFlags(1)', async () => plain(await d.schedulerParameters(LIVE))),
      step('memoryParams', 'd.memoryParameters(0)', async () => plain(await d.memoryParameters())),
      step('blkioParams', 'd.blkioParameters(0)', async () => plain(await d.blkioParameters())),
      step('numaParams', 'd.numaParameters(0)', async () => plain(await d.numaParameters())),
      step('jobInfo', 'd.jobInfo()', async () => Object.values(await d.jobInfo())),
      step('jobStats', 'd.jobStats(0)', async () => {
        const j = await d.jobStats();
        return { type: j.type, ...plain(j.params) };
      }),
      step('getTime', 'd.getTime()', () => d.time()),
      step('securityLabel', 'd.securityLabel()', async () => Object.values(await d.securityLabel())),
      step('messages', 'd.messages(0)', () => d.messages()),
      step('screenshot', '(lambda st: (lambda mime, data: [mime, data[:8], len(data) > 100])(d.screenshot(st, 0, 0), (lambda acc: (st.recvAll(lambda s, b, a: a.append(b), acc), st.finish(), b"".join(acc))[2])([])))(c.newStream(0))', async () => {
        const s = await d.screenshot();
        return [s.mime, s.data.subarray(0, 8), s.data.length > 100];
      }),
    ]);
  });

  test('connection calls', async () => {
    await compare([
      step('capabilities', 'c.getCapabilities()', () => c.capabilities()),
      step('domainCapabilities', 'c.getDomainCapabilities(None, "x86_64", "pc", "qemu", 0)', () =>
        c.domainCapabilities({ arch: 'x86_64', machine: 'pc', virttype: 'qemu' })),
      step('domainCapabilities.default', 'c.getDomainCapabilities()', () => c.domainCapabilities()),
      step('nodeInfo', 'c.getInfo()[:3] + c.getInfo()[4:]', async () => {
        const i = await c.nodeInfo();
        return [i.model, Number(i.memory) >> 10, i.cpus, i.nodes, i.sockets, i.cores, i.threads];
      }),
      step('nodeMemoryStats', 'shape(c.getMemoryStats(-1))', async () =>
        Object.fromEntries((await c.nodeMemoryStats()).map(([k, v]) => [k, pyType(v)]).sort(([a], [b]) => (a! < b! ? -1 : 1)))),
      step('nodeCpuStats', 'shape(c.getCPUStats(-1))', async () => Object.fromEntries(Object.entries(await c.nodeCpuStats()).sort().map(([k, v]) => [k, pyType(v)]))),
      step('nodeCpuStats.cpu0', 'shape(c.getCPUStats(0))', async () => Object.fromEntries(Object.entries(await c.nodeCpuStats(0)).sort().map(([k, v]) => [k, pyType(v)]))),
      step('freeMemory', 'shape(c.getFreeMemory())', async () => pyType(await c.nodeFreeMemory())),
      step('cellsFreeMemory', 'shape(c.getCellsFreeMemory(0, 1))', async () => (await c.nodeCellsFreeMemory(0, 1)).map(pyType)),
      step('cpuMap', 'c.getCPUMap()', async () => {
        const m = await c.nodeCpuMap();
        return [m.cpus.length, m.cpus, m.online];
      }),
      step('maxVcpus', 'c.getMaxVcpus("qemu")', () => c.maxVcpus('qemu')),
      step('listAll', 'sorted(x.name() for x in c.listAllDomains(0))', async () => (await c.listAllDomains()).map((x) => x.name).sort()),
      ...[1, 2, 4, 16, 32, 64, 256, 512, 1024].map((f) =>
        step(`listAll.${f}`, `sorted(x.name() for x in c.listAllDomains(${f}))`, async () => (await c.listAllDomains(f)).map((x) => x.name).sort())),
      step('allDomainStats', 'sorted([x[0].name(), shape(x[1])] for x in c.getAllDomainStats(0, 0))', async () =>
        (await c.allDomainStats(0)).map((x) => [x.domain.name, shape(x.params)]).sort()),
      step('allDomainStats.state', 'sorted([x[0].name(), x[1]] for x in c.getAllDomainStats(1, 0))', async () =>
        (await c.allDomainStats(1)).map((x) => [x.domain.name, plain(x.params)]).sort()),
      step('domainListGetStats', 'sorted([x[0].name(), shape(x[1])] for x in c.domainListGetStats([d], 2 | 8 | 32 | 64, 0))', async () =>
        (await c.allDomainStats(2 | 8 | 32 | 64, 0, [d])).map((x) => [x.domain.name, shape(x.params)])),
      step('lookup.unknown', 'c.lookupByName("no-such-guest")', () => c.domainLookupByName('no-such-guest')),
    ]);
  });

  test('metadata, rename of a stopped domain, errors', async () => {
    // Each side writes, then both sides' readings must be the same.
    await compare([
      step('!set', `d.setMetadata(0, "described", None, None, 0)`, () => d.setMetadata(0, 'described')),
      step('desc', 'd.metadata(0, None, 0)', () => d.metadata(0)),
      step('!title', `d.setMetadata(1, "titled", None, None, ${LIVE | CONFIG})`, () => d.setMetadata(1, 'titled', null, null, LIVE | CONFIG)),
      step('title', `[d.metadata(1, None, ${LIVE}), d.metadata(1, None, ${CONFIG})]`, async () => [await d.metadata(1, null, LIVE), await d.metadata(1, null, CONFIG)]),
      step('element.set', `d.setMetadata(2, "<x a='1'/>", "ts", ${JSON.stringify(META_NS)}, 0)`, () => d.setMetadata(2, "<x a='1'/>", 'ts', META_NS)),
      step('element', `d.metadata(2, ${JSON.stringify(META_NS)}, 0)`, () => d.metadata(2, META_NS)),
      step('element.missing', 'd.metadata(2, "http://nowhere/", 0)', () => d.metadata(2, 'http://nowhere/')),
      step('save.off', `c.lookupByName(${JSON.stringify(OFF)}).save(work + "/off.save")`, async () => (await c.domainLookupByName(OFF)).save(join(dir, 'off.save'))),
      step('detach.missing', `d.detachDeviceFlags(${JSON.stringify(MISSING)}, ${LIVE})`, () => d.detachDevice(MISSING, LIVE)),
      step('setVcpus.overmax', `d.setVcpusFlags(3, ${LIVE})`, () => d.setVcpus(3, LIVE)),
      step('rename.running', 'd.rename("other", 0)', () => d.rename('other')),
    ]);
    const off = await c.domainLookupByName(OFF);
    await off.rename(`${OFF}-ts`);
    const pyRename = await runPy([
      step('rename', `c.lookupByName(${JSON.stringify(`${OFF}-ts`)}).rename(${JSON.stringify(`${OFF}-py`)}, 0)`, async () => undefined),
      step('defined', 'sorted(c.listDefinedDomains())', async () => undefined),
    ]);
    assert.deepEqual(pyRename, { rename: ['ok', 0], defined: ['ok', [`${OFF}-py`]] });
    assert.deepEqual(await c.listDefinedDomainNames(), [`${OFF}-py`]);
    assert.equal((await c.domainLookupByName(`${OFF}-py`)).uuid, off.uuid);
  });

  test('live vCPUs: tsvirt plugs the second one, python then sees it', async () => {
    await compare([
      step('setVcpus', `d.setVcpusFlags(2, ${LIVE})`, () => d.setVcpus(2, LIVE)),
      step('vcpusFlags', '[d.vcpusFlags(1), d.vcpusFlags(2), d.info()[3]]', async () => [await d.vcpus(LIVE), await d.vcpus(CONFIG), (await d.info()).nrVirtCpu]),
      step('vcpus', '[[v[0], v[1]] for v in d.vcpus()[0]]', async () => (await d.vcpuInfo()).map((x) => [x.number, x.state])),
    ], true);
  });

  test('hot-plug, managed save, save and restore; lifecycle events as python sees them', async () => {
    // The same operations twice: python's first (without listeners), then ours while both listen.
    const steps = [
      step('attach', `d.attachDeviceFlags(${JSON.stringify(DISK2)}, ${LIVE})`, () => d.attachDevice(DISK2, LIVE)),
      step('attached.blockInfo', 'd.blockInfo("vdb", 0)', async () => Object.values(await d.blockInfo('vdb'))),
      step('attached.blockStatsFlags', 'shape(d.blockStatsFlags("vdb", 0))', async () => shape(await d.blockStatsFlags('vdb'))),
      // The domain id moves on with each restore: python's half ran first.
      step('attached.xml', 're.sub(" id=\'[0-9]+\'", "", d.XMLDesc(0), count=1)', async () => (await d.xmlDesc()).replace(/ id='\d+'/, '')),
      step('attach.twice', `d.attachDeviceFlags(${JSON.stringify(DISK2)}, ${LIVE})`, () => d.attachDevice(DISK2, LIVE)),
      step('detach', `d.detachDeviceFlags(${JSON.stringify(DISK2)}, ${LIVE})`, () => d.detachDevice(DISK2, LIVE)),
      step('detached.xml', '"vdb" in d.XMLDesc(0)', async () => (await d.xmlDesc()).includes('vdb')),
      step('suspend', 'd.suspend()', () => d.suspend()),
      step('suspended', 'd.state()', async () => Object.values(await d.state())),
      step('resume', 'd.resume()', () => d.resume()),
      step('resumed', 'd.state()', async () => Object.values(await d.state())),
      step('managedSave', 'd.managedSave(0)', () => d.managedSave()),
      step('managedSaved', '[d.state(), d.hasManagedSaveImage(0), d.isActive(), d.ID()]', async () =>
        [Object.values(await d.state()), await d.hasManagedSaveImage(), await d.isActive(), d.id]),
      step('managedSaveXml', 'd.managedSaveGetXMLDesc(0)', () => d.managedSaveXml()),
      step('create', 'd.create()', () => d.create()),
      step('restored', '[d.state(), d.hasManagedSaveImage(0), d.vcpusFlags(1), d.ID() > 0]', async () =>
        [Object.values(await d.state()), await d.hasManagedSaveImage(), await d.vcpus(LIVE), d.id > 0]),
      step('save', 'd.save(work + "/guest.save")', () => d.save(savePath)),
      step('saved', '[d.state(), d.isActive(), d.ID()]', async () => [Object.values(await d.state()), await d.isActive(), d.id]),
      step('saveImageXml', 'c.saveImageGetXMLDesc(work + "/guest.save", 0)', () => c.saveImageXml(savePath)),
      step('save.shutoff', 'd.save(work + "/again.save")', () => d.save(join(dir, 'again.save'))),
      step('restore', 'c.restore(work + "/guest.save")', () => c.restoreDomain(savePath)),
      // Restoring does not refresh a domain object's id, in libvirt's client as in ours.
      step('restoredFromFile', '[d.state(), d.vcpusFlags(1), d.ID()]', async () => [Object.values(await d.state()), await d.vcpus(LIVE), d.id]),
    ];
    const py = await runPy(steps);
    // Python listens to our half through callbacks on its own connection.
    const listener = runPython(String.raw`
import libvirt, sys, json, os, threading, time
uri, work = sys.argv[1], sys.argv[2]
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
c = libvirt.open(uri)
seen = []
c.domainEventRegisterAny(c.lookupByName(${JSON.stringify(NAME)}), libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                         lambda conn, dom, ev, detail, _: seen.append([dom.name(), ev, detail]), None)
open(work + '/ready', 'w').close()
while not os.path.exists(work + '/stop'):
    time.sleep(0.05)
print(json.dumps(seen))
`, [uri, dir], { timeoutMs: 60_000 });
    assert.ok(await until(() => existsSync(join(dir, 'ready')), 10_000), 'the python listener did not start');
    const tsEvents: unknown[] = [];
    const stream = await c.domainEvents({ domain: d });
    const pump = (async () => {
      for await (const e of stream as AsyncIterable<DomainEvent>) if (e.kind === 'lifecycle') tsEvents.push([e.domain.name, e.event, e.detail]);
    })();
    const ts = await runTs(steps);
    // Both listeners get the last event over a socket: give them a moment before stopping python.
    await until(() => false, 700);
    writeFileSync(join(dir, 'stop'), '');
    const heard = await listener;
    await stream.close();
    await pump;
    assert.equal(heard.code, 0, describeRun(heard));
    assertSame(py, ts);
    const pyEvents = JSON.parse(heard.stdout) as unknown[];
    assert.deepEqual(tsEvents, pyEvents);
    assert.ok(pyEvents.length >= 8, `few events: ${heard.stdout}`);
  });
});
