import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, FrameError, MAX_FRAME } from '../../src/rpc/index.js';
import { frame, hex } from './helpers.js';

// Three frames of different shapes: header only, a small body, a body that is not word-sized.
const frames = [
  frame([0x20008086, 1, 3, 0, 6, 0]),
  frame([0x20008086, 1, 3, 1, 6, 0, 4], new TextEncoder().encode('TEST')),
  frame([0x20008086, 1, 209, 3, 10, 2], new Uint8Array([1, 2, 3, 4, 5, 6, 7])),
];
const stream = Buffer.concat(frames);

function feedAll(parts: Uint8Array[]): string[] {
  const d = new FrameDecoder();
  return parts.flatMap((p) => d.feed(p)).map(hex);
}

test('a stream split at every single boundary yields the same frames', () => {
  const expected = frames.map(hex);
  for (let k = 0; k <= stream.length; k++) {
    assert.deepEqual(feedAll([stream.subarray(0, k), stream.subarray(k)]), expected, `split at ${k}`);
  }
});

test('a stream split at every pair of boundaries yields the same frames', () => {
  const expected = frames.map(hex);
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j++) {
      const got = feedAll([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
      assert.deepEqual(got, expected, `split at ${i},${j}`);
    }
  }
});

test('byte-at-a-time feeding yields the same frames', () => {
  const parts = [...stream].map((b) => Uint8Array.of(b));
  assert.deepEqual(feedAll(parts), frames.map(hex));
});

test('random chunkings (property) yield the same frames', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const parts: Uint8Array[] = [];
      let prev = 0;
      for (const p of points) {
        parts.push(stream.subarray(prev, p));
        prev = p;
      }
      parts.push(stream.subarray(prev));
      assert.deepEqual(feedAll(parts), frames.map(hex));
    }),
  );
});

test('length words out of bounds are refused with a reason', () => {
  const small = new FrameDecoder();
  assert.throws(() => small.feed(Uint8Array.of(0, 0, 0, 8, 1, 2, 3, 4)), (e: unknown) => e instanceof FrameError && /smaller than the 28-byte minimum/.test(e.message));
  const big = new FrameDecoder();
  const over = new Uint8Array(4);
  new DataView(over.buffer).setUint32(0, MAX_FRAME + 1);
  assert.throws(() => big.feed(over), /exceeds the maximum of 16777220/);
  // The largest legal length word is accepted (and waits for its bytes).
  const edge = new FrameDecoder();
  new DataView(over.buffer).setUint32(0, MAX_FRAME);
  assert.deepEqual(edge.feed(over), []);
});

test('an HTTP request is named as such', () => {
  const d = new FrameDecoder();
  assert.throws(() => d.feed(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), /peer sent HTTP, not libvirt RPC/);
  const t = new FrameDecoder();
  assert.throws(() => t.feed(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0, 0)), /TLS handshake/);
});

test('memory follows bytes received, not the length claimed', () => {
  const d = new FrameDecoder();
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, MAX_FRAME);
  d.feed(head);
  d.feed(new Uint8Array(100));
  assert.equal(d.pending, 104);
});

test('frames inside one chunk are returned without copying', () => {
  const d = new FrameDecoder();
  const out = d.feed(stream);
  assert.equal(out.length, 3);
  assert.equal(out[0]!.buffer, stream.buffer);
});
