import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { QmpCommandMap, QmpCommandName } from './commands.js';
import {
  ConnectError,
  ConnectionClosedError,
  ExecInterruptedError,
  ProtocolError,
  QmpAbortError,
  QmpClientError,
  QmpError,
  QmpTimeoutError,
  StateError,
  type SentCommand,
} from './errors.js';
import { EventIterator, type EventFilter } from './events.js';
import { DEFAULT_MAX_MESSAGE_BYTES, LineDecoder } from './lines.js';
import { silentQmpLogger, type QmpLogger } from './log.js';
import { parseMessage, type QmpEvent, type QmpGreeting, type QmpMessage, type QmpVersion } from './message.js';
import { canTransition, type QmpState, type QmpStateChange } from './state.js';
import { describeTarget, openTarget, type QmpTarget } from './target.js';

export interface QmpClientOptions {
  /** Longest line accepted from the server, in bytes. Default 10 MiB. */
  maxMessageBytes?: number;
  /** Applied to execute() calls that pass no timeoutMs. Default: none. */
  defaultTimeoutMs?: number;
  /** How long close() waits for the peer to hang up before destroying the socket. Default 2000. */
  closeTimeoutMs?: number;
  logger?: QmpLogger;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Covers opening the socket, the greeting and capability negotiation. */
  timeoutMs?: number;
  /** Enable out-of-band execution when the server offers it. Default false. */
  oob?: boolean;
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Send as exec-oob; needs "oob" to have been negotiated. */
  oob?: boolean;
}

/** execute()'s arguments after the command name: typed for known commands, generic otherwise. */
export type ExecuteRest<C extends string> = C extends QmpCommandName
  ? undefined extends QmpCommandMap[C]['args']
    ? [args?: QmpCommandMap[C]['args'], options?: ExecuteOptions]
    : [args: QmpCommandMap[C]['args'], options?: ExecuteOptions]
  : [args?: object, options?: ExecuteOptions];

export type ExecuteResult<C extends string, T> = C extends QmpCommandName ? QmpCommandMap[C]['result'] : T;

export interface QmpClientEvents {
  event: [QmpEvent];
  state: [QmpStateChange];
  close: [Error];
}

interface Pending {
  sent: SentCommand;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  /** Removes timers and abort listeners. */
  cleanup: () => void;
  /** Resolve with the whole reply object, error replies included (passthrough). */
  whole?: boolean;
}

/** Ids of commands given up on (timeout, abort), so their late replies are expected noise. */
const ABANDONED_REMEMBERED = 1024;

/**
 * A client for one QMP monitor connection. Single use: connect once, and after the connection
 * ends (state back to idle) make a new client to reconnect.
 */
export class QmpClient extends EventEmitter<QmpClientEvents> {
  private _state: QmpState = 'idle';
  private used = false;
  private _greeting: QmpGreeting | null = null;
  private _enabled: string[] = [];
  private stream: Duplex | null = null;
  private readonly decoder: LineDecoder;
  private readonly pending = new Map<string, Pending>();
  private readonly abandoned = new Set<string>();
  private readonly subscribers = new Set<EventIterator>();
  private nextId = 1;
  private endCause: Error | null = null;
  private socketError: Error | null = null;
  private greetingWaiter: ((g: QmpGreeting) => void) | null = null;
  private connectCtl: AbortController | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private resolveClosed!: (e: Error) => void;
  private readonly log: QmpLogger;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly closeTimeoutMs: number;

  /**
   * Settles once the connection has fully ended, with why: ConnectionClosedError (local close,
   * peer hang-up, socket error as its cause), a ProtocolError, or connect's failure. Never rejects.
   */
  readonly closed: Promise<Error>;

  constructor(options: QmpClientOptions = {}) {
    super();
    this.decoder = new LineDecoder(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.log = options.logger ?? silentQmpLogger;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.closed = new Promise<Error>((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  get state(): QmpState {
    return this._state;
  }

  /** The greeting's contents; null before it arrived. */
  get greeting(): QmpGreeting | null {
    return this._greeting;
  }

  get version(): QmpVersion | null {
    return this._greeting?.version ?? null;
  }

  /** What the server offered in its greeting. */
  get capabilities(): readonly string[] {
    return this._greeting?.capabilities ?? [];
  }

  /** What was enabled by qmp_capabilities. */
  get enabledCapabilities(): readonly string[] {
    return this._enabled;
  }

  get oobEnabled(): boolean {
    return this._enabled.includes('oob');
  }

  private setState(to: QmpState): void {
    const from = this._state;
    if (from === to) return;
    if (!canTransition(from, to)) throw new Error(`internal: QMP state ${from} -> ${to} is not allowed`);
    this._state = to;
    this.log.debug(`qmp: state ${from} -> ${to}`);
    this.safeEmit('state', { from, to });
  }

  /** A throwing listener must not break the reader or a state transition. */
  private safeEmit<K extends keyof QmpClientEvents>(name: K, ...args: QmpClientEvents[K]): void {
    try {
      (this.emit as (n: K, ...a: QmpClientEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      this.log.warn(`qmp: '${name}' listener threw: ${toError(err).message}`);
    }
  }

  /** Opens the connection, reads the greeting and negotiates capabilities. */
  async connect(target: QmpTarget, options: ConnectOptions = {}): Promise<this> {
    if (this._state !== 'idle' || this.used) {
      throw new StateError('connect', this._state, ['idle'], this.used ? this.endCause ?? undefined : undefined);
    }
    this.used = true;
    const ctl = new AbortController();
    this.connectCtl = ctl;
    const { signal, timeoutMs } = options;
    const onAbort = () => ctl.abort(new QmpAbortError('connect', signal?.reason));
    const timer = timeoutMs === undefined ? null : setTimeout(() => ctl.abort(new QmpTimeoutError('connect', timeoutMs)), timeoutMs);
    timer?.unref();
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.setState('connecting');
    try {
      const stream = await openTarget(target, ctl.signal);
      this.attach(stream);
      this.setState('negotiating');
      const greeting = await untilAborted(this.waitGreeting(), ctl.signal);
      const enable = options.oob && greeting.capabilities.includes('oob') ? ['oob'] : [];
      await untilAborted(this.send('qmp_capabilities', enable.length ? { enable } : undefined, {}), ctl.signal);
      this._enabled = enable;
      this.setState('running');
      this.log.debug(`qmp: connected to ${describeTarget(target)}, QEMU ${fmtVersion(greeting.version)}`);
      return this;
    } catch (err) {
      const cause = ctl.signal.aborted ? (ctl.signal.reason as Error) : toError(err);
      // A failure the connection already reported (protocol error, hang-up) is the better cause.
      const why = this.endCause ?? cause;
      await this.teardown(why, false);
      throw new ConnectError(why.message, why);
    } finally {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.connectCtl = null;
    }
  }

  private waitGreeting(): Promise<QmpGreeting> {
    if (this._greeting) return Promise.resolve(this._greeting);
    return new Promise((resolve) => {
      this.greetingWaiter = resolve;
    });
  }

  private attach(stream: Duplex): void {
    this.stream = stream;
    stream.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('error', (err: Error) => {
      this.socketError ??= err;
      this.log.debug(`qmp: socket error: ${err.message}`);
    });
    stream.on('close', () => this.finish());
    // Node ends our side on peer EOF (allowHalfOpen is off) and then emits close.
  }

  private onData(chunk: Buffer): void {
    if (this.endCause) return;
    let lines: string[];
    try {
      lines = this.decoder.feed(chunk);
    } catch (err) {
      this.fatal(toError(err));
      return;
    }
    for (const line of lines) {
      if (this.endCause) return;
      if (line.trim() === '') continue;
      let msg: QmpMessage;
      try {
        msg = parseMessage(line);
      } catch (err) {
        this.fatal(toError(err));
        return;
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: QmpMessage): void {
    switch (msg.kind) {
      case 'greeting':
        if (this._greeting) return this.fatal(new ProtocolError('unexpected second QMP greeting'));
        this._greeting = msg.greeting;
        this.greetingWaiter?.(msg.greeting);
        this.greetingWaiter = null;
        return;
      case 'event':
        return this.deliver(msg.event);
      case 'return':
      case 'error':
        return this.reply(msg);
    }
  }

  private reply(msg: Extract<QmpMessage, { kind: 'return' | 'error' }>): void {
    if (!Object.prototype.hasOwnProperty.call(msg.raw, 'id')) {
      // QEMU answers input it could not parse with an id-less error: our stream is out of sync.
      const what = msg.kind === 'error' ? `error without id: ${msg.errorClass}: ${msg.desc}` : 'reply without id';
      return this.fatal(new ProtocolError(`QMP server sent an ${what}`, JSON.stringify(msg.raw).slice(0, 200)));
    }
    if (!this._greeting) return this.fatal(new ProtocolError('QMP reply before the greeting'));
    const id = typeof msg.id === 'string' ? msg.id : null;
    const p = id === null ? undefined : this.pending.get(id);
    if (!p || id === null) {
      if (id !== null && this.abandoned.delete(id)) this.log.debug(`qmp: late reply for abandoned command ${id} dropped`);
      else this.log.debug(`qmp: reply with unknown id ${JSON.stringify(msg.id)} dropped`);
      return;
    }
    this.pending.delete(id);
    p.cleanup();
    if (p.whole) p.resolve(msg.raw);
    else if (msg.kind === 'return') p.resolve(msg.value);
    else p.reject(new QmpError(msg.errorClass, msg.desc, p.sent, msg.raw));
  }

  private deliver(event: QmpEvent): void {
    this.log.debug(`qmp: <- event ${event.event}`);
    for (const it of this.subscribers) it.push(event);
    this.safeEmit('event', event);
  }

  /**
   * Runs a command. Known commands (see QmpCommandMap) get typed arguments and results; any
   * other name falls back to `execute<T>(name, args?)`. An error reply rejects with QmpError.
   */
  execute<T = unknown, C extends string = string>(command: C, ...rest: ExecuteRest<C>): Promise<ExecuteResult<C, T>> {
    const [args, options] = rest as [object | undefined, ExecuteOptions | undefined];
    if (this._state !== 'running') {
      return Promise.reject(new StateError('execute', this._state, ['running'], this.endCause ?? undefined));
    }
    if (options?.oob && !this.oobEnabled) {
      return Promise.reject(new QmpClientError('QMP_OOB_DISABLED', `${command}: out-of-band execution was not negotiated`));
    }
    return this.send(command, args, options ?? {}) as Promise<ExecuteResult<C, T>>;
  }

  /** Runs an HMP command line through human-monitor-command and returns its text output. */
  hmp(commandLine: string, options: ExecuteOptions & { cpuIndex?: number } = {}): Promise<string> {
    const { cpuIndex, ...rest } = options;
    const args = cpuIndex === undefined ? { 'command-line': commandLine } : { 'command-line': commandLine, 'cpu-index': cpuIndex };
    return this.execute('human-monitor-command', args, rest);
  }

  /**
   * Runs a command and resolves with QEMU's whole reply object ("return" or "error", and the
   * "id" this client gave it): for callers that relay replies verbatim (libvirt's monitor
   * passthrough). Never rejects on an error reply.
   */
  passthrough(command: string, args?: object, options: ExecuteOptions = {}): Promise<Record<string, unknown>> {
    if (this._state !== 'running') {
      return Promise.reject(new StateError('execute', this._state, ['running'], this.endCause ?? undefined));
    }
    return this.send(command, args, options, true) as Promise<Record<string, unknown>>;
  }

  private send(command: string, args: object | undefined, options: ExecuteOptions, whole = false): Promise<unknown> {
    const { signal, oob } = options;
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    if (signal?.aborted) return Promise.reject(new QmpAbortError(command, signal.reason));
    const stream = this.stream;
    if (!stream || this.endCause) return Promise.reject(new StateError(command, this._state, ['running'], this.endCause ?? undefined));
    const id = `tsvirt-${this.nextId++}`;
    const msg: Record<string, unknown> = { [oob ? 'exec-oob' : 'execute']: command };
    if (args !== undefined) msg.arguments = args;
    msg.id = id;
    let line: string;
    try {
      line = JSON.stringify(msg) + '\n';
    } catch (err) {
      return Promise.reject(toError(err));
    }
    const sent: SentCommand = { command, args, id };
    return new Promise<unknown>((resolve, reject) => {
      const giveUp = (err: Error) => {
        if (!this.pending.delete(id)) return;
        cleanup();
        this.abandoned.add(id);
        if (this.abandoned.size > ABANDONED_REMEMBERED) {
          const oldest = this.abandoned.values().next().value;
          if (oldest !== undefined) this.abandoned.delete(oldest);
        }
        reject(err);
      };
      const onAbort = () => giveUp(new QmpAbortError(command, signal?.reason));
      const timer = timeoutMs === undefined ? null : setTimeout(() => giveUp(new QmpTimeoutError(command, timeoutMs)), timeoutMs);
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { sent, resolve, reject, cleanup, whole });
      this.log.debug(`qmp: -> ${command} (${id})`);
      stream.write(line);
    });
  }

  /**
   * Subscribes to events as an async iterator. Subscribing before connect() also sees events
   * that arrive ahead of the greeting. The iterator ends when the connection has ended.
   */
  events(filter: EventFilter = {}): EventIterator {
    const it = new EventIterator(filter, (done) => this.subscribers.delete(done));
    if (this.used && this._state === 'idle') it.end();
    else this.subscribers.add(it);
    return it;
  }

  /** Ends the connection (aborting a connect in progress) and waits until the socket is gone. */
  async close(): Promise<void> {
    switch (this._state) {
      case 'idle':
        if (!this.used) {
          this.used = true;
          this.endCause = new ConnectionClosedError(false);
          this.resolveClosed(this.endCause);
        }
        return;
      case 'connecting':
      case 'negotiating':
        this.connectCtl?.abort(new ConnectionClosedError(false));
        break;
      case 'running':
        void this.teardown(new ConnectionClosedError(false), true);
        break;
      case 'disconnecting':
        break;
    }
    await this.closed;
  }

  /** The peer broke the protocol: nothing after this can be trusted. */
  private fatal(err: Error): void {
    this.log.warn(`qmp: ${err.message}; closing`);
    void this.teardown(err, false);
  }

  /**
   * Starts ending the connection with `cause`; the first cause wins. Pending commands fail at
   * once. Resolves when the socket has closed and the state is idle again.
   */
  private teardown(cause: Error, graceful: boolean): Promise<Error> {
    if (!this.endCause) {
      this.endCause = cause;
      // A connect in progress fails with this cause rather than waiting for its deadline.
      this.connectCtl?.abort(cause);
      if (this._state !== 'idle' && this._state !== 'disconnecting') this.setState('disconnecting');
      this.failPending(cause);
      const stream = this.stream;
      if (!stream) {
        this.finish();
      } else if (graceful) {
        stream.end();
        this.closeTimer = setTimeout(() => stream.destroy(), this.closeTimeoutMs);
        this.closeTimer.unref();
      } else {
        stream.destroy();
      }
    }
    return this.closed;
  }

  private failPending(cause: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.cleanup();
      p.reject(new ExecInterruptedError(p.sent, cause));
    }
  }

  /** The socket is gone (or never opened): settle everything. Runs once. */
  private finish(): void {
    if (this._state === 'idle') return;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const cause = this.endCause ?? new ConnectionClosedError(true, this.socketError ?? undefined);
    this.endCause = cause;
    this.connectCtl?.abort(cause);
    if (this._state !== 'disconnecting') this.setState('disconnecting');
    this.failPending(cause);
    this.greetingWaiter = null;
    this.stream = null;
    this.setState('idle');
    for (const it of [...this.subscribers]) it.end();
    this.resolveClosed(cause);
    this.safeEmit('close', cause);
  }
}

/** Opens a QMP connection: the usual way to get a running client. */
export function connect(target: QmpTarget, options: ConnectOptions & QmpClientOptions = {}): Promise<QmpClient> {
  const { signal, timeoutMs, oob, ...clientOptions } = options;
  return new QmpClient(clientOptions).connect(target, { signal, timeoutMs, oob });
}

/** Rejects with the signal's reason once it aborts; otherwise follows `p`. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function fmtVersion(v: QmpVersion): string {
  return `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}`;
}
