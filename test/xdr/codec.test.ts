import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { hex } from './hex.js';

const write = (f: (w: XdrWriter) => void): Uint8Array => {
  const w = new XdrWriter(4);
  f(w);
  return w.bytes().slice();
};

function fails(f: () => unknown, reason: RegExp, offset?: number): void {
  assert.throws(f, (e) => {
    assert.ok(e instanceof XdrError, String(e));
    assert.match(e.reason, reason);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}

test('integers, hyper limits and floats round-trip big-endian', () => {
  const bytes = write((w) => {
    w.int(-0x80000000);
    w.int(0x7fffffff);
    w.uint(0xffffffff);
    w.hyper(-0x8000000000000000n);
    w.hyper(0x7fffffffffffffffn);
    w.uhyper(0xffffffffffffffffn);
    w.float(-2.5);
    w.double(Math.PI);
  });
  assert.deepEqual(
    bytes,
    hex('80000000 7fffffff ffffffff 8000000000000000 7fffffffffffffff ffffffffffffffff c0200000 400921fb54442d18'),
  );
  const r = new XdrReader(bytes);
  assert.equal(r.int(), -0x80000000);
  assert.equal(r.int(), 0x7fffffff);
  assert.equal(r.uint(), 0xffffffff);
  assert.equal(r.hyper(), -0x8000000000000000n);
  assert.equal(r.hyper(), 0x7fffffffffffffffn);
  assert.equal(r.uhyper(), 0xffffffffffffffffn);
  assert.equal(r.float(), -2.5);
  assert.equal(r.double(), Math.PI);
  assert.equal(r.remaining, 0);
});

test('encoding refuses out-of-range values', () => {
  const w = new XdrWriter();
  fails(() => w.int(0x80000000), /int out of range/);
  fails(() => w.int(1.5), /int out of range/);
  fails(() => w.uint(-1), /unsigned int out of range/);
  fails(() => w.uint(0x100000000), /unsigned int out of range/);
  fails(() => w.hyper(0x8000000000000000n), /hyper out of range/);
  fails(() => w.uhyper(-1n), /unsigned hyper out of range/);
  fails(() => w.uhyper(1n << 64n), /unsigned hyper out of range/);
  fails(() => w.string('abcdef', 5), /exceeds maximum 5/);
  fails(() => w.varOpaque(new Uint8Array(3), 2), /exceeds maximum 2/);
  fails(() => w.fixedOpaque(new Uint8Array(3), 4), /needs 4 bytes/);
  fails(() => w.arrayLength(3, 2), /exceeds maximum 2/);
  fails(() => w.fixedCharArray(new Uint8Array(2), 3), /needs 3 characters/);
  assert.equal(w.pos, 0, 'nothing written by refused values');
});

test('bool and optional flags must be exactly 0 or 1', () => {
  assert.deepEqual(write((w) => (w.bool(true), w.bool(false), w.optional(true))), hex('00000001 00000000 00000001'));
  const r = new XdrReader(hex('00000001 00000000'));
  assert.equal(r.bool(), true);
  assert.equal(r.optional(), false);
  fails(() => new XdrReader(hex('00000002')).bool(), /bool must be 0 or 1, got 2/, 0);
});

test('optional flag outside 0/1 fails at the flag', () => {
  const r = new XdrReader(hex('00000000 00000002'));
  r.int();
  fails(() => r.optional(), /optional-data flag must be 0 or 1, got 2/, 4);
});

test('opaque and strings pad with zero bytes to a multiple of four', () => {
  const bytes = write((w) => {
    w.fixedOpaque(hex('aabbcc'), 3);
    w.varOpaque(hex('01'), 10);
    w.string('hello', 10);
    w.string('', 10);
  });
  assert.deepEqual(bytes, hex('aabbcc00 00000001 01000000 00000005 68656c6c 6f000000 00000000'));
  const r = new XdrReader(bytes);
  assert.deepEqual(r.fixedOpaque(3), hex('aabbcc'));
  assert.deepEqual(r.varOpaque(10), hex('01'));
  assert.equal(r.string(10), 'hello');
  assert.equal(r.string(10), '');
  assert.equal(r.remaining, 0);
});

test('strings round-trip UTF-8, including long and non-ASCII text', () => {
  for (const s of ['héllo wörld', '日本語', '🙂 emoji', 'x'.repeat(100) + 'é', 'a'.repeat(40)]) {
    const bytes = write((w) => w.string(s, 1000));
    const utf8 = new TextEncoder().encode(s);
    assert.equal(new DataView(bytes.buffer).getUint32(0), utf8.length, 'length counts bytes, not characters');
    assert.equal(new XdrReader(bytes).string(1000), s);
  }
  fails(() => write((w) => w.string('éé', 3)), /length 4 exceeds maximum 3/);
});

test('lengths are checked against the maximum and the bytes left', () => {
  fails(() => new XdrReader(hex('00000005 00000000 00000000')).string(4), /length 5 exceeds maximum 4/, 0);
  fails(() => new XdrReader(hex('00000008 41424344')).string(100), /exceeds the 4 bytes left/, 0);
  fails(() => new XdrReader(hex('ffffffff')).varOpaque(0xffffffff), /exceeds the 0 bytes left/, 0);
  fails(() => new XdrReader(hex('00000003 00000001')).arrayLength(10, 4), /cannot fit in the 4 bytes left/, 0);
  fails(() => new XdrReader(hex('0000000b')).arrayLength(10, 4), /exceeds maximum 10/, 0);
  assert.equal(new XdrReader(hex('00000002')).arrayLength(10, 0), 2, 'zero-size items skip the fit check');
});

test('truncated input fails with the offset', () => {
  fails(() => new XdrReader(hex('000000')).int(), /need 4 bytes, 3 left/, 0);
  const r = new XdrReader(hex('00000001 00000000 0000'));
  r.int();
  fails(() => r.hyper(), /need 8 bytes, 6 left/, 4);
  fails(() => new XdrReader(hex('aabbcc')).fixedOpaque(3), /need 4 bytes, 3 left/, 0);
  // A reader over a sub-range stops at its end, not the buffer's.
  fails(() => new XdrReader(hex('00000001 00000002'), 0, 4).uhyper(), /need 8 bytes, 4 left/);
});

test('char arrays take one word per character, sign-extended like C char', () => {
  const bytes = write((w) => {
    w.fixedCharArray(hex('41ff'), 2);
    w.varCharArray(hex('4200'), 5);
  });
  assert.deepEqual(bytes, hex('00000041 ffffffff 00000002 00000042 00000000'));
  const r = new XdrReader(bytes);
  assert.deepEqual(r.fixedCharArray(2), hex('41ff'));
  assert.deepEqual(r.varCharArray(5), hex('4200'));
  fails(() => new XdrReader(hex('00000006')).varCharArray(5), /exceeds maximum 5/);
  fails(() => new XdrReader(hex('00000002 00000041')).varCharArray(5), /cannot fit/);
});

test('errors render reason, path and offset', () => {
  const e = new XdrError('need 4 bytes, 0 left', 12);
  e.path.push('A.b', 'B.c');
  assert.equal(e.message, 'need 4 bytes, 0 left in A.b.B.c at byte 12');
  assert.equal(String(e), 'XdrError: need 4 bytes, 0 left in A.b.B.c at byte 12');
});

test('writer grows its buffer and keeps earlier bytes', () => {
  const w = new XdrWriter(1);
  for (let i = 0; i < 100; i++) w.uint(i);
  const r = new XdrReader(w.bytes());
  for (let i = 0; i < 100; i++) assert.equal(r.uint(), i);
});

test('unsigned char arrays are not sign-extended', () => {
  const bytes = write((w) => {
    w.fixedCharArray(hex('80ff'), 2, false);
    w.varCharArray(hex('ff'), 4, false);
  });
  assert.deepEqual(bytes, hex('00000080 000000ff 00000001 000000ff'));
});

test('short ASCII, long and non-ASCII strings decode alike on every path', () => {
  for (const s of ['', 'a', 'domain-00001', 'exactly8', 'x'.repeat(64), 'y'.repeat(65), 'héllo wörld', 'ascii-then-ü-after-eight', '日本語のドメイン名']) {
    const w = new XdrWriter();
    w.string(s, 1000);
    assert.equal(new XdrReader(w.bytes()).string(1000), s);
  }
});
