// The daemon's own procedures and its generic forwarding, driven over a real socket with our
// RPC client, against a small fake driver: the behaviours libvirtd 9.0 showed on the wire
// (protocol.md, virsh-traces.md and the probe in this file's comments).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Driver, DriverConnection, DriverEvent, DriverEventListener } from '../../src/api/driver.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { RemoteProcedures as R } from '../../src/protocol/gen/remote.js';
import { RpcClient, silentLogger, VirError, VirErrorDomain, VirErrorNumber, type Message } from '../../src/rpc/index.js';
import { connectUnix } from '../../src/transport/index.js';
import { XdrReader } from '../../src/xdr/index.js';

const uuid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const other = Uint8Array.from({ length: 16 }, () => 9);
const dom = { name: 'fake', uuid, id: 7 };

/** A driver with one domain, whose suspend raises a lifecycle event to every connection. */
function fakeDriver(): { driver: Driver; emit(ev: DriverEvent): void; opened: string[] } {
  const listeners = new Set<DriverEventListener>();
  const opened: string[] = [];
  const emit = (ev: DriverEvent) => listeners.forEach((l) => l(ev));
  const lifecycle = (target: Uint8Array, event: number): DriverEvent => ({
    family: 'domain',
    eventID: 0,
    proc: 'DOMAIN_EVENT_CALLBACK_LIFECYCLE',
    target,
    payload: { msg: { dom: { ...dom, uuid: target }, event, detail: 0 } },
  });
  const driver: Driver = {
    name: 'fake',
    async open(uri) {
      if (uri.protocol !== 'fake:') return null;
      opened.push(uri.href);
      const conn: DriverConnection = {
        type: 'FAKE',
        uri: uri.href,
        methods: {
          CONNECT_GET_TYPE: () => ({ type: 'FAKE' }),
          DOMAIN_LOOKUP_BY_NAME: ({ name }) => {
            if (name !== 'fake') throw VirError.format(VirErrorNumber.NO_DOMAIN, VirErrorDomain.TEST, 'Domain not found: %s', `no domain with matching name '${name}'`);
            return { dom };
          },
          DOMAIN_SUSPEND: () => {
            emit(lifecycle(uuid, 3));
            emit(lifecycle(other, 3));
          },
        },
        supportsFeature: (f) => f === 3,
        onEvent(l) {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        close() {},
      };
      return conn;
    },
  };
  return { driver, emit, opened };
}

async function withDaemon(fn: (d: Daemon, sockDir: string, fake: ReturnType<typeof fakeDriver>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-daemon-'));
  const fake = fakeDriver();
  const d = new Daemon({
    unixSockDir: dir,
    unixSockGroup: null,
    unixSockRwPerms: 0o700,
    unixSockRoPerms: 0o777,
    tcp: null,
    maxClients: 50,
    maxClientRequests: 5,
    maxWorkers: 20,
    prioWorkers: 5,
    keepalive: { intervalMs: 5000, count: 5 },
    drivers: [fake.driver],
    defaultUri: 'fake:///default',
    log: silentLogger,
  });
  await d.start();
  try {
    await fn(d, dir, fake);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const client = async (dir: string, ro = false) => new RpcClient(await connectUnix(join(dir, ro ? 'libvirt-sock-ro' : 'libvirt-sock')));

async function rejectsWith(p: Promise<unknown>, code: number, domain: number, message: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VirError, String(e));
    assert.deepEqual([e.code, e.domain, e.message], [code, domain, message]);
    return true;
  });
}

test('before CONNECT_OPEN only auth, keepalive probing and open work', async () => {
  await withDaemon(async (_d, dir) => {
    const c = await client(dir);
    assert.deepEqual(await c.call(R.AUTH_LIST, undefined), { types: [0] });
    assert.deepEqual(await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 10 }), { supported: 1 });
    await rejectsWith(c.call(R.CONNECT_GET_TYPE, undefined), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: hypervisor connection not open');
    await rejectsWith(c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 14 }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: hypervisor connection not open');
    await rejectsWith(c.call(R.CONNECT_OPEN, { name: null, flags: 0 }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: connection not open');
    await rejectsWith(c.call(R.CONNECT_OPEN, { name: 'nosuch:///system', flags: 0 }), VirErrorNumber.NO_CONNECT, VirErrorDomain.NONE, 'no connection driver available for nosuch:///system');
    await c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags: 0 });
    await rejectsWith(c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags: 0 }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: connection already open');
    // Unlike libvirtd 9.0, a second open does not drop the first.
    assert.deepEqual(await c.call(R.CONNECT_GET_TYPE, undefined), { type: 'FAKE' });
    await c.close();
  });
});

test('features: the RPC layer answers its own, the driver the rest', async () => {
  await withDaemon(async (_d, dir) => {
    const c = await client(dir);
    await c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags: 0 });
    const answers: number[] = [];
    for (let f = 1; f <= 19; f++) answers.push((await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: f })).supported);
    // 8, 9, 10, 14, 15, 16 from the daemon (as libvirtd with the test driver), 3 from the fake driver.
    assert.deepEqual(answers.flatMap((v, i) => (v ? [i + 1] : [])), [3, 8, 9, 10, 14, 15, 16]);
    assert.deepEqual(await c.call(R.CONNECT_GET_LIB_VERSION, undefined), { libVer: 9000000n });
    assert.deepEqual(await c.call(R.CONNECT_GET_URI, undefined), { uri: 'fake:///default' });
    await c.close();
  });
});

test('an empty name opens the default URI', async () => {
  await withDaemon(async (_d, dir, fake) => {
    const c = await client(dir);
    await c.call(R.CONNECT_OPEN, { name: '', flags: 0 });
    assert.deepEqual(fake.opened, ['fake:///default']);
    await c.close();
  });
});

test('missing driver methods get NO_SUPPORT naming the C API, in its file domain', async () => {
  await withDaemon(async (_d, dir) => {
    const c = await client(dir);
    await c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags: 0 });
    await rejectsWith(c.call(R.DOMAIN_OPEN_CONSOLE, { dom, devName: null, flags: 0 }), VirErrorNumber.NO_SUPPORT, VirErrorDomain.DOMAIN, 'this function is not supported by the connection driver: virDomainOpenConsole');
    await rejectsWith(c.call(R.NETWORK_CREATE, { net: { name: 'n', uuid } }), VirErrorNumber.NO_SUPPORT, VirErrorDomain.NETWORK, 'this function is not supported by the connection driver: virNetworkCreate');
    await rejectsWith(c.call(R.DOMAIN_GET_XML_DESC, { dom, flags: 0 }), VirErrorNumber.NO_SUPPORT, VirErrorDomain.DOMAIN, 'this function is not supported by the connection driver: virDomainGetXMLDesc');
    await c.close();
  });
});

test('read-only connections: by flag or by socket, writes refused as libvirtd does', async () => {
  await withDaemon(async (_d, dir) => {
    for (const [ro, flags] of [[false, 1], [true, 0]] as const) {
      const c = await client(dir, ro);
      await c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags });
      assert.deepEqual(await c.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'fake' }), { dom });
      await rejectsWith(c.call(R.DOMAIN_SUSPEND, { dom }), VirErrorNumber.OPERATION_DENIED, VirErrorDomain.DOMAIN, 'operation forbidden: read only access prevents virDomainSuspend');
      await rejectsWith(c.call(R.NETWORK_DESTROY, { net: { name: 'n', uuid } }), VirErrorNumber.OPERATION_DENIED, VirErrorDomain.NETWORK, 'operation forbidden: read only access prevents virNetworkDestroy');
      await rejectsWith(c.call(R.STORAGE_POOL_DESTROY, { pool: { name: 'p', uuid } }), VirErrorNumber.OPERATION_DENIED, VirErrorDomain.STORAGE, 'operation forbidden: read only access prevents virStoragePoolDestroy');
      await rejectsWith(c.call(R.DOMAIN_SNAPSHOT_CREATE_XML, { dom, xmlDesc: '<domainsnapshot/>', flags: 0 }), VirErrorNumber.OPERATION_DENIED, VirErrorDomain.DOMAIN_SNAPSHOT, 'operation forbidden: read only access prevents virDomainSnapshotCreateXML');
      await rejectsWith(c.call(R.INTERFACE_DESTROY, { iface: { name: 'eth1', mac: 'aa' }, flags: 0 }), VirErrorNumber.OPERATION_DENIED, VirErrorDomain.INTERFACE, 'operation forbidden: read only access prevents virInterfaceDestroy');
      await c.close();
    }
  });
});

test('events: callbacks filtered by event id and object, legacy form, deregistration, errors', async () => {
  await withDaemon(async (_d, dir) => {
    const c = await client(dir);
    const got: Message[] = [];
    c.on('message', (m) => got.push(m));
    await c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags: 0 });
    const all = await c.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null });
    const mine = await c.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom });
    const reboot = await c.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 1, dom: null });
    assert.deepEqual([all.callbackID, mine.callbackID, reboot.callbackID], [0, 1, 2]);
    await c.call(R.CONNECT_DOMAIN_EVENT_REGISTER, undefined);
    await c.call(R.DOMAIN_SUSPEND, { dom });
    await new Promise((r) => setTimeout(r, 30));
    const seen = got.map((m) => {
      if (m.header.proc === R.DOMAIN_EVENT_LIFECYCLE.proc) return `legacy:${R.DOMAIN_EVENT_LIFECYCLE.args.decode(new XdrReader(m.body)).dom.uuid[0]}`;
      const v = R.DOMAIN_EVENT_CALLBACK_LIFECYCLE.args.decode(new XdrReader(m.body));
      return `${v.callbackID}:${v.msg.dom.uuid[0]}:${v.msg.event}`;
    });
    // Event for our domain: callbacks 0 and 1 and the legacy one; for the other: 0 and legacy.
    assert.deepEqual(seen.sort(), ['0:1:3', '0:9:3', '1:1:3', 'legacy:1', 'legacy:9'].sort());
    assert.ok(got.every((m) => m.header.serial === 1));

    await c.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: 0 });
    await rejectsWith(c.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: 12345 }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: domain event callback 12345 not registered');
    await rejectsWith(c.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 999, dom: null }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: unsupported event ID 999');
    await c.close();
  });
});

test('CONNECT_CLOSE replies, then the server closes the socket', async () => {
  await withDaemon(async (d, dir) => {
    const c = await client(dir);
    await c.call(R.CONNECT_OPEN, { name: 'fake:///default', flags: 0 });
    await c.call(R.CONNECT_CLOSE, undefined);
    const err = await c.closed;
    assert.ok(err, 'closed by the server');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(d.clientCount, 0);
  });
});
