import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { XdrReader, XdrWriter, XdrError } from '../xdr/index.js';
import { RpcConnection, type CloseInfo } from './connection.js';
import {
  CallAbortedError,
  CallTimeoutError,
  ConnectionClosedError,
  KeepaliveTimeoutError,
  rpcError,
  VirError,
  VirErrorDomain,
  VirErrorNumber,
} from './errors.js';
import { VirNetStreamHole } from './gen/virnet.js';
import type { KeepaliveOptions } from './keepalive.js';
import { silentLogger, type Logger } from './log.js';
import { MessageStatus, MessageType, type Header, type Message } from './message.js';
import type { ProcedureSpec } from './program.js';
import { RpcStream, type StreamIo } from './stream.js';
import { decodeErrorBody, encodeErrorBody } from './wire-error.js';

export interface CallOptions {
  /** Abandons the wait for the reply (the daemon may still carry the call out). */
  signal?: AbortSignal;
  /** Deadline in milliseconds for the reply; overrides the client's default. */
  timeoutMs?: number;
}

/** The connection's lifecycle, as data. */
export type ClientStatus =
  | { state: 'open' }
  | { state: 'closing' }
  | { state: 'closed'; reason: CloseInfo['reason']; error: VirError | null };

export interface ClientEvents {
  /** A MESSAGE packet (an event) of any program but keepalive. */
  message: [Message];
  status: [ClientStatus];
}

export interface RpcClientOptions {
  logger?: Logger;
  /** Default deadline for every call, in ms; none when absent. */
  defaultTimeoutMs?: number;
  /** Human-readable name of the peer for messages ("unix:/run/libvirt/libvirt-sock"). */
  description?: string;
}

interface PendingCall {
  prog: number;
  vers: number;
  proc: number;
  what: string;
  resolve(body: Uint8Array): void;
  reject(err: VirError): void;
  /** Set while a stream call waits for its reply. */
  stream: RpcStream | null;
}

/**
 * The client half of libvirt's RPC: any number of concurrent calls on one connection, matched
 * to replies by serial; events delivered apart from replies; streams; keepalive; and one close
 * path that fails every pending call with a typed error carrying the cause.
 */
export class RpcClient extends EventEmitter<ClientEvents> {
  private readonly conn: RpcConnection;
  private readonly log: Logger;
  private readonly defaultTimeoutMs: number | undefined;
  private nextSerial = 0;
  private readonly pending = new Map<number, PendingCall>();
  private readonly streams = new Map<number, RpcStream>();
  private statusValue: ClientStatus = { state: 'open' };
  private closeError: VirError | null = null;
  private readonly closedPromise: Promise<VirError | null>;
  private resolveClosed!: (e: VirError | null) => void;

  constructor(channel: Duplex, opts: RpcClientOptions = {}) {
    super();
    this.log = opts.logger ?? silentLogger;
    this.defaultTimeoutMs = opts.defaultTimeoutMs;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.conn = new RpcConnection(
      channel,
      { onMessage: (m) => this.onMessage(m), onClose: (i) => this.onClose(i) },
      opts.description ?? 'rpc client',
      this.log,
    );
  }

  get status(): ClientStatus {
    return this.statusValue;
  }

  get isOpen(): boolean {
    return this.statusValue.state === 'open';
  }

  /** Number of calls waiting for replies. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Resolves when the connection is gone: null after a local close, else the error that ended it. */
  get closed(): Promise<VirError | null> {
    return this.closedPromise;
  }

  /** Turns on libvirt's keepalive (PINGs after idle time; close when the peer stays silent). */
  startKeepalive(opts: KeepaliveOptions): void {
    this.conn.startKeepalive(opts);
  }

  stopKeepalive(): void {
    this.conn.stopKeepalive();
  }

  /** Calls a procedure and decodes its reply. */
  async call<A, R>(spec: ProcedureSpec<A, R>, args: A, opts: CallOptions = {}): Promise<R> {
    const body = await this.callRaw(spec.prog, spec.vers, spec.proc, (w) => spec.args.encode(w, args), opts, spec.name);
    return decodeReply(spec, body);
  }

  /**
   * Calls a stream procedure: resolves with the reply and the stream once the server accepted
   * the call; stream packets use the call's serial from then on.
   */
  async callStream<A, R>(
    spec: ProcedureSpec<A, R>,
    args: A,
    opts: CallOptions = {},
  ): Promise<{ ret: R; stream: RpcStream }> {
    const serial = this.allocSerial();
    const stream = new RpcStream(this.streamIo(spec, serial), 'client', spec.name);
    // Register first: data may follow the reply within the same socket read.
    this.streams.set(serial, stream);
    try {
      const body = await this.send(spec.prog, spec.vers, spec.proc, serial, (w) => spec.args.encode(w, args), opts, spec.name, stream);
      return { ret: decodeReply(spec, body), stream };
    } catch (err) {
      this.streams.delete(serial);
      throw err;
    }
  }

  /** The generic call by numbers: encodes with `encodeArgs`, resolves with the raw reply body. */
  callRaw(
    prog: number,
    vers: number,
    proc: number,
    encodeArgs: ((w: XdrWriter) => void) | undefined,
    opts: CallOptions = {},
    what = `procedure ${proc}`,
  ): Promise<Uint8Array> {
    return this.send(prog, vers, proc, this.allocSerial(), encodeArgs, opts, what, null);
  }

  /** Sends a one-way MESSAGE (libvirt clients never need this but for keepalive; kept for tests). */
  sendMessage(header: Omit<Header, 'type' | 'status' | 'serial'>, encodeBody?: (w: XdrWriter) => void): void {
    this.conn.sendMessage({ ...header, type: MessageType.MESSAGE, status: MessageStatus.OK, serial: 0 }, encodeBody);
  }

  /** Closes the connection; pending calls fail with ConnectionClosedError. */
  close(): Promise<void> {
    if (this.statusValue.state === 'open') this.setStatus({ state: 'closing' });
    this.conn.end();
    return this.closedPromise.then(() => undefined);
  }

  private allocSerial(): number {
    const s = this.nextSerial;
    this.nextSerial = (this.nextSerial + 1) >>> 0;
    return s;
  }

  private send(
    prog: number,
    vers: number,
    proc: number,
    serial: number,
    encodeArgs: ((w: XdrWriter) => void) | undefined,
    opts: CallOptions,
    what: string,
    stream: RpcStream | null,
  ): Promise<Uint8Array> {
    if (this.closeError || this.statusValue.state !== 'open') {
      return Promise.reject(this.closeError ?? new ConnectionClosedError('client socket is closed'));
    }
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(new CallAbortedError(what, signal.reason));
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;

    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        this.pending.delete(serial);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        cleanup();
        this.abandonStream(serial);
        reject(new CallAbortedError(what, signal?.reason));
      };
      this.pending.set(serial, {
        prog,
        vers,
        proc,
        what,
        stream,
        resolve: (body) => {
          cleanup();
          resolve(body);
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          this.abandonStream(serial);
          reject(new CallTimeoutError(what, timeoutMs));
        }, timeoutMs);
      }
      try {
        this.conn.sendMessage({ prog, vers, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, encodeArgs);
      } catch (err) {
        cleanup();
        reject(err instanceof XdrError ? rpcError(`cannot encode arguments of ${what}: ${err.message}`, err) : asVirError(err));
      }
    });
  }

  private abandonStream(serial: number): void {
    const s = this.streams.get(serial);
    if (s) {
      this.streams.delete(serial);
      void s.abort().catch(() => {});
    }
  }

  private onMessage(msg: Message): void {
    const h = msg.header;
    switch (h.type) {
      case MessageType.REPLY:
      case MessageType.REPLY_WITH_FDS:
        this.onReply(msg);
        return;
      case MessageType.MESSAGE:
        // Events carry serial 1 from libvirtd: the serial means nothing here.
        try {
          this.emit('message', msg);
        } catch (err) {
          this.log.error(`event handler failed: ${String(err)}`);
        }
        return;
      case MessageType.STREAM:
      case MessageType.STREAM_HOLE: {
        const s = this.streams.get(h.serial);
        if (s) s.deliver(msg);
        else this.log.debug(`ignoring stream packet for unknown serial ${h.serial}`);
        return;
      }
      default:
        this.log.debug(`ignoring message of type ${h.type} from server`);
    }
  }

  private onReply(msg: Message): void {
    const h = msg.header;
    const call = this.pending.get(h.serial);
    if (!call) {
      this.log.debug(`ignoring reply for unknown serial ${h.serial} (abandoned call?)`);
      return;
    }
    if (call.prog !== h.prog || call.vers !== h.vers || call.proc !== h.proc) {
      call.reject(rpcError(`reply for serial ${h.serial} names program ${h.prog} procedure ${h.proc}, not ${call.what}`));
      return;
    }
    if (msg.nfds > 0) {
      // Node cannot receive descriptors over a unix socket. They travel out of band, so the
      // stream stays in sync, but the caller cannot have them: report it as unsupported.
      call.reject(
        VirError.format(
          VirErrorNumber.NO_SUPPORT,
          VirErrorDomain.RPC,
          'this function is not supported by the connection driver: %s',
          `${call.what} (the server sent ${msg.nfds} file descriptors; Node cannot receive them)`,
        ),
      );
      return;
    }
    if (h.status === MessageStatus.OK) call.resolve(msg.body);
    else if (h.status === MessageStatus.ERROR) {
      call.reject(decodeErrorBody(msg.body) ?? rpcError('Unable to decode message payload'));
    } else call.reject(rpcError(`Unexpected message status ${h.status}`));
  }

  private onClose(info: CloseInfo): void {
    const error =
      info.reason === 'local'
        ? null
        : info.reason === 'keepalive'
          ? new KeepaliveTimeoutError()
          : new ConnectionClosedError(info.message, info.cause);
    this.closeError = error ?? new ConnectionClosedError('client socket is closed');
    for (const call of [...this.pending.values()]) call.reject(this.closeError);
    for (const s of [...this.streams.values()]) s.connectionLost(this.closeError as ConnectionClosedError);
    this.streams.clear();
    this.setStatus({ state: 'closed', reason: info.reason, error });
    this.resolveClosed(error);
  }

  private setStatus(s: ClientStatus): void {
    this.statusValue = s;
    this.emit('status', s);
  }

  private streamIo(spec: ProcedureSpec, serial: number): StreamIo {
    const header = (type: MessageType, status: MessageStatus): Header => ({
      prog: spec.prog,
      vers: spec.vers,
      proc: spec.proc,
      type,
      serial,
      status,
    });
    return {
      sendData: (data) => this.conn.sendMessage(header(MessageType.STREAM, MessageStatus.CONTINUE), (w) => w.raw(data)),
      sendHole: (length) =>
        this.conn.sendMessage(header(MessageType.STREAM_HOLE, MessageStatus.CONTINUE), (w) =>
          VirNetStreamHole.encode(w, { length, flags: 0 }),
        ),
      sendStatus: (status, error) =>
        this.conn.sendMessage(header(MessageType.STREAM, status), error ? (w) => encodeErrorBody(w, error) : undefined),
      waitDrain: () => this.conn.waitDrain(),
      pause: () => this.conn.pause(),
      resume: () => this.conn.resume(),
      release: () => {
        this.streams.delete(serial);
      },
    };
  }
}

function decodeReply<R>(spec: ProcedureSpec<unknown, R>, body: Uint8Array): R {
  try {
    return spec.ret.decode(new XdrReader(body));
  } catch (err) {
    throw rpcError(`Unable to decode reply of ${spec.name}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

function asVirError(err: unknown): VirError {
  return err instanceof Error && 'code' in err && 'domain' in err ? (err as VirError) : rpcError(String(err), err);
}
