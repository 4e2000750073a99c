/**
 * The entry point: `connect(uri, options)` opens any libvirt URI. `test:///default` and
 * `test:///PATH.xml` run the test driver in this process (no daemon), as libvirt does; every
 * other URI goes through the remote driver to a daemon (unix, tcp, ...).
 */
import type { AuthOptions } from './api/auth.js';
import { Connection, type ReconnectPolicy } from './api/connection.js';
import type { DriverConnection } from './api/driver.js';
import { VirError, VirErrorDomain, VirErrorNumber } from './rpc/errors.js';
import type { KeepaliveOptions } from './rpc/keepalive.js';
import type { Logger } from './rpc/log.js';
import { openRemote } from './drivers/remote/driver.js';
import { testDriver } from './drivers/test/index.js';

export interface ConnectOptions {
  /** Open read-only (VIR_CONNECT_RO). */
  readonly readonly?: boolean;
  /** Credentials for servers that ask (SASL username/password prompts). */
  readonly auth?: AuthOptions;
  /** Cancels opening. */
  readonly signal?: AbortSignal;
  /** Deadline for opening (transport, authentication, handshake), ms. */
  readonly timeoutMs?: number;
  /** Remote only: libvirt keepalive, on by default as in virsh (5 s interval, count 6); false turns it off. */
  readonly keepalive?: KeepaliveOptions | false;
  /** Remote only: reopen a lost connection with this policy; none by default. */
  readonly reconnect?: ReconnectPolicy;
  /** Default deadline of every call, ms. */
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
}

/** True for URIs libvirt serves in-process: the test driver without host or transport. */
function inProcess(u: URL): boolean {
  return u.protocol === 'test:' && u.host === '';
}

function parse(uri: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.URI, 'invalid argument: %s', `Unable to parse URI ${uri}`);
  }
}

/**
 * Opens `uri`; an empty string means libvirt's default (LIBVIRT_DEFAULT_URI, the client config's
 * uri_default, else the daemon's choice).
 */
export async function connect(uri: string, opts: ConnectOptions = {}): Promise<Connection> {
  const readonly = opts.readonly ?? false;
  const u = uri === '' ? null : parse(uri);
  if (u && inProcess(u)) {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new VirError({ code: VirErrorNumber.OPERATION_ABORTED, domain: VirErrorDomain.NONE, message: 'operation aborted: connect' });
    const driver = await testDriver.open(u, { readonly });
    if (!driver) throw VirError.format(VirErrorNumber.NO_CONNECT, VirErrorDomain.NONE, 'no connection driver available for %s', uri);
    return new Connection(driver, { readonly, callTimeoutMs: opts.callTimeoutMs });
  }
  const open = (signal?: AbortSignal): Promise<DriverConnection> =>
    openRemote(uri === '' ? null : uri, {
      readonly,
      auth: opts.auth,
      signal,
      timeoutMs: opts.timeoutMs,
      keepalive: opts.keepalive,
      callTimeoutMs: opts.callTimeoutMs,
      logger: opts.logger,
    });
  const driver = await open(opts.signal);
  return new Connection(driver, { readonly, reopen: open, reconnect: opts.reconnect, callTimeoutMs: opts.callTimeoutMs });
}
