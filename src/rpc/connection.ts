import type { Duplex } from 'node:stream';
import { XdrError } from '../xdr/index.js';
import { FrameDecoder, FrameError } from './framer.js';
import { KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, KeepaliveProcedure } from './gen/keepalive.js';
import { Keepalive, type KeepaliveOptions } from './keepalive.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { decodeMessage, encodeMessage, MessageStatus, MessageType, type Header, type Message } from './message.js';

/** Why a connection ended, kept for whoever asks later (pending calls, `closed`). */
export interface CloseInfo {
  /** `eof`: the peer closed; `error`: socket or protocol failure; `keepalive`: peer went silent; `local`: we closed. */
  reason: 'eof' | 'error' | 'keepalive' | 'local';
  message: string;
  cause?: unknown;
}

export interface ConnectionHandlers {
  /** Every message that is not keepalive traffic. */
  onMessage(msg: Message): void;
  onClose(info: CloseInfo): void;
}

/**
 * One libvirt RPC byte stream, the part client and server share: framing in both directions,
 * answering PINGs, the keepalive timer, write backpressure and a single close path that records why.
 */
export class RpcConnection {
  private readonly decoder: FrameDecoder;
  private keepalive: Keepalive | null = null;
  private closeInfo: CloseInfo | null = null;
  private drainWaiters: Array<() => void> = [];
  /** Bytes handed to the socket that it has not flushed yet (the socket's own count). */
  get queuedBytes(): number {
    return this.channel.writableLength;
  }

  constructor(
    readonly channel: Duplex,
    private readonly handlers: ConnectionHandlers,
    readonly description: string,
    private readonly log: Logger = silentLogger,
    maxFrame?: number,
  ) {
    this.decoder = new FrameDecoder(maxFrame);
    channel.on('data', (chunk: Uint8Array) => this.onData(chunk));
    channel.on('drain', () => this.flushDrainWaiters());
    channel.on('end', () => this.shutdown({ reason: 'eof', message: 'End of file while reading data: Input/output error' }));
    channel.on('error', (err: Error) => this.shutdown({ reason: 'error', message: `Cannot recv data: ${err.message}`, cause: err }));
    channel.on('close', () => this.shutdown({ reason: 'eof', message: 'End of file while reading data: Input/output error' }));
  }

  get closed(): CloseInfo | null {
    return this.closeInfo;
  }

  /** Starts pinging after idle periods; the connection closes when the peer stays silent. */
  startKeepalive(opts: KeepaliveOptions): void {
    this.keepalive?.stop();
    this.keepalive = new Keepalive(
      opts,
      () => this.sendKeepalive(KeepaliveProcedure.PING),
      () => {
        this.log.warn(`${this.description}: connection closed due to keepalive timeout`);
        this.shutdown({ reason: 'keepalive', message: 'connection closed due to keepalive timeout' });
      },
    );
    if (!this.closeInfo) this.keepalive.start();
  }

  stopKeepalive(): void {
    this.keepalive?.stop();
    this.keepalive = null;
  }

  /** Writes one encoded frame. Returns false when the socket asks the writer to wait for drain. */
  send(frame: Uint8Array): boolean {
    if (this.closeInfo) return false;
    return this.channel.write(frame);
  }

  /** Encodes and writes a message. */
  sendMessage(header: Header, body?: Parameters<typeof encodeMessage>[1]): boolean {
    return this.send(encodeMessage(header, body));
  }

  /** Resolves once the socket has flushed below its high-water mark (or the connection is gone). */
  waitDrain(): Promise<void> {
    if (this.closeInfo || !this.channel.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  pause(): void {
    this.channel.pause();
  }

  resume(): void {
    this.channel.resume();
  }

  /** Flushes what is queued, then closes. */
  end(): void {
    if (this.closeInfo) return;
    // Close fully once our last bytes are flushed; nothing the peer says after this matters.
    this.channel.end(() => this.channel.destroy());
    this.shutdown({ reason: 'local', message: 'client socket is closed' });
  }

  /** Closes at once, recording why. */
  destroy(info: CloseInfo): void {
    this.shutdown(info);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closeInfo) return;
    let frames: Uint8Array[];
    try {
      // Sockets hand out Buffers; decoded opaque data should be plain Uint8Array views whatever the transport.
      frames = this.decoder.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (err) {
      const message = err instanceof FrameError ? err.message : String(err);
      this.log.warn(`${this.description}: closing connection: ${message}`);
      this.shutdown({ reason: 'error', message, cause: err });
      return;
    }
    if (frames.length) this.keepalive?.received();
    for (const frame of frames) {
      if (this.closeInfo) return;
      let msg: Message;
      try {
        msg = decodeMessage(frame);
      } catch (err) {
        // A frame of valid length whose header words are short cannot happen (28-byte minimum),
        // but an FD count over the limit can: that breaks the stream's framing contract.
        const message = err instanceof XdrError ? `malformed message header: ${err.message}` : String(err);
        this.log.warn(`${this.description}: closing connection: ${message}`);
        this.shutdown({ reason: 'error', message, cause: err });
        return;
      }
      if (msg.header.prog === KEEPALIVE_PROGRAM) {
        this.onKeepalive(msg.header);
        continue;
      }
      this.handlers.onMessage(msg);
    }
  }

  private onKeepalive(h: Header): void {
    // libvirt answers PING in any connection state; a PONG only proves liveness, already noted.
    if (h.type === MessageType.MESSAGE && h.vers === KEEPALIVE_PROTOCOL_VERSION && h.proc === KeepaliveProcedure.PING) {
      this.sendKeepalive(KeepaliveProcedure.PONG);
    }
  }

  private sendKeepalive(proc: KeepaliveProcedure): void {
    this.sendMessage({
      prog: KEEPALIVE_PROGRAM,
      vers: KEEPALIVE_PROTOCOL_VERSION,
      proc,
      type: MessageType.MESSAGE,
      serial: 0,
      status: MessageStatus.OK,
    });
  }

  private flushDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private shutdown(info: CloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    this.keepalive?.stop();
    this.keepalive = null;
    if (info.reason !== 'local') this.channel.destroy();
    this.flushDrainWaiters();
    this.handlers.onClose(info);
  }
}
