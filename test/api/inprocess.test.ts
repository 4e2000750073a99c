// The API in-process (test:///default, test:///PATH.xml) and the API layer's own behaviour:
// client-side read-only refusal, missing procedures, deadlines and aborts, closed connections,
// and flag values checked against libvirt-python's constants.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Connection } from '../../src/api/connection.js';
import type { DriverConnection } from '../../src/api/driver.js';
import * as flags from '../../src/api/flags.js';
import { DomainEventID, DomainEventType, StoragePoolEventID, StoragePoolEventType } from '../../src/api/events.js';
import { DomainState, typedParamsFromWire, typedParamsToWire } from '../../src/api/info.js';
import { uuidFromString, uuidToString } from '../../src/api/core.js';
import { connect } from '../../src/connect.js';
import { CallAbortedError, CallTimeoutError, ConnectionClosedError, VirError, VirErrorNumber } from '../../src/rpc/errors.js';
import { runPython } from '../harness/run.js';

const NODE_XML = `<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>2097152</memory>
  <domain type='test'><name>fromfile</name><uuid>11111111-2222-3333-4444-555555555555</uuid><memory>65536</memory><os><type>hvm</type></os></domain>
</node>`;

describe('in-process test driver', () => {
  test('test:///PATH.xml opens a private state from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvirt-api-'));
    try {
      writeFileSync(join(dir, 'node.xml'), NODE_XML);
      const c = await connect(`test://${join(dir, 'node.xml')}`);
      const doms = await c.listAllDomains();
      assert.deepEqual(doms.map((d) => [d.name, d.uuid]), [['fromfile', '11111111-2222-3333-4444-555555555555']]);
      assert.equal((await c.nodeInfo()).mhz, 2000);
      assert.equal(c.uri, `test://${join(dir, 'node.xml')}`);
      await c.close();
      await assert.rejects(connect(`test://${join(dir, 'missing.xml')}`), VirError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('save and restore through a file; status, isAlive and close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvirt-api-'));
    const c = await connect('test:///default');
    try {
      const d = await c.domainLookupByName('test');
      await d.save(join(dir, 'test.save'));
      assert.equal((await d.state()).state, DomainState.SHUTOFF);
      await c.restoreDomain(join(dir, 'test.save'));
      assert.equal((await d.state()).state, DomainState.RUNNING);
      assert.deepEqual(c.status, { state: 'open', reconnects: 0 });
      assert.equal(c.isAlive(), true);
      assert.equal(await c.isEncrypted(), false);
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(c.status, { state: 'closed', reason: 'client', error: null });
    assert.equal(c.isAlive(), false);
    await assert.rejects(c.type(), ConnectionClosedError);
  });

  test('read-only connections refuse write APIs without calling the driver', async () => {
    let called = false;
    const driver: DriverConnection = {
      type: 'FAKE',
      uri: 'fake:///',
      methods: {
        DOMAIN_SUSPEND: () => void (called = true),
      },
      supportsFeature: () => false,
      onEvent: () => () => undefined,
      close: () => undefined,
    };
    const c = new Connection(driver, { readonly: true });
    const d = c.domainFromHandle({ name: 'x', uuid: new Uint8Array(16), id: 1 });
    await assert.rejects(d.suspend(), (e: VirError) => e.code === VirErrorNumber.OPERATION_DENIED && /virDomainSuspend/.test(e.message));
    assert.equal(called, false);
    // A procedure the driver lacks: libvirt's NO_SUPPORT.
    await assert.rejects(d.info(), (e: VirError) => e.code === VirErrorNumber.NO_SUPPORT && e.message.endsWith('virDomainGetInfo'));
    await c.close();
  });

  test('deadlines and aborts apply to in-process calls too', async () => {
    const driver: DriverConnection = {
      type: 'FAKE',
      uri: 'fake:///',
      methods: { CONNECT_GET_HOSTNAME: () => new Promise(() => undefined) },
      supportsFeature: () => false,
      onEvent: () => () => undefined,
      close: () => undefined,
    };
    const c = new Connection(driver, { readonly: false, callTimeoutMs: 5000 });
    await assert.rejects(c.hostname({ timeoutMs: 30 }), CallTimeoutError);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await assert.rejects(c.hostname({ signal: ac.signal }), CallAbortedError);
    await c.close();
  });

  test('several event ids on one stream: lifecycle and pool refresh', async () => {
    const c = await connect('test:///default');
    try {
      const ev = await c.domainEvents({ events: [DomainEventID.LIFECYCLE, DomainEventID.REBOOT] });
      await (await c.domainLookupByName('test')).shutdown();
      const first = (await ev.next()).value;
      assert.equal(first?.kind === 'lifecycle' && first.event, DomainEventType.STOPPED);
      await ev.close();
      const pools = await c.storagePoolEvents({ events: [StoragePoolEventID.LIFECYCLE, StoragePoolEventID.REFRESH] });
      const pool = await c.storagePoolLookupByName('default-pool');
      await pool.refresh();
      await pool.destroy();
      const [a, b] = [(await pools.next()).value, (await pools.next()).value];
      assert.deepEqual([a?.kind, a?.pool.name], ['refresh', 'default-pool']);
      assert.deepEqual([b?.kind, b?.kind === 'lifecycle' && b.event], ['lifecycle', StoragePoolEventType.STOPPED]);
      await pools.close();
    } finally {
      await c.close();
    }
  });

  test('UUID and typed-parameter conversions round-trip', () => {
    const s = '6695eb01-f6a4-8304-79aa-97f2502e193f';
    assert.equal(uuidToString(uuidFromString(s)), s);
    assert.equal(uuidToString(uuidFromString(s.replace(/-/g, '').toUpperCase())), s);
    assert.throws(() => uuidFromString('nope'), VirError);
    const p = { a: { type: 'int', value: -1 }, b: { type: 'ullong', value: 5n }, c: { type: 'boolean', value: true }, d: { type: 'string', value: 'x' } } as const;
    assert.deepEqual(typedParamsFromWire(typedParamsToWire(p)), p);
  });
});

describe('flag values', () => {
  test('every flag enum member equals libvirt-python constant VIR_<prefix>_<member>', async () => {
    const prefixes: Record<string, string> = {
      ConnectFlags: 'CONNECT', ConnectListAllDomainsFlags: 'CONNECT_LIST_DOMAINS', ConnectListAllNetworksFlags: 'CONNECT_LIST_NETWORKS',
      ConnectListAllStoragePoolsFlags: 'CONNECT_LIST_STORAGE_POOLS', ConnectListAllInterfacesFlags: 'CONNECT_LIST_INTERFACES',
      DomainXMLFlags: 'DOMAIN_XML', DomainModificationImpact: 'DOMAIN_AFFECT', DomainMemoryModFlags: 'DOMAIN_MEM', DomainVcpuFlags: 'DOMAIN_VCPU',
      DomainCreateFlags: 'DOMAIN_START', DomainDefineFlags: 'DOMAIN_DEFINE', DomainDestroyFlags: 'DOMAIN_DESTROY', DomainShutdownFlags: 'DOMAIN_SHUTDOWN',
      DomainRebootFlags: 'DOMAIN_REBOOT', DomainUndefineFlags: 'DOMAIN_UNDEFINE', DomainSaveRestoreFlags: 'DOMAIN_SAVE',
      DomainSnapshotCreateFlags: 'DOMAIN_SNAPSHOT_CREATE', DomainSnapshotListFlags: 'DOMAIN_SNAPSHOT_LIST', DomainSnapshotRevertFlags: 'DOMAIN_SNAPSHOT_REVERT',
      DomainSnapshotDeleteFlags: 'DOMAIN_SNAPSHOT_DELETE', DomainSnapshotXMLFlags: 'DOMAIN_SNAPSHOT_XML', NetworkXMLFlags: 'NETWORK_XML',
      NetworkCreateFlags: 'NETWORK_CREATE', NetworkDefineFlags: 'NETWORK_DEFINE', StorageXMLFlags: 'STORAGE_XML', StoragePoolBuildFlags: 'STORAGE_POOL_BUILD',
      StoragePoolCreateFlags: 'STORAGE_POOL_CREATE', StoragePoolDeleteFlags: 'STORAGE_POOL_DELETE', StorageVolCreateFlags: 'STORAGE_VOL_CREATE',
      StorageVolDeleteFlags: 'STORAGE_VOL_DELETE', InterfaceXMLFlags: 'INTERFACE_XML',
      DomainConsoleFlags: 'DOMAIN_CONSOLE', DomainChannelFlags: 'DOMAIN_CHANNEL', StorageVolUploadFlags: 'STORAGE_VOL_UPLOAD',
      StorageVolDownloadFlags: 'STORAGE_VOL_DOWNLOAD',
    };
    const ours: Record<string, number> = {};
    for (const [enumName, e] of Object.entries(flags)) {
      const prefix = prefixes[enumName];
      assert.ok(prefix, `no prefix known for ${enumName}`);
      for (const [k, v] of Object.entries(e as Record<string, string | number>)) if (typeof v === 'number') ours[`VIR_${prefix}_${k}`] = v;
    }
    const py = await runPython('import libvirt, json, sys; print(json.dumps({k: getattr(libvirt, k, None) for k in sys.argv[1:]}))', Object.keys(ours));
    assert.equal(py.code, 0, py.stderr);
    assert.deepEqual(JSON.parse(py.stdout), ours);
  });
});
