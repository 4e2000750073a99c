/**
 * What every API object shares: the driver connection it calls through (swapped after a
 * reconnect), libvirt's client-side checks, and per-call cancellation and deadlines.
 */
import { apiErrorDomain, apiName } from './api-names.js';
import type { ArgsOf, DriverCallContext, DriverClientStream, DriverConnection, DriverMethod, ProcName, RetOf } from './driver.js';
import { streamPair } from './stream-pair.js';
import { RemoteProcedures } from '../protocol/gen/remote.js';
import { CallAbortedError, CallTimeoutError, ConnectionClosedError, VirError, VirErrorNumber } from '../rpc/errors.js';

const FEATURE_TYPED_PARAM_STRING = 9;
const VIR_TYPED_PARAM_STRING_OKAY = 1 << 2;

/** Options every API call takes. */
export interface CallOptions {
  /** Abandons the wait for the result (a remote daemon may still carry the call out). */
  readonly signal?: AbortSignal;
  /** Deadline in ms; overrides the connection's default. */
  readonly timeoutMs?: number;
}

export class ApiCore {
  private current: DriverConnection | null;
  private closedError: VirError | null = null;
  private readonly stringOkay = new WeakMap<DriverConnection, boolean>();

  constructor(
    driver: DriverConnection,
    /** Opened read-only: write APIs fail here without a round trip, as libvirt's library does. */
    readonly readonly: boolean,
    private readonly defaultTimeoutMs: number | undefined,
  ) {
    this.current = driver;
  }

  get driver(): DriverConnection {
    if (!this.current) throw this.closedError ?? new ConnectionClosedError('connection is closed');
    return this.current;
  }

  get isClosed(): boolean {
    return this.current === null;
  }

  /** After a reconnect: later calls go to the new connection. */
  replace(driver: DriverConnection): void {
    this.current = driver;
  }

  /** Marks the connection gone for good; later calls fail with `err`. */
  shut(err: VirError): DriverConnection | null {
    const d = this.current;
    this.current = null;
    this.closedError = err;
    return d;
  }

  /**
   * VIR_TYPED_PARAM_STRING_OKAY (4) when the driver takes string typed parameters (feature 9),
   * else 0: libvirt's library adds it to the flags of typed-parameter getters.
   */
  async stringParamsOkay(o?: CallOptions): Promise<number> {
    const driver = this.driver;
    let cached = this.stringOkay.get(driver);
    if (cached === undefined) {
      cached = driver.link
        ? (await this.call('CONNECT_SUPPORTS_FEATURE', { feature: FEATURE_TYPED_PARAM_STRING }, o)).supported === 1
        : driver.supportsFeature(FEATURE_TYPED_PARAM_STRING);
      this.stringOkay.set(driver, cached);
    }
    return cached ? VIR_TYPED_PARAM_STRING_OKAY : 0;
  }

  /** Calls one procedure of the driver with the wire's argument and result types. */
  async call<K extends ProcName>(name: K, args: ArgsOf<K>, opts: CallOptions = {}): Promise<RetOf<K>> {
    // The API's name is only needed for messages: not worked out on the hot path.
    if (opts.signal?.aborted) throw new CallAbortedError(apiName(name), opts.signal.reason);
    const driver = this.driver;
    if (this.readonly && !RemoteProcedures[name].readonly) throw readOnlyDenied(name);
    const method = driver.methods[name] as DriverMethod<K> | undefined;
    if (!method) throw noSupport(name);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const result = Promise.resolve().then(() => method(args, { readonly: this.readonly, stream: null, signal: opts.signal, timeoutMs }));
    // The remote driver's RPC client honours signal and deadline itself (and forgets the call).
    if (driver.link) return result;
    return settleFirst(result, apiName(name), opts.signal, timeoutMs);
  }

  /**
   * Runs a call that is not a remote-program procedure (the QEMU program) under the same rules
   * as call(): the driver gets the signal and deadline, and in-process calls are raced here.
   */
  async run<T>(what: string, opts: CallOptions, fn: (driver: DriverConnection, ctx: DriverCallContext) => T | Promise<T>): Promise<T> {
    if (opts.signal?.aborted) throw new CallAbortedError(what, opts.signal.reason);
    const driver = this.driver;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const result = Promise.resolve().then(() => fn(driver, { readonly: this.readonly, stream: null, signal: opts.signal, timeoutMs }));
    if (driver.link) return result;
    return settleFirst(result, what, opts.signal, timeoutMs);
  }

  /**
   * Calls a stream procedure: the reply and the client end of the stream that follows. The
   * signal and deadline cover the call only; in-process drivers get an in-memory stream pair.
   */
  async openStream<K extends ProcName>(name: K, args: ArgsOf<K>, opts: CallOptions = {}): Promise<{ ret: RetOf<K>; stream: DriverClientStream }> {
    const what = apiName(name);
    if (opts.signal?.aborted) throw new CallAbortedError(what, opts.signal.reason);
    const driver = this.driver;
    if (this.readonly && !RemoteProcedures[name].readonly) throw readOnlyDenied(name);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    if (driver.openStream) return driver.openStream(name, args, { signal: opts.signal, timeoutMs });
    const method = driver.methods[name] as DriverMethod<K> | undefined;
    if (!method) throw noSupport(name);
    const pair = streamPair(name);
    const result = Promise.resolve().then(() => method(args, { readonly: this.readonly, stream: pair.server }));
    try {
      return { ret: await settleFirst(result, what, opts.signal, timeoutMs), stream: pair.client };
    } catch (err) {
      void pair.client.abort();
      throw err;
    }
  }
}

/** Races an in-process call against the caller's signal and deadline. */
function settleFirst<T>(p: Promise<T>, what: string, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<T> {
  if (!signal && timeoutMs === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(() => reject(new CallAbortedError(what, signal?.reason)));
    const finish = (f: () => void) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(() => reject(new CallTimeoutError(what, timeoutMs))), timeoutMs);
    p.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/** libvirt's error for a write API on a read-only connection. */
export function readOnlyDenied(proc: string): VirError {
  return VirError.format(VirErrorNumber.OPERATION_DENIED, apiErrorDomain(proc), 'operation forbidden: %s', `read only access prevents ${apiName(proc)}`);
}

/** libvirt's error for an API the driver does not implement. */
export function noSupport(proc: string): VirError {
  return VirError.format(VirErrorNumber.NO_SUPPORT, apiErrorDomain(proc), 'this function is not supported by the connection driver: %s', apiName(proc));
}

/** Canonical lower-case dashed text of a 16-byte UUID. */
export function uuidToString(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Parses a UUID as libvirt does (32 hex digits, dashes anywhere between bytes). */
export function uuidFromString(s: string): Uint8Array {
  const hex = s.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    throw VirError.format(VirErrorNumber.INVALID_ARG, 0, 'invalid argument: %s', `uuidstr in virDomainLookupByUUIDString must be a valid UUID`);
  }
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}
