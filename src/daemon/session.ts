/**
 * What the daemon knows about one client: its socket's access level, the driver connection it
 * opened, whether it asked for keepalive, and its event callbacks.
 */
import type { DriverConnection } from '../api/driver.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import type { ServerClient } from '../rpc/server.js';
import { EventCallbacks } from './events.js';

const KEY = 'tsvirtd.session';

export class Session {
  driver: DriverConnection | null = null;
  /** Set by the socket (libvirt-sock-ro) or by CONNECT_OPEN's VIR_CONNECT_RO flag. */
  readonly: boolean;
  closeCallback = false;
  readonly events: EventCallbacks;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly client: ServerClient,
    /** The socket this client came in on only allows read-only connections. */
    readonly socketReadonly: boolean,
  ) {
    this.readonly = socketReadonly;
    this.events = new EventCallbacks(client);
  }

  static of(client: ServerClient): Session {
    const s = client.data.get(KEY);
    if (!(s instanceof Session)) throw new Error('client has no session');
    return s;
  }

  static attach(client: ServerClient, socketReadonly: boolean): Session {
    const s = new Session(client, socketReadonly);
    client.data.set(KEY, s);
    return s;
  }

  /** The driver connection, or libvirtd's error for calls made before CONNECT_OPEN. */
  requireOpen(): DriverConnection {
    if (!this.driver) {
      throw VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: %s', 'hypervisor connection not open');
    }
    return this.driver;
  }

  setDriver(conn: DriverConnection): void {
    this.driver = conn;
    this.unsubscribe = conn.onEvent((ev) => this.events.deliver(ev));
  }

  /** Drops the driver connection (CONNECT_CLOSE or disconnect). Safe to call twice. */
  release(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    const d = this.driver;
    this.driver = null;
    d?.close();
  }
}
