// QmpClient against the scripted fake server: negotiation, replies, events and every fault the
// client must survive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConnectError,
  ConnectionClosedError,
  ExecInterruptedError,
  MessageTooLongError,
  ProtocolError,
  QmpAbortError,
  QmpClient,
  QmpError,
  QmpTimeoutError,
  StateError,
  connect,
  type QmpEvent,
  type QmpLogger,
  type QmpState,
} from '../../src/qmp/index.js';
import { startFakeQmp, type FakeCommand, type FakeOptions, type FakeServer } from './fake-server.js';

/** A regression must fail, not hang the run. */
const T = { timeout: 5000 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withFake(opts: FakeOptions, body: (srv: FakeServer) => Promise<void>): Promise<void> {
  const srv = await startFakeQmp(opts);
  try {
    await body(srv);
  } finally {
    await srv.close();
  }
}

function recordStates(c: QmpClient): QmpState[] {
  const seen: QmpState[] = [c.state];
  c.on('state', ({ to }) => seen.push(to));
  return seen;
}

function captureLog(): { logger: QmpLogger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: { debug: (m) => lines.push(m), warn: (m) => lines.push(m) } };
}

test('connect reads the greeting, negotiates, walks the state machine, and close() waits for the end', T, async () => {
  await withFake({}, async (srv) => {
    const c = new QmpClient();
    const states = recordStates(c);
    await c.connect(srv.path);
    assert.equal(c.state, 'running');
    assert.deepEqual(c.version, { qemu: { major: 7, minor: 2, micro: 0 }, package: 'fake' });
    assert.deepEqual(c.capabilities, ['oob']);
    // oob offered but not asked for: not enabled, and qmp_capabilities carried no arguments.
    assert.equal(c.oobEnabled, false);
    const conn = await srv.connection();
    assert.deepEqual(conn.received[0], { execute: 'qmp_capabilities', id: conn.received[0]!.id });
    assert.deepEqual(await c.execute('query-status'), {});
    await c.close();
    assert.equal(c.state, 'idle');
    assert.deepEqual(states, ['idle', 'connecting', 'negotiating', 'running', 'disconnecting', 'idle']);
    const cause = await c.closed;
    assert.ok(cause instanceof ConnectionClosedError);
    assert.equal(cause.byPeer, false);
    await conn.ended;
    // The client is single-use and says so with a typed error.
    await assert.rejects(c.connect(srv.path), StateError);
    await assert.rejects(c.execute('stop'), (e: unknown) => e instanceof StateError && e.state === 'idle' && e.cause === cause);
  });
});

test('oob is enabled when offered and asked for; exec-oob goes out as such; refused when not negotiated', T, async () => {
  await withFake({}, async (srv) => {
    const c = await connect(srv.path, { oob: true });
    const conn = await srv.connection();
    assert.deepEqual(conn.received[0]!.arguments, { enable: ['oob'] });
    assert.equal(c.oobEnabled, true);
    await c.execute('migrate-pause', undefined, { oob: true });
    assert.equal(conn.received[1]!['exec-oob'], 'migrate-pause');
    assert.equal(conn.received[1]!.execute, undefined);
    await c.close();
  });
  await withFake({ greeting: { QMP: { version: { qemu: { major: 6, minor: 0, micro: 0 }, package: '' }, capabilities: [] } } }, async (srv) => {
    const c = await connect(srv.path, { oob: true });
    assert.equal(c.oobEnabled, false);
    assert.equal((await srv.connection()).received[0]!.arguments, undefined);
    await assert.rejects(c.execute('migrate-pause', undefined, { oob: true }), { code: 'QMP_OOB_DISABLED' });
    await c.close();
  });
});

test('TCP targets work like unix ones', T, async () => {
  await withFake({ tcp: true }, async (srv) => {
    const c = await connect({ host: '127.0.0.1', port: srv.port });
    assert.equal(c.version?.qemu.major, 7);
    await c.close();
  });
});

test('events before and around the greeting reach subscribers registered before connect', T, async () => {
  await withFake(
    {
      onConnect: (conn) => conn.event('EARLY', { n: 1 }),
      handle: (cmd, conn) => {
        conn.event('BEFORE_REPLY');
        conn.reply(cmd, { ok: true });
      },
    },
    async (srv) => {
      const c = new QmpClient();
      const viaEmitter: string[] = [];
      c.on('event', (e) => viaEmitter.push(e.event));
      const it = c.events();
      await c.connect(srv.path);
      assert.deepEqual(await c.execute('x'), { ok: true });
      const first = await it.next();
      assert.deepEqual(first.value, { event: 'EARLY', data: { n: 1 }, timestamp: { seconds: 1700000000, microseconds: 42 } });
      const second = (await it.next()).value;
      assert.equal(second?.event, 'BEFORE_REPLY');
      assert.deepEqual(second?.data, {}, 'an event without data gets an empty object');
      assert.deepEqual(viaEmitter, ['EARLY', 'BEFORE_REPLY']);
      await c.close();
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    },
  );
});

test('events(): name filter, predicate, drop-oldest overflow with a count, break unsubscribes', T, async () => {
  await withFake({}, async (srv) => {
    const c = await connect(srv.path);
    const conn = await srv.connection();
    const stops = c.events({ names: ['STOP'] });
    const big = c.events({ predicate: (e) => e.event === 'N' && (e.data.i as number) % 2 === 0, maxQueue: 3 });
    const ev = (name: string, data?: object) => conn.event(name, data);
    ev('RESUME');
    ev('STOP');
    for (let i = 0; i < 10; i++) ev('N', { i });
    await c.execute('sync'); // replies come after the events written before them
    assert.deepEqual((await stops.next()).value?.event, 'STOP');
    assert.equal(stops.size, 0);
    // Evens 0..8 matched; only the newest 3 were kept.
    assert.equal(big.size, 3);
    assert.equal(big.dropped, 2);
    const got: number[] = [];
    for await (const e of big) {
      got.push(e.data.i as number);
      if (got.length === 2) break;
    }
    assert.deepEqual(got, [4, 6]);
    assert.equal(big.closed, true);
    assert.equal(big.size, 0, 'break discards the rest');
    ev('N', { i: 100 });
    await c.execute('sync');
    assert.equal(big.size, 0, 'no delivery after unsubscribe');
    await c.close();
    assert.equal(stops.closed, true, 'iterators end with the connection');
  });
});

test('a reply with an unknown id is dropped with a debug log; the connection carries on', T, async () => {
  const { logger, lines } = captureLog();
  await withFake(
    {
      handle: (cmd, conn) => {
        conn.send({ return: { stray: true }, id: 'not-ours' });
        conn.send({ return: { stray: true }, id: 12345 });
        conn.reply(cmd, { mine: true });
      },
    },
    async (srv) => {
      const c = await connect(srv.path, { logger });
      assert.deepEqual(await c.execute('a'), { mine: true });
      assert.equal(c.state, 'running');
      assert.ok(lines.some((l) => l.includes('unknown id "not-ours"')), lines.join('\n'));
      assert.ok(lines.some((l) => l.includes('unknown id 12345')));
      await c.close();
    },
  );
});

test('an error reply becomes QmpError keeping the command that was sent', T, async () => {
  await withFake({ handle: (cmd, conn) => conn.error(cmd, 'DeviceNotFound', "Device 'x' not found") }, async (srv) => {
    const c = await connect(srv.path);
    const err = await c.execute('device_del', { id: 'x' }).then(
      () => assert.fail('should reject'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof QmpError);
    assert.equal(err.class, 'DeviceNotFound');
    assert.equal(err.desc, "Device 'x' not found");
    assert.equal(err.command, 'device_del');
    assert.deepEqual(err.args, { id: 'x' });
    assert.equal(err.id, (await srv.connection()).received[1]!.id);
    assert.equal(c.state, 'running', 'a command error is not a connection error');
    await c.close();
  });
});

test('an error without id is fatal: the connection closes and pending calls are interrupted', T, async () => {
  let first = true;
  await withFake(
    {
      handle: (cmd, conn) => {
        if (first) return void (first = false); // leave the first one pending
        conn.send({ error: { class: 'GenericError', desc: 'JSON parse error, expecting value' } });
        void cmd;
      },
    },
    async (srv) => {
      const c = await connect(srv.path);
      const outcomes = Promise.allSettled([c.execute('slow'), c.execute('trigger')]);
      const closed = await c.closed;
      assert.ok(closed instanceof ProtocolError);
      assert.match(closed.message, /without id.*GenericError.*JSON parse error/);
      for (const r of await outcomes) {
        assert.ok(r.status === 'rejected' && r.reason instanceof ExecInterruptedError && r.reason.cause === closed);
      }
      assert.equal(c.state, 'idle');
      await (await srv.connection()).ended;
    },
  );
});

test('a line longer than maxMessageBytes is cut off, never buffered whole', T, async () => {
  await withFake({ handle: () => {} }, async (srv) => {
    const c = await connect(srv.path, { maxMessageBytes: 4096 });
    const pending = assert.rejects(c.execute('x'), (e: unknown) => e instanceof ExecInterruptedError && e.cause instanceof MessageTooLongError);
    const conn = await srv.connection();
    // Sent in pieces, no newline: the limit applies to the unfinished line.
    for (let i = 0; i < 10; i++) conn.raw('{"return": "' + 'a'.repeat(1000));
    const cause = await c.closed;
    assert.ok(cause instanceof MessageTooLongError);
    assert.equal(cause.limit, 4096);
    await pending;
  });
});

test('malformed JSON from the peer is a protocol error that closes the connection', T, async () => {
  await withFake({ handle: (_cmd, conn) => conn.raw('{"return": {}, "id": \r\n') }, async (srv) => {
    const c = await connect(srv.path);
    await assert.rejects(c.execute('x'), (e: unknown) => e instanceof ExecInterruptedError && e.cause instanceof ProtocolError);
    const cause = await c.closed;
    assert.match(cause.message, /malformed JSON/);
    assert.equal((cause as ProtocolError).raw, '{"return": {}, "id": \r');
  });
  // Valid JSON that is not an object is just as fatal.
  await withFake({ handle: (_cmd, conn) => conn.raw('[1,2]\n') }, async (srv) => {
    const c = await connect(srv.path);
    await assert.rejects(c.execute('x'), ExecInterruptedError);
    assert.match((await c.closed).message, /not a JSON object/);
  });
});

test('a server that never greets: connect times out, or aborts with its signal, and cleans up', T, async () => {
  await withFake({ greeting: null }, async (srv) => {
    const c = new QmpClient();
    const states = recordStates(c);
    const t0 = Date.now();
    const err = await c.connect(srv.path, { timeoutMs: 150 }).then(() => assert.fail('connected'), (e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.ok(err.cause instanceof QmpTimeoutError);
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(c.state, 'idle');
    assert.deepEqual(states, ['idle', 'connecting', 'negotiating', 'disconnecting', 'idle']);
    await srv.conns[0]!.ended;

    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    const err2 = await connect(srv.path, { signal: ac.signal }).then(() => assert.fail('connected'), (e: unknown) => e);
    assert.ok(err2 instanceof ConnectError && err2.cause instanceof QmpAbortError);
    assert.equal((err2.cause.cause as Error).message, 'user gave up');
    await srv.conns[1]!.ended;

    // Already aborted: fails without touching the socket.
    await assert.rejects(connect(srv.path, { signal: AbortSignal.abort() }), (e: unknown) => e instanceof ConnectError && e.cause instanceof QmpAbortError);
    assert.equal(srv.conns.length, 2);

    // close() during connect aborts it.
    const c3 = new QmpClient();
    const p3 = c3.connect(srv.path);
    await sleep(30);
    assert.equal(c3.state, 'negotiating');
    await c3.close();
    await assert.rejects(p3, (e: unknown) => e instanceof ConnectError && e.cause instanceof ConnectionClosedError);
  });
});

test('connect to a missing socket fails with ConnectError carrying the socket error', T, async () => {
  const c = new QmpClient();
  const err = await c.connect('/nonexistent/tsvirt-qmp.sock').then(() => assert.fail('connected'), (e: unknown) => e);
  assert.ok(err instanceof ConnectError);
  assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal(c.state, 'idle');
  assert.equal(await c.closed, err.cause);
});

test('a bad greeting fails connect at once with a ProtocolError cause', T, async () => {
  await withFake({ greeting: { QMP: { capabilities: [] } } }, async (srv) => {
    const err = await connect(srv.path, { timeoutMs: 5000 }).then(() => assert.fail('connected'), (e: unknown) => e);
    assert.ok(err instanceof ConnectError && err.cause instanceof ProtocolError);
  });
});

test('a refused qmp_capabilities fails connect with the QmpError as cause', T, async () => {
  await withFake({ negotiate: (cmd, conn) => conn.error(cmd, 'GenericError', "Capability negotiation is already complete") }, async (srv) => {
    const c = new QmpClient();
    const err = await c.connect(srv.path).then(() => assert.fail('connected'), (e: unknown) => e);
    assert.ok(err instanceof ConnectError && err.cause instanceof QmpError);
    assert.equal(err.cause.command, 'qmp_capabilities');
    assert.equal(c.state, 'idle');
  });
});

test('a throwing event listener is logged and does not disturb the connection', T, async () => {
  const { logger, lines } = captureLog();
  await withFake({ handle: (cmd, conn) => (conn.event('BOOM'), conn.reply(cmd, 1)) }, async (srv) => {
    const c = await connect(srv.path, { logger });
    c.on('event', () => {
      throw new Error('listener bug');
    });
    const it = c.events();
    assert.equal(await c.execute('x'), 1);
    assert.equal((await it.next()).value?.event, 'BOOM');
    assert.ok(lines.some((l) => l.includes('listener bug')));
    await c.close();
  });
});

test('a server that stops answering: execute times out or aborts; the late reply is dropped quietly', T, async () => {
  const held: FakeCommand[] = [];
  const { logger, lines } = captureLog();
  await withFake({ handle: (cmd, conn) => (cmd.execute === 'hang' ? held.push(cmd) : conn.reply(cmd, 'ok')) }, async (srv) => {
    const c = await connect(srv.path, { logger });
    const err = await c.execute('hang', undefined, { timeoutMs: 80 }).then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(err instanceof QmpTimeoutError);
    assert.equal(err.timeoutMs, 80);
    const ac = new AbortController();
    const p = c.execute('hang', {}, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, QmpAbortError);
    // Not even sent when the signal is already aborted.
    await assert.rejects(c.execute('hang', undefined, { signal: ac.signal }), QmpAbortError);
    assert.equal(await c.execute('x'), 'ok'); // the server has seen everything sent before
    const conn = await srv.connection();
    assert.equal(conn.received.filter((r) => r.execute === 'hang').length, 2);
    // The server finally answers both: ignored, and the connection still works.
    for (const cmd of held) conn.reply(cmd, 'late');
    assert.equal(await c.execute('x'), 'ok');
    assert.equal(lines.filter((l) => l.includes('late reply for abandoned')).length, 2);
    await c.close();
  });
});

test('defaultTimeoutMs applies to every execute without its own', T, async () => {
  await withFake({ handle: () => {} }, async (srv) => {
    const c = await connect(srv.path, { defaultTimeoutMs: 50 });
    await assert.rejects(c.execute('x'), QmpTimeoutError);
    await c.close();
  });
});

test('the peer hanging up interrupts pending calls with the hang-up as cause', T, async () => {
  await withFake({ handle: (_cmd, conn) => conn.socket.end() }, async (srv) => {
    const c = await connect(srv.path);
    const err = await c.execute('quit').then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(err instanceof ExecInterruptedError);
    assert.equal(err.command, 'quit');
    const cause = await c.closed;
    assert.equal(err.cause, cause);
    assert.ok(cause instanceof ConnectionClosedError && cause.byPeer);
  });
});

test('__proto__ keys in server JSON cannot pollute prototypes', T, async () => {
  const evil = '{"return": {"__proto__": {"polluted": "yes"}, "ok": 1, "nested": {"__proto__": {"polluted": "yes"}}}, "id": "ID"}\r\n';
  await withFake(
    {
      handle: (cmd, conn) => {
        conn.raw('{"event": "E", "data": {"__proto__": {"polluted": "yes"}}, "timestamp": {"seconds": 1, "microseconds": 2}}\n');
        conn.raw(evil.replace('ID', String(cmd.id)));
      },
    },
    async (srv) => {
      const c = await connect(srv.path);
      const events: QmpEvent[] = [];
      c.on('event', (e) => events.push(e));
      const r = (await c.execute('x')) as Record<string, unknown>;
      // Copying with assignment semantics is where a surviving __proto__ key would bite.
      const merged = Object.assign({}, r, r.nested as object, events[0]!.data);
      for (const o of [r, r.nested as object, events[0]!.data, merged]) {
        assert.equal(Object.getPrototypeOf(o), Object.prototype);
        assert.equal(Object.prototype.hasOwnProperty.call(o, '__proto__'), false);
        assert.equal((o as Record<string, unknown>).polluted, undefined);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(r.ok, 1);
      await c.close();
    },
  );
});

test('execute and hmp typings: known commands are checked, others fall back to a generic', T, async () => {
  await withFake({ handle: (cmd, conn) => conn.reply(cmd, cmd.execute === 'human-monitor-command' ? 'VM status: running\r\n' : {}) }, async (srv) => {
    const c = await connect(srv.path);
    const out: string = await c.hmp('info status');
    assert.equal(out, 'VM status: running\r\n');
    const conn = await srv.connection();
    assert.deepEqual(conn.received.at(-1)!.arguments, { 'command-line': 'info status' });
    await c.execute('balloon', { value: 1 << 30 });
    // @ts-expect-error balloon needs its value argument
    await c.execute('balloon');
    // @ts-expect-error wrong argument type for a known command
    await c.execute('device_del', { id: 3 });
    const custom = await c.execute<{ x: number }>('x-custom-thing', { any: 'thing' });
    void custom.x;
    await c.close();
  });
});
