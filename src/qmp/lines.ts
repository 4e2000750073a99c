import { MessageTooLongError } from './errors.js';

/** QEMU's own default limit is far above any sane reply; 10 MiB matches the Python client. */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into newline-terminated lines without ever holding more than
 * `maxBytes` of an unfinished line: a peer that streams without newlines gets cut off.
 * Sans-IO: feed bytes in, get complete lines (without the newline) out.
 */
export class LineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(readonly maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Throws MessageTooLongError once a line outgrows the limit; the decoder is then unusable. */
  feed(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      if (this.pendingBytes + piece.length > this.maxBytes) throw new MessageTooLongError(this.maxBytes);
      if (this.pendingBytes > 0) {
        this.pending.push(piece);
        lines.push(Buffer.concat(this.pending, this.pendingBytes + piece.length).toString('utf8'));
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        lines.push(piece.toString('utf8'));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.pendingBytes + rest.length > this.maxBytes) throw new MessageTooLongError(this.maxBytes);
      // Copy: the socket may reuse its chunk buffers.
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return lines;
  }

  /** Bytes of an unfinished line held right now. */
  get buffered(): number {
    return this.pendingBytes;
  }
}
