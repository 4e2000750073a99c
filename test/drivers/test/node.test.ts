import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NodeInfo } from '../../../src/drivers/test/node.js';
import { ROOT, TESTNODE, call, callFails, decodeCString, loadConfig, realLibvirt } from './node-helpers.js';

const defaultNode = () => new NodeInfo(loadConfig(), { defaultTopology: true }).methods();

test('connection identity: type, version, hostname, max vcpus, secure', async () => {
  const m = defaultNode();
  assert.deepEqual(await call(m, 'CONNECT_GET_TYPE', undefined), { type: 'TEST' });
  assert.deepEqual(await call(m, 'CONNECT_GET_VERSION', undefined), { hvVer: 2n });
  assert.deepEqual(await call(m, 'CONNECT_GET_HOSTNAME', undefined), { hostname: hostname() });
  assert.deepEqual(await call(m, 'CONNECT_GET_MAX_VCPUS', { type: null }), { maxVcpus: 32 });
  assert.deepEqual(await call(m, 'CONNECT_IS_SECURE', undefined), { secure: 1 });
  // Not implemented by libvirt's test driver.
  for (const p of ['NODE_GET_MEMORY_STATS', 'CONNECT_COMPARE_CPU', 'CONNECT_GET_DOMAIN_CAPABILITIES'] as const) assert.equal(m[p], undefined);
});

test('capabilities are byte-identical to virsh capabilities, with and without NUMA cells', async () => {
  const { capabilities } = await call(defaultNode(), 'CONNECT_GET_CAPABILITIES', undefined);
  // virsh adds one blank line after the document.
  assert.equal(capabilities + '\n', readFileSync(join(ROOT, 'test/fixtures/xml/default/capabilities.xml'), 'utf8'));
  const file = new NodeInfo(loadConfig(TESTNODE)).methods();
  const real = realLibvirt(`print(json.dumps(libvirt.open("test://${TESTNODE}").getCapabilities()))`);
  assert.equal((await call(file, 'CONNECT_GET_CAPABILITIES', undefined)).capabilities, real);
});

test('node info, memory and CPU answers match real libvirt', async () => {
  const script = (uri: string) => `
c = libvirt.open("${uri}")
out = [c.getInfo(), c.getFreeMemory(), c.getCPUMap(0), c.getCPUStats(-1, 0), c.getSecurityModel(), c.getSysinfo(0)]
try:
    out.append(c.getCellsFreeMemory(0, 5))
except libvirt.libvirtError as e:
    out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
print(json.dumps(out))
`;
  for (const [uri, node] of [
    ['test:///default', defaultNode()],
    [`test://${TESTNODE}`, new NodeInfo(loadConfig(TESTNODE)).methods()],
  ] as const) {
    const i = await call(node, 'NODE_GET_INFO', undefined);
    assert.equal(i.model.length, 32);
    const map = await call(node, 'NODE_GET_CPU_MAP', { needMap: 1, needOnline: 1, flags: 0 });
    const n = (await call(node, 'NODE_GET_CPU_STATS', { cpuNum: -1, nparams: 0, flags: 0 })).nparams;
    const stats = (await call(node, 'NODE_GET_CPU_STATS', { cpuNum: -1, nparams: n, flags: 0 })).params;
    const sec = await call(node, 'NODE_GET_SECURITY_MODEL', undefined);
    assert.deepEqual([...sec.model.slice(-1), ...sec.doi], [0, 0], 'char arrays carry their NUL');
    let cells: unknown;
    try {
      cells = (await call(node, 'NODE_GET_CELLS_FREE_MEMORY', { startCell: 0, maxcells: 5 })).cells.map(Number);
    } catch (e) {
      const v = e as { code: number; domain: number; message: string };
      cells = [v.code, v.domain, v.message];
    }
    const ours = [
      [decodeCString(i.model), Number(i.memory) / 1024, i.cpus, i.mhz, i.nodes, i.sockets, i.cores, i.threads],
      Number((await call(node, 'NODE_GET_FREE_MEMORY', undefined)).freeMem),
      [map.ret, Array.from({ length: map.ret }, (_, b) => ((map.cpumap[b >> 3] ?? 0) >> (b & 7)) % 2 === 1), map.online],
      Object.fromEntries(stats.map((s) => [s.field, Number(s.value)])),
      [decodeCString(sec.model), decodeCString(sec.doi)],
      (await call(node, 'CONNECT_GET_SYSINFO', { flags: 0 })).sysinfo,
      cells,
    ];
    // python's getInfo reports memory in MiB.
    const real = realLibvirt(script(uri)) as unknown[];
    (real[0] as number[])[1] = Math.floor((real[0] as number[])[1]);
    (ours[0] as number[])[1] = Math.floor((ours[0] as number[])[1]);
    assert.deepEqual(ours, real, uri);
  }
});

test('flag checks, cell ranges and CPU model names', async () => {
  const m = defaultNode();
  await callFails(m, 'CONNECT_GET_SYSINFO', { flags: 1 }, 8, 12, 'unsupported flags (0x1) in function testConnectGetSysinfo');
  await callFails(m, 'NODE_GET_CPU_MAP', { needMap: 1, needOnline: 1, flags: 1 }, 8, 12, 'unsupported flags (0x1) in function testNodeGetCPUMap');
  await callFails(m, 'NODE_GET_CELLS_FREE_MEMORY', { startCell: 2, maxcells: 1 }, 8, 12, 'invalid argument: Range exceeds available cells');
  assert.deepEqual((await call(m, 'NODE_GET_CELLS_FREE_MEMORY', { startCell: 1, maxcells: 5 })).cells, [4194304n]);
  assert.deepEqual((await call(m, 'NODE_GET_FREE_PAGES', { pages: [4, 8], startCell: 0, cellCount: 2, flags: 0 })).counts, [19n, 45n, 97n, 201n]);
  const real = realLibvirt(`
c = libvirt.open("test:///default")
out = []
for a in ["x86_64", "ppc64le", "aarch64", "riscv64", "bogus"]:
    try:
        out.append(c.getCPUModelNames(a, 0))
    except libvirt.libvirtError as e:
        out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
print(json.dumps(out))
`);
  const ours: unknown[] = [];
  for (const arch of ['x86_64', 'ppc64le', 'aarch64', 'riscv64', 'bogus']) {
    try {
      ours.push((await call(m, 'CONNECT_GET_CPU_MODEL_NAMES', { arch, needResults: 1, flags: 0 })).models);
    } catch (e) {
      const v = e as { code: number; domain: number; message: string };
      ours.push([v.code, v.domain, v.message]);
    }
  }
  assert.deepEqual(ours, real);
});
