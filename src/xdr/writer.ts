import { XdrError } from './errors.js';

const utf8 = new TextEncoder();

/**
 * Sans-IO XDR (RFC 4506) encoder into a growable buffer.
 *
 * Encoding refuses values that the peer would reject (a string over its maximum, an integer out
 * of range), so we never put a message on the wire that libvirt could not decode.
 */
export class XdrWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  fail(reason: string): never {
    throw new XdrError(reason, this.pos);
  }

  /** Makes room for n more bytes, growing geometrically. */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** The bytes written so far (a view; copy it before reusing the writer). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Forgets what was written, keeping the buffer for reuse. */
  reset(): void {
    this.pos = 0;
  }

  int(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) this.fail(`int out of range: ${v}`);
    this.reserve(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  uint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) this.fail(`unsigned int out of range: ${v}`);
    this.reserve(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  /** Overwrites an already written unsigned word (used for length words known only at the end). */
  patchUint(at: number, v: number): void {
    this.view.setUint32(at, v);
  }

  hyper(v: bigint): void {
    if (v < -0x8000000000000000n || v > 0x7fffffffffffffffn) this.fail(`hyper out of range: ${v}`);
    this.reserve(8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  uhyper(v: bigint): void {
    if (v < 0n || v > 0xffffffffffffffffn) this.fail(`unsigned hyper out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  bool(v: boolean): void {
    this.reserve(4);
    this.view.setInt32(this.pos, v ? 1 : 0);
    this.pos += 4;
  }

  float(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
  }

  double(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  optional(present: boolean): void {
    this.bool(present);
  }

  /** `opaque x[n]`: exactly n bytes, zero padding to 4. */
  fixedOpaque(v: Uint8Array, n: number): void {
    if (v.length !== n) this.fail(`fixed opaque needs ${n} bytes, got ${v.length}`);
    this.rawPadded(v);
  }

  /** `opaque x<max>`. */
  varOpaque(v: Uint8Array, max: number): void {
    if (v.length > max) this.fail(`opaque length ${v.length} exceeds maximum ${max}`);
    this.uint(v.length);
    this.rawPadded(v);
  }

  /** Raw bytes with no length word and no padding (stream payloads). */
  raw(v: Uint8Array): void {
    this.reserve(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  private rawPadded(v: Uint8Array): void {
    const padded = (v.length + 3) & ~3;
    this.reserve(padded);
    this.buf.set(v, this.pos);
    this.buf.fill(0, this.pos + v.length, this.pos + padded);
    this.pos += padded;
  }

  /** `string x<max>` as UTF-8. */
  string(s: string, max: number): void {
    const start = this.pos;
    // Worst case 3 bytes per UTF-16 unit, plus the length word and padding.
    this.reserve(4 + s.length * 3 + 3);
    let n = 0;
    const buf = this.buf;
    const base = start + 4;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      buf[base + i] = c;
    }
    if (ascii) n = s.length;
    else n = utf8.encodeInto(s, buf.subarray(base)).written;
    if (n > max) {
      this.pos = start;
      this.fail(`string length ${n} exceeds maximum ${max}`);
    }
    this.view.setUint32(start, n);
    const padded = (n + 3) & ~3;
    buf.fill(0, base + n, base + padded);
    this.pos = base + padded;
  }

  /** The count word of a variable-length array. */
  arrayLength(n: number, max: number): void {
    if (n > max) this.fail(`array length ${n} exceeds maximum ${max}`);
    this.uint(n);
  }

  /**
   * `char x[n]`: one 4-byte word per character (see XdrReader.fixedCharArray). `char` is signed in
   * libvirt's C, so bytes >= 0x80 are sign-extended as rpcgen does; `unsigned char` passes false.
   */
  fixedCharArray(v: Uint8Array, n: number, signed = true): void {
    if (v.length !== n) this.fail(`char array needs ${n} characters, got ${v.length}`);
    this.reserve(n * 4);
    for (let i = 0; i < n; i++) {
      this.view.setInt32(this.pos, signed ? (v[i]! << 24) >> 24 : v[i]!);
      this.pos += 4;
    }
  }

  /** `char x<max>`: count word, then one word per character. */
  varCharArray(v: Uint8Array, max: number, signed = true): void {
    this.arrayLength(v.length, max);
    this.fixedCharArray(v, v.length, signed);
  }
}
