/**
 * The remote driver: a DriverConnection over libvirt's RPC. Every call procedure is forwarded
 * as it is (one loop over the generated table); the driver's own code is connection set-up in
 * libvirt's order, event subscriptions and a polite close.
 */
import type { AuthOptions } from '../../api/auth.js';
import type {
  DriverConnection,
  DriverEventFamily,
  DriverEventListener,
  DriverEventTarget,
  DriverLink,
  DriverMethods,
  ArgsOf,
  DriverClientStream,
  ProcName,
  RetOf,
} from '../../api/driver.js';
import { RemoteProcedures as R, remoteProgram } from '../../protocol/gen/remote.js';
import { RpcClient, type CallOptions, type ClientStatus } from '../../rpc/client.js';
import { CallAbortedError, CallTimeoutError, VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { KeepaliveOptions } from '../../rpc/keepalive.js';
import { silentLogger, type Logger } from '../../rpc/log.js';
import type { ProcedureSpec } from '../../rpc/program.js';
import { authenticate } from './remote-auth.js';
import { RemoteEvents } from './remote-events.js';
import { RemoteQemu } from './remote-qemu.js';
import { openRemoteStream } from './remote-streams.js';
import { openRemoteChannel } from './channel.js';
import { resolveUri } from './uri.js';

/** VIR_DRV_FEATURE_* numbers the client itself asks about. */
const FEATURE_PROGRAM_KEEPALIVE = 10;
const FEATURE_REMOTE_EVENT_CALLBACK = 14;
const FEATURE_REMOTE_CLOSE_CALLBACK = 15;
const VIR_CONNECT_RO = 1;
/**
 * libvirt's library pings only when the application asks (virConnectSetKeepAlive); virsh asks
 * with interval 5 s and count 6, and so do we unless told otherwise.
 */
export const CLIENT_KEEPALIVE: KeepaliveOptions = { intervalMs: 5000, count: 6 };
/** How long close() waits for the server to acknowledge CONNECT_CLOSE. */
const CLOSE_TIMEOUT_MS = 5000;

/** Event ids per family in libvirt 9.0 (VIR_*_EVENT_ID_LAST), for onEvent's "everything". */
const EVENT_IDS: Record<DriverEventFamily, number> = { domain: 27, network: 1, storage_pool: 2, node_device: 2, secret: 2 };

export interface RemoteOpenOptions {
  readonly readonly?: boolean;
  readonly auth?: AuthOptions;
  /** Cancels connecting and the handshake. */
  readonly signal?: AbortSignal;
  /** Deadline for connecting and the handshake, in ms. */
  readonly timeoutMs?: number;
  /** libvirt keepalive; on by default as virsh has it (5 s, count 6); false turns it off. */
  readonly keepalive?: KeepaliveOptions | false;
  /** Default deadline for every later call, in ms. */
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
}

export class RemoteConnection implements DriverConnection {
  /** libvirt's name for this driver; the hypervisor's type comes from CONNECT_GET_TYPE. */
  readonly type = 'remote';
  readonly methods: DriverMethods;
  readonly link: DriverLink;
  private readonly events: RemoteEvents;
  private allEvents: { listeners: Set<DriverEventListener>; undo: Promise<Array<() => Promise<void>>> } | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    readonly uri: string,
    readonly client: RpcClient,
    channel: { description: string; secure: boolean; encrypted: boolean },
    /** The server supports modern event callbacks (feature 14). */
    readonly eventCallbacks: boolean,
    log: Logger,
  ) {
    const qemu = new RemoteQemu(client, log);
    this.methods = { ...forwardAll(client), qemu: qemu.methods };
    this.events = new RemoteEvents(client, log);
    client.on('message', (m) => {
      if (qemu.handle(m)) return;
      if (!this.events.handle(m) && m.header.proc === R.CONNECT_EVENT_CONNECTION_CLOSED.proc) {
        // The server's driver connection died: this one is useless now.
        log.warn(`${channel.description}: the server reports its hypervisor connection closed`);
        void client.close();
      }
    });
    this.link = {
      description: channel.description,
      secure: channel.secure,
      encrypted: channel.encrypted,
      get status(): ClientStatus {
        return client.status;
      },
      onStatus(listener) {
        client.on('status', listener);
        return () => void client.off('status', listener);
      },
    };
  }

  supportsFeature(_feature: number): boolean {
    // Feature questions go to the server through the CONNECT_SUPPORTS_FEATURE method.
    return false;
  }

  subscribe(
    family: DriverEventFamily,
    eventID: number,
    target: DriverEventTarget | null,
    listener: DriverEventListener,
    opts: CallOptions = {},
  ): Promise<() => Promise<void>> {
    // Servers without feature 14 only know the legacy domain event procedures, which we do not speak.
    if (family === 'domain' && !this.eventCallbacks) {
      return Promise.reject(VirError.format(VirErrorNumber.NO_SUPPORT, VirErrorDomain.REMOTE, 'this function is not supported by the connection driver: %s', 'virConnectDomainEventRegisterAny'));
    }
    return this.events.subscribe(family, eventID, target, listener, opts);
  }

  /** Stream procedures: the reply plus the stream that follows it on the same serial. */
  openStream<K extends ProcName>(name: K, args: ArgsOf<K>, opts: CallOptions): Promise<{ ret: RetOf<K>; stream: DriverClientStream }> {
    return openRemoteStream(this.client, name, args, opts);
  }

  /** Every event: registers each event id of each family once, on first use. */
  onEvent(listener: DriverEventListener): () => void {
    if (!this.allEvents) {
      const listeners = new Set<DriverEventListener>();
      const fan: DriverEventListener = (ev) => listeners.forEach((l) => l(ev));
      const regs = (Object.keys(EVENT_IDS) as DriverEventFamily[]).flatMap((f) =>
        Array.from({ length: EVENT_IDS[f] }, (_, id) => this.subscribe(f, id, null, fan).catch(() => null)),
      );
      const undo = Promise.all(regs).then((u) => u.filter((x): x is () => Promise<void> => x !== null));
      this.allEvents = { listeners, undo };
    }
    const all = this.allEvents;
    all.listeners.add(listener);
    return () => {
      all.listeners.delete(listener);
      if (all.listeners.size === 0 && this.allEvents === all) {
        this.allEvents = null;
        void all.undo.then((fns) => Promise.all(fns.map((f) => f().catch(() => undefined))));
      }
    };
  }

  /** CONNECT_CLOSE, then the socket; safe to call again and after the peer went away. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.client.isOpen) await this.client.call(R.CONNECT_CLOSE, undefined, { timeoutMs: CLOSE_TIMEOUT_MS }).catch(() => undefined);
      await this.client.close();
    })();
    return this.closing;
  }
}

/** The generic forwarding table: every call procedure of the remote program, by name. */
function forwardAll(client: RpcClient): DriverMethods {
  const methods: Record<string, (args: unknown, ctx: CallOptions) => Promise<unknown>> = {};
  for (const spec of remoteProgram.procedures.values()) {
    // Stream procedures go through openStream: the client end of their stream is made here.
    if (spec.kind !== 'call' || spec.stream !== null) continue;
    methods[spec.name] = (args, ctx) => client.call(spec as ProcedureSpec<unknown, unknown>, args, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
  }
  return methods as DriverMethods;
}

/** A signal that fires on the caller's abort or when the deadline passes. */
function handshakeSignal(signal: AbortSignal | undefined, timeoutMs: number | undefined): { signal?: AbortSignal; timedOut(): boolean; done(): void } {
  if (timeoutMs === undefined) return { signal, timedOut: () => false, done: () => undefined };
  const ctl = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    ctl.abort(new CallTimeoutError('connect', timeoutMs));
  }, timeoutMs);
  const onAbort = () => ctl.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctl.signal,
    timedOut: () => fired,
    done: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Opens a remote connection the way libvirt's client does (protocol.md §9.1): transport, AUTH_LIST
 * (+ authentication), SUPPORTS_FEATURE(10) when keepalive is wanted, CONNECT_OPEN, then
 * SUPPORTS_FEATURE(14) and (15), and REGISTER_CLOSE_CALLBACK when 15 is supported.
 */
export async function openRemote(uri: string | null, opts: RemoteOpenOptions = {}): Promise<RemoteConnection> {
  const log = opts.logger ?? silentLogger;
  const readonly = opts.readonly ?? false;
  const target = resolveUri(uri, { readonly });
  const hs = handshakeSignal(opts.signal, opts.timeoutMs);
  const call: CallOptions = { signal: hs.signal };
  let client: RpcClient | undefined;
  try {
    const ch = await openRemoteChannel(target, { signal: hs.signal, timeoutMs: opts.timeoutMs });
    client = new RpcClient(ch.channel, { description: ch.description, logger: log, defaultTimeoutMs: opts.callTimeoutMs });
    await authenticate(client, { wanted: target.auth, auth: opts.auth }, call);
    const keepalive = opts.keepalive === false ? null : (opts.keepalive ?? CLIENT_KEEPALIVE);
    const pingable = keepalive !== null && (await client.call(R.CONNECT_SUPPORTS_FEATURE, { feature: FEATURE_PROGRAM_KEEPALIVE }, call)).supported === 1;
    await client.call(R.CONNECT_OPEN, { name: target.name, flags: readonly ? VIR_CONNECT_RO : 0 }, call);
    // No URI given anywhere: the daemon says what it opened.
    const openedUri = target.probeUri ? (await client.call(R.CONNECT_GET_URI, undefined, call)).uri : target.displayUri;
    const feature = async (n: number) => (await client!.call(R.CONNECT_SUPPORTS_FEATURE, { feature: n }, call)).supported === 1;
    const eventCallbacks = await feature(FEATURE_REMOTE_EVENT_CALLBACK);
    if (await feature(FEATURE_REMOTE_CLOSE_CALLBACK)) await client.call(R.CONNECT_REGISTER_CLOSE_CALLBACK, undefined, call);
    if (pingable && keepalive) client.startKeepalive(keepalive);
    return new RemoteConnection(openedUri, client, ch, eventCallbacks, log);
  } catch (err) {
    if (client) await client.close();
    if (hs.timedOut()) throw new CallTimeoutError(`connect to ${uri ?? 'the default URI'}`, opts.timeoutMs ?? 0);
    if (err instanceof CallAbortedError || opts.signal?.aborted) throw err instanceof CallAbortedError ? err : new CallAbortedError('connect', opts.signal?.reason);
    throw err;
  } finally {
    hs.done();
  }
}
