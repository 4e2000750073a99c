// QEMU's migration stream to and from a save image. QEMU 7.2 has no file: URI, libvirt hands it
// a file descriptor, which Node cannot pass over a socket, and exec: is refused by the
// -sandbox spawn=deny QEMU runs under. So QEMU migrates over a unix socket the driver serves
// (save) or connects to (restore), and the driver copies between that socket and the file.
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { internalError, operationFailed } from './errors.js';
import { logTail, type QemuProcess } from './process.js';
import { VirErrorDomain } from '../../rpc/errors.js';

/** No throttle: the whole point is to get the state out quickly (libvirt lifts it too). */
const MAX_BANDWIDTH = 2 ** 40;
const POLL_MS = 50;

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
}

/** Migrates the paused guest into `file` from byte `offset` on (the header is already there). */
export async function migrateToFile(proc: QemuProcess, vmName: string, file: string, offset: number, sockPath: string): Promise<void> {
  rmSync(sockPath, { force: true });
  const server = createServer();
  const out = createWriteStream(file, { flags: 'r+', start: offset });
  let copied: Promise<void> | undefined;
  server.once('connection', (sock: Socket) => {
    server.close();
    copied = pipeline(sock, out);
    copied.catch(() => undefined);
  });
  try {
    await listen(server, sockPath);
    await proc.command('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH }, vmName);
    await proc.command('migrate', { uri: `unix:${sockPath}` }, vmName);
    await waitMigration(proc, vmName, 'domain save');
    if (!copied) throw internalError('QEMU finished the migration without connecting to the save socket');
    await copied;
  } catch (e) {
    if (!proc.isEnded) await proc.command('migrate_cancel', undefined, vmName).catch(() => undefined);
    throw e;
  } finally {
    server.close();
    out.destroy();
    rmSync(sockPath, { force: true });
  }
}

/** Feeds the stream at `offset` of `file` to a QEMU started with -incoming defer. */
export async function migrateFromFile(proc: QemuProcess, vmName: string, file: string, offset: number, sockPath: string): Promise<void> {
  rmSync(sockPath, { force: true });
  try {
    await proc.command('migrate-incoming', { uri: `unix:${sockPath}` }, vmName);
    const sock = connect(sockPath);
    // QEMU closing the socket early is its failure to report, seen through query-migrate.
    const sent = pipeline(createReadStream(file, { start: offset }), sock).catch(() => undefined);
    await waitMigration(proc, vmName, 'domain restore');
    await sent;
  } finally {
    rmSync(sockPath, { force: true });
  }
}

/** Polls query-migrate until QEMU reports the end (the MIGRATION event needs a capability). */
async function waitMigration(proc: QemuProcess, vmName: string, job: string): Promise<void> {
  for (;;) {
    if (proc.isEnded) throw internalError(`qemu unexpectedly closed the monitor: ${logTail(proc.logPath, 0).split('\n').slice(-3).join('\n')}`);
    let info: MigrateInfo;
    try {
      info = await proc.command<MigrateInfo>('query-migrate', undefined, vmName);
    } catch (e) {
      if (proc.isEnded) continue;
      throw e;
    }
    if (info.status === 'completed') return;
    if (info.status === 'failed' || info.status === 'cancelled') {
      const why = info['error-desc'] ?? info.status;
      throw operationFailed(`job '${job}' failed: ${why}`, VirErrorDomain.QEMU);
    }
    await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), proc.ended]);
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
