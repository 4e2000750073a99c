// Per-thread and per-interface counters from /proc, as libvirt reads them for vCPU threads
// (/proc/PID/task/TID/{stat,schedstat,status}) and tap devices (/proc/net/dev).
import { readText, parseCpuList, TICK_NS } from './host-sys.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export interface ThreadInfo {
  /** user + system time in ns */
  readonly cpuTime: bigint;
  readonly userNs: bigint;
  readonly systemNs: bigint;
  /** The host CPU it last ran on. */
  readonly processor: number;
  /** Time spent waiting on a run queue (schedstat's second field), ns. */
  readonly delayNs: bigint;
  /** CPUs it may run on. */
  readonly affinity: number[];
}

/** Fields of a stat file after the command name (which may hold spaces and parentheses). */
function statFields(path: string): string[] | undefined {
  const t = readText(path);
  if (t === undefined) return undefined;
  return t.slice(t.lastIndexOf(')') + 2).trim().split(' ');
}

/** Thread `tid` of `pid`, or the whole process when tid is undefined. */
export function threadInfo(pid: number, tid?: number): ThreadInfo | undefined {
  const dir = tid === undefined ? `/proc/${pid}` : `/proc/${pid}/task/${tid}`;
  const f = statFields(`${dir}/stat`);
  if (!f) return undefined;
  // Field numbers from proc(5) minus 3: utime 14, stime 15, processor 39.
  const user = BigInt(f[11] ?? '0') * TICK_NS;
  const system = BigInt(f[12] ?? '0') * TICK_NS;
  const sched = (readText(`${dir}/schedstat`) ?? '').trim().split(/\s+/);
  const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readText(`${dir}/status`) ?? '')?.[1];
  return {
    cpuTime: user + system, userNs: user, systemNs: system,
    processor: Number(f[36] ?? '0'),
    delayNs: /^\d+$/.test(sched[1] ?? '') ? BigInt(sched[1] as string) : 0n,
    affinity: allowed ? parseCpuList(allowed) : [],
  };
}

export interface IfStats {
  rxBytes: bigint; rxPackets: bigint; rxErrs: bigint; rxDrop: bigint;
  txBytes: bigint; txPackets: bigint; txErrs: bigint; txDrop: bigint;
}

/**
 * virNetDevTapInterfaceStats: the host's counters of `ifname`. A tap's host side sees the
 * guest's traffic mirrored, so with `swapped` what the host transmitted is what the guest received.
 */
export function interfaceStats(ifname: string, swapped: boolean): IfStats {
  for (const line of (readText('/proc/net/dev') ?? '').split('\n')) {
    const i = line.indexOf(':');
    if (i < 0 || line.slice(0, i).trim() !== ifname) continue;
    const v = line.slice(i + 1).trim().split(/\s+/).map((x) => BigInt(x));
    const at = (n: number): bigint => v[n] ?? 0n;
    const rx = { bytes: at(0), packets: at(1), errs: at(2), drop: at(3) };
    const tx = { bytes: at(8), packets: at(9), errs: at(10), drop: at(11) };
    const [r, t] = swapped ? [tx, rx] : [rx, tx];
    return {
      rxBytes: r.bytes, rxPackets: r.packets, rxErrs: r.errs, rxDrop: r.drop,
      txBytes: t.bytes, txPackets: t.packets, txErrs: t.errs, txDrop: t.drop,
    };
  }
  throw VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.NONE, 'internal error: %s', `/proc/net/dev: Interface not found`);
}

/** A cpumap of `maplen` bytes with the given CPUs set. */
export function cpumap(cpus: readonly number[], maplen: number): Uint8Array {
  const m = new Uint8Array(maplen);
  for (const c of cpus) if (c >= 0 && c < maplen * 8) m[c >> 3] = (m[c >> 3] ?? 0) | (1 << (c & 7));
  return m;
}
