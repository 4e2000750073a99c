import { XdrError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Sans-IO XDR (RFC 4506) decoder over a byte range of one Uint8Array.
 *
 * Every variable-length item is checked against its declared maximum and against the bytes that
 * remain *before* anything is allocated, so a hostile length word costs nothing. Opaque data is
 * returned as a view into the input (no copy): callers own the input buffer for as long as they
 * keep the decoded value.
 */
export class XdrReader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: string, at = this.pos): never {
    throw new XdrError(reason, at);
  }

  private need(n: number): void {
    if (this.end - this.pos < n) this.fail(`need ${n} bytes, ${this.end - this.pos} left`);
  }

  int(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  hyper(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  uhyper(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    const at = this.pos;
    const v = this.int();
    if (v === 0) return false;
    if (v === 1) return true;
    return this.fail(`bool must be 0 or 1, got ${v}`, at);
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** The presence word of optional data (`T *x`): strictly 0 or 1. */
  optional(): boolean {
    const at = this.pos;
    const v = this.uint();
    if (v === 0) return false;
    if (v === 1) return true;
    return this.fail(`optional-data flag must be 0 or 1, got ${v}`, at);
  }

  /** `opaque x[n]`: n bytes plus padding to a multiple of 4. */
  fixedOpaque(n: number): Uint8Array {
    const padded = (n + 3) & ~3;
    this.need(padded);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return out;
  }

  /** `opaque x<max>`: length word, bytes, padding. */
  varOpaque(max: number): Uint8Array {
    const at = this.pos;
    const n = this.uint();
    if (n > max) this.fail(`opaque length ${n} exceeds maximum ${max}`, at);
    if (n > this.end - this.pos) this.fail(`opaque length ${n} exceeds the ${this.end - this.pos} bytes left`, at);
    return this.fixedOpaque(n);
  }

  /** `string x<max>`: length word, UTF-8 bytes, padding. Invalid UTF-8 becomes U+FFFD, as libvirt's bytes may be anything. */
  string(max: number): string {
    const at = this.pos;
    const n = this.uint();
    if (n > max) this.fail(`string length ${n} exceeds maximum ${max}`, at);
    const padded = (n + 3) & ~3;
    if (padded > this.end - this.pos || n > padded) {
      this.fail(`string length ${n} exceeds the ${this.end - this.pos} bytes left`, at);
    }
    const start = this.pos;
    this.pos += padded;
    return decodeUtf8(this.buf, start, start + n);
  }

  /**
   * The count word of a variable-length array. `minItemBytes` is the smallest encoding of one
   * element, so a count that could not fit in the remaining bytes is refused before the caller
   * allocates an array of that size.
   */
  arrayLength(max: number, minItemBytes: number): number {
    const at = this.pos;
    const n = this.uint();
    if (n > max) this.fail(`array length ${n} exceeds maximum ${max}`, at);
    if (minItemBytes > 0 && n * minItemBytes > this.end - this.pos) {
      this.fail(`array length ${n} cannot fit in the ${this.end - this.pos} bytes left`, at);
    }
    return n;
  }

  /**
   * `char x[n]` / `unsigned char x[n]`: rpcgen encodes each character as a full 4-byte word
   * (libvirt's node model and security labels are sent this way), so n characters take 4n bytes.
   */
  fixedCharArray(n: number): Uint8Array {
    this.need(n * 4);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getInt32(this.pos) & 0xff;
      this.pos += 4;
    }
    return out;
  }

  /** `char x<max>`: count word, then one 4-byte word per character. */
  varCharArray(max: number): Uint8Array {
    const n = this.arrayLength(max, 4);
    return this.fixedCharArray(n);
  }
}

const fromCharCode = String.fromCharCode;

/**
 * Decodes UTF-8 with a fast path for the short ASCII names and keys that make up most libvirt
 * strings: eight characters per fromCharCode call is about twice as fast as TextDecoder there.
 */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > 64) return utf8.decode(buf.subarray(start, end));
  let s = '';
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a0 = buf[i]!, a1 = buf[i + 1]!, a2 = buf[i + 2]!, a3 = buf[i + 3]!;
    const a4 = buf[i + 4]!, a5 = buf[i + 5]!, a6 = buf[i + 6]!, a7 = buf[i + 7]!;
    if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7) >= 0x80) return utf8.decode(buf.subarray(start, end));
    s += fromCharCode(a0, a1, a2, a3, a4, a5, a6, a7);
  }
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
    s += fromCharCode(c);
  }
  return s;
}
