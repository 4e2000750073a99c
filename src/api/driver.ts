/**
 * The contract between the API's consumers (the daemon, the public API) and hypervisor drivers.
 *
 * A driver connection implements remote procedures by name, with the wire's own argument and
 * result types: objects travel as (name, uuid) handles, lists as whole records. That keeps one
 * vocabulary from the wire to the driver: the daemon dispatches any procedure generically, the
 * remote driver forwards any procedure generically, and a procedure a driver lacks is simply
 * absent (the caller reports libvirt's "not supported by the connection driver" error).
 *
 * Procedures about the connection itself (auth, open, close, feature probes, event
 * registration, keepalive) are not driver methods: the daemon and the remote driver own them.
 */
import type { ProcedureSpec } from '../rpc/program.js';
import type {
  RemoteNonnullDomain,
  RemoteNonnullNetwork,
  RemoteNonnullStoragePool,
  RemoteProcedures,
} from '../protocol/gen/remote.js';
import type { ClientStatus } from '../rpc/client.js';

export type ProcName = keyof RemoteProcedures;
export type ArgsOf<K extends ProcName> = RemoteProcedures[K] extends ProcedureSpec<infer A, unknown> ? A : never;
export type RetOf<K extends ProcName> = RemoteProcedures[K] extends ProcedureSpec<unknown, infer R> ? R : never;

/** What a driver learns about the caller of one procedure. */
export interface DriverCallContext {
  /** The connection was opened read-only (drivers refuse e.g. secure XML on it). */
  readonly readonly: boolean;
  /**
   * For stream procedures (@readstream/@writestream): the stream, usable once the method
   * returns. Typed loosely here to keep the driver contract free of the RPC engine.
   */
  readonly stream: DriverStream | null;
  /** Client side (remote driver): abandons the wait for the reply. */
  readonly signal?: AbortSignal;
  /** Client side (remote driver): deadline for the reply in ms. */
  readonly timeoutMs?: number;
}

/** The part of an RPC stream a driver uses. */
export interface DriverStream extends AsyncIterable<StreamChunk> {
  write(data: Uint8Array): Promise<void>;
  sendHole(length: bigint): Promise<void>;
  /** Ends a read stream: end-of-data, then waits for the client's finish. */
  end(): Promise<void>;
  /** Confirms the client's finish of a write stream. */
  confirm(): void;
}

/** What a stream carries: bytes, or a hole (a run of zeros not sent, sparse streams only). */
export type StreamChunk = { kind: 'data'; data: Uint8Array } | { kind: 'hole'; length: bigint };

/** The client end of a stream a driver connection opened (an RpcStream for the remote driver). */
export interface DriverClientStream extends AsyncIterable<StreamChunk> {
  /** True once the stream has ended, for any reason. */
  readonly finished: boolean;
  write(data: Uint8Array): Promise<void>;
  sendHole(length: bigint): Promise<void>;
  /** Ends the stream normally; resolves when the other end confirms. */
  finish(): Promise<void>;
  /** Abandons the stream; resolves when the other end acknowledges. */
  abort(): Promise<void>;
}

export type DriverMethod<K extends ProcName> = (args: ArgsOf<K>, ctx: DriverCallContext) => RetOf<K> | Promise<RetOf<K>>;

/** Any subset of the remote procedures, plus the QEMU program's for drivers that run QEMU. */
export type DriverMethods = { [K in ProcName]?: DriverMethod<K> } & { qemu?: QemuDriverMethods };

/** A QMP event of a running domain, as the QEMU program's DOMAIN_MONITOR_EVENT carries it. */
export interface QemuMonitorEvent {
  readonly dom: RemoteNonnullDomain;
  /** QMP event name ("STOP"). */
  readonly event: string;
  /** QEMU's own timestamp. */
  readonly seconds: bigint;
  readonly micros: number;
  /** The event's "data" as JSON text; null when it had none. */
  readonly details: string | null;
}

export type QemuMonitorEventListener = (ev: QemuMonitorEvent) => void;

/**
 * The QEMU program (libvirt-qemu's API). Each is optional: the daemon answers libvirt's
 * "not supported by the connection driver" for a missing one.
 */
export interface QemuDriverMethods {
  /** Raw QMP command text in, QEMU's reply text out; flag 1 (HMP) means a human monitor command line. */
  monitorCommand?(dom: RemoteNonnullDomain, cmd: string, flags: number, ctx: DriverCallContext): string | Promise<string>;
  /** Adopts a QEMU process started outside the driver. */
  attach?(pid: number, flags: number, ctx: DriverCallContext): RemoteNonnullDomain | Promise<RemoteNonnullDomain>;
  /** Guest-agent passthrough; null when the agent gave no answer. */
  agentCommand?(dom: RemoteNonnullDomain, cmd: string, timeout: number, flags: number, ctx: DriverCallContext): string | null | Promise<string | null>;
  /** Subscribes to every domain's QMP events; returns the unsubscribe function. */
  onMonitorEvent?(listener: QemuMonitorEventListener): () => void;
  /**
   * Registers one filtered subscription with the peer (the remote driver's
   * CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, flags as there); resolves with the unsubscribe
   * function. Without it, callers filter onMonitorEvent's stream themselves.
   */
  registerMonitorEvents?(
    filter: { readonly dom: RemoteNonnullDomain | null; readonly event: string | null; readonly flags: number },
    listener: QemuMonitorEventListener,
    opts: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<() => Promise<void>>;
}

/**
 * An event raised by a driver, in the shape of the remote program's callback message minus its
 * callbackID. `proc` names the callback message procedure (e.g. DOMAIN_EVENT_CALLBACK_LIFECYCLE);
 * `eventID` is libvirt's event id within its family; `target` identifies the object so
 * subscribers filtering by object can match (its UUID).
 */
export interface DriverEvent {
  readonly family: 'domain' | 'network' | 'storage_pool' | 'node_device' | 'secret';
  readonly eventID: number;
  readonly proc: ProcName;
  readonly target: Uint8Array;
  /** The callback message without callbackID, e.g. `{ msg: { dom, event, detail } }`. */
  readonly payload: Record<string, unknown>;
}

export type DriverEventListener = (ev: DriverEvent) => void;

export type DriverEventFamily = DriverEvent['family'];

/** The object an event subscription is limited to, as its wire handle. */
export type DriverEventTarget = RemoteNonnullDomain | RemoteNonnullNetwork | RemoteNonnullStoragePool;

/**
 * The byte stream under a connection that has one (the remote driver). In-process drivers have
 * none: they are always alive, secure and unencrypted in libvirt's sense.
 */
export interface DriverLink {
  /** Human-readable peer ("unix:/run/libvirt/libvirt-sock"). */
  readonly description: string;
  /** The transport keeps data from other local users (unix, TLS, ssh), as libvirt's is_secure. */
  readonly secure: boolean;
  /** The transport encrypts (TLS, SASL with a security layer). */
  readonly encrypted: boolean;
  readonly status: ClientStatus;
  /** Reports every status change; returns the unsubscribe function. */
  onStatus(listener: (s: ClientStatus) => void): () => void;
}

/** One open connection to a driver, as CONNECT_OPEN produces it. */
export interface DriverConnection {
  /** libvirt's type name: "TEST", "QEMU". */
  readonly type: string;
  /** The canonical URI of this connection ("test:///default"). */
  readonly uri: string;
  readonly methods: DriverMethods;
  /** Driver-level answer to CONNECT_SUPPORTS_FEATURE for features the RPC layer does not answer. */
  supportsFeature(feature: number): boolean;
  /** Subscribes to every event of this connection; returns the unsubscribe function. */
  onEvent(listener: DriverEventListener): () => void;
  /**
   * Optional: subscribes to one event id of one family, optionally for one object, registering
   * only that with the peer (the remote driver's CALLBACK_REGISTER_ANY procedures). Resolves with
   * the unsubscribe function. Without it, consumers filter onEvent's stream themselves.
   */
  subscribe?(
    family: DriverEventFamily,
    eventID: number,
    target: DriverEventTarget | null,
    listener: DriverEventListener,
    opts?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<() => Promise<void>>;
  /**
   * Optional: calls a stream procedure and hands back the reply and the client end of its stream
   * (the remote driver). Without it, callers run the method with an in-memory stream pair.
   */
  openStream?<K extends ProcName>(
    name: K,
    args: ArgsOf<K>,
    opts: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ ret: RetOf<K>; stream: DriverClientStream }>;
  /** Optional: the transport under the connection (remote driver). */
  readonly link?: DriverLink;
  /** Releases the connection; a remote one says goodbye (CONNECT_CLOSE) first. */
  close(): void | Promise<void>;
}

/** A driver: claims URIs and opens connections for them. */
export interface Driver {
  readonly name: string;
  /**
   * Returns a connection when this driver handles `uri`, null when the URI is not its own.
   * Throws VirError for a URI it owns but cannot open (bad path, unreadable file...).
   */
  open(uri: URL, opts: { readonly: boolean }): Promise<DriverConnection | null>;
}
