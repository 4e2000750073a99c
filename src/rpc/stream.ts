import { XdrReader } from '../xdr/index.js';
import { CallAbortedError, ConnectionClosedError, rpcError, type VirError } from './errors.js';
import { VIR_NET_MESSAGE_HEADER_MAX, VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, VirNetStreamHole } from './gen/virnet.js';
import { MessageStatus, MessageType, type Message } from './message.js';
import { decodeErrorBody } from './wire-error.js';

/** libvirt sends at most this much data per stream packet (the old 256 KiB payload less the header). */
export const STREAM_CHUNK_MAX = VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX - VIR_NET_MESSAGE_HEADER_MAX;

/** What arrives on a stream: bytes, or a hole (a run of zeros not sent, for sparse transfers). */
export type StreamChunk = { kind: 'data'; data: Uint8Array } | { kind: 'hole'; length: bigint };

/** How a stream reaches its connection; the client and server engines each provide one. */
export interface StreamIo {
  sendData(data: Uint8Array): boolean;
  sendHole(length: bigint): boolean;
  /** OK (finish, or confirming the peer's finish/abort) or ERROR (abort from a client, failure from a server). */
  sendStatus(status: MessageStatus.OK | MessageStatus.ERROR, error?: VirError): boolean;
  waitDrain(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Called once when the stream is over, so the engine forgets its serial. */
  release(): void;
}

/** Stop reading the socket when this much received stream data waits for its consumer. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/**
 * One libvirt stream, opened by a call and then carried by STREAM packets with that call's serial.
 *
 * Wire rules (checked against libvirtd 9.0): data goes in CONTINUE packets of raw bytes; the
 * end of data is an empty CONTINUE; the side that is done sends OK and the other confirms with
 * OK; a client aborts with an empty ERROR and the server answers OK; a server failure is ERROR
 * with an error body. Holes are STREAM_HOLE packets carrying a length.
 *
 * The same class serves both ends; `side` decides who confirms whom.
 */
export class RpcStream implements AsyncIterable<StreamChunk> {
  private queue: StreamChunk[] = [];
  private queuedBytes = 0;
  private paused = false;
  private incomingDone = false;
  private failure: VirError | null = null;
  private readers: Array<() => void> = [];
  private finishWaiter: { resolve: () => void; reject: (e: VirError) => void } | null = null;
  private peerFinished = false;
  private peerFinishedWaiters: Array<{ resolve: () => void; reject: (e: VirError) => void }> = [];
  private sentEof = false;
  private over = false;
  private aborting: Promise<void> | null = null;

  constructor(
    private readonly io: StreamIo,
    readonly side: 'client' | 'server',
    /** For messages: the procedure that opened the stream. */
    readonly label: string,
  ) {}

  /** True once the stream has fully ended, in either direction, for any reason. */
  get finished(): boolean {
    return this.over;
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Sends bytes, split into libvirt-sized packets, waiting whenever the socket is full. */
  async write(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length; off += STREAM_CHUNK_MAX) {
      this.assertWritable();
      const piece = data.subarray(off, Math.min(off + STREAM_CHUNK_MAX, data.length));
      if (!this.io.sendData(piece)) await this.io.waitDrain();
    }
  }

  /** Sends a hole of `length` bytes (only meaningful when the call asked for a sparse stream). */
  async sendHole(length: bigint): Promise<void> {
    this.assertWritable();
    if (!this.io.sendHole(length)) await this.io.waitDrain();
  }

  /**
   * Server side of a read stream: sends end-of-data, waits for the client's finish and confirms it.
   * Client side: sends end-of-data without finishing (rarely needed; `finish` implies it).
   */
  async end(): Promise<void> {
    this.assertWritable();
    this.sentEof = true;
    this.io.sendData(new Uint8Array(0));
    if (this.side === 'server') {
      await this.waitPeerFinished();
      this.confirm();
    }
  }

  /** Client: ends the stream normally and resolves when the server confirms. */
  finish(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.over) return Promise.resolve();
    if (this.side !== 'client') throw new Error('finish() is the client side; the server uses end() or confirm()');
    return new Promise((resolve, reject) => {
      this.finishWaiter = { resolve, reject };
      this.io.sendStatus(MessageStatus.OK);
    });
  }

  /** Client: abandons the stream; resolves when the server acknowledges. */
  abort(): Promise<void> {
    if (this.over) return Promise.resolve();
    if (this.side !== 'client') throw new Error('abort() is the client side; the server uses fail()');
    if (this.aborting) return this.aborting;
    this.failLocal(new CallAbortedError(`stream ${this.label} aborted by the client`));
    // Unread data is moot now; a paused socket would keep the server's confirmation from us.
    this.queue = [];
    this.queuedBytes = 0;
    if (this.paused) {
      this.paused = false;
      this.io.resume();
    }
    this.aborting = new Promise((resolve) => {
      this.finishWaiter = { resolve, reject: () => resolve() };
      this.io.sendStatus(MessageStatus.ERROR);
    });
    return this.aborting;
  }

  /** Server: confirms the client's finish with OK, ending the stream. */
  confirm(): void {
    if (this.over) return;
    this.io.sendStatus(MessageStatus.OK);
    this.close();
  }

  /** Server: ends the stream with an error the client will see. */
  fail(error: VirError): void {
    if (this.over) return;
    this.io.sendStatus(MessageStatus.ERROR, error);
    this.failLocal(error);
    this.close();
  }

  /** Server: resolves when the client has sent its finish (OK). */
  waitPeerFinished(): Promise<void> {
    if (this.peerFinished) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.peerFinishedWaiters.push({ resolve, reject }));
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.over || this.sentEof) throw rpcError(`stream ${this.label} is already finished`);
  }

  // ---- receiving ----------------------------------------------------------------------------

  async *[Symbol.asyncIterator](): AsyncIterator<StreamChunk> {
    while (true) {
      const next = this.queue.shift();
      if (next) {
        this.consumed(next);
        yield next;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.incomingDone) return;
      await new Promise<void>((resolve) => this.readers.push(resolve));
    }
  }

  /** Reads everything until end-of-data into one buffer (holes become zeros). */
  async readAll(limit = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const c of this) {
      const part = c.kind === 'data' ? c.data : new Uint8Array(Number(c.length));
      total += part.length;
      if (total > limit) throw rpcError(`stream ${this.label} delivered more than ${limit} bytes`);
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

  /** Engine entry point: one STREAM or STREAM_HOLE packet for this stream's serial. */
  deliver(msg: Message): void {
    if (this.over) return;
    const { type, status } = msg.header;
    if (status === MessageStatus.CONTINUE) {
      // After a client abort the server may still flush queued data before it confirms.
      if (this.aborting) return;
      if (type === MessageType.STREAM_HOLE) {
        let hole;
        try {
          hole = VirNetStreamHole.decode(new XdrReader(msg.body));
        } catch {
          this.protocolFailure('malformed stream hole packet');
          return;
        }
        this.push({ kind: 'hole', length: hole.length });
      } else if (msg.body.length === 0) {
        this.incomingDone = true; // end of data
        this.wakeReaders();
      } else {
        this.push({ kind: 'data', data: msg.body });
      }
      return;
    }
    if (status === MessageStatus.OK) {
      this.incomingDone = true;
      this.wakeReaders();
      if (this.side === 'server') {
        this.peerFinished = true;
        for (const w of this.peerFinishedWaiters.splice(0)) w.resolve();
        return;
      }
      // Client: the server confirms our finish/abort, or ended the stream on its own.
      this.close();
      return;
    }
    if (status === MessageStatus.ERROR) {
      if (this.side === 'server') {
        // The client aborted: acknowledge with OK as libvirtd does.
        this.failLocal(new CallAbortedError(`stream ${this.label} aborted by the client`));
        this.io.sendStatus(MessageStatus.OK);
        this.close();
        return;
      }
      this.failLocal(decodeStreamError(msg.body, this.label));
      this.close();
      return;
    }
    this.protocolFailure(`unexpected stream status ${status}`);
  }

  /** Engine entry point: the connection is gone. */
  connectionLost(err: ConnectionClosedError): void {
    if (this.over) return;
    this.failLocal(err);
    this.close();
  }

  private push(chunk: StreamChunk): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.kind === 'data' ? chunk.data.length : 0;
    if (!this.paused && this.queuedBytes > HIGH_WATER) {
      this.paused = true;
      this.io.pause();
    }
    this.wakeReaders();
  }

  private consumed(chunk: StreamChunk): void {
    this.queuedBytes -= chunk.kind === 'data' ? chunk.data.length : 0;
    if (this.paused && this.queuedBytes < LOW_WATER) {
      this.paused = false;
      this.io.resume();
    }
  }

  private wakeReaders(): void {
    for (const r of this.readers.splice(0)) r();
  }

  private protocolFailure(message: string): void {
    const err = rpcError(`stream ${this.label}: ${message}`);
    if (this.side === 'server') this.fail(err);
    else {
      this.failLocal(err);
      this.io.sendStatus(MessageStatus.ERROR);
      this.close();
    }
  }

  private failLocal(err: VirError): void {
    if (!this.failure) this.failure = err;
    this.wakeReaders();
    for (const w of this.peerFinishedWaiters.splice(0)) w.reject(this.failure);
  }

  private close(): void {
    if (this.over) return;
    this.over = true;
    this.incomingDone = true;
    if (this.paused) {
      this.paused = false;
      this.io.resume();
    }
    this.wakeReaders();
    const waiter = this.finishWaiter;
    this.finishWaiter = null;
    if (waiter) {
      if (this.failure && !(this.failure instanceof CallAbortedError)) waiter.reject(this.failure);
      else waiter.resolve();
    }
    this.io.release();
  }
}

function decodeStreamError(body: Uint8Array, label: string): VirError {
  return decodeErrorBody(body) ?? rpcError(`stream ${label} failed with an undecodable error`);
}
