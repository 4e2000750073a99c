import { VIR_NET_MESSAGE_HEADER_MAX, VIR_NET_MESSAGE_LEN_MAX, VIR_NET_MESSAGE_MAX } from './gen/virnet.js';

/** Smallest legal length word: the length word itself plus a bare header. */
export const MIN_FRAME = VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX;
/** Largest legal length word: libvirt's message maximum excludes the length word. */
export const MAX_FRAME = VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_MAX;

/** The peer broke framing; the connection cannot be resynchronised and must be closed. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/**
 * Sans-IO splitter of a libvirt RPC byte stream into whole frames (length word included).
 *
 * Chunks are kept as received and joined only once a frame is complete, so memory grows with
 * the bytes the peer actually sent, never with the length it claims. The length word is checked
 * against libvirt's limits as soon as its 4 bytes are in.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Length of the frame being assembled, or -1 while the length word is incomplete. */
  private want = -1;
  private seenAny = false;

  constructor(private readonly maxFrame = MAX_FRAME) {}

  /** Bytes received but not yet returned as frames. */
  get pending(): number {
    return this.buffered;
  }

  /**
   * Adds received bytes and returns every frame they complete. Frames are views into the
   * chunks when a frame lies inside one chunk; callers must not mutate chunks after feeding them.
   * Throws FrameError on a length word out of bounds (the decoder is unusable afterwards).
   */
  feed(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (chunk.length === 0) return out;
    // Fast path: nothing buffered, parse frames straight out of this chunk.
    let off = 0;
    if (this.buffered === 0) {
      while (chunk.length - off >= 4) {
        const len = this.check(readU32(chunk, off), chunk, off);
        if (chunk.length - off < len) break;
        out.push(chunk.subarray(off, off + len));
        off += len;
      }
      if (off === chunk.length) return out;
      chunk = chunk.subarray(off);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (true) {
      if (this.want < 0) {
        if (this.buffered < 4) break;
        const head = this.peek(4);
        this.want = this.check(readU32(head, 0), head, 0);
      }
      if (this.buffered < this.want) break;
      out.push(this.take(this.want));
      this.want = -1;
    }
    return out;
  }

  private check(len: number, bytes: Uint8Array, off: number): number {
    const first = !this.seenAny;
    this.seenAny = true;
    if (len >= MIN_FRAME && len <= this.maxFrame) return len;
    throw new FrameError(describeBadLength(len, bytes.subarray(off, off + 4), first, this.maxFrame));
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    return this.join(n, false);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const frame = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return frame;
    }
    return this.join(n, true);
  }

  /** Copies the first n buffered bytes into one array, optionally consuming them. */
  private join(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    if (!consume) {
      for (const c of this.chunks) {
        const k = Math.min(c.length, n - filled);
        out.set(c.subarray(0, k), filled);
        filled += k;
        if (filled === n) break;
      }
      return out;
    }
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** A one-line reason for a bad length word, naming the likely mistake when the bytes say so. */
function describeBadLength(len: number, head: Uint8Array, first: boolean, max: number): string {
  if (first) {
    const text = ascii(head);
    if (/^(GET |POST|PUT |HEAD|HTTP|OPTI|DELE|CONN|PATC)/.test(text)) return 'peer sent HTTP, not libvirt RPC';
    if (head[0] === 0x16 && head[1] === 0x03) return 'peer started a TLS handshake on a plain socket, not libvirt RPC';
    if (text === 'SSH-') return 'peer sent an SSH banner, not libvirt RPC';
    if (head[0] === 0x7b) return 'peer sent JSON (a QMP monitor?), not libvirt RPC';
  }
  if (len < MIN_FRAME) return `packet length ${len} is smaller than the ${MIN_FRAME}-byte minimum`;
  return `packet length ${len} exceeds the maximum of ${max}`;
}
