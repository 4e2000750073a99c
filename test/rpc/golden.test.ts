// Byte-exact checks against traffic captured between real virsh and real libvirtd 9.0
// (test/fixtures/golden, made by scripts/capture-golden.sh).
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { XdrReader } from '../../src/xdr/index.js';
import {
  decodeErrorBody,
  decodeMessage,
  encodeErrorBody,
  encodeMessage,
  FrameDecoder,
  handle,
  MessageStatus,
  MessageType,
  RpcClient,
  VirError,
  VirErrorDomain,
  VirErrorNumber,
  type Message,
  type ProcedureSpec,
  type ProgramSpec,
} from '../../src/rpc/index.js';
import { VirNetStreamHole } from '../../src/rpc/gen/virnet.js';
import { keepaliveProgram } from '../../src/rpc/gen/keepalive.js';
import { RemoteProcedures as R, remoteProgram } from '../../src/protocol/gen/remote.js';
import { qemuProgram } from '../../src/protocol/gen/qemu.js';
import { connectUnix } from '../../src/transport/index.js';
import { goldenNames, loadGolden, messageBytes, type GoldenFixture } from '../harness/golden.js';
import { startPair } from './helpers.js';

const programs = new Map<number, ProgramSpec>([remoteProgram, qemuProgram, keepaliveProgram].map((p) => [p.prog, p]));

/** Decodes a captured frame's body with the codec its header calls for, then encodes the frame again. */
function roundTrip(frame: Uint8Array): { msg: Message; value: unknown; again: Uint8Array } {
  const msg = decodeMessage(frame);
  const h = msg.header;
  const body = new XdrReader(msg.body);
  if (h.type === MessageType.STREAM && h.status === MessageStatus.CONTINUE) {
    return { msg, value: msg.body, again: encodeMessage(h, (w) => w.raw(msg.body)) };
  }
  if (h.type === MessageType.STREAM_HOLE) {
    const v = VirNetStreamHole.decode(body);
    return { msg, value: v, again: encodeMessage(h, (w) => VirNetStreamHole.encode(w, v)) };
  }
  if (h.status === MessageStatus.ERROR) {
    if (msg.body.length === 0) return { msg, value: null, again: encodeMessage(h) };
    const e = decodeErrorBody(msg.body)!;
    return { msg, value: e, again: encodeMessage(h, (w) => encodeErrorBody(w, wireAsSent(e))) };
  }
  if (h.type === MessageType.STREAM) return { msg, value: null, again: encodeMessage(h) };
  const spec = programs.get(h.prog)?.procedures.get(h.proc);
  // Probes of unknown procedures/programs: bodies we have no codec for travel as raw bytes.
  if (!spec) return { msg, value: msg.body, again: encodeMessage(h, (w) => w.raw(msg.body)) };
  const codec = h.type === MessageType.REPLY ? spec.ret : spec.args;
  const value = codec.decode(body);
  assert.equal(body.remaining, 0, `${spec.name}: every byte consumed`);
  return { msg, value, again: encodeMessage(h, (w) => codec.encode(w, value)) };
}

/** decodeErrorBody maps "unknown procedure" to NO_SUPPORT as libvirt's client does; the wire has RPC. */
function wireAsSent(e: VirError): VirError {
  if (e.code !== VirErrorNumber.NO_SUPPORT || !e.message.startsWith('unknown procedure')) return e;
  return new VirError({ ...e, message: e.message, code: VirErrorNumber.RPC, domain: e.domain });
}

for (const name of goldenNames()) {
  test(`golden ${name}: every captured frame decodes and re-encodes to the same bytes`, () => {
    const f = loadGolden(name);
    assert.ok(f.messages.length > 0);
    for (const [i, m] of f.messages.entries()) {
      const bytes = messageBytes(m);
      const frames = new FrameDecoder().feed(bytes);
      assert.equal(frames.length, 1, `${name}#${i}: one frame`);
      const { msg, again } = roundTrip(frames[0]!);
      assert.deepEqual(
        [msg.header.prog, msg.header.proc, msg.header.type, msg.header.serial, msg.header.status],
        [m.prog, m.proc, m.type, m.serial, m.status],
      );
      assert.equal(Buffer.from(again).toString('hex'), m.hex, `${name}#${i} ${m.decoded}`);
    }
  });
}

const byDecoded = (f: GoldenFixture, text: string) => {
  const m = f.messages.find((x) => x.decoded.includes(text));
  if (!m) throw new Error(`no message like ${text}`);
  return roundTrip(new Uint8Array(messageBytes(m)));
};

const TEST_UUID = Buffer.from('6695eb01f6a4830479aa97f2502e193f', 'hex');
const testDom = { name: 'test', uuid: new Uint8Array(TEST_UUID), id: 1 };

test('golden values: what virsh and libvirtd put in the bodies', () => {
  const version = loadGolden('version');
  assert.deepEqual(byDecoded(version, 'CONNECT_OPEN CALL').value, { name: 'test:///default', flags: 0 });
  assert.deepEqual(byDecoded(version, 'CONNECT_GET_TYPE REPLY').value, { type: 'TEST' });
  assert.deepEqual(byDecoded(version, 'CONNECT_GET_VERSION REPLY').value, { hvVer: 2n });

  const list = loadGolden('list-all');
  assert.deepEqual(byDecoded(list, 'CONNECT_LIST_ALL_DOMAINS CALL').value, { needResults: 1, flags: 3 });
  assert.deepEqual(byDecoded(list, 'CONNECT_LIST_ALL_DOMAINS REPLY').value, { domains: [testDom], ret: 1 });

  const info = loadGolden('dominfo');
  const gi = byDecoded(info, 'DOMAIN_GET_INFO REPLY');
  assert.equal(gi.msg.body.length, 32, 'uchar and ushort take a whole word each');
  assert.deepEqual({ ...(gi.value as object), cpuTime: 0n }, { state: 1, maxMem: 8388608n, memory: 2097152n, nrVirtCpu: 2, cpuTime: 0n });
  const sm = byDecoded(info, 'NODE_GET_SECURITY_MODEL REPLY').value as { model: Uint8Array; doi: Uint8Array };
  assert.equal(Buffer.from(sm.model).toString('latin1'), 'testSecurity\0', 'char<> is one word per character, NUL included');

  const node = byDecoded(loadGolden('nodeinfo'), 'NODE_GET_INFO REPLY');
  assert.equal((node.value as { model: Uint8Array }).model.length, 32);
  assert.equal(node.msg.body.length, 128 + 8 + 6 * 4, 'char model[32] is 128 bytes on the wire');

  const err = byDecoded(loadGolden('error-resume'), 'DOMAIN_RESUME REPLY ERROR').value as VirError;
  assert.equal(err.code, VirErrorNumber.INTERNAL_ERROR);
  assert.equal(err.domain, VirErrorDomain.TEST);
  assert.equal(err.message, "internal error: domain 'test' not paused");
  assert.deepEqual([err.str1, err.str2, err.str3, err.int1, err.int2], ['internal error: %s', "domain 'test' not paused", null, -1, -1]);

  const ev = loadGolden('event');
  const first = byDecoded(ev, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE MESSAGE');
  assert.equal(first.msg.header.serial, 1, 'events carry serial 1');
  assert.deepEqual(first.value, { callbackID: 0, msg: { dom: testDom, event: 3, detail: 0 } });

  const unknown = byDecoded(loadGolden('unknown-proc'), 'Unknown (9999) REPLY ERROR').value as VirError;
  assert.equal(unknown.code, VirErrorNumber.NO_SUPPORT, 'the client maps unknown procedure to NO_SUPPORT');
  assert.deepEqual([unknown.message, unknown.str1, unknown.str2], ['unknown procedure: 9999', '%s', 'unknown procedure: 9999']);
});

/**
 * A fake libvirtd that plays a fixture: it expects each client frame byte for byte and answers
 * with the server frames that follow it. Mismatches are collected, not thrown, so the test can
 * report them all.
 */
async function replay(f: GoldenFixture): Promise<{ path: string; mismatches: string[]; done: Promise<void>; close(): void }> {
  const path = join(mkdtempSync(join(tmpdir(), 'tsvirt-golden-')), 's');
  const mismatches: string[] = [];
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const srv = createServer((sock: Socket) => {
    const dec = new FrameDecoder();
    let i = 0;
    const pump = () => {
      while (i < f.messages.length && f.messages[i]!.dir === 's2c') sock.write(messageBytes(f.messages[i++]!));
      if (i >= f.messages.length) finish();
    };
    sock.on('data', (c) => {
      for (const frame of dec.feed(c)) {
        const want = f.messages[i++];
        const got = Buffer.from(frame).toString('hex');
        if (!want || want.dir !== 'c2s') mismatches.push(`unexpected client frame ${got}`);
        else if (want.hex !== got) mismatches.push(`${want.decoded}\n  want ${want.hex}\n  got  ${got}`);
        pump();
      }
    });
    pump();
  });
  await new Promise<void>((r) => srv.listen(path, r));
  return { path, mismatches, done, close: () => srv.close() };
}

test('our client sends the bytes virsh sends, call for call (virsh version)', async () => {
  const f = loadGolden('version');
  const peer = await replay(f);
  try {
    const c = new RpcClient(await connectUnix(peer.path));
    assert.deepEqual(await c.call(R.AUTH_LIST, undefined), { types: [0] });
    assert.deepEqual(await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 10 }), { supported: 1 });
    await c.call(R.CONNECT_OPEN, { name: 'test:///default', flags: 0 });
    await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 14 });
    await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 15 });
    await c.call(R.CONNECT_REGISTER_CLOSE_CALLBACK, undefined);
    assert.deepEqual(await c.call(R.CONNECT_GET_TYPE, undefined), { type: 'TEST' });
    assert.deepEqual(await c.call(R.CONNECT_GET_VERSION, undefined), { hvVer: 2n });
    await c.call(R.CONNECT_UNREGISTER_CLOSE_CALLBACK, undefined);
    await c.call(R.CONNECT_CLOSE, undefined);
    await peer.done;
    assert.deepEqual(peer.mismatches, []);
    await c.close();
  } finally {
    peer.close();
  }
});

test('our client reads a screenshot stream exactly as virsh does (reply, data, EOF, finish)', async () => {
  const f = loadGolden('stream');
  // Start from the first message after the handshake that virsh sends: replay the whole capture.
  const peer = await replay(f);
  try {
    const c = new RpcClient(await connectUnix(peer.path));
    await c.call(R.AUTH_LIST, undefined);
    await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 10 });
    await c.call(R.CONNECT_OPEN, { name: 'test:///default', flags: 0 });
    await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 14 });
    await c.call(R.CONNECT_SUPPORTS_FEATURE, { feature: 15 });
    await c.call(R.CONNECT_REGISTER_CLOSE_CALLBACK, undefined);
    const { dom } = await c.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'test' });
    const { ret, stream } = await c.callStream(R.DOMAIN_SCREENSHOT, { dom, screen: 0, flags: 0 });
    assert.deepEqual(ret, { mime: 'image/png' });
    const png = await stream.readAll();
    assert.equal(Buffer.from(png.subarray(0, 8)).toString('hex'), '89504e470d0a1a0a');
    await stream.finish();
    await c.call(R.CONNECT_UNREGISTER_CLOSE_CALLBACK, undefined);
    await c.call(R.CONNECT_CLOSE, undefined);
    await peer.done;
    assert.deepEqual(peer.mismatches, []);
    await c.close();
  } finally {
    peer.close();
  }
});

/** Sends the fixture's client frames to our server one at a time and collects what comes back. */
async function drive(path: string, frames: Uint8Array[], expectReplies: number[]): Promise<string[]> {
  const { connect } = await import('node:net');
  const sock = connect({ path });
  const dec = new FrameDecoder();
  const got: string[] = [];
  let waiting: { n: number; resolve: () => void } | null = null;
  sock.on('data', (c) => {
    for (const fr of dec.feed(c)) got.push(Buffer.from(fr).toString('hex'));
    if (waiting && got.length >= waiting.n) waiting.resolve();
  });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let total = 0;
  for (const [k, fr] of frames.entries()) {
    total += expectReplies[k]!;
    sock.write(fr);
    if (got.length < total) await new Promise<void>((resolve) => (waiting = { n: total, resolve }));
  }
  sock.destroy();
  return got;
}

test('our server answers virsh with the bytes libvirtd sent: replies, an error, an event, stream data', async () => {
  const f = loadGolden('error-resume');
  const ev = loadGolden('event');
  const shot = loadGolden('stream');
  const png = roundTrip(messageBytes(shot.messages.find((m) => m.decoded.startsWith('REMOTE DOMAIN_SCREENSHOT STREAM CONTINUE') && m.hex.length > 56)!)).value as Uint8Array;
  const pair = await startPair((s) => {
    const table = new Map([
      handle(R.AUTH_LIST, () => ({ types: [0] })),
      handle(R.CONNECT_SUPPORTS_FEATURE, () => ({ supported: 1 })),
      handle(R.CONNECT_OPEN, () => undefined),
      handle(R.CONNECT_REGISTER_CLOSE_CALLBACK, () => undefined),
      handle(R.CONNECT_UNREGISTER_CLOSE_CALLBACK, () => undefined),
      handle(R.CONNECT_CLOSE, () => undefined),
      handle(R.DOMAIN_LOOKUP_BY_NAME, () => ({ dom: testDom })),
      handle(R.DOMAIN_RESUME, () => {
        throw VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.TEST, 'internal error: %s', "domain 'test' not paused");
      }),
      handle(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, (_a, ctx) => {
        setTimeout(() => ctx.client.sendEvent(R.DOMAIN_EVENT_CALLBACK_LIFECYCLE, { callbackID: 0, msg: { dom: testDom, event: 3, detail: 0 } }), 5);
        return { callbackID: 0 };
      }),
      handle(R.DOMAIN_SCREENSHOT, (_a, ctx) => {
        void (async () => {
          await ctx.stream!.write(png);
          await ctx.stream!.end();
        })();
        return { mime: 'image/png' };
      }),
    ]);
    s.register(remoteProgram, table);
  });
  try {
    // error-resume: every client frame in order; each gets exactly one reply.
    const cfr = f.messages.filter((m) => m.dir === 'c2s');
    const got = await drive(pair.path, cfr.map(messageBytes), cfr.map(() => 1));
    assert.deepEqual(got, f.messages.filter((m) => m.dir === 's2c').map((m) => m.hex));

    // event: the registration reply and then the lifecycle event, byte for byte.
    const reg = ev.messages.findIndex((m) => m.decoded.includes('REGISTER_ANY CALL'));
    const evGot = await drive(pair.path, [messageBytes(ev.messages[reg]!)], [2]);
    assert.deepEqual(evGot, [ev.messages[reg + 1]!.hex, ev.messages[reg + 2]!.hex]);

    // screenshot: reply, one data packet, EOF; then the finish is confirmed.
    const at = shot.messages.findIndex((m) => m.decoded.includes('DOMAIN_SCREENSHOT CALL'));
    const finishAt = shot.messages.findIndex((m, k) => k > at && m.dir === 'c2s');
    const sGot = await drive(pair.path, [messageBytes(shot.messages[at]!), messageBytes(shot.messages[finishAt]!)], [3, 1]);
    assert.deepEqual(sGot, shot.messages.slice(at + 1, finishAt).map((m) => m.hex).concat(shot.messages[finishAt + 1]!.hex));
  } finally {
    await pair.close();
  }
});

test('golden procedure specs exist for every captured procedure', () => {
  for (const name of goldenNames()) {
    for (const m of loadGolden(name).messages) {
      if (m.decoded.includes('Unknown')) continue;
      const spec: ProcedureSpec | undefined = programs.get(m.prog)?.procedures.get(m.proc);
      assert.ok(spec, `${name}: ${m.decoded}`);
    }
  }
});
