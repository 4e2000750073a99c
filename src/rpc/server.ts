import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { XdrReader, XdrError } from '../xdr/index.js';
import { RpcConnection, type CloseInfo } from './connection.js';
import { ConnectionClosedError, rpcError, VirError, VirErrorDomain, VirErrorNumber } from './errors.js';
import { VirNetStreamHole } from './gen/virnet.js';
import type { KeepaliveOptions } from './keepalive.js';
import { Lane } from './lane.js';
import { silentLogger, type Logger } from './log.js';
import { encodeMessage, MessageStatus, MessageType, type Header, type Message } from './message.js';
import type { ProcedureSpec, ProgramSpec } from './program.js';
import { RpcStream, type StreamIo } from './stream.js';
import { encodeErrorBody } from './wire-error.js';

/** What a procedure handler sees besides its arguments. */
export interface CallContext {
  readonly client: ServerClient;
  readonly header: Header;
  readonly spec: ProcedureSpec;
  /**
   * For stream procedures: the stream. Packets the handler sends before it returns are held
   * back until the reply has gone out, as the protocol requires.
   */
  readonly stream: RpcStream | null;
}

export type Handler<A = never, R = unknown> = (args: A, ctx: CallContext) => R | Promise<R>;

/** Handlers of one program, by procedure number. */
export type HandlerTable = ReadonlyMap<number, Handler<never, unknown>>;

/** One typed entry of a HandlerTable: the handler's argument and result types follow the spec. */
export function handle<A, R>(spec: ProcedureSpec<A, R>, fn: Handler<A, R>): [number, Handler<never, unknown>] {
  return [spec.proc, fn as Handler<never, unknown>];
}

export interface RpcServerOptions {
  logger?: Logger;
  /** libvirtd's max_clients: connections over this are closed at once. */
  maxClients?: number;
  /** libvirtd's max_client_requests: low-priority calls of one client running at once. */
  maxClientRequests?: number;
  /** libvirtd's max_workers: low-priority calls running at once across all clients. */
  maxWorkers?: number;
  /** libvirtd's prio_workers: high-priority calls running at once across all clients. */
  prioWorkers?: number;
  /** A client whose unsent output exceeds this many bytes is disconnected when more events come. */
  maxClientBacklog?: number;
  /** Told about every call that ends in an error reply from its handler (for the daemon's log). */
  onCallError?: (client: ServerClient, spec: ProcedureSpec, err: VirError) => void;
}

export interface ServerEvents {
  client: [ServerClient];
  clientClosed: [ServerClient, CloseInfo];
}

interface Registered {
  spec: ProgramSpec;
  handlers: HandlerTable;
}

/**
 * The server half of libvirt's RPC: a registry of programs, dispatch from the generated
 * procedure tables, replies that may complete in any order, per-client and global limits with
 * a separate lane for high-priority procedures, and events and stream data pushed to clients.
 */
export class RpcServer extends EventEmitter<ServerEvents> {
  readonly log: Logger;
  readonly clients = new Set<ServerClient>();
  private readonly programs = new Map<number, Registered>();
  private readonly opts: Required<Omit<RpcServerOptions, 'logger' | 'onCallError'>> & Pick<RpcServerOptions, 'onCallError'>;
  readonly normalLane: Lane;
  readonly priorityLane: Lane;
  private nextClientId = 1;

  constructor(opts: RpcServerOptions = {}) {
    super();
    this.log = opts.logger ?? silentLogger;
    this.opts = {
      maxClients: opts.maxClients ?? 5000,
      maxClientRequests: opts.maxClientRequests ?? 5,
      maxWorkers: opts.maxWorkers ?? 20,
      prioWorkers: opts.prioWorkers ?? 5,
      maxClientBacklog: opts.maxClientBacklog ?? 32 * 1024 * 1024,
      onCallError: opts.onCallError,
    };
    this.normalLane = new Lane(this.opts.maxWorkers);
    this.priorityLane = new Lane(this.opts.prioWorkers);
  }

  /** Serves a program: each procedure number in `handlers` must be a call in `spec`. */
  register(spec: ProgramSpec, handlers: HandlerTable): void {
    for (const proc of handlers.keys()) {
      const p = spec.procedures.get(proc);
      if (!p || p.kind !== 'call') throw new Error(`${spec.name} has no callable procedure ${proc}`);
    }
    this.programs.set(spec.prog, { spec, handlers });
  }

  /** Takes over an accepted connection. Returns null when max_clients is reached (it is closed). */
  addClient(channel: Duplex, description: string): ServerClient | null {
    if (this.clients.size >= this.opts.maxClients) {
      this.log.warn(`${description}: too many active clients (${this.clients.size}), dropping connection`);
      channel.destroy();
      return null;
    }
    const client = new ServerClient(this, channel, this.nextClientId++, description, this.opts.maxClientRequests);
    this.clients.add(client);
    this.emit('client', client);
    return client;
  }

  /** Closes every client. Listening sockets belong to the transports and are closed there. */
  async close(): Promise<void> {
    const all = [...this.clients];
    for (const c of all) c.close();
    await Promise.all(all.map((c) => c.closed));
  }

  /** @internal */
  clientClosed(client: ServerClient, info: CloseInfo): void {
    this.clients.delete(client);
    this.emit('clientClosed', client, info);
  }

  /** @internal Finds the procedure for a CALL or produces the error reply libvirtd would send. */
  lookup(h: Header): { reg: Registered; spec: ProcedureSpec; handler: Handler<never, unknown> } | VirError {
    const reg = this.programs.get(h.prog);
    if (!reg || reg.spec.vers !== h.vers) return rpcError(`Cannot find program ${h.prog} version ${h.vers}`);
    const spec = reg.spec.procedures.get(h.proc);
    const handler = reg.handlers.get(h.proc);
    if (!spec || spec.kind !== 'call' || !handler) return rpcError(`unknown procedure: ${h.proc}`);
    return { reg, spec, handler };
  }

  /** @internal */
  get onCallError(): RpcServerOptions['onCallError'] {
    return this.opts.onCallError;
  }

  /** @internal */
  get maxClientBacklog(): number {
    return this.opts.maxClientBacklog;
  }
}

/** One connected client, as the server sees it. */
export class ServerClient {
  private readonly conn: RpcConnection;
  private readonly streams = new Map<number, RpcStream>();
  /** Low-priority calls of this client running or waiting for the global lane. */
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readingPaused = false;
  private readonly closedPromise: Promise<CloseInfo>;
  private resolveClosed!: (i: CloseInfo) => void;
  /** Per-client state of the layers above (the daemon keeps its driver connection here). */
  readonly data = new Map<string, unknown>();

  constructor(
    private readonly server: RpcServer,
    channel: Duplex,
    readonly id: number,
    readonly description: string,
    private readonly maxRequests: number,
  ) {
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.conn = new RpcConnection(
      channel,
      { onMessage: (m) => this.onMessage(m), onClose: (i) => this.onClose(i) },
      description,
      server.log,
    );
  }

  get closed(): Promise<CloseInfo> {
    return this.closedPromise;
  }

  get isClosed(): boolean {
    return this.conn.closed !== null;
  }

  startKeepalive(opts: KeepaliveOptions): void {
    this.conn.startKeepalive(opts);
  }

  /**
   * Pushes an event. libvirtd sends events with serial 1; we do the same. A client that does
   * not read its events is disconnected once its backlog passes the server's limit.
   */
  sendEvent<A>(spec: ProcedureSpec<A, unknown>, body: A): boolean {
    if (this.isClosed) return false;
    if (this.conn.queuedBytes > this.server.maxClientBacklog) {
      this.server.log.warn(`${this.description}: client not reading its events (${this.conn.queuedBytes} bytes queued), closing`);
      this.conn.destroy({ reason: 'error', message: 'client too slow: output backlog over the limit' });
      return false;
    }
    const h: Header = { prog: spec.prog, vers: spec.vers, proc: spec.proc, type: MessageType.MESSAGE, serial: 1, status: MessageStatus.OK };
    return this.conn.send(encodeMessage(h, (w) => spec.args.encode(w, body)));
  }

  /** Closes the connection after flushing what is queued. */
  close(): void {
    this.conn.end();
  }

  private onMessage(msg: Message): void {
    const h = msg.header;
    switch (h.type) {
      case MessageType.CALL:
      case MessageType.CALL_WITH_FDS:
        this.onCall(msg);
        return;
      case MessageType.STREAM:
      case MessageType.STREAM_HOLE: {
        // libvirtd ignores stream packets for serials it does not know, whatever their status.
        this.streams.get(h.serial)?.deliver(msg);
        return;
      }
      default:
        // Client-sent REPLY, non-keepalive MESSAGE and unknown types are ignored, as libvirtd does.
        this.server.log.debug(`${this.description}: ignoring message type ${h.type} for program ${h.prog}`);
    }
  }

  private onCall(msg: Message): void {
    const h = msg.header;
    if (h.status !== MessageStatus.OK) {
      this.replyError(h, rpcError(`Unexpected message status ${h.status}`));
      return;
    }
    const found = this.server.lookup(h);
    if (found instanceof VirError) {
      this.replyError(h, found);
      return;
    }
    const { spec, handler } = found;
    if (msg.nfds > 0) {
      this.replyError(
        h,
        VirError.format(VirErrorNumber.NO_SUPPORT, VirErrorDomain.RPC, 'this function is not supported by the connection driver: %s', `${spec.name} with file descriptors`),
      );
      return;
    }
    let args: unknown;
    try {
      args = spec.args.decode(new XdrReader(msg.body));
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      this.server.log.debug(`${this.description}: cannot decode ${spec.name}: ${err.message}`);
      this.replyError(h, rpcError('Unable to decode message payload'));
      return;
    }
    const run = () => this.execute(h, spec, handler, args);
    if (spec.priority === 'high') {
      this.server.priorityLane.run(run);
      return;
    }
    // Low priority: this client's limit first, then the shared lane.
    const start = () => {
      this.inFlight++;
      this.server.normalLane.run(() =>
        run().finally(() => {
          this.inFlight--;
          this.waiting.shift()?.();
          this.updateReading();
        }),
      );
    };
    if (this.inFlight < this.maxRequests) start();
    else this.waiting.push(start);
    this.updateReading();
  }

  /** Stops reading from a client whose queue of waiting calls is full (libvirtd does the same). */
  private updateReading(): void {
    const full = this.waiting.length >= this.maxRequests;
    if (full && !this.readingPaused) {
      this.readingPaused = true;
      this.conn.pause();
    } else if (!full && this.readingPaused) {
      this.readingPaused = false;
      this.conn.resume();
    }
  }

  private async execute(h: Header, spec: ProcedureSpec, handler: Handler<never, unknown>, args: unknown): Promise<void> {
    if (this.isClosed) return;
    const io = spec.stream ? this.streamIo(h) : null;
    const stream = io ? new RpcStream(io.io, 'server', spec.name) : null;
    if (stream) this.streams.set(h.serial, stream);
    let ret: unknown;
    try {
      ret = await handler(args as never, { client: this, header: h, spec, stream });
    } catch (err) {
      if (stream) this.streams.delete(h.serial);
      const e = toVirError(err, this.server.log, spec.name);
      this.server.onCallError?.(this, spec, e);
      this.replyError(h, e);
      return;
    }
    let frame: Uint8Array;
    try {
      frame = encodeMessage({ ...h, type: MessageType.REPLY, status: MessageStatus.OK }, (w) => spec.ret.encode(w, ret));
    } catch (err) {
      if (stream) this.streams.delete(h.serial);
      this.server.log.error(`${this.description}: cannot encode reply of ${spec.name}: ${String(err)}`);
      this.replyError(h, rpcError(`cannot encode reply of ${spec.name}`));
      return;
    }
    this.conn.send(frame);
    io?.replied();
  }

  private replyError(h: Header, err: VirError): void {
    const type = h.type === MessageType.CALL_WITH_FDS ? MessageType.REPLY_WITH_FDS : MessageType.REPLY;
    this.conn.sendMessage({ ...h, type, status: MessageStatus.ERROR }, (w) => encodeErrorBody(w, err));
  }

  private streamIo(call: Header): { io: StreamIo; replied(): void } {
    // Packets queued until the call's reply is on the wire.
    let held: Uint8Array[] | null = [];
    const header = (type: MessageType, status: MessageStatus): Header => ({ ...call, type, status });
    const send = (frame: Uint8Array): boolean => {
      if (held) {
        held.push(frame);
        return true;
      }
      return this.conn.send(frame);
    };
    const io: StreamIo = {
      sendData: (data) => send(encodeMessage(header(MessageType.STREAM, MessageStatus.CONTINUE), (w) => w.raw(data))),
      sendHole: (length) =>
        send(encodeMessage(header(MessageType.STREAM_HOLE, MessageStatus.CONTINUE), (w) => VirNetStreamHole.encode(w, { length, flags: 0 }))),
      sendStatus: (status, error) =>
        send(encodeMessage(header(MessageType.STREAM, status), error ? (w) => encodeErrorBody(w, error) : undefined)),
      waitDrain: () => this.conn.waitDrain(),
      pause: () => this.conn.pause(),
      resume: () => this.conn.resume(),
      release: () => {
        this.streams.delete(call.serial);
      },
    };
    return {
      io,
      replied: () => {
        const frames = held ?? [];
        held = null;
        for (const f of frames) this.conn.send(f);
      },
    };
  }

  private onClose(info: CloseInfo): void {
    this.server.log.debug(`${this.description}: connection closed (${info.reason}: ${info.message})`);
    for (const s of this.streams.values()) s.connectionLost(new ConnectionClosedError(info.message, info.cause));
    this.streams.clear();
    this.waiting.length = 0;
    this.server.clientClosed(this, info);
    this.resolveClosed(info);
  }
}

/** Anything a handler throws becomes a VirError; non-VirErrors are bugs, logged with their stack. */
function toVirError(err: unknown, log: Logger, what: string): VirError {
  if (err instanceof VirError) return err;
  log.error(`${what} failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: %s', err instanceof Error ? err.message : String(err));
}
