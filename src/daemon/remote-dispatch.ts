/**
 * The remote program as tsvirtd serves it. A handful of procedures belong to the daemon itself
 * (authentication, opening and closing, feature probes, event registration, close callbacks);
 * every other call is forwarded, generically, to the driver connection's method of that name.
 */
import { apiErrorDomain, apiName } from '../api/api-names.js';
import type { Driver, DriverConnection, DriverMethod, ProcName } from '../api/driver.js';
import { RemoteAuthType, RemoteProcedures as R, remoteProgram } from '../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import type { KeepaliveOptions } from '../rpc/keepalive.js';
import type { Logger } from '../rpc/log.js';
import type { ProcedureSpec } from '../rpc/program.js';
import { handle, type CallContext, type Handler, type HandlerTable, type ServerClient } from '../rpc/server.js';
import { Session } from './session.js';

/** libvirt 9.0.0 as major * 1,000,000 + minor * 1,000 + release: the library version we speak for. */
export const LIB_VERSION = 9_000_000n;

/** Feature numbers the RPC layer answers itself (VIR_DRV_FEATURE_*), whatever the driver. */
const FEATURE_FD_PASSING = 8;
const FEATURE_TYPED_PARAM_STRING = 9;
const FEATURE_PROGRAM_KEEPALIVE = 10;
const FEATURE_REMOTE_EVENT_CALLBACK = 14;
const FEATURE_REMOTE_CLOSE_CALLBACK = 15;
const FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER = 16;
const DAEMON_FEATURES = new Set([
  FEATURE_FD_PASSING,
  FEATURE_TYPED_PARAM_STRING,
  FEATURE_PROGRAM_KEEPALIVE,
  FEATURE_REMOTE_EVENT_CALLBACK,
  FEATURE_REMOTE_CLOSE_CALLBACK,
  FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER,
]);

const VIR_CONNECT_RO = 1;

export interface RemoteDispatchOptions {
  drivers: readonly Driver[];
  /** URI opened when a client sends an empty name (libvirtd probes for a default). */
  defaultUri: string;
  keepalive: KeepaliveOptions | null;
  log: Logger;
}

function internal(detail: string): VirError {
  return VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: %s', detail);
}

/** libvirt's error for an API the driver does not implement. */
export function noSupport(proc: string): VirError {
  return VirError.format(
    VirErrorNumber.NO_SUPPORT,
    apiErrorDomain(proc),
    'this function is not supported by the connection driver: %s',
    apiName(proc),
  );
}

/** libvirt's error for a write API on a read-only connection. */
export function readOnlyDenied(proc: string): VirError {
  return VirError.format(
    VirErrorNumber.OPERATION_DENIED,
    apiErrorDomain(proc),
    'operation forbidden: %s',
    `read only access prevents ${apiName(proc)}`,
  );
}

/** Forwards one procedure to the driver connection, after libvirt's open and read-only checks. */
function forward(spec: ProcedureSpec): Handler<never, unknown> {
  const name = spec.name as ProcName;
  return (args: unknown, ctx: CallContext) => {
    const session = Session.of(ctx.client);
    const conn = session.requireOpen();
    if (session.readonly && !spec.readonly) throw readOnlyDenied(name);
    const method = conn.methods[name] as DriverMethod<ProcName> | undefined;
    if (!method) throw noSupport(name);
    return method(args as never, { readonly: session.readonly, stream: ctx.stream });
  };
}

/** Builds the handler table for the remote program. */
export function remoteHandlers(opts: RemoteDispatchOptions): HandlerTable {
  const table = new Map<number, Handler<never, unknown>>();
  for (const spec of remoteProgram.procedures.values()) {
    if (spec.kind === 'call') table.set(spec.proc, forward(spec));
  }
  const own = (entries: Array<[number, Handler<never, unknown>]>) => entries.forEach(([k, v]) => table.set(k, v));
  const session = (c: ServerClient) => Session.of(c);
  const open = (c: ServerClient) => session(c).requireOpen();

  own([
    handle(R.AUTH_LIST, () => ({ types: [RemoteAuthType.NONE] })),

    handle(R.CONNECT_SUPPORTS_FEATURE, ({ feature }, ctx) => {
      const s = session(ctx.client);
      if (feature === FEATURE_PROGRAM_KEEPALIVE) {
        // A client that asks can answer PINGs: only those are pinged, as libvirtd does.
        if (opts.keepalive) ctx.client.startKeepalive(opts.keepalive);
        return { supported: 1 };
      }
      const conn = s.requireOpen();
      return { supported: DAEMON_FEATURES.has(feature) || conn.supportsFeature(feature) ? 1 : 0 };
    }),

    handle(R.CONNECT_OPEN, async ({ name, flags }, ctx) => {
      const s = session(ctx.client);
      if (s.driver) throw internal('connection already open');
      if (name === null) throw internal('connection not open');
      const readonly = s.socketReadonly || (flags & VIR_CONNECT_RO) !== 0;
      const conn = await openDriver(opts, name === '' ? opts.defaultUri : name, readonly);
      if (ctx.client.isClosed) {
        conn.close();
        return;
      }
      s.readonly = readonly;
      s.setDriver(conn);
      opts.log.info(`${ctx.client.description}: opened ${conn.uri}${readonly ? ' read-only' : ''}`);
    }),

    handle(R.CONNECT_CLOSE, (_a, ctx) => {
      session(ctx.client).release();
      // Close once the reply is out: the server replies first, as libvirtd does.
      setImmediate(() => ctx.client.close());
    }),

    handle(R.CONNECT_GET_URI, (_a, ctx) => ({ uri: open(ctx.client).uri })),
    handle(R.CONNECT_GET_LIB_VERSION, (_a, ctx) => (open(ctx.client), { libVer: LIB_VERSION })),

    handle(R.CONNECT_REGISTER_CLOSE_CALLBACK, (_a, ctx) => {
      open(ctx.client);
      session(ctx.client).closeCallback = true;
    }),
    handle(R.CONNECT_UNREGISTER_CLOSE_CALLBACK, (_a, ctx) => {
      open(ctx.client);
      session(ctx.client).closeCallback = false;
    }),

    // Events, modern form: one callback per (family, event id, optional object).
    handle(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, ({ eventID, dom }, ctx) => {
      open(ctx.client);
      return { callbackID: session(ctx.client).events.register('domain', eventID, dom?.uuid ?? null) };
    }),
    handle(R.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, ({ callbackID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregister('domain', callbackID);
    }),
    handle(R.CONNECT_NETWORK_EVENT_REGISTER_ANY, ({ eventID, net }, ctx) => {
      open(ctx.client);
      return { callbackID: session(ctx.client).events.register('network', eventID, net?.uuid ?? null) };
    }),
    handle(R.CONNECT_NETWORK_EVENT_DEREGISTER_ANY, ({ callbackID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregister('network', callbackID);
    }),
    handle(R.CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, ({ eventID, pool }, ctx) => {
      open(ctx.client);
      return { callbackID: session(ctx.client).events.register('storage_pool', eventID, pool?.uuid ?? null) };
    }),
    handle(R.CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY, ({ callbackID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregister('storage_pool', callbackID);
    }),
    handle(R.CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, ({ eventID }, ctx) => {
      open(ctx.client);
      // Node devices are named, not UUID-identified; the test driver raises none, so no filter is kept.
      return { callbackID: session(ctx.client).events.register('node_device', eventID, null) };
    }),
    handle(R.CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, ({ callbackID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregister('node_device', callbackID);
    }),
    handle(R.CONNECT_SECRET_EVENT_REGISTER_ANY, ({ eventID, secret }, ctx) => {
      open(ctx.client);
      return { callbackID: session(ctx.client).events.register('secret', eventID, secret?.uuid ?? null) };
    }),
    handle(R.CONNECT_SECRET_EVENT_DEREGISTER_ANY, ({ callbackID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregister('secret', callbackID);
    }),

    // Events, legacy form (clients that saw feature 14 answered 0, or very old ones).
    handle(R.CONNECT_DOMAIN_EVENT_REGISTER, (_a, ctx) => {
      open(ctx.client);
      session(ctx.client).events.register('domain', 0, null, true);
      return { cbRegistered: 1 };
    }),
    handle(R.CONNECT_DOMAIN_EVENT_DEREGISTER, (_a, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregisterLegacy(0);
      return { cbRegistered: 0 };
    }),
    handle(R.CONNECT_DOMAIN_EVENT_REGISTER_ANY, ({ eventID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.register('domain', eventID, null, true);
    }),
    handle(R.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, ({ eventID }, ctx) => {
      open(ctx.client);
      session(ctx.client).events.deregisterLegacy(eventID);
    }),
  ]);
  return table;
}

async function openDriver(opts: RemoteDispatchOptions, name: string, readonly: boolean): Promise<DriverConnection> {
  let uri: URL;
  try {
    uri = new URL(name);
  } catch {
    throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.URI, 'invalid argument: %s', `Unable to parse URI ${name}`);
  }
  for (const d of opts.drivers) {
    const conn = await d.open(uri, { readonly });
    if (conn) return conn;
  }
  throw VirError.format(VirErrorNumber.NO_CONNECT, VirErrorDomain.NONE, 'no connection driver available for %s', name);
}
