// QEMU's migration stream to and from a save image. QEMU 7.2 has no file: URI, libvirt hands it
// a file descriptor, which Node cannot pass over a socket, and exec: is refused by the
// -sandbox spawn=deny QEMU runs under. So QEMU migrates over a unix socket the driver serves
// (save) or connects to (restore), and the driver copies between that socket and the file.
import { createReadStream, createWriteStream, rmSync, type ReadStream } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { internalError, operationFailed } from './errors.js';
import { logTail, type QemuProcess } from './process.js';
import type { RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirErrorDomain } from '../../rpc/errors.js';

/** No throttle: the whole point is to get the state out quickly (libvirt lifts it too). */
const MAX_BANDWIDTH = 2 ** 40;
const POLL_MS = 50;

/** The parts of query-migrate's answer the driver reads. */
export interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  ram?: Partial<Record<'transferred' | 'remaining' | 'total' | 'duplicate' | 'normal' | 'normal-bytes' | 'dirty-pages-rate' | 'mbps' | 'dirty-sync-count' | 'postcopy-requests' | 'page-size', number>>;
}

/**
 * Migrates the paused guest into `file` from byte `offset` on (the header is already there);
 * resolves with QEMU's final statistics.
 */
export async function migrateToFile(proc: QemuProcess, vmName: string, file: string, offset: number, sockPath: string): Promise<MigrateInfo> {
  rmSync(sockPath, { force: true });
  const server = createServer();
  const out = createWriteStream(file, { flags: 'r+', start: offset });
  // Errors of the file or the listening socket end the job, never the daemon.
  let broken: unknown;
  out.on('error', (e) => (broken ??= e));
  server.on('error', (e) => (broken ??= e));
  let copied: Promise<void> | undefined;
  server.once('connection', (sock: Socket) => {
    server.close();
    copied = pipeline(sock, out);
    copied.catch(() => undefined);
  });
  try {
    await listen(server, sockPath);
    if (broken) throw broken;
    await proc.command('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH }, vmName);
    // As libvirt: QEMU reports each pass (MIGRATION_PASS), which becomes migration-iteration.
    await proc.command('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] }, vmName);
    await proc.command('migrate', { uri: `unix:${sockPath}` }, vmName);
    const info = await waitMigration(proc, vmName, 'domain save');
    if (!copied) throw broken ?? internalError('QEMU finished the migration without connecting to the save socket');
    await copied;
    if (broken) throw broken;
    return info;
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
  let input: ReadStream | undefined;
  let sock: Socket | undefined;
  try {
    await proc.command('migrate-incoming', { uri: `unix:${sockPath}` }, vmName);
    sock = connect(sockPath);
    input = createReadStream(file, { start: offset });
    // QEMU closing the socket early is its failure to report, seen through query-migrate.
    const sent = pipeline(input, sock).catch(() => undefined);
    await waitMigration(proc, vmName, 'domain restore');
    await sent;
  } finally {
    input?.destroy();
    sock?.destroy();
    rmSync(sockPath, { force: true });
  }
}

/** Polls query-migrate until QEMU reports the end (the MIGRATION event needs a capability). */
async function waitMigration(proc: QemuProcess, vmName: string, job: string): Promise<MigrateInfo> {
  for (;;) {
    if (proc.isEnded) throw internalError(`qemu unexpectedly closed the monitor: ${logTail(proc.logPath, 0).split('\n').slice(-3).join('\n')}`);
    let info: MigrateInfo;
    try {
      info = await proc.command<MigrateInfo>('query-migrate', undefined, vmName);
    } catch (e) {
      if (proc.isEnded) continue;
      throw e;
    }
    if (info.status === 'completed') return info;
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

/** VIR_DOMAIN_JOB_OPERATION_SAVE: what job-completed says the job was. */
const JOB_OPERATION_SAVE = 2;

/** The job-completed parameters libvirt derives from a finished save's statistics. */
export function saveJobStats(info: MigrateInfo, elapsedMs: number): RemoteTypedParam[] {
  const ram = info.ram ?? {};
  const n = (v: number | undefined): bigint => BigInt(Math.max(0, Math.round(v ?? 0)));
  const ull = (field: string, v: number | undefined): RemoteTypedParam => ({ field, value: { type: 4, ul: n(v) } });
  return [
    { field: 'operation', value: { type: 1, i: JOB_OPERATION_SAVE } },
    ull('time_elapsed', elapsedMs),
    ull('downtime', info.downtime),
    ull('setup_time', info['setup-time']),
    ull('data_total', ram.total),
    ull('data_processed', ram.transferred),
    ull('data_remaining', ram.remaining),
    ull('memory_total', ram.total),
    ull('memory_processed', ram.transferred),
    ull('memory_remaining', ram.remaining),
    // QEMU's mbps is megabits per second; libvirt reports bytes per second, and only when known.
    ...(ram.mbps ? [ull('memory_bps', (ram.mbps * 1e6) / 8)] : []),
    ull('memory_constant', ram.duplicate),
    ull('memory_normal', ram.normal),
    ull('memory_normal_bytes', ram['normal-bytes']),
    ull('memory_dirty_rate', ram['dirty-pages-rate']),
    ull('memory_iteration', ram['dirty-sync-count']),
    ull('memory_postcopy_requests', ram['postcopy-requests']),
    ull('memory_page_size', ram['page-size']),
  ];
}
