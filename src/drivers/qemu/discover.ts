// Discovery of QEMU processes started by hand: before the driver answers a listing, it looks for
// QEMU processes with a QMP unix socket that no domain of ours owns and adopts them as running
// transient domains (tainted "externally launched"), so they show up in `list` and can be managed.
// QEMUs run by a daemon (ours or libvirtd, known by their monitor socket's name) are left alone.
// TSVIRT_QEMU_DISCOVER or `discover_external` in the driver's qemu.conf: "0" switches discovery
// off, a directory limits it to QMP sockets under that directory.
import { readFileSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';
import type { DriverMethod, DriverMethods } from '../../api/driver.js';
import { VirError, VirErrorNumber } from '../../rpc/errors.js';
import { findQemuProcesses, type QemuProcess } from './attach.js';
import type { QemuDriverState } from './state.js';

/** Listings, which scan first so their answer includes freshly discovered guests. */
const LISTING = ['CONNECT_LIST_ALL_DOMAINS', 'CONNECT_NUM_OF_DOMAINS', 'CONNECT_LIST_DOMAINS'] as const;
/** Lookups, which scan only when the domain is not known yet (a scan costs time). */
const LOOKUP = ['DOMAIN_LOOKUP_BY_NAME', 'DOMAIN_LOOKUP_BY_ID'] as const;

/** Scans at most this often; a listing right after another reuses the last scan. */
const MIN_INTERVAL_MS = 1000;
/** A QMP socket held by another client never greets: give up on it quickly. */
const CONNECT_TIMEOUT_MS = 3000;
/** A process that could not be adopted is tried again after this long (it may have been busy). */
const RETRY_AFTER_MS = 10_000;

export class QemuDiscovery {
  /** "pid:starttime" of processes tried already, with when: adopted ones stay, failures are retried. */
  private readonly tried = new Map<string, { at: number; adopted: boolean }>();
  private lastScan = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly state: QemuDriverState,
    private readonly scope: DiscoveryScope = { kind: 'all' },
  ) {}

  private inScope(p: QemuProcess): boolean {
    if (this.scope.kind === 'none' || p.qmpPath === null) return false;
    return this.scope.kind === 'all' || p.qmpPath.startsWith(this.scope.dir);
  }

  /** One scan at a time; callers arriving during a scan wait for it. */
  scan(): Promise<void> {
    if (this.running) return this.running;
    if (Date.now() - this.lastScan < MIN_INTERVAL_MS) return Promise.resolve();
    this.running = this.scanOnce().finally(() => {
      this.lastScan = Date.now();
      this.running = null;
    });
    return this.running;
  }

  private async scanOnce(): Promise<void> {
    const owned = new Set<number>();
    for (const d of this.state.list.all()) if (d.proc) owned.add(d.proc.pid);
    const candidates = findQemuProcesses().filter((p) => this.inScope(p) && !owned.has(p.pid) && !daemonManaged(p));
    // All at once: a busy socket costs its timeout once per scan, not once per candidate.
    await Promise.all(candidates.map(async (p) => {
      const key = `${p.pid}:${startTime(p.pid)}`;
      const before = this.tried.get(key);
      if (before && (before.adopted || Date.now() - before.at < RETRY_AFTER_MS)) return;
      // A failure (socket busy, process gone, name taken) leaves the process alone for a while.
      const adopted = await this.state.adopt(p.pid, { timeoutMs: CONNECT_TIMEOUT_MS, onlyNew: true }).then(() => true, () => false);
      this.tried.set(key, { at: Date.now(), adopted });
    }));
    // Forget processes that are gone, so the map stays as small as the process table.
    const alive = new Set(findQemuProcesses().map((p) => `${p.pid}:${startTime(p.pid)}`));
    for (const k of this.tried.keys()) if (!alive.has(k)) this.tried.delete(k);
  }
}

/**
 * Which QEMUs discovery considers: none, all, or only those whose QMP socket lives under a
 * directory. TSVIRT_QEMU_DISCOVER wins over the driver config's discover_external; default all.
 */
export type DiscoveryScope = { kind: 'none' } | { kind: 'all' } | { kind: 'under'; dir: string };

export function discoveryScope(conf: ReadonlyMap<string, string>, env: Readonly<Record<string, string | undefined>> = process.env): DiscoveryScope {
  const v = env.TSVIRT_QEMU_DISCOVER ?? conf.get('discover_external') ?? '1';
  if (/^(0|no|off|false)$/i.test(v)) return { kind: 'none' };
  if (isAbsolute(v)) return { kind: 'under', dir: v.endsWith(sep) ? v : v + sep };
  return { kind: 'all' };
}

/** The methods with a discovery scan in front of every listing and name/id lookup. */
export function withDiscovery(methods: DriverMethods, discovery: QemuDiscovery): DriverMethods {
  const out: DriverMethods = { ...methods };
  for (const name of LISTING) wrap(out, name, discovery, false);
  for (const name of LOOKUP) wrap(out, name, discovery, true);
  return out;
}

function wrap<K extends (typeof LISTING | typeof LOOKUP)[number]>(methods: DriverMethods, name: K, discovery: QemuDiscovery, onMiss: boolean): void {
  const inner = methods[name] as DriverMethod<K> | undefined;
  if (!inner) return;
  const wrapped: DriverMethod<K> = async (args, ctx) => {
    if (onMiss) {
      try {
        return await inner(args, ctx);
      } catch (e) {
        if (!(e instanceof VirError) || e.code !== VirErrorNumber.NO_DOMAIN) throw e;
      }
    }
    await discovery.scan();
    return inner(args, ctx);
  };
  (methods as Partial<Record<K, DriverMethod<K>>>)[name] = wrapped;
}

/**
 * A daemon's guest: the monitor socket is named as tsvirtd (<state>/domain-ID-NAME.monitor) or
 * libvirtd (.../domain-ID-NAME/monitor.sock) names it. Its monitor belongs to that daemon.
 */
function daemonManaged(p: QemuProcess): boolean {
  return /\/domain-\d+-[^/]*(\.monitor|\/monitor\.sock)$/.test(p.qmpPath ?? '');
}

/** Field 22 of /proc/PID/stat: tells a reused pid from the process tried before. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}
