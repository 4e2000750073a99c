// Guest statistics QEMU keeps, fetched over QMP the way libvirt's monitor code does:
// query-blockstats/query-block per disk (matched by the -blockdev node names the command
// builder gives), the balloon's actual size and guest-stats, vCPU threads, dirty-rate state.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { DomainDisk } from '../../api/xml/domain/types.js';
import { attr, elementsOf } from '../../api/xml/tree.js';
import type { QemuDomain } from './domain-obj.js';
import type { QemuProcess } from './process.js';
import { diskAlias } from './hotplug/qemu-args.js';

export interface DiskStats {
  readonly disk: DomainDisk;
  /** Position in the definition. */
  readonly index: number;
  /** N of libvirt-N-format: libvirt's storage source id (backingIndex). */
  readonly nodeIndex: number;
  readonly path?: string;
  readonly rdReq: bigint;
  readonly rdBytes: bigint;
  readonly rdTimes: bigint;
  readonly wrReq: bigint;
  readonly wrBytes: bigint;
  readonly wrTimes: bigint;
  readonly flReq: bigint;
  readonly flTimes: bigint;
  readonly wrHighestOffset: bigint;
  /** Guest-visible size (image virtual-size). */
  readonly capacity?: bigint;
  /** Host bytes allocated to the image (image actual-size). */
  readonly actualSize?: bigint;
}

type Json = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n);

export const diskPath = (d: DomainDisk): string | undefined =>
  d.type === 'file' ? attr(d.source, 'file') : d.type === 'block' ? attr(d.source, 'dev') : undefined;

/** Every disk of a running domain with QEMU's counters; disks QEMU does not know get zeros. */
export async function diskStats(dom: QemuDomain, proc: QemuProcess): Promise<DiskStats[]> {
  const [blockstats, block] = await Promise.all([
    proc.command<Json[]>('query-blockstats', undefined, dom.name),
    proc.command<Json[]>('query-block', undefined, dom.name),
  ]);
  const disks = dom.def.devices.disks;
  return disks.map((disk, index) => {
    // Found through the guest device (its alias), not by position: hot-plug and media changes
    // give disks node numbers out of definition order.
    const alias = diskAlias(dom.def, disk);
    const mine = (b: Json): boolean => alias !== undefined && typeof b.qdev === 'string' && isDeviceOf(b.qdev, alias);
    const inserted = block.find(mine)?.inserted as Json | undefined;
    const node = typeof inserted?.['node-name'] === 'string' ? inserted['node-name'] : undefined;
    const nodeIndex = Number(/^libvirt-(\d+)-format$/.exec(node ?? '')?.[1] ?? 0);
    const s = (blockstats.find((b) => (node !== undefined && b['node-name'] === node) || mine(b))?.stats ?? {}) as Json;
    const image = inserted?.image as Json | undefined;
    return {
      disk, index, nodeIndex, path: diskPath(disk),
      rdReq: big(s.rd_operations), rdBytes: big(s.rd_bytes), rdTimes: big(s.rd_total_time_ns),
      wrReq: big(s.wr_operations), wrBytes: big(s.wr_bytes), wrTimes: big(s.wr_total_time_ns),
      flReq: big(s.flush_operations), flTimes: big(s.flush_total_time_ns), wrHighestOffset: big(s.wr_highest_offset),
      ...(image ? { capacity: big(image['virtual-size']), actualSize: big(image['actual-size']) } : {}),
    };
  });
}

/** QEMU names a disk's device by its id, or by a path under /machine/peripheral/ID. */
const isDeviceOf = (qdev: string, alias: string): boolean =>
  qdev === alias || qdev === `/machine/peripheral/${alias}` || qdev.startsWith(`/machine/peripheral/${alias}/`);

/** A disk by target name ("vda") or source path, as libvirt's virDomainDiskByName. */
export function findDisk(dom: QemuDomain, name: string): number {
  const disks = dom.def.devices.disks;
  const byTarget = disks.findIndex((d) => d.targetDev === name);
  return byTarget >= 0 ? byTarget : disks.findIndex((d) => diskPath(d) === name);
}

/** Size of the file or device on the host (libvirt's "physical" for a non-block source). */
export async function fileSize(path: string | undefined): Promise<bigint | undefined> {
  if (path === undefined) return undefined;
  try {
    return BigInt((await stat(path)).size);
  } catch {
    return undefined;
  }
}

/** qemu-img's view of an image nobody has open: virtual size and host allocation. */
export function qemuImgInfo(path: string, format: string): Promise<{ virtual?: bigint; actual?: bigint }> {
  return new Promise((resolve) => {
    execFile('qemu-img', ['info', '--output=json', '-U', '-f', format, path], { timeout: 15_000 }, (err, stdout) => {
      if (err) return resolve({});
      try {
        const j = JSON.parse(stdout) as { 'virtual-size'?: number; 'actual-size'?: number };
        resolve({
          ...(j['virtual-size'] !== undefined ? { virtual: BigInt(j['virtual-size']) } : {}),
          ...(j['actual-size'] !== undefined ? { actual: BigInt(j['actual-size']) } : {}),
        });
      } catch {
        resolve({});
      }
    });
  });
}

/** The memballoon element unless the model is none; libvirt adds a virtio one when absent. */
export function balloonOf(dom: QemuDomain): { period?: number } | undefined {
  const el = dom.def.devices.others.find((o) => o.kind === 'memballoon')?.el;
  if (el && attr(el, 'model') === 'none') return undefined;
  const stats = el ? elementsOf(el, 'stats')[0] : undefined;
  const period = Number(attr(stats, 'period') ?? 'NaN');
  return Number.isInteger(period) && period > 0 ? { period } : {};
}

const BALLOON_PATH = '/machine/peripheral/balloon0';
/** Processes whose polling interval was set already. */
const periodSet = new WeakSet<QemuProcess>();

/**
 * With <stats period='N'/>, QEMU polls the guest's balloon driver every N seconds. Set during
 * start, before the vCPUs run, as libvirt does, so the first statistics are already fresh;
 * idempotent per process, and a failure only costs fresh statistics.
 */
export async function applyBalloonPeriod(dom: QemuDomain, proc: QemuProcess): Promise<void> {
  const b = balloonOf(dom);
  if (!b?.period || periodSet.has(proc)) return;
  periodSet.add(proc);
  await proc.command('qom-set', { path: BALLOON_PATH, property: 'guest-stats-polling-interval', value: b.period }, dom.name).catch(() => undefined);
}

/** The guest-stats keys in libvirt's order, with its tags and whether bytes become KiB. */
const GUEST_STATS: [string, number, boolean][] = [
  ['stat-swap-in', 0, true], ['stat-swap-out', 1, true], ['stat-major-faults', 2, false], ['stat-minor-faults', 3, false],
  ['stat-free-memory', 4, true], ['stat-total-memory', 5, true], ['stat-available-memory', 8, true],
  ['stat-disk-caches', 10, true], ['stat-htlb-pgalloc', 11, false], ['stat-htlb-pgfail', 12, false],
];

export const MemTag = { ACTUAL: 6, RSS: 7, LAST_UPDATE: 9 } as const;

/**
 * qemuDomainMemoryStatsInternal: actual balloon size first, then what the guest driver
 * reported (values it never filled are -1 and left out), then the process's RSS.
 */
export async function memoryStats(dom: QemuDomain, proc: QemuProcess): Promise<{ tag: number; val: bigint }[]> {
  const out: { tag: number; val: bigint }[] = [];
  if (balloonOf(dom)) {
    await applyBalloonPeriod(dom, proc);
    const bal = await proc.command<{ actual?: number }>('query-balloon', undefined, dom.name);
    out.push({ tag: MemTag.ACTUAL, val: big(bal.actual) / 1024n });
    const gs = await proc.command<Json>('qom-get', { path: BALLOON_PATH, property: 'guest-stats' }, dom.name).catch(() => undefined);
    if (gs) {
      out.push({ tag: MemTag.LAST_UPDATE, val: big(gs['last-update']) });
      const st = (gs.stats ?? {}) as Json;
      for (const [key, tag, bytes] of GUEST_STATS) {
        const v = st[key];
        // Unfilled values are -1, which QEMU prints as the unsigned 2^64-1.
        if (typeof v !== 'number' || v < 0 || v >= 2 ** 63) continue;
        out.push({ tag, val: bytes ? big(v) / 1024n : big(v) });
      }
    }
  }
  const rss = proc.rssKiB();
  if (rss !== undefined) out.push({ tag: MemTag.RSS, val: rss });
  return out;
}

/** vCPU index -> host thread id (query-cpus-fast). */
export async function vcpuThreads(dom: QemuDomain, proc: QemuProcess): Promise<Map<number, number>> {
  const cpus = await proc.command<Json[]>('query-cpus-fast', undefined, dom.name);
  return new Map(cpus.map((c) => [Number(c['cpu-index']), Number(c['thread-id'])]));
}

export interface DirtyRate {
  readonly status: number;
  readonly startTime: bigint;
  readonly period: number;
  readonly mode: string;
  readonly mbps?: bigint;
}

const DIRTY_STATUS: Record<string, number> = { unstarted: 0, measuring: 1, measured: 2 };

export async function dirtyRate(dom: QemuDomain, proc: QemuProcess): Promise<DirtyRate | undefined> {
  const r = await proc.command<Json>('query-dirty-rate', undefined, dom.name).catch(() => undefined);
  if (!r) return undefined;
  const status = DIRTY_STATUS[String(r.status)] ?? 0;
  return {
    status, startTime: big(r['start-time']), period: Number(r['calc-time'] ?? 0), mode: String(r.mode ?? 'page-sampling'),
    ...(status === 2 && typeof r['dirty-rate'] === 'number' ? { mbps: big(r['dirty-rate']) } : {}),
  };
}
