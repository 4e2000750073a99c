// Per-domain statistics of the QEMU driver (virsh domblkstat, domblkinfo, domifstat,
// dommemstat, vcpuinfo, vcpupin, cpu-stats) plus CONNECT_GET_ALL_DOMAIN_STATS (domstats.ts).
// Values come from QMP and /proc; field names, orders, types and errors as libvirt 9.0's.
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import { parseMac } from '../../api/xml/common.js';
import { attr, elementsOf } from '../../api/xml/tree.js';
import { REMOTE_CPUMAPS_MAX, REMOTE_VCPUINFO_MAX, type RemoteNonnullDomain, type RemoteTypedParam } from '../../protocol/gen/remote.js';
import { rpcError, VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { QemuDomain } from './domain-obj.js';
import type { QemuProcess } from './process.js';
import { checkFlags, internalError, invalidArg, notRunning, operationInvalid } from './errors.js';
import { domainStatsMethods, P } from './domstats.js';
import { onlineCpus, parseCpuList, presentCpus } from './host-sys.js';
import { cpumap, interfaceStats, threadInfo } from './stats-proc.js';
import { diskPath, diskStats, fileSize, findDisk, memoryStats, qemuImgInfo, vcpuThreads, type DiskStats } from './stats-qmp.js';
import type { QemuDriverState } from './state.js';

const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
const TYPED_PARAM_STRING_OKAY = 4;
/** REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX */
const BLOCK_STATS_PARAMS_MAX = 16;

/** libvirtd's dispatcher refuses these before any driver runs: code and domain RPC, bare text. */
const rpcLimit = (what: string): VirError => rpcError(what);

/** The counters of one disk, or of all summed when path is '' (libvirt's total). */
async function blockCounters(d: QemuDomain, proc: QemuProcess, path: string): Promise<DiskStats | Omit<DiskStats, 'disk'>> {
  const i = path === '' ? -1 : findDisk(d, path);
  if (path !== '' && i < 0) throw invalidArg(`invalid path: ${path}`);
  const all = await diskStats(d, proc);
  if (i >= 0) return all[i] as DiskStats;
  const sum = (k: 'rdReq' | 'rdBytes' | 'rdTimes' | 'wrReq' | 'wrBytes' | 'wrTimes' | 'flReq' | 'flTimes'): bigint => all.reduce((s, x) => s + x[k], 0n);
  return {
    index: -1, nodeIndex: 0, rdReq: sum('rdReq'), rdBytes: sum('rdBytes'), rdTimes: sum('rdTimes'), wrReq: sum('wrReq'), wrBytes: sum('wrBytes'),
    wrTimes: sum('wrTimes'), flReq: sum('flReq'), flTimes: sum('flTimes'), wrHighestOffset: 0n,
  };
}

/** The CPUs vCPU `n` may run on per the definition: <vcpupin>, else <vcpu cpuset>, else all online. */
function vcpuPinning(def: DomainDef, n: number): number[] {
  for (const ct of def.sections.get('cputune') ?? []) {
    const pin = elementsOf(ct, 'vcpupin').find((p) => attr(p, 'vcpu') === String(n));
    const set = attr(pin, 'cpuset');
    if (set !== undefined) return parseCpuList(set);
  }
  if (def.vcpu.cpuset !== undefined) return parseCpuList(def.vcpu.cpuset);
  return onlineCpus();
}

export function statsMethods(s: QemuDriverState): DriverMethods {
  const find = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);
  const running = (h: RemoteNonnullDomain): { d: QemuDomain; proc: QemuProcess } => {
    const d = find(h);
    if (!d.active || !d.proc) throw notRunning();
    return { d, proc: d.proc };
  };

  return {
    ...domainStatsMethods(s),
    DOMAIN_BLOCK_STATS: async ({ dom, path }) => {
      const { d, proc } = running(dom);
      const c = await blockCounters(d, proc, path);
      return { rdReq: c.rdReq, rdBytes: c.rdBytes, wrReq: c.wrReq, wrBytes: c.wrBytes, errs: -1n };
    },
    DOMAIN_BLOCK_STATS_FLAGS: async ({ dom, path, nparams, flags }) => {
      if (nparams > BLOCK_STATS_PARAMS_MAX) throw rpcLimit('nparams too large');
      checkFlags('qemuDomainBlockStatsFlags', flags, TYPED_PARAM_STRING_OKAY);
      const { d, proc } = running(dom);
      const c = await blockCounters(d, proc, path);
      const all: RemoteTypedParam[] = [
        P.llong('wr_bytes', c.wrBytes), P.llong('wr_operations', c.wrReq), P.llong('rd_bytes', c.rdBytes), P.llong('rd_operations', c.rdReq),
        P.llong('flush_operations', c.flReq), P.llong('wr_total_times', c.wrTimes), P.llong('rd_total_times', c.rdTimes),
        P.llong('flush_total_times', c.flTimes),
      ];
      if (nparams === 0) return { params: [], nparams: all.length };
      return { params: all.slice(0, nparams), nparams: 0 };
    },
    DOMAIN_GET_BLOCK_INFO: async ({ dom, path, flags }) => {
      checkFlags('qemuDomainGetBlockInfo', flags, 0);
      const d = find(dom);
      const i = findDisk(d, path);
      if (i < 0) throw invalidArg(`invalid path ${path} not assigned to domain`);
      const disk = d.def.devices.disks[i];
      const file = disk ? diskPath(disk) : undefined;
      if (file === undefined) throw invalidArg(`disk '${path}' does not currently have a source assigned`);
      const size = await fileSize(file);
      if (d.active && d.proc) {
        const st = (await diskStats(d, d.proc))[i];
        const actual = st?.actualSize ?? 0n;
        let allocation = st?.wrHighestOffset ?? 0n;
        let physical = actual;
        // A file's physical size is the file's, not what QEMU allocated, unless QEMU says more.
        if (actual === 0n || allocation === 0n || allocation === actual) {
          if (allocation === 0n) allocation = actual;
          physical = size ?? actual;
        }
        return { capacity: st?.capacity ?? size ?? 0n, allocation, physical };
      }
      const img = await qemuImgInfo(file, attr(disk?.driver, 'type') ?? 'raw');
      return { capacity: img.virtual ?? size ?? 0n, allocation: img.actual ?? size ?? 0n, physical: size ?? 0n };
    },
    DOMAIN_INTERFACE_STATS: ({ dom, device }) => {
      const { d } = running(dom);
      const mac = parseMac(device);
      const net = d.def.devices.nets.find((n) => (mac !== null ? n.mac.toLowerCase() === mac : n.targetDev === device));
      if (!net) throw invalidArg(`'${device}' is not a known interface`, VirErrorDomain.DOMAIN);
      if (net.targetDev === undefined || net.type === 'user') throw internalError('Interface name not provided', VirErrorDomain.NONE);
      return interfaceStats(net.targetDev, true);
    },
    DOMAIN_MEMORY_STATS: async ({ dom, maxStats, flags }) => {
      checkFlags('qemuDomainMemoryStats', flags, 0);
      const { d, proc } = running(dom);
      return { stats: (await memoryStats(d, proc)).slice(0, maxStats) };
    },
    DOMAIN_GET_VCPUS: async ({ dom, maxinfo, maplen }) => {
      if (maxinfo > REMOTE_VCPUINFO_MAX) throw rpcLimit('maxinfo > REMOTE_VCPUINFO_MAX');
      if (maxinfo * maplen > REMOTE_CPUMAPS_MAX) throw rpcLimit('maxinfo * maplen > REMOTE_CPUMAPS_MAX');
      if (maplen <= 0) throw invalidArg(`maplen ${maplen} must be positive`, VirErrorDomain.DOMAIN);
      const d = find(dom);
      if (!d.active || !d.proc) throw operationInvalid('cannot retrieve vcpu information for inactive domain');
      const proc = d.proc;
      const threads = [...(await vcpuThreads(d, proc))].sort((a, b) => a[0] - b[0]).slice(0, maxinfo);
      const maps = new Uint8Array(threads.length * maplen);
      const info = threads.map(([n, tid], k) => {
        const t = threadInfo(proc.pid, tid);
        maps.set(cpumap(t?.affinity ?? [], maplen), k * maplen);
        return { number: n, state: 1, cpuTime: t?.cpuTime ?? 0n, cpu: t?.processor ?? -1 };
      });
      return { info, cpumaps: maps };
    },
    DOMAIN_GET_VCPU_PIN_INFO: ({ dom, ncpumaps, maplen, flags }) => {
      if (ncpumaps > REMOTE_VCPUINFO_MAX) throw rpcLimit('ncpumaps > REMOTE_VCPUINFO_MAX');
      if (ncpumaps * maplen > REMOTE_CPUMAPS_MAX) throw rpcLimit('maxinfo * maplen > REMOTE_CPUMAPS_MAX');
      if (maplen <= 0) throw invalidArg(`maplen ${maplen} must be positive`, VirErrorDomain.DOMAIN);
      checkFlags('qemuDomainGetVcpuPinInfo', flags, AFFECT_LIVE | AFFECT_CONFIG);
      const d = find(dom);
      let config = (flags & AFFECT_CONFIG) !== 0;
      if ((flags & AFFECT_LIVE) && config) throw invalidArg("invalid flag combination 'live' and 'config'", VirErrorDomain.DOMAIN);
      if (flags & AFFECT_LIVE && !d.active) throw operationInvalid('domain is not running', VirErrorDomain.DOMAIN);
      if (!(flags & (AFFECT_LIVE | AFFECT_CONFIG))) config = !d.active;
      const def = config && d.newDef ? d.newDef : d.def;
      const num = Math.min(ncpumaps, def.vcpu.count);
      const maps = new Uint8Array(num * maplen);
      for (let n = 0; n < num; n++) maps.set(cpumap(vcpuPinning(def, n), maplen), n * maplen);
      return { cpumaps: maps, num };
    },
    DOMAIN_GET_CPU_STATS: ({ dom, nparams, startCpu, ncpus, flags }) => {
      checkFlags('qemuDomainGetCPUStats', flags, TYPED_PARAM_STRING_OKAY);
      const { proc } = running(dom);
      if (startCpu === -1) {
        const t = threadInfo(proc.pid);
        const all = [P.ullong('cpu_time', t?.cpuTime ?? 0n), P.ullong('user_time', t?.userNs ?? 0n), P.ullong('system_time', t?.systemNs ?? 0n)];
        if (nparams === 0) return { params: [], nparams: all.length };
        const params = all.slice(0, nparams);
        return { params, nparams: params.length };
      }
      if (ncpus === 0) return { params: [], nparams: (presentCpus().at(-1) ?? -1) + 1 };
      if (nparams === 0) return { params: [], nparams: 2 };
      // Per-CPU time comes from cgroup v1's cpuacct, which a cgroup v2 host (Debian 12) lacks.
      throw VirError.format(VirErrorNumber.OPERATION_UNSUPPORTED, VirErrorDomain.CGROUP, 'Operation not supported: %s',
        "operation 'getCpuacctPercpuUsage' not supported for backend 'cgroup V2'");
    },
  };
}
