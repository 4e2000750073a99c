import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { XdrError, XdrReader } from '../../src/xdr/index.js';
import { decodeMessage, FrameDecoder, FrameError, handle, type ProcedureSpec } from '../../src/rpc/index.js';
import { remoteProgram } from '../../src/protocol/gen/remote.js';
import { qemuProgram } from '../../src/protocol/gen/qemu.js';
import { frame, sleep, startPair } from './helpers.js';
import { dom, P, testProgram } from './program.js';

const specs: ProcedureSpec[] = [...remoteProgram.procedures.values(), ...qemuProgram.procedures.values()];

/** Decoding may succeed or fail with XdrError; anything else (TypeError, RangeError, a hang) is a bug. */
function decodeOnly(spec: ProcedureSpec, bytes: Uint8Array): void {
  for (const codec of [spec.args, spec.ret]) {
    try {
      codec.decode(new XdrReader(bytes));
    } catch (e) {
      if (!(e instanceof XdrError)) throw new Error(`${spec.name}: ${String(e)}`);
    }
  }
}

test('random bytes into every generated decoder fail only with XdrError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), fc.integer({ min: 0, max: specs.length - 1 }), (bytes, i) => {
      decodeOnly(specs[i]!, bytes);
    }),
    { numRuns: 20_000 },
  );
});

test('word-structured garbage (small counts, presence flags) reaches deep into decoders safely', () => {
  // Random bytes rarely pass the first length check; words of 0/1/small values do.
  const word = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 16, 0xffffffff, 0x7fffffff), fc.nat({ max: 40 }));
  fc.assert(
    fc.property(fc.array(word, { maxLength: 64 }), fc.integer({ min: 0, max: specs.length - 1 }), (words, i) => {
      const bytes = new Uint8Array(words.length * 4);
      const dv = new DataView(bytes.buffer);
      words.forEach((w, k) => dv.setUint32(k * 4, w >>> 0));
      decodeOnly(specs[i]!, bytes);
    }),
    { numRuns: 20_000 },
  );
});

test('random byte streams into the framer fail only with FrameError and stay bounded', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
      const d = new FrameDecoder();
      try {
        for (const c of chunks) for (const f of d.feed(c)) decodeMessage(f);
      } catch (e) {
        if (!(e instanceof FrameError) && !(e instanceof XdrError)) throw e;
      }
      assert.ok(d.pending <= chunks.reduce((n, c) => n + c.length, 0));
    }),
    { numRuns: 5000 },
  );
});

test('a live server survives garbage and mutated frames and keeps serving other clients', async () => {
  const pair = await startPair((s) =>
    s.register(testProgram, new Map([handle(P.getType, () => ({ type: 'TEST' })), handle(P.lookup, ({ name }) => ({ dom: dom(name) }))])),
  );
  try {
    const good = frame([0x20008086, 1, P.lookup.proc, 0, 5, 0, 4], new TextEncoder().encode('test'));
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        // A valid frame with a few bytes changed or cut short.
        fc.tuple(fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.nat({ max: 255 })), { maxLength: 4 }), fc.nat({ max: good.length })).map(([edits, cut]) => {
          const b = good.slice(0, Math.max(cut, 1));
          for (const [at, v] of edits) if (at < b.length) b[at] = v;
          return b;
        }),
      ),
      300,
    );
    let served = 0;
    for (let i = 0; i < samples.length; i += 10) {
      // Ten hostile connections at once, each closed after sending its bytes.
      await Promise.all(
        samples.slice(i, i + 10).map(
          (bytes) =>
            new Promise<void>((resolve) => {
              const s = netConnect({ path: pair.path });
              s.on('error', () => resolve());
              s.on('close', () => resolve());
              s.on('connect', () => {
                s.write(bytes);
                setTimeout(() => s.destroy(), 5);
              });
            }),
        ),
      );
      const r = await pair.client.call(P.lookup, { name: `ok${i}` });
      assert.equal(r.dom.name, `ok${i}`);
      served++;
    }
    assert.equal(served, 30);
    await sleep(20);
    // Only the well-behaved client is left.
    assert.equal(pair.server.clients.size, 1);
  } finally {
    await pair.close();
  }
});
