// What the host looks like, read from /proc and sysfs the way libvirt's virhostcpu/virhostmem
// and virnuma do: NUMA cells with their CPUs and memory, CPU topology, /proc/stat counters.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SYS_CPU = '/sys/devices/system/cpu';
const SYS_NODE = '/sys/devices/system/node';

export const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const readInt = (path: string): number | undefined => {
  const t = readText(path)?.trim();
  return t !== undefined && /^-?\d+$/.test(t) ? Number(t) : undefined;
};

/** libvirt's cpumask length: CPU numbers at or beyond it are ignored (a client writes the list). */
const MAX_CPUS = 16384;

/** "0-3,5,^2" (libvirt's cpuset syntax; the kernel's lists are the subset without '^'). */
export function parseCpuList(text: string): number[] {
  const on = new Set<number>();
  const off = new Set<number>();
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const neg = part.startsWith('^');
    const [a, b] = (neg ? part.slice(1) : part).split('-');
    const lo = Number(a);
    const hi = Math.min(b === undefined ? lo : Number(b), MAX_CPUS - 1);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0) continue;
    for (let i = lo; i <= hi; i++) (neg ? off : on).add(i);
  }
  return [...on].filter((c) => !off.has(c)).sort((x, y) => x - y);
}

/** The inverse: "0-1,4". */
export function formatCpuList(cpus: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === (cpus[j] as number) + 1) j++;
    out.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

export interface HostCpu {
  readonly id: number;
  readonly socket: number;
  readonly die: number;
  readonly core: number;
  readonly siblings: string;
}

export interface HostCell {
  readonly id: number;
  /** KiB */
  readonly memory: number;
  /** KiB */
  readonly free: number;
  readonly distances: { id: number; value: number }[];
  readonly cpus: HostCpu[];
  /** Huge page counts by size in KiB. */
  readonly hugepages: Map<number, number>;
}

/** CPUs the kernel knows of (present), and those online. */
export function presentCpus(): number[] {
  const t = readText(join(SYS_CPU, 'present'));
  if (t !== undefined) return parseCpuList(t);
  return readdirSync(SYS_CPU).filter((n) => /^cpu\d+$/.test(n)).map((n) => Number(n.slice(3))).sort((a, b) => a - b);
}

export function onlineCpus(): number[] {
  const t = readText(join(SYS_CPU, 'online'));
  return t !== undefined ? parseCpuList(t) : presentCpus();
}

function cpuOf(id: number): HostCpu {
  const topo = join(SYS_CPU, `cpu${id}`, 'topology');
  return {
    id,
    socket: readInt(join(topo, 'physical_package_id')) ?? 0,
    die: readInt(join(topo, 'die_id')) ?? 0,
    core: readInt(join(topo, 'core_id')) ?? id,
    siblings: formatCpuList(parseCpuList(readText(join(topo, 'thread_siblings_list')) ?? String(id))),
  };
}

/** "Node 0 MemTotal:  6908116 kB" -> { MemTotal: 6908116 } (also plain /proc/meminfo lines). */
export function parseMeminfo(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^(?:Node \d+ )?([\w()]+):\s+(\d+)/.exec(line);
    if (r) m.set(r[1] as string, Number(r[2]));
  }
  return m;
}

/** Huge page sizes (KiB) the kernel offers, ascending. */
export function hugePageSizes(): number[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages')
      .map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** NUMA cells; a host without /sys/devices/system/node is one cell holding everything. */
export function hostCells(): HostCell[] {
  const online = onlineCpus();
  const ids = existsSync(SYS_NODE) ? parseCpuList(readText(join(SYS_NODE, 'online')) ?? '0') : [];
  if (ids.length === 0) {
    const mi = parseMeminfo(readText('/proc/meminfo') ?? '');
    return [{
      id: 0, memory: mi.get('MemTotal') ?? 0, free: mi.get('MemFree') ?? 0, distances: [], cpus: online.map(cpuOf),
      hugepages: new Map(),
    }];
  }
  return ids.map((id) => {
    const dir = join(SYS_NODE, `node${id}`);
    const mi = parseMeminfo(readText(join(dir, 'meminfo')) ?? '');
    const dist = (readText(join(dir, 'distance')) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
    const hugepages = new Map<number, number>();
    for (const size of hugePageSizes()) hugepages.set(size, readInt(join(dir, 'hugepages', `hugepages-${size}kB`, 'nr_hugepages')) ?? 0);
    const cpus = parseCpuList(readText(join(dir, 'cpulist')) ?? '').filter((c) => online.includes(c));
    return {
      id, memory: mi.get('MemTotal') ?? 0, free: mi.get('MemFree') ?? 0,
      distances: dist.map((value, i) => ({ id: ids[i] ?? i, value })), cpus: cpus.map(cpuOf), hugepages,
    };
  });
}

/** /proc/cpuinfo's first processor block as key -> value. */
export function cpuinfo(): Map<string, string> {
  const m = new Map<string, string>();
  const block = (readText('/proc/cpuinfo') ?? '').split('\n\n')[0] ?? '';
  for (const line of block.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

export interface NodeTopology {
  readonly mhz: number;
  readonly nodes: number;
  readonly sockets: number;
  readonly cores: number;
  readonly threads: number;
  readonly cpus: number;
  /** KiB */
  readonly memory: number;
}

/**
 * virHostCPUGetInfo: sockets per node, cores per socket and threads per core as the largest
 * seen; when they do not multiply up to the online CPUs libvirt reports a flat topology.
 */
export function nodeTopology(): NodeTopology {
  const cells = hostCells();
  const cpus = onlineCpus().length;
  let sockets = 0;
  let cores = 0;
  let threads = 0;
  for (const cell of cells) {
    const bySocket = new Map<number, Map<number, number>>();
    for (const c of cell.cpus) {
      const coresOf = bySocket.get(c.socket) ?? new Map<number, number>();
      coresOf.set(c.core, (coresOf.get(c.core) ?? 0) + 1);
      bySocket.set(c.socket, coresOf);
    }
    sockets = Math.max(sockets, bySocket.size);
    for (const coresOf of bySocket.values()) {
      cores = Math.max(cores, coresOf.size);
      for (const n of coresOf.values()) threads = Math.max(threads, n);
    }
  }
  let nodes = cells.length;
  if (nodes * sockets * cores * threads !== cpus) {
    nodes = 1;
    sockets = 1;
    cores = cpus;
    threads = 1;
  }
  const mhz = Math.trunc(Number(cpuinfo().get('cpu MHz') ?? '0')) || 0;
  return { mhz, nodes, sockets, cores, threads, cpus, memory: cells.reduce((s, c) => s + c.memory, 0) };
}

/** USER_HZ on Linux: /proc/stat and /proc/PID/stat count in 1/100 s. */
export const TICK_NS = 10_000_000n;

/** /proc/stat line "cpu" (cpuNum -1) or "cpuN" as libvirt's kernel/user/idle/iowait in ns. */
export function cpuStats(cpuNum: number): [string, bigint][] | undefined {
  const want = cpuNum < 0 ? 'cpu' : `cpu${cpuNum}`;
  for (const line of (readText('/proc/stat') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== want) continue;
    const v = f.slice(1).map((x) => BigInt(x));
    const at = (i: number): bigint => v[i] ?? 0n;
    return [
      ['kernel', (at(2) + at(5) + at(6)) * TICK_NS],
      ['user', (at(0) + at(1)) * TICK_NS],
      ['idle', at(3) * TICK_NS],
      ['iowait', at(4) * TICK_NS],
    ];
  }
  return undefined;
}
