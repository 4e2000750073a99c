// The QEMU program on tsvirtd, over a real socket with our RPC client, against a fake driver that
// has (or lacks) the qemu methods. Expected errors are what libvirtd 9.0 answered for its test
// driver (no qemu methods) and its QEMU driver (event flags and regex), probed on the wire.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Driver, DriverConnection, DriverMethods, QemuMonitorEvent, QemuMonitorEventListener } from '../../src/api/driver.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { monitorEventMatcher } from '../../src/daemon/qemu-dispatch.js';
import { QemuProcedures as Q } from '../../src/protocol/gen/qemu.js';
import { RemoteProcedures as R } from '../../src/protocol/gen/remote.js';
import { RpcClient, silentLogger, VirError, VirErrorDomain, VirErrorNumber } from '../../src/rpc/index.js';
import { connectUnix } from '../../src/transport/index.js';
import { XdrReader } from '../../src/xdr/index.js';

const uuid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const other = Uint8Array.from({ length: 16 }, () => 9);
const dom = { name: 'vm', uuid, id: 3 };

interface Fake {
  driver: Driver;
  emit(ev: QemuMonitorEvent): void;
  listeners: Set<QemuMonitorEventListener>;
  calls: string[];
}

/** `fake:///qemu` has the qemu methods, `fake:///plain` has none (like the test driver). */
function fakeDriver(): Fake {
  const listeners = new Set<QemuMonitorEventListener>();
  const calls: string[] = [];
  const qemuMethods: DriverMethods = {
    qemu: {
      monitorCommand: (d, cmd, flags) => {
        calls.push(`monitor ${d.name} ${cmd} ${flags}`);
        if (flags & 1) return `hmp:${cmd}\r\n`;
        return JSON.stringify({ return: { running: true, status: 'running' }, id: 'libvirt-1' });
      },
      attach: (pid, flags) => {
        calls.push(`attach ${pid} ${flags}`);
        if (pid === 1) throw VirError.format(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'Requested operation is not valid: %s', 'pid 1 is not QEMU');
        return { name: `attached-${pid}`, uuid, id: 9 };
      },
      agentCommand: () => null,
      onMonitorEvent(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
  };
  const driver: Driver = {
    name: 'fake',
    async open(uri) {
      if (uri.protocol !== 'fake:') return null;
      const conn: DriverConnection = {
        type: 'FAKE',
        uri: uri.href,
        methods: uri.pathname === '/qemu' ? qemuMethods : {},
        supportsFeature: () => false,
        onEvent: () => () => {},
        close() {},
      };
      return conn;
    },
  };
  return { driver, emit: (ev) => listeners.forEach((l) => l(ev)), listeners, calls };
}

async function withDaemon(fn: (dir: string, fake: Fake) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-dispatch-'));
  const fake = fakeDriver();
  const d = new Daemon({
    unixSockDir: dir,
    unixSockGroup: null,
    unixSockRwPerms: 0o700,
    unixSockRoPerms: 0o777,
    tcp: null,
    maxClients: 20,
    maxClientRequests: 5,
    maxWorkers: 20,
    prioWorkers: 5,
    keepalive: null,
    drivers: [fake.driver],
    defaultUri: 'fake:///qemu',
    log: silentLogger,
  });
  await d.start();
  try {
    await fn(dir, fake);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function opened(dir: string, name: string, ro = false): Promise<RpcClient> {
  const c = new RpcClient(await connectUnix(join(dir, ro ? 'libvirt-sock-ro' : 'libvirt-sock')));
  await c.call(R.CONNECT_OPEN, { name, flags: 0 });
  return c;
}

async function rejectsWith(p: Promise<unknown>, code: number, domain: number, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VirError, String(e));
    assert.deepEqual([e.code, e.domain, e.message], [code, domain, message]);
    return true;
  });
}

const ev = (target: Uint8Array, event: string, details: string | null = null): QemuMonitorEvent => ({
  dom: { name: 'vm', uuid: target, id: 3 },
  event,
  seconds: 1700000000n,
  micros: 123456,
  details,
});

test('a driver without qemu methods: libvirtd\'s errors, read-only checked first', async () => {
  await withDaemon(async (dir) => {
    const NS = VirErrorNumber.NO_SUPPORT;
    const none = VirErrorDomain.NONE;
    const c = await opened(dir, 'fake:///plain');
    const prefix = 'this function is not supported by the connection driver: ';
    await rejectsWith(c.call(Q.DOMAIN_MONITOR_COMMAND, { dom, cmd: '{"execute":"query-status"}', flags: 0 }), NS, none, prefix + 'virDomainQemuMonitorCommand');
    await rejectsWith(c.call(Q.DOMAIN_MONITOR_COMMAND_WITH_FILES, { dom, cmd: 'x', flags: 0 }), NS, none, prefix + 'virDomainQemuMonitorCommandWithFiles');
    await rejectsWith(c.call(Q.DOMAIN_ATTACH, { pidValue: 1, flags: 0 }), NS, none, prefix + 'virDomainQemuAttach');
    await rejectsWith(c.call(Q.DOMAIN_AGENT_COMMAND, { dom, cmd: 'x', timeout: -2, flags: 0 }), NS, none, prefix + 'virDomainQemuAgentCommand');
    await rejectsWith(c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: null, flags: 0 }), NS, none, prefix + 'virConnectDomainQemuMonitorEventRegister');
    await rejectsWith(c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER, { callbackID: 3 }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: qemu monitor event callback 3 not registered');
    await c.close();

    const ro = await opened(dir, 'fake:///qemu', true);
    await rejectsWith(ro.call(Q.DOMAIN_MONITOR_COMMAND, { dom, cmd: 'x', flags: 0 }), VirErrorNumber.OPERATION_DENIED, none, 'operation forbidden: read only access prevents virDomainQemuMonitorCommand');
    await rejectsWith(ro.call(Q.DOMAIN_ATTACH, { pidValue: 5, flags: 0 }), VirErrorNumber.OPERATION_DENIED, none, 'operation forbidden: read only access prevents virDomainQemuAttach');
    await rejectsWith(ro.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: null, flags: 0 }), VirErrorNumber.OPERATION_DENIED, none, 'operation forbidden: read only access prevents virConnectDomainQemuMonitorEventRegister');
    await ro.close();

    const early = new RpcClient(await connectUnix(join(dir, 'libvirt-sock')));
    await rejectsWith(early.call(Q.DOMAIN_MONITOR_COMMAND, { dom, cmd: 'x', flags: 0 }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: hypervisor connection not open');
    await early.close();
  });
});

test('monitor command, attach and agent calls reach the driver with their flags', async () => {
  await withDaemon(async (dir, fake) => {
    const c = await opened(dir, 'fake:///qemu');
    const { result } = await c.call(Q.DOMAIN_MONITOR_COMMAND, { dom, cmd: '{"execute":"query-status"}', flags: 0 });
    assert.deepEqual(JSON.parse(result), { return: { running: true, status: 'running' }, id: 'libvirt-1' });
    assert.deepEqual(await c.call(Q.DOMAIN_MONITOR_COMMAND, { dom, cmd: 'info status', flags: 1 }), { result: 'hmp:info status\r\n' });
    assert.deepEqual(await c.call(Q.DOMAIN_MONITOR_COMMAND_WITH_FILES, { dom, cmd: 'info kvm', flags: 1 }), { result: 'hmp:info kvm\r\n' });
    assert.deepEqual(await c.call(Q.DOMAIN_ATTACH, { pidValue: 4242, flags: 0 }), { dom: { name: 'attached-4242', uuid, id: 9 } });
    await rejectsWith(c.call(Q.DOMAIN_ATTACH, { pidValue: 1, flags: 0 }), VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'Requested operation is not valid: pid 1 is not QEMU');
    assert.deepEqual(await c.call(Q.DOMAIN_AGENT_COMMAND, { dom, cmd: '{}', timeout: -2, flags: 0 }), { result: null });
    assert.deepEqual(fake.calls, [
      'monitor vm {"execute":"query-status"} 0',
      'monitor vm info status 1',
      'monitor vm info kvm 1',
      'attach 4242 0',
      'attach 1 0',
    ]);
    await c.close();
  });
});

test('monitor events: filtered per callback by domain and name, stop after deregister and disconnect', async () => {
  await withDaemon(async (dir, fake) => {
    const c = await opened(dir, 'fake:///qemu');
    const got: Array<[number, string, string | null]> = [];
    c.on('message', (msg) => {
      if (msg.header.prog !== Q.DOMAIN_MONITOR_EVENT.prog || msg.header.proc !== Q.DOMAIN_MONITOR_EVENT.proc) return;
      const body = Q.DOMAIN_MONITOR_EVENT.args.decode(new XdrReader(msg.body));
      assert.equal(body.seconds, 1700000000n);
      assert.equal(body.micros, 123456);
      got.push([body.callbackID, body.event, body.details]);
    });
    const all = (await c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: null, flags: 0 })).callbackID;
    const stopOnVm = (await c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom, event: 'STOP', flags: 0 })).callbackID;
    const nocase = (await c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: 'resume', flags: 2 })).callbackID;
    const regex = (await c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: '^shut', flags: 3 })).callbackID;
    assert.equal(new Set([all, stopOnVm, nocase, regex]).size, 4);

    fake.emit(ev(uuid, 'STOP'));
    fake.emit(ev(other, 'STOP'));
    fake.emit(ev(uuid, 'RESUME'));
    fake.emit(ev(other, 'SHUTDOWN', '{"guest":true,"reason":"guest-shutdown"}'));
    // A ping round trip: events sent before the reply are read before it.
    await c.call(R.CONNECT_GET_TYPE, undefined).catch(() => undefined);
    assert.deepEqual(got, [
      [all, 'STOP', null],
      [stopOnVm, 'STOP', null],
      [all, 'STOP', null],
      [all, 'RESUME', null],
      [nocase, 'RESUME', null],
      [all, 'SHUTDOWN', '{"guest":true,"reason":"guest-shutdown"}'],
      [regex, 'SHUTDOWN', '{"guest":true,"reason":"guest-shutdown"}'],
    ]);

    await c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER, { callbackID: all });
    await rejectsWith(c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER, { callbackID: all }), VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, `internal error: qemu monitor event callback ${all} not registered`);
    assert.equal(fake.listeners.size, 3);
    got.length = 0;
    fake.emit(ev(uuid, 'STOP'));
    await c.call(R.CONNECT_GET_TYPE, undefined).catch(() => undefined);
    assert.deepEqual(got, [[stopOnVm, 'STOP', null]]);

    await c.close();
    // The daemon notices the disconnect and drops the rest.
    for (let i = 0; i < 50 && fake.listeners.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fake.listeners.size, 0);
  });
});

test('register: libvirt\'s flag and regex errors', async () => {
  await withDaemon(async (dir) => {
    const c = await opened(dir, 'fake:///qemu');
    await rejectsWith(c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: 'x', flags: 8 }), VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, 'unsupported flags (0x8) in function virDomainQemuMonitorEventStateRegisterID');
    await assert.rejects(c.call(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, { dom: null, event: '(', flags: 1 }), (e: unknown) => {
      assert.ok(e instanceof VirError);
      assert.equal(e.code, VirErrorNumber.INVALID_ARG);
      assert.match(e.message, /^invalid argument: failed to compile regex '\(': /);
      return true;
    });
    await c.close();
  });
});

test('event name matcher', () => {
  assert.equal(monitorEventMatcher(null, 0)('ANY'), true);
  assert.equal(monitorEventMatcher('STOP', 0)('stop'), false);
  assert.equal(monitorEventMatcher('STOP', 2)('stop'), true);
  assert.equal(monitorEventMatcher('STOP', 2)('STOPPED'), false);
  // A regex is searched, not anchored, as GLib's g_regex_match does.
  assert.equal(monitorEventMatcher('OCK_JOB', 1)('BLOCK_JOB_READY'), true);
  assert.equal(monitorEventMatcher('ock_job', 1)('BLOCK_JOB_READY'), false);
  assert.equal(monitorEventMatcher('ock_job', 3)('BLOCK_JOB_READY'), true);
});
