import { createConnection, createServer, type Socket } from 'node:net';
import { socketError } from './errors.js';
import type { Listener, OnConnection } from './listener.js';
import { abortable } from './abortable.js';

/** libvirtd's TCP port (libvirt's default for `+tcp` URIs). */
export const DEFAULT_TCP_PORT = 16509;

/** Connects over TCP with no delay on small writes (RPC calls are small and latency-bound). */
export function connectTcp(host: string, port: number, signal?: AbortSignal): Promise<Socket> {
  const target = `${host}:${port}`;
  return abortable(
    (done) => {
      const sock = createConnection({ host, port, noDelay: true });
      sock.once('connect', () => done(null, sock));
      sock.once('error', (err) => done(socketError("unable to connect to server at '%s'", target, err)));
      return () => sock.destroy();
    },
    signal,
  );
}

/** Listens on host:port (port 0 picks a free one). */
export async function listenTcp(host: string, port: number, onConnection: OnConnection): Promise<Listener> {
  const server = createServer({ noDelay: true }, (sock) =>
    onConnection(sock, `tcp:${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}`),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(socketError("Failed to bind socket to '%s'", `${host}:${port}`, err)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    address: `${host}:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
