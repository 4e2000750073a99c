// Domain lifecycle of the test driver against libvirt 9.0's behaviour (values recorded
// from python-libvirt on test:///default; see the report for the probe scripts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../harness/golden.js';
import { call, errOf, lifecycleLog, open, TESTDRIVER_XML } from './helpers.js';

const small = (name: string): string => `<domain type='test'><name>${name}</name><memory>1024</memory><os><type>hvm</type></os></domain>`;

test('open: errors for bad URIs, non-test schemes', async () => {
  await assert.rejects(open('test:///'), { code: 8, domain: 12, message: 'invalid argument: testOpen: supply a path or use test:///default' });
  await assert.rejects(open('test:///nonexistent.xml'), { code: 27, domain: 12, message: "XML error: failed to parse xml document '/nonexistent.xml'" });
  const { testDriver } = await import('../../../src/drivers/test/index.js');
  assert.equal(await testDriver.open(new URL('qemu:///system'), { readonly: false }), null);
});

test('lifecycle state machine, errors and events', async () => {
  const c = await open('test:///default');
  try {
    const log = lifecycleLog(c);
    const dom = call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'test' }).dom;
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_RESUME', { dom })), [1, 12, "internal error: domain 'test' not paused"]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_CREATE', { dom })), [1, 12, "internal error: Domain 'test' is already running"]);
    call(c, 'DOMAIN_SUSPEND', { dom });
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SUSPEND', { dom })), [1, 12, "internal error: domain 'test' not running"]);
    assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 3, reason: 1 });
    call(c, 'DOMAIN_SHUTDOWN', { dom }); // a paused guest shuts down too
    assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 5, reason: 1 });
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_DESTROY', { dom })), [55, 20, 'Requested operation is not valid: domain is not running']);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_GET_VCPUS', { dom, maxinfo: 1, maplen: 1 })), [
      55, 12, 'Requested operation is not valid: cannot list vcpus for an inactive domain',
    ]);
    call(c, 'DOMAIN_CREATE', { dom });
    assert.equal(call(c, 'DOMAIN_LOOKUP_BY_UUID', { uuid: dom.uuid }).dom.id, 2);
    call(c, 'DOMAIN_REBOOT', { dom, flags: 0 }); // no event
    call(c, 'DOMAIN_DESTROY', { dom });
    assert.deepEqual(log, ['3/0', '5/0', '2/0', '5/1']);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_LOOKUP_BY_ID', { id: 99 })), [42, 12, 'Domain not found']);
    const wrong = { ...dom, uuid: new Uint8Array(16) };
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_GET_STATE', { dom: wrong, flags: 0 })), [
      42, 12, "Domain not found: no domain with matching uuid '00000000-0000-0000-0000-000000000000' (test)",
    ]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_GET_STATE', { dom, flags: 1 })), [8, 12, 'unsupported flags (0x1) in function testDomainGetState']);
  } finally {
    c.close();
  }
});

test('test:///default is shared while open and fresh after the last close', async () => {
  const a = await open('test:///default');
  const b = await open('test:///default');
  const log = lifecycleLog(b);
  const dom = call(a, 'DOMAIN_LOOKUP_BY_NAME', { name: 'test' }).dom;
  call(a, 'DOMAIN_SUSPEND', { dom });
  assert.deepEqual(log, ['3/0']);
  assert.equal(call(b, 'DOMAIN_GET_STATE', { dom, flags: 0 }).state, 3);
  a.close();
  b.close();
  const c = await open('test:///default');
  assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 1, reason: 0 });
  c.close();
});

test('define, transient domains, undefine and list filters', async () => {
  const c = await open('test:///default');
  try {
    const log = lifecycleLog(c);
    const def1 = call(c, 'DOMAIN_DEFINE_XML', { xml: small('def1') }).dom;
    assert.equal(def1.id, -1);
    const [code, dom, msg] = errOf(() => call(c, 'DOMAIN_DEFINE_XML', { xml: small('def1') }));
    assert.deepEqual([code, dom], [9, 20]);
    assert.match(msg, /^operation failed: domain 'def1' already exists with uuid [0-9a-f-]{36}$/);
    const tr = call(c, 'DOMAIN_CREATE_XML', { xmlDesc: small('tr'), flags: 0 }).dom;
    assert.equal(tr.id, 2);
    const ms = call(c, 'DOMAIN_DEFINE_XML', { xml: small('ms') }).dom;
    call(c, 'DOMAIN_CREATE', { dom: ms });
    call(c, 'DOMAIN_MANAGED_SAVE', { dom: ms, flags: 0 });
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_UNDEFINE', { dom: ms })), [
      55, 12, 'Requested operation is not valid: Refusing to undefine while domain managed save image exists',
    ]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_MANAGED_SAVE', { dom: tr, flags: 0 })), [
      55, 12, 'Requested operation is not valid: cannot do managed save for transient domain',
    ]);
    const names = (flags: number): string[] => call(c, 'CONNECT_LIST_ALL_DOMAINS', { needResults: 1, flags }).domains.map((d) => d.name).sort();
    assert.deepEqual(names(1), ['test', 'tr']);
    assert.deepEqual(names(2), ['def1', 'ms']);
    assert.deepEqual(names(8), ['tr']);
    assert.deepEqual(names(256), ['ms']);
    assert.deepEqual(names(64), ['def1', 'ms']);
    assert.deepEqual(names(16384), []);
    assert.deepEqual(names(49152), ['def1', 'ms', 'test', 'tr']);
    assert.deepEqual(call(c, 'CONNECT_LIST_ALL_DOMAINS', { needResults: 0, flags: 0 }), { domains: [], ret: 4 });
    assert.deepEqual(errOf(() => call(c, 'CONNECT_LIST_ALL_DOMAINS', { needResults: 1, flags: 0x10000 })), [
      8, 12, 'unsupported flags (0x10000) in function testConnectListAllDomains',
    ]);
    call(c, 'DOMAIN_DESTROY', { dom: tr });
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'tr' })), [42, 12, 'Domain not found']);
    call(c, 'DOMAIN_UNDEFINE_FLAGS', { dom: def1, flags: 0 });
    assert.deepEqual(log, ['0/0', '2/0', '0/0', '2/0', '5/4', '5/1', '1/0']);
  } finally {
    c.close();
  }
});

test('memory and vcpu settings', async () => {
  const c = await open('test:///default');
  try {
    const dom = call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'test' }).dom;
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SET_MEMORY', { dom, memory: 99999999n })), [8, 12, 'invalid argument: cannot set memory higher than max memory']);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SET_MAX_MEMORY', { dom, memory: 4000000n })), [
      55, 12, 'Requested operation is not valid: cannot resize the maximum memory on an active domain',
    ]);
    call(c, 'DOMAIN_SET_MEMORY_FLAGS', { dom, memory: 1000000n, flags: 2 });
    assert.match(call(c, 'DOMAIN_GET_XML_DESC', { dom, flags: 2 }).xml, /<currentMemory unit='KiB'>1000000</);
    assert.match(call(c, 'DOMAIN_GET_XML_DESC', { dom, flags: 0 }).xml, /<currentMemory unit='KiB'>2097152</);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SET_VCPUS', { dom, nvcpus: 40 })), [
      8, 12, 'invalid argument: requested cpu amount exceeds maximum supported amount (40 > 32)',
    ]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SET_VCPUS', { dom, nvcpus: 3 })), [8, 12, 'invalid argument: requested cpu amount exceeds maximum (3 > 2)']);
    call(c, 'DOMAIN_SET_VCPUS', { dom, nvcpus: 1 });
    assert.equal(call(c, 'DOMAIN_GET_INFO', { dom }).nrVirtCpu, 1);
    assert.equal(call(c, 'DOMAIN_GET_VCPUS_FLAGS', { dom, flags: 2 }).num, 2);
    const v = call(c, 'DOMAIN_GET_VCPUS', { dom, maxinfo: 2, maplen: 2 });
    assert.equal(v.info.length, 1);
    assert.deepEqual([...v.cpumaps], [0xff, 0xff]);
    assert.equal(v.info[0].cpu, 15);
    const stats = call(c, 'DOMAIN_MEMORY_STATS', { dom, maxStats: 13, flags: 0 }).stats;
    assert.deepEqual(stats.slice(0, 2), [{ tag: 6, val: 2097152n }, { tag: 0, val: 0n }]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_INTERFACE_STATS', { dom, device: 'vnet0' })), [
      8, 20, "invalid argument: 'vnet0' is not a known interface",
    ]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_BLOCK_STATS', { dom, path: 'vdz' })), [8, 12, 'invalid argument: invalid path: vdz']);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_GET_XML_DESC', { dom, flags: 1 }, true)), [29, 20, 'operation forbidden: virDomainGetXMLDesc with secure flag']);
    assert.deepEqual([...call(c, 'DOMAIN_GET_SECURITY_LABEL', { dom }).label], [...Buffer.from('libvirt-test\0')]);
  } finally {
    c.close();
  }
});

test('save writes libvirt test-driver image; restore restarts the domain', async () => {
  const c = await open('test:///default');
  try {
    const log = lifecycleLog(c);
    const dom = call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'test' }).dom;
    const file = join(mkdtempSync(join(tmpdir(), 'tsvirt-')), 'test.save');
    call(c, 'DOMAIN_SAVE', { dom, to: file });
    const img = readFileSync(file);
    assert.equal(img.subarray(0, 15).toString('latin1'), 'TestGuestMagic\0');
    assert.equal(img.readInt32LE(15), img.length - 19);
    assert.match(img.subarray(19).toString(), /^<domain type='test' id='1'>/);
    assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 5, reason: 5 });
    call(c, 'DOMAIN_RESTORE', { from: file });
    assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 1, reason: 3 });
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_RESTORE', { from: file })), [55, 20, "Requested operation is not valid: domain 'test' is already active"]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_RESTORE', { from: file + '.none' })), [
      38, 12, `cannot read domain image '${file}.none': No such file or directory`,
    ]);
    assert.deepEqual(log, ['5/4', '2/2']);
  } finally {
    c.close();
  }
});

test('config file: runstates, ids and transient domains as libvirt loads them', async () => {
  const c = await open(`test://${TESTDRIVER_XML}`);
  try {
    const want = JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', 'drivers', 'test', 'testdriver-state.json'), 'utf8')) as {
      domains: Record<string, { state: number[]; id: number; persistent: number; ms: number; nsnap: number }>;
    };
    for (const [name, w] of Object.entries(want.domains)) {
      const dom = call(c, 'DOMAIN_LOOKUP_BY_NAME', { name }).dom;
      const st = call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 });
      assert.deepEqual([st.state, st.reason, dom.id], [...w.state, w.id], name);
      assert.equal(call(c, 'DOMAIN_IS_PERSISTENT', { dom }).persistent, w.persistent, name);
      assert.equal(call(c, 'DOMAIN_HAS_MANAGED_SAVE_IMAGE', { dom, flags: 0 }).result, w.ms, name);
      assert.equal(call(c, 'DOMAIN_SNAPSHOT_NUM', { dom, flags: 0 }).num, w.nsnap, name);
    }
  } finally {
    c.close();
  }
});

test('defining 1000 domains and listing them stays fast', async () => {
  const c = await open('test:///default');
  try {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) call(c, 'DOMAIN_DEFINE_XML', { xml: small(`b${i}`) });
    const list = call(c, 'CONNECT_LIST_ALL_DOMAINS', { needResults: 1, flags: 0 });
    assert.equal(list.ret, 1001);
    assert.ok(performance.now() - t0 < 5000);
  } finally {
    c.close();
  }
});
