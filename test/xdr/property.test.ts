import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { codec, loadFixture } from './fixture.js';

const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const str = (maxBytes: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', maxLength: maxBytes }).filter((s) => new TextEncoder().encode(s).length <= maxBytes);

const prims = fc.record({
  i: i32,
  u: u32,
  u2: u32,
  h: i64,
  uh: u64,
  b: fc.boolean(),
  fl: fc.float({ noNaN: true }),
  db: fc.double({ noNaN: true }),
  c: fc.integer({ min: -128, max: 127 }),
  uc: fc.integer({ min: 0, max: 255 }),
  s: fc.integer({ min: -32768, max: 32767 }),
  us: fc.integer({ min: 0, max: 65535 }),
});
const point = fc.record({ x: i32, y: i32 });
const value = fc.oneof(
  fc.record({ kind: fc.constant(1), i: i32 }),
  fc.record({ kind: fc.constant(7), s: str(10) }),
  fc.record({ kind: fc.constantFrom(2, 3), h: i64 }),
  fc.record({ kind: i32.filter((k) => ![1, 2, 3, 7].includes(k)) }),
);
const shape = fc.oneof(
  fc.record({ shapeColor: fc.constant(1), center: point }),
  fc.record({ shapeColor: fc.constant(2), corners: fc.array(point, { minLength: 2, maxLength: 2 }) }),
  fc.record({ shapeColor: fc.constant(16) }),
);
const flag = fc.oneof(fc.record({ on: fc.constant(true), bits: fc.array(u32, { maxLength: 4 }) }), fc.record({ on: fc.constant(false) }));
type NodeV = { itemValue: number; nextNode: NodeV | null };
const node: fc.Arbitrary<NodeV> = fc
  .array(i32, { minLength: 1, maxLength: 4 })
  .map((xs) => xs.reduceRight<NodeV | null>((next, itemValue) => ({ itemValue, nextNode: next }), null)!);
// Characters are sent sign-extended, so char arrays keep to 7-bit values to compare equal after decoding.
const chars = (min: number, max: number): fc.Arbitrary<Uint8Array> =>
  fc.array(fc.integer({ min: 0, max: 127 }), { minLength: min, maxLength: max }).map((a) => Uint8Array.from(a));
const everything = fc.record({
  name: str(8),
  aliasName: fc.option(str(8), { nil: null }),
  freeText: str(50),
  uuid: bytes(16, 16),
  data: bytes(0, 32),
  raw: bytes(0, 20),
  tag: chars(4, 4),
  label: chars(0, 6),
  bytes: chars(3, 3),
  fixedInts: fc.array(i32, { minLength: 3, maxLength: 3 }),
  counts: fc.array(u64, { maxLength: 5 }),
  origin: fc.option(point, { nil: null }),
  path: fc.array(point, { maxLength: 3 }),
  paint: fc.constantFrom(1, 2, 16),
  lvl: i32,
  val: value,
  shp: shape,
  flg: flag,
  list: fc.option(node, { nil: null }),
  needResults: fc.boolean(),
  maxMem: i32,
  callbackID: u32,
});

const cases: [string, fc.Arbitrary<unknown>][] = [
  ['Prims', prims],
  ['Value', value],
  ['Shape', shape],
  ['Flag', flag],
  ['Node', node],
  ['Everything', everything],
];

test('random values of the fixture types encode then decode to equal values', async () => {
  const m = await loadFixture();
  for (const [name, arb] of cases) {
    const c = codec(m, name);
    fc.assert(
      fc.property(arb, (v) => {
        const w = new XdrWriter();
        c.encode(w, v);
        const r = new XdrReader(w.bytes());
        // fast-check builds records without a prototype; decoders build plain objects.
        assert.deepEqual(c.decode(r), structuredClone(v));
        assert.equal(r.remaining, 0);
      }),
      { numRuns: 150 },
    );
  }
});

test('random bytes into decoders throw nothing but XdrError', async () => {
  const m = await loadFixture();
  const names = ['Prims', 'Value', 'Shape', 'Flag', 'Node', 'Everything', 'PointList', 'MaybeName', 'PingRet'];
  // Mostly small words so that lengths and discriminants often hit real cases.
  const word = fc.oneof(fc.integer({ min: 0, max: 20 }), u32);
  const input = fc.oneof(
    bytes(0, 200),
    fc.array(word, { maxLength: 60 }).map((ws) => {
      const out = new Uint8Array(ws.length * 4);
      ws.forEach((x, i) => new DataView(out.buffer).setUint32(i * 4, x));
      return out;
    }),
  );
  for (const name of names) {
    const c = codec(m, name);
    fc.assert(
      fc.property(input, (buf) => {
        try {
          c.decode(new XdrReader(buf));
        } catch (e) {
          if (!(e instanceof XdrError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  }
});
