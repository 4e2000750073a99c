/**
 * virStream in the public API: what consoles, channels, screenshots and volume transfers carry.
 * A Stream is an async iterable of chunks (data, or holes on sparse streams) and a writer. Reading
 * to the end finishes the stream (libvirt's virStreamFinish); leaving a loop early aborts it.
 * write() waits while the connection is congested; reads stop the socket while too much is unread.
 */
import type { DriverClientStream, StreamChunk } from './driver.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';

export type { StreamChunk } from './driver.js';

/** How far a transfer got: data bytes moved, and bytes skipped as holes. */
export interface TransferProgress {
  readonly bytes: number;
  readonly holeBytes: number;
}

export interface StreamOptions {
  /** Aborts the stream (and the opening call while it waits for its reply). */
  readonly signal?: AbortSignal;
  /** Called after each chunk read or written. */
  readonly onProgress?: (p: TransferProgress) => void;
}

/** What `Stream.send` takes: bytes, or chunks/byte arrays from any (async) iterable (a Node Readable is one). */
export type StreamSource = Uint8Array | Iterable<Uint8Array | StreamChunk> | AsyncIterable<Uint8Array | StreamChunk>;

/** Holes on non-sparse streams are sent as zeros, this much at a time. */
const ZERO_PIECE = 1024 * 1024;

export class Stream implements AsyncIterable<StreamChunk> {
  private bytes = 0;
  private holeBytes = 0;
  private reading = false;
  private finishing: Promise<void> | null = null;
  private aborting: Promise<void> | null = null;
  private readonly onProgress: ((p: TransferProgress) => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = () => void this.abort().catch(() => undefined);

  constructor(
    private readonly port: DriverClientStream,
    /** The API that opened it, for messages ("virDomainScreenshot"). */
    readonly what: string,
    /** The call asked for holes (VIR_STORAGE_VOL_*_SPARSE_STREAM). */
    readonly sparse: boolean,
    opts: StreamOptions = {},
  ) {
    this.onProgress = opts.onProgress;
    this.signal = opts.signal;
    if (this.signal?.aborted) this.onAbort();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** True once the stream has ended (finished, aborted or failed). */
  get finished(): boolean {
    return this.port.finished;
  }

  get progress(): TransferProgress {
    return { bytes: this.bytes, holeBytes: this.holeBytes };
  }

  /** The incoming chunks; the end of data finishes the stream, a `break` aborts it. */
  async *[Symbol.asyncIterator](): AsyncGenerator<StreamChunk> {
    if (this.reading) throw usage(`${this.what}: the stream is already being read`);
    this.reading = true;
    let complete = false;
    try {
      for await (const chunk of this.port) {
        this.count(chunk);
        yield chunk;
      }
      complete = true;
    } finally {
      if (complete) await this.finish();
      else await this.abort();
    }
  }

  /** Incoming bytes only, holes expanded to zeros. */
  async *data(): AsyncGenerator<Uint8Array> {
    for await (const c of this) {
      if (c.kind === 'data') yield c.data;
      else yield* zeros(c.length);
    }
  }

  /** Reads to the end into one buffer (holes as zeros); fails beyond `limit` bytes. */
  async readAll(limit = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const part of this.data()) {
      total += part.length;
      if (total > limit) throw usage(`${this.what}: the stream delivered more than ${limit} bytes`);
      parts.push(part);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  /** Sends bytes; resolves once they are handed to the connection (waits while it is congested). */
  async write(data: Uint8Array): Promise<void> {
    await this.port.write(data);
    this.count({ kind: 'data', data });
  }

  /** Sends a hole: `length` bytes of zeros that are not transferred. Sparse streams only. */
  async sendHole(length: number | bigint): Promise<void> {
    if (!this.sparse) throw usage(`${this.what}: holes need a stream opened with the sparse flag`);
    const n = BigInt(length);
    if (n < 0n) throw usage(`${this.what}: negative hole length`);
    await this.port.sendHole(n);
    this.count({ kind: 'hole', length: n });
  }

  /**
   * Writes everything `source` yields, then finishes. Holes in the source become hole packets on a
   * sparse stream and zeros otherwise. A failing source aborts the stream.
   */
  async send(source: StreamSource): Promise<void> {
    try {
      if (source instanceof Uint8Array) await this.write(source);
      else {
        for await (const item of source) {
          if (item instanceof Uint8Array) await this.write(item);
          else if (item.kind === 'data') await this.write(item.data);
          else if (this.sparse) await this.sendHole(item.length);
          else for (const z of zeros(item.length)) await this.write(z);
        }
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
    await this.finish();
  }

  /** Ends the stream normally; resolves when the other end confirms (virStreamFinish). */
  finish(): Promise<void> {
    this.finishing ??= this.port.finish().finally(() => this.release());
    return this.finishing;
  }

  /** Abandons the stream (virStreamAbort); resolves when the other end acknowledges. */
  abort(): Promise<void> {
    this.aborting ??= this.port.abort().finally(() => this.release());
    return this.aborting;
  }

  private count(c: StreamChunk): void {
    if (c.kind === 'data') this.bytes += c.data.length;
    else this.holeBytes += Number(c.length);
    this.onProgress?.(this.progress);
  }

  private release(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

function* zeros(length: bigint): Generator<Uint8Array> {
  let left = Number(length);
  while (left > 0) {
    const n = Math.min(left, ZERO_PIECE);
    yield new Uint8Array(n);
    left -= n;
  }
}

function usage(message: string): VirError {
  return VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.STREAMS, 'invalid argument: %s', message);
}
