/**
 * tsvirtd's server: the libvirt sockets, the RPC server behind them, and the drivers that
 * CONNECT_OPEN routes to. main.ts turns the command line and libvirtd.conf into DaemonSettings.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Driver } from '../api/driver.js';
import { qemuProgram } from '../protocol/gen/qemu.js';
import { remoteProgram } from '../protocol/gen/remote.js';
import type { KeepaliveOptions } from '../rpc/keepalive.js';
import type { Logger } from '../rpc/log.js';
import { RpcServer, type ServerClient } from '../rpc/server.js';
import { listenTcp, listenUnix, type Listener } from '../transport/index.js';
import { qemuHandlers } from './qemu-dispatch.js';
import { remoteHandlers } from './remote-dispatch.js';
import { Session } from './session.js';

export interface DaemonSettings {
  /** Directory of libvirt-sock and libvirt-sock-ro. */
  unixSockDir: string;
  unixSockGroup: string | null;
  unixSockRwPerms: number;
  unixSockRoPerms: number;
  /** TCP listener (only with --listen and listen_tcp = 1); null for none. */
  tcp: { address: string; port: number } | null;
  maxClients: number;
  maxClientRequests: number;
  maxWorkers: number;
  prioWorkers: number;
  /** Keepalive for clients that ask for it; null disables (keepalive_interval = -1). */
  keepalive: KeepaliveOptions | null;
  drivers: readonly Driver[];
  /** URI used when a client opens with an empty name. */
  defaultUri: string;
  log: Logger;
}

export class Daemon {
  readonly server: RpcServer;
  private readonly listeners: Listener[] = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly settings: DaemonSettings) {
    const log = settings.log;
    this.server = new RpcServer({
      logger: log,
      maxClients: settings.maxClients,
      maxClientRequests: settings.maxClientRequests,
      maxWorkers: settings.maxWorkers,
      prioWorkers: settings.prioWorkers,
      onCallError: (client, spec, err) => log.debug(`${client.description}: ${spec.name}: ${err.message}`),
    });
    this.server.register(
      remoteProgram,
      remoteHandlers({ drivers: settings.drivers, defaultUri: settings.defaultUri, keepalive: settings.keepalive, log }),
    );
    this.server.register(qemuProgram, qemuHandlers());
    this.server.on('clientClosed', (client, info) => {
      Session.of(client).release();
      log.info(`${client.description}: client disconnected (${info.message})`);
      if (this.server.clients.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  /** Paths and addresses being listened on. */
  get addresses(): string[] {
    return this.listeners.map((l) => l.address);
  }

  get tcpPort(): number | undefined {
    return this.listeners.find((l) => l.port !== undefined)?.port;
  }

  get clientCount(): number {
    return this.server.clients.size;
  }

  /** Resolves the next time the last client disconnects (for --timeout). */
  whenIdle(): Promise<void> {
    if (this.server.clients.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async start(): Promise<void> {
    const s = this.settings;
    mkdirSync(s.unixSockDir, { recursive: true });
    const group = s.unixSockGroup ?? undefined;
    this.listeners.push(
      await listenUnix(join(s.unixSockDir, 'libvirt-sock'), { mode: s.unixSockRwPerms, group }, (sock, peer) => this.accept(sock, peer, false)),
      await listenUnix(join(s.unixSockDir, 'libvirt-sock-ro'), { mode: s.unixSockRoPerms, group }, (sock, peer) => this.accept(sock, peer, true)),
    );
    if (s.tcp) this.listeners.push(await listenTcp(s.tcp.address, s.tcp.port, (sock, peer) => this.accept(sock, peer, false)));
    s.log.info(`listening on ${this.addresses.join(', ')}`);
  }

  /** Stops listening (socket files removed) and disconnects every client. */
  async stop(): Promise<void> {
    // A listening socket finishes closing only once its connections are gone: close both together.
    const closing = this.listeners.splice(0).map((l) => l.close());
    await this.server.close();
    await Promise.all(closing);
  }

  private accept(sock: Socket, peer: string, readonly: boolean): void {
    const client: ServerClient | null = this.server.addClient(sock, peer);
    if (!client) return;
    Session.attach(client, readonly);
    this.settings.log.info(`${peer}: client connected${readonly ? ' (read-only socket)' : ''}`);
  }
}
