// Host-level procedures of the QEMU driver (virsh nodeinfo, capabilities, domcapabilities,
// freecell, nodememstats, nodecpustats, nodecpumap, maxvcpus, sysinfo), answered from this
// host's /proc and sysfs and the emulators' cached capabilities, with libvirt's errors.
import type { DriverMethods } from '../../api/driver.js';
import { rpcError, VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { kvmUsable } from './caps.js';
import { domainCapabilitiesXml } from './domcaps.js';
import { checkFlags, internalError, invalidArg, systemError } from './errors.js';
import { capabilitiesXml } from './host-caps.js';
import { cpuStats, hostCells, nodeTopology, onlineCpus, parseMeminfo, presentCpus, readText } from './host-sys.js';
import type { QemuDriverState } from './state.js';
import { hostSysinfo } from './sysinfo.js';

/** Errors of libvirt's host utilities: no driver domain and a message without the code's prefix. */
const utilInvalidArg = (message: string): VirError => new VirError({ code: VirErrorNumber.INVALID_ARG, domain: VirErrorDomain.NONE, message, str1: message });

/** libvirt's remote server refuses more than this many cells in one NODE_GET_CELLS_FREE_MEMORY. */
const REMOTE_NODE_MAX_CELLS = 1024;
/** KVM_MAX_VCPUS on x86_64 since Linux 5.15 (libvirt asks the kernel with KVM_CHECK_EXTENSION). */
const KVM_MAX_VCPUS = 1024;

/** A C string in a fixed char array. */
function fixedString(s: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(s).subarray(0, size - 1));
  return out;
}

/** "fill in nparams" protocol: 0 asks for the count; anything else must be exactly it. */
function sizedParams<T>(all: T[], nparams: number, fn: string): { params: T[]; nparams: number } {
  if (nparams === 0) return { params: [], nparams: all.length };
  if (nparams !== all.length) throw utilInvalidArg(`nparams in ${fn} must be ${all.length}`);
  return { params: all, nparams: 0 };
}

export function hostMethods(s: QemuDriverState): DriverMethods {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch;
  return {
    NODE_GET_INFO: () => {
      const t = nodeTopology();
      return {
        model: fixedString(arch, 32), memory: BigInt(t.memory), cpus: t.cpus, mhz: t.mhz,
        nodes: t.nodes, sockets: t.sockets, cores: t.cores, threads: t.threads,
      };
    },
    CONNECT_GET_CAPABILITIES: async () => ({ capabilities: await capabilitiesXml(s.paths.cacheDir) }),
    CONNECT_GET_DOMAIN_CAPABILITIES: async ({ emulatorbin, arch: a, machine, virttype, flags }) => {
      checkFlags('qemuConnectGetDomainCapabilities', flags, 1);
      return { capabilities: await domainCapabilitiesXml({ emulatorbin, arch: a, machine, virttype }, s.paths.cacheDir) };
    },
    NODE_GET_FREE_MEMORY: () => ({ freeMem: BigInt(hostCells().reduce((sum, c) => sum + c.free, 0)) * 1024n }),
    NODE_GET_CELLS_FREE_MEMORY: ({ startCell, maxcells }) => {
      if (maxcells > REMOTE_NODE_MAX_CELLS) throw rpcError('maxCells > REMOTE_NODE_MAX_CELLS');
      const cells = hostCells();
      const last = cells.length - 1;
      if (startCell < 0 || startCell > last) throw internalError(`start cell ${startCell} out of range (0-${last})`, VirErrorDomain.NONE);
      return { cells: cells.slice(startCell, startCell + maxcells).map((c) => BigInt(c.free) * 1024n) };
    },
    NODE_GET_MEMORY_STATS: ({ nparams, cellNum, flags }) => {
      checkFlags('virHostMemGetStats', flags, 0);
      const cells = hostCells();
      const max = cells.length - 1;
      if (cellNum !== -1 && (cellNum < 0 || cellNum > max)) {
        throw utilInvalidArg(`cellNum in virHostMemGetStats must be less than or equal to ${max}`);
      }
      if (cellNum === -1) {
        const mi = parseMeminfo(readText('/proc/meminfo') ?? '');
        const all = (['total:MemTotal', 'free:MemFree', 'buffers:Buffers', 'cached:Cached'] as const).map((p) => {
          const [field, key] = p.split(':') as [string, string];
          return { field, value: BigInt(mi.get(key) ?? 0) };
        });
        return sizedParams(all, nparams, 'virHostMemGetStatsLinux');
      }
      const c = cells.find((x) => x.id === cellNum) ?? cells[cellNum];
      return sizedParams([{ field: 'total', value: BigInt(c?.memory ?? 0) }, { field: 'free', value: BigInt(c?.free ?? 0) }], nparams, 'virHostMemGetStatsLinux');
    },
    NODE_GET_CPU_STATS: ({ cpuNum, nparams, flags }) => {
      checkFlags('virHostCPUGetStats', flags, 0);
      const stats = cpuStats(cpuNum);
      if (!stats || (cpuNum < -1)) throw utilInvalidArg('Invalid cpuNum in virHostCPUGetStatsLinux');
      return sizedParams(stats.map(([field, value]) => ({ field, value })), nparams, 'virHostCPUGetStatsLinux');
    },
    NODE_GET_CPU_MAP: ({ needMap, needOnline, flags }) => {
      checkFlags('virHostCPUGetMap', flags, 0);
      const present = presentCpus();
      const total = (present[present.length - 1] ?? -1) + 1;
      const online = onlineCpus();
      const map = new Uint8Array(Math.ceil(total / 8));
      for (const c of online) if (c < total) map[c >> 3] = (map[c >> 3] ?? 0) | (1 << (c & 7));
      return { cpumap: needMap ? map : new Uint8Array(0), online: needOnline ? online.length : 0, ret: total };
    },
    CONNECT_GET_MAX_VCPUS: async ({ type }) => {
      const t = (type ?? 'qemu').toLowerCase();
      if (t === 'qemu') return { maxVcpus: 16 };
      if (t === 'kqemu') return { maxVcpus: 1 };
      if (t === 'kvm') {
        if (!(await kvmUsable())) throw systemError('Unable to open /dev/kvm', { code: 'ENOENT' });
        return { maxVcpus: KVM_MAX_VCPUS };
      }
      throw invalidArg(`unknown type '${type ?? ''}'`);
    },
    CONNECT_GET_SYSINFO: async ({ flags }) => {
      checkFlags('qemuConnectGetSysinfo', flags, 0);
      return { sysinfo: await hostSysinfo() };
    },
  };
}
