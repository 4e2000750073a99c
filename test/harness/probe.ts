// Low-level readiness checks for a libvirt daemon: a free port, and one real call round-trip.
import { connect, createServer, type NetConnectOpts } from 'node:net';

const REMOTE_PROGRAM = 0x20008086;
const PROC_AUTH_LIST = 66;
const TYPE_REPLY = 1;

/** A port on 127.0.0.1 that was free a moment ago. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A header-only AUTH_LIST call (serial 0), the first thing every libvirt client sends. */
export function authListCall(): Buffer {
  const b = Buffer.alloc(28);
  [28, REMOTE_PROGRAM, 1, PROC_AUTH_LIST, 0, 0, 0].forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
}

/**
 * True when the daemon behind `where` answers AUTH_LIST with a REPLY. A listening socket alone is not
 * enough: libvirtd binds before its drivers are initialised and only then starts serving.
 */
export function probeLibvirtSocket(where: { path: string } | { host: string; port: number }, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(where as NetConnectOpts);
    let got = Buffer.alloc(0);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.once('error', () => finish(false));
    sock.once('connect', () => sock.write(authListCall()));
    sock.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 28) return;
      finish(got.readUInt32BE(4) === REMOTE_PROGRAM && got.readUInt32BE(12) === PROC_AUTH_LIST && got.readUInt32BE(16) === TYPE_REPLY);
    });
    sock.once('end', () => finish(false));
  });
}
