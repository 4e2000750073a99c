import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { test } from 'node:test';
import {
  CallAbortedError,
  CallTimeoutError,
  ConnectionClosedError,
  FrameDecoder,
  decodeMessage,
  decodeErrorBody,
  handle,
  MessageStatus,
  MessageType,
  VirError,
  VirErrorDomain,
  VirErrorNumber,
  type Message,
  type RpcServer,
} from '../../src/rpc/index.js';
import { frame, sleep, startPair } from './helpers.js';
import { dom, P, testProgram } from './program.js';

function notFound(name: string): VirError {
  return VirError.format(VirErrorNumber.NO_DOMAIN, VirErrorDomain.TEST, 'Domain not found: %s', `no domain with matching name '${name}'`);
}

function basic(server: RpcServer, delays: Record<string, number> = {}) {
  server.register(
    testProgram,
    new Map([
      handle(P.getType, () => ({ type: 'TEST' })),
      handle(P.lookup, async ({ name }) => {
        await sleep(delays[name] ?? 0);
        if (name === 'nosuch') throw notFound(name);
        return { dom: dom(name, 1) };
      }),
      handle(P.destroy, () => undefined),
    ]),
  );
}

test('concurrent calls on one connection complete out of order, each with its own reply', async () => {
  const pair = await startPair((s) => basic(s, { slow: 80, fast: 0 }));
  try {
    const order: string[] = [];
    const slow = pair.client.call(P.lookup, { name: 'slow' }).then((r) => (order.push('slow'), r));
    const fast = pair.client.call(P.lookup, { name: 'fast' }).then((r) => (order.push('fast'), r));
    const [a, b] = await Promise.all([slow, fast]);
    assert.equal(a.dom.name, 'slow');
    assert.equal(b.dom.name, 'fast');
    assert.deepEqual(order, ['fast', 'slow']);
    // Many at once.
    const names = Array.from({ length: 200 }, (_, i) => `d${i}`);
    const all = await Promise.all(names.map((name) => pair.client.call(P.lookup, { name })));
    assert.deepEqual(all.map((r) => r.dom.name), names);
  } finally {
    await pair.close();
  }
});

test('a driver error travels with code, domain, message and template fields', async () => {
  const pair = await startPair((s) => basic(s));
  try {
    await assert.rejects(pair.client.call(P.lookup, { name: 'nosuch' }), (e: unknown) => {
      assert.ok(e instanceof VirError);
      assert.equal(e.code, VirErrorNumber.NO_DOMAIN);
      assert.equal(e.domain, VirErrorDomain.TEST);
      assert.equal(e.message, "Domain not found: no domain with matching name 'nosuch'");
      assert.equal(e.str1, 'Domain not found: %s');
      assert.equal(e.str2, "no domain with matching name 'nosuch'");
      assert.equal(e.codeName, 'NO_DOMAIN');
      return true;
    });
    // The connection is still fine afterwards.
    assert.deepEqual(await pair.client.call(P.getType, undefined), { type: 'TEST' });
  } finally {
    await pair.close();
  }
});

/** Sends raw frames on a fresh socket and collects the decoded replies. */
async function raw(path: string, frames: Uint8Array[], want: number): Promise<Message[]> {
  const sock = netConnect({ path });
  const dec = new FrameDecoder();
  const got: Message[] = [];
  return new Promise((resolve, reject) => {
    sock.on('data', (c) => {
      for (const f of dec.feed(c)) got.push(decodeMessage(f));
      if (got.length >= want) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', reject);
    sock.on('connect', () => frames.forEach((f) => sock.write(f)));
  });
}

test('unknown procedure, program, version, status and undecodable args get libvirtd error replies', async () => {
  const pair = await startPair((s) => basic(s));
  try {
    const R = 0x20008086;
    const replies = await raw(
      pair.path,
      [
        frame([R, 1, 9999, 0, 7, 0]),
        frame([0x12345678, 1, 1, 0, 8, 0]),
        frame([R, 2, 3, 0, 9, 0]),
        frame([R, 1, 3, 0, 10, 1]),
        frame([R, 1, P.lookup.proc, 0, 11, 0, 100]), // string length 100 with no bytes
        frame([R, 1, -5 >>> 0, 0, 12, 0]),
      ],
      6,
    );
    const bySerial = new Map(replies.map((m) => [m.header.serial, m]));
    const expect = (serial: number, proc: number, message: string) => {
      const m = bySerial.get(serial)!;
      assert.equal(m.header.type, MessageType.REPLY);
      assert.equal(m.header.status, MessageStatus.ERROR);
      assert.equal(m.header.proc, proc, 'header echoes the procedure');
      const e = decodeErrorBody(m.body)!;
      assert.equal(e.domain, VirErrorDomain.RPC);
      assert.equal(e.message, message);
      return e;
    };
    const unknown = expect(7, 9999, 'unknown procedure: 9999');
    // libvirt's client maps exactly this error to NO_SUPPORT; the wire carries RPC with "%s".
    assert.equal(unknown.code, VirErrorNumber.NO_SUPPORT);
    assert.equal(unknown.str1, '%s');
    assert.equal(unknown.str2, 'unknown procedure: 9999');
    assert.equal(expect(8, 1, 'Cannot find program 305419896 version 1').code, VirErrorNumber.RPC);
    assert.equal(bySerial.get(8)!.header.prog, 0x12345678);
    expect(9, 3, 'Cannot find program 536903814 version 2');
    expect(10, 3, 'Unexpected message status 1');
    expect(11, P.lookup.proc, 'Unable to decode message payload');
    expect(12, -5, 'unknown procedure: -5');
  } finally {
    await pair.close();
  }
});

test('events are delivered apart from replies, with serial 1', async () => {
  const pair = await startPair((s) => basic(s));
  try {
    const got: Message[] = [];
    pair.client.on('message', (m) => got.push(m));
    const [sc] = [...pair.server.clients];
    const ev = { callbackID: 3, msg: { dom: dom('test', 1), event: 3, detail: 0 } };
    const pendingReply = pair.client.call(P.lookup, { name: 'x' });
    sc!.sendEvent(P.lifecycle, ev);
    await pendingReply;
    await sleep(10);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.header.serial, 1);
    assert.equal(got[0]!.header.type, MessageType.MESSAGE);
    assert.equal(got[0]!.header.proc, P.lifecycle.proc);
  } finally {
    await pair.close();
  }
});

test('an aborted call and a call past its deadline fail with typed errors; the late reply is ignored', async () => {
  const pair = await startPair((s) => basic(s, { slow: 100 }));
  try {
    const ac = new AbortController();
    const p = pair.client.call(P.lookup, { name: 'slow' }, { signal: ac.signal });
    ac.abort(new Error('user gave up'));
    await assert.rejects(p, (e: unknown) => e instanceof CallAbortedError && e.code === VirErrorNumber.OPERATION_ABORTED && (e.cause as Error).message === 'user gave up');
    await assert.rejects(pair.client.call(P.lookup, { name: 'slow' }, { timeoutMs: 20 }), (e: unknown) => e instanceof CallTimeoutError && e.code === VirErrorNumber.OPERATION_TIMEOUT);
    assert.equal(pair.client.pendingCalls, 0);
    await sleep(150); // the abandoned replies arrive now and must be dropped
    assert.equal((await pair.client.call(P.lookup, { name: 'ok' })).dom.name, 'ok');
    // An already aborted signal never sends.
    await assert.rejects(pair.client.call(P.getType, undefined, { signal: AbortSignal.abort() }), CallAbortedError);
  } finally {
    await pair.close();
  }
});

test('connection loss fails every pending call with a typed error that keeps the cause', async () => {
  const pair = await startPair((s) => basic(s, { hang: 10_000 }));
  try {
    const calls = [1, 2, 3].map(() => pair.client.call(P.lookup, { name: 'hang' }));
    await sleep(20);
    for (const c of pair.server.clients) c.close();
    for (const c of calls) await assert.rejects(c, (e: unknown) => e instanceof ConnectionClosedError && e.code === VirErrorNumber.SYSTEM_ERROR);
    const err = await pair.client.closed;
    assert.ok(err instanceof ConnectionClosedError);
    assert.equal(pair.client.status.state, 'closed');
    // Calls after the loss fail at once with the same error.
    await assert.rejects(pair.client.call(P.getType, undefined), ConnectionClosedError);
  } finally {
    await pair.close();
  }
});

test('high-priority calls are not stuck behind slow low-priority ones', async () => {
  const pair = await startPair((s) => basic(s, { slow: 300 }), { maxWorkers: 1, maxClientRequests: 5 });
  try {
    const t0 = Date.now();
    const slow = [1, 2, 3].map(() => pair.client.call(P.lookup, { name: 'slow' }));
    await sleep(10);
    await pair.client.call(P.destroy, { dom: dom('x') });
    const highDone = Date.now() - t0;
    assert.ok(highDone < 200, `high-priority call took ${highDone} ms`);
    await Promise.all(slow);
  } finally {
    await pair.close();
  }
});

test('a client runs at most max_client_requests calls at once', async () => {
  let running = 0;
  let peak = 0;
  const pair = await startPair(
    (s) =>
      s.register(
        testProgram,
        new Map([
          handle(P.lookup, async ({ name }) => {
            running++;
            peak = Math.max(peak, running);
            await sleep(20);
            running--;
            return { dom: dom(name) };
          }),
        ]),
      ),
    { maxClientRequests: 2 },
  );
  try {
    await Promise.all(Array.from({ length: 12 }, (_, i) => pair.client.call(P.lookup, { name: `d${i}` })));
    assert.equal(peak, 2);
  } finally {
    await pair.close();
  }
});

test('a handler bug becomes an internal error reply, not a crash', async () => {
  const pair = await startPair((s) =>
    s.register(testProgram, new Map([handle(P.getType, () => { throw new TypeError('oops'); })])),
  );
  try {
    await assert.rejects(pair.client.call(P.getType, undefined), (e: unknown) => e instanceof VirError && e.code === VirErrorNumber.INTERNAL_ERROR && e.message === 'internal error: oops');
  } finally {
    await pair.close();
  }
});
