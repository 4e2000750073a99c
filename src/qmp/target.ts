import { createConnection, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Where the monitor is: a UNIX socket path (string or {path}), a TCP endpoint, or a stream the
 * caller already connected (e.g. a socket handed over by whoever started QEMU).
 */
export type QmpTarget = string | { path: string } | { host?: string; port: number } | { stream: Duplex };

export function describeTarget(t: QmpTarget): string {
  if (typeof t === 'string') return `unix:${t}`;
  if ('path' in t) return `unix:${t.path}`;
  if ('port' in t) return `tcp:${t.host ?? 'localhost'}:${t.port}`;
  return 'stream';
}

/**
 * Opens the byte stream. Resolves once connected; `signal` destroys a half-open socket. The
 * caller races this against its own deadline, so no timer lives here.
 */
export function openTarget(t: QmpTarget, signal: AbortSignal): Promise<Duplex> {
  if (typeof t !== 'string' && 'stream' in t) return Promise.resolve(t.stream);
  return new Promise<Duplex>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const sock: Socket =
      typeof t === 'string' ? createConnection({ path: t })
      : 'path' in t ? createConnection({ path: t.path })
      : createConnection({ host: t.host ?? 'localhost', port: t.port });
    const onAbort = () => {
      sock.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      sock.removeListener('error', onError);
      resolve(sock);
    });
    const onError = (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    sock.once('error', onError);
  });
}
