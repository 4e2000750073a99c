import { chmodSync, chownSync, existsSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { socketError } from './errors.js';
import type { Listener, OnConnection } from './listener.js';
import { abortable } from './abortable.js';

/** Connects to a unix socket; errors read like libvirt's ("Failed to connect socket to '…': …"). */
export function connectUnix(path: string, signal?: AbortSignal): Promise<Socket> {
  return abortable(
    (done) => {
      const sock = createConnection({ path });
      sock.once('connect', () => done(null, sock));
      sock.once('error', (err) => done(socketError("Failed to connect socket to '%s'", path, err)));
      return () => sock.destroy();
    },
    signal,
  );
}

export interface UnixListenOptions {
  /** File mode of the socket, e.g. 0o666 for libvirt-sock-ro, 0o600/0o660 for libvirt-sock. */
  mode?: number;
  /** Group owning the socket (name or gid), like libvirtd's unix_sock_group. */
  group?: string | number;
}

/**
 * Listens on a unix socket path. A stale socket file (nobody accepting) is replaced, as libvirtd
 * does after an unclean exit; a live one is an "Address already in use" error.
 */
export async function listenUnix(path: string, opts: UnixListenOptions, onConnection: OnConnection): Promise<Listener> {
  if (existsSync(path)) {
    if (await isLive(path)) throw socketError("Failed to bind socket to '%s'", path, Object.assign(new Error('in use'), { code: 'EADDRINUSE' }));
    unlinkSync(path);
  }
  let n = 0;
  const server = createServer((sock) => onConnection(sock, `unix:${path}#${++n}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(socketError("Failed to bind socket to '%s'", path, err)));
    server.listen(path, () => resolve());
  });
  if (opts.mode !== undefined) chmodSync(path, opts.mode);
  if (opts.group !== undefined) chownSync(path, -1, resolveGroup(opts.group));
  return {
    address: path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Node removes the socket file on close; be sure even if it did not.
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }),
  };
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function resolveGroup(group: string | number): number {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`unknown group '${group}'`);
}
