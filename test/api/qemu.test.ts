// libvirt-qemu's API in-process: libvirt's client-side refusals, a fake QEMU driver for the
// monitor passthrough, event filtering and domain.qmp() (the src/qmp client over a Duplex).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Connection } from '../../src/api/connection.js';
import type { DriverConnection, QemuMonitorEvent, QemuMonitorEventListener } from '../../src/api/driver.js';
import { QEMU_MONITOR_COMMAND_HMP, QemuAgentCommandTimeout } from '../../src/api/qemu.js';
import { connect } from '../../src/connect.js';
import type { RemoteNonnullDomain } from '../../src/protocol/gen/remote.js';
import { QmpClient, QmpError } from '../../src/qmp/index.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../src/rpc/errors.js';

const DOM: RemoteNonnullDomain = { name: 'vm1', uuid: new Uint8Array(16).fill(1), id: 3 };
const OTHER: RemoteNonnullDomain = { name: 'vm2', uuid: new Uint8Array(16).fill(2), id: 4 };

/** A QEMU-ish in-process driver: records calls, answers query-status and friends like QEMU via libvirt. */
function fakeQemu() {
  const calls: Array<{ cmd: string; flags: number }> = [];
  const listeners = new Set<QemuMonitorEventListener>();
  let n = 0;
  const driver: DriverConnection = {
    type: 'QEMU',
    uri: 'qemu:///fake',
    methods: {
      DOMAIN_LOOKUP_BY_NAME: ({ name }) => {
        if (name !== DOM.name) throw VirError.format(VirErrorNumber.NO_DOMAIN, VirErrorDomain.QEMU, 'Domain not found: %s', name);
        return { dom: DOM };
      },
      qemu: {
        monitorCommand(_dom, cmd, flags) {
          calls.push({ cmd, flags });
          if (flags & QEMU_MONITOR_COMMAND_HMP) return 'VM status: running\r\n';
          const msg = JSON.parse(cmd) as { execute: string; id?: unknown };
          if (msg.id !== undefined) throw VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, 'internal error: %s', "Unable to append command 'id' string");
          const id = `libvirt-${++n}`;
          if (msg.execute === 'query-status') return JSON.stringify({ return: { status: 'running', singlestep: false, running: true }, id });
          if (msg.execute === 'query-version') return JSON.stringify({ return: { qemu: { major: 7, minor: 2, micro: 0 }, package: 'Debian 1:7.2' }, id });
          if (msg.execute === 'human-monitor-command') return JSON.stringify({ return: 'VM status: running\r\n', id });
          if (msg.execute === 'stop') {
            queueMicrotask(() => emit({ dom: DOM, event: 'STOP', seconds: 1700000000n, micros: 5, details: null }));
            return JSON.stringify({ return: {}, id });
          }
          return JSON.stringify({ id, error: { class: 'CommandNotFound', desc: `The command ${msg.execute} has not been found` } });
        },
        agentCommand: (_dom, cmd, timeout) => JSON.stringify({ return: { cmd, timeout } }),
        onMonitorEvent(l) {
          listeners.add(l);
          return () => listeners.delete(l);
        },
      },
    },
    supportsFeature: () => false,
    onEvent: () => () => undefined,
    close: () => undefined,
  };
  const emit = (ev: QemuMonitorEvent) => listeners.forEach((l) => l(ev));
  return { driver, calls, emit, listeners };
}

function virError(code: VirErrorNumber, message: string) {
  return (e: unknown) => e instanceof VirError && e.code === code && e.domain === VirErrorDomain.NONE && e.message === message;
}

describe('QEMU API without a QEMU driver (test:///default)', () => {
  test('every call fails as libvirt-qemu reports it', async () => {
    const c = await connect('test:///default');
    try {
      const dom = await c.domainLookupByName('test');
      const ns = (api: string) => virError(VirErrorNumber.NO_SUPPORT, `this function is not supported by the connection driver: ${api}`);
      await assert.rejects(dom.qemuMonitorCommand('{"execute":"query-status"}'), ns('virDomainQemuMonitorCommand'));
      await assert.rejects(dom.qemuAgentCommand('{"execute":"guest-ping"}'), ns('virDomainQemuAgentCommand'));
      await assert.rejects(c.qemuAttach(1234), ns('virDomainQemuAttach'));
      await assert.rejects(c.qemuMonitorEvents(), ns('virConnectDomainQemuMonitorEventRegister'));
      await assert.rejects(dom.qmp(), ns('virConnectDomainQemuMonitorEventRegister'));
      // libvirt's library refuses pid 0 before asking the driver.
      await assert.rejects(c.qemuAttach(0), virError(VirErrorNumber.INVALID_ARG, 'pid_value in virDomainQemuAttach must not be zero'));
    } finally {
      await c.close();
    }
  });

  test('a read-only connection is refused before the driver', async () => {
    const { driver, calls } = fakeQemu();
    const c = new Connection(driver, { readonly: true });
    const dom = await c.domainLookupByName('vm1');
    const ro = (api: string) => virError(VirErrorNumber.OPERATION_DENIED, `operation forbidden: read only access prevents ${api}`);
    await assert.rejects(dom.qemuMonitorCommand('x'), ro('virDomainQemuMonitorCommand'));
    await assert.rejects(dom.qemuAgentCommand('x'), ro('virDomainQemuAgentCommand'));
    await assert.rejects(c.qemuAttach(5), ro('virDomainQemuAttach'));
    await assert.rejects(c.qemuMonitorEvents(), ro('virConnectDomainQemuMonitorEventRegister'));
    assert.equal(calls.length, 0);
    await c.close();
  });
});

describe('QEMU API over an in-process QEMU driver', () => {
  test('monitor and agent passthrough hand text through unchanged', async () => {
    const { driver, calls } = fakeQemu();
    const c = new Connection(driver, { readonly: false });
    const dom = await c.domainLookupByName('vm1');
    assert.equal(await dom.qemuMonitorCommand('{"execute":"query-status"}'), '{"return":{"status":"running","singlestep":false,"running":true},"id":"libvirt-1"}');
    assert.equal(await dom.qemuMonitorCommand('info status', { hmp: true }), 'VM status: running\r\n');
    assert.deepEqual(calls.map((x) => x.flags), [0, QEMU_MONITOR_COMMAND_HMP]);
    assert.equal(await dom.qemuAgentCommand('{"execute":"guest-ping"}', QemuAgentCommandTimeout.BLOCK), '{"return":{"cmd":"{\\"execute\\":\\"guest-ping\\"}","timeout":-2}}');
    await c.close();
  });

  test('monitor events are filtered by domain, name, regex and case', async () => {
    const { driver, emit, listeners } = fakeQemu();
    const c = new Connection(driver, { readonly: false });
    const vm1 = await c.domainLookupByName('vm1');
    const all = await c.qemuMonitorEvents();
    const byDomain = await c.qemuMonitorEvents({ domain: vm1 });
    const exact = await c.qemuMonitorEvents({ event: 'stop' });
    const nocase = await c.qemuMonitorEvents({ event: 'stop', nocase: true });
    const regex = await c.qemuMonitorEvents({ event: '^RES', regex: true });
    await assert.rejects(
      c.qemuMonitorEvents({ event: '(', regex: true }),
      (e: unknown) => e instanceof VirError && e.code === VirErrorNumber.INVALID_ARG && e.message.startsWith("invalid argument: failed to compile regex '('"),
    );
    const ev = (dom: RemoteNonnullDomain, event: string): QemuMonitorEvent => ({ dom, event, seconds: 1n, micros: 2, details: event === 'RESET' ? '{"guest":false}' : null });
    emit(ev(DOM, 'STOP'));
    emit(ev(OTHER, 'RESUME'));
    emit(ev(DOM, 'RESET'));
    const take = async (s: typeof all, k: number) => {
      const got: string[] = [];
      for (let i = 0; i < k; i++) {
        const r = await s.next();
        assert.ok(!r.done);
        got.push(`${r.value.domain.name}:${r.value.event}`);
      }
      assert.equal(s.pending, 0, 'nothing more queued');
      return got;
    };
    assert.deepEqual(await take(all, 3), ['vm1:STOP', 'vm2:RESUME', 'vm1:RESET']);
    assert.deepEqual(await take(byDomain, 2), ['vm1:STOP', 'vm1:RESET']);
    assert.deepEqual(await take(exact, 0), []);
    assert.deepEqual(await take(nocase, 1), ['vm1:STOP']);
    assert.deepEqual(await take(regex, 2), ['vm2:RESUME', 'vm1:RESET']);
    assert.equal(listeners.size, 5);
    await all.close();
    assert.equal(listeners.size, 4, 'closing a stream unsubscribes');
    await c.close();
    assert.equal(listeners.size, 0, 'closing the connection ends every stream');
  });

  test('domain.qmp() is a QmpClient speaking QMP over the passthrough', async () => {
    const { driver, calls, listeners } = fakeQemu();
    const c = new Connection(driver, { readonly: false });
    const dom = await c.domainLookupByName('vm1');
    const qmp = await dom.qmp({ timeoutMs: 5000 });
    assert.ok(qmp instanceof QmpClient);
    assert.equal(qmp.state, 'running');
    assert.deepEqual(qmp.version, { qemu: { major: 7, minor: 2, micro: 0 }, package: 'Debian 1:7.2' });
    assert.deepEqual(await qmp.execute('query-status'), { status: 'running', singlestep: false, running: true });
    // Our ids never reach libvirt (it refuses them); QEMU's errors come back as QmpError.
    await assert.rejects(qmp.execute('nosuch'), (e: unknown) => e instanceof QmpError && e.class === 'CommandNotFound');
    assert.equal(await qmp.hmp('info status'), 'VM status: running\r\n');
    const events = qmp.events({ names: ['STOP'] });
    await qmp.execute('stop');
    const r = await events.next();
    assert.equal(r.done, false);
    assert.deepEqual(r.value, { event: 'STOP', data: {}, timestamp: { seconds: 1700000000, microseconds: 5 } });
    assert.ok(calls.every((x) => !x.cmd.includes('"id"')));
    assert.ok(!calls.some((x) => x.cmd.includes('qmp_capabilities')), 'negotiation is answered locally');
    await qmp.close();
    assert.equal(listeners.size, 0, 'closing the client unsubscribes its events');
    await c.close();
  });

  test('domain.qmp() on a driver error rejects with the libvirt error', async () => {
    const { driver } = fakeQemu();
    const qemu = driver.methods.qemu!;
    qemu.monitorCommand = () => {
      throw VirError.format(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'Requested operation is not valid: %s', 'domain is not running');
    };
    const c = new Connection(driver, { readonly: false });
    const dom = await c.domainLookupByName('vm1');
    await assert.rejects(dom.qmp(), (e: unknown) => e instanceof VirError && e.message === 'Requested operation is not valid: domain is not running');
    await c.close();
  });
});
