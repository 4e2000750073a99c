// CONNECT_GET_ALL_DOMAIN_STATS (virsh domstats, virt-manager's polling): libvirt 9.0's QEMU
// groups with its key names and types. Checked against a real libvirtd: state, cpu (total,
// user, system, cache monitors, halt polling), balloon, vcpu, net (interfaces with a host
// device only, the count covers all), block, dirtyrate; perf, iothread, memory and vm add
// nothing for guests this driver starts.
import type { DriverMethods } from '../../api/driver.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { State, type QemuDomain } from './domain-obj.js';
import { checkFlags } from './errors.js';
import { threadInfo, interfaceStats } from './stats-proc.js';
import { diskPath, diskStats, dirtyRate, fileSize, memoryStats, MemTag, qemuImgInfo, vcpuThreads } from './stats-qmp.js';
import { attr } from '../../api/xml/tree.js';
import type { QemuDriverState } from './state.js';

const Group = {
  STATE: 1, CPU: 2, BALLOON: 4, VCPU: 8, INTERFACE: 16, BLOCK: 32, PERF: 64, IOTHREAD: 128, MEMORY: 256, DIRTYRATE: 512, VM: 1024,
} as const;
const ALL_GROUPS = 0x7ff;
const NOWAIT = 1 << 29;
const BACKING = 1 << 30;
const ENFORCE_STATS = 0x80000000;

export const P = {
  int: (field: string, i: number): RemoteTypedParam => ({ field, value: { type: 1, i } }),
  uint: (field: string, ui: number): RemoteTypedParam => ({ field, value: { type: 2, ui } }),
  llong: (field: string, l: bigint): RemoteTypedParam => ({ field, value: { type: 3, l } }),
  ullong: (field: string, ul: bigint): RemoteTypedParam => ({ field, value: { type: 4, ul } }),
  string: (field: string, s: string): RemoteTypedParam => ({ field, value: { type: 7, s } }),
};

/** Balloon keys by memory stat tag (ACTUAL is reported as balloon.current). */
const BALLOON_KEYS: Record<number, string> = {
  0: 'swap_in', 1: 'swap_out', 2: 'major_fault', 3: 'minor_fault', 4: 'unused', 5: 'available', 7: 'rss', 8: 'usable',
  9: 'last-update', 10: 'disk_caches', 11: 'hugetlb_pgalloc', 12: 'hugetlb_pgfail',
};

function matchesFilter(d: QemuDomain, flags: number): boolean {
  const f = (bit: number): boolean => (flags & bit) !== 0;
  if (f(3) && !((f(1) && d.active) || (f(2) && !d.active))) return false;
  if (f(12) && !((f(4) && d.persistent) || (f(8) && !d.persistent))) return false;
  if (f(0xf0)) {
    const st = d.state;
    return (f(0x10) && st === State.RUNNING) || (f(0x20) && st === State.PAUSED) || (f(0x40) && st === State.SHUTOFF)
      || (f(0x80) && st !== State.RUNNING && st !== State.PAUSED && st !== State.SHUTOFF);
  }
  return true;
}

/** One domain's record; a group whose source fails is left out rather than failing the call. */
async function domainStats(d: QemuDomain, groups: number): Promise<RemoteTypedParam[]> {
  const out: RemoteTypedParam[] = [];
  const proc = d.active ? d.proc : null;
  const def = d.def;
  const tryGroup = async (f: () => Promise<void> | void): Promise<void> => {
    try {
      await f();
    } catch {
      // libvirt drops a group whose monitor call failed.
    }
  };
  if (groups & Group.STATE) out.push(P.int('state.state', d.state), P.int('state.reason', d.reason));
  if (groups & Group.CPU && proc) {
    const t = threadInfo(proc.pid);
    if (t) out.push(P.ullong('cpu.time', t.cpuTime), P.ullong('cpu.user', t.userNs), P.ullong('cpu.system', t.systemNs));
    out.push(P.uint('cpu.cache.monitor.count', 0), P.ullong('cpu.haltpoll.success.time', 0n), P.ullong('cpu.haltpoll.fail.time', 0n));
  }
  if (groups & Group.BALLOON) {
    await tryGroup(async () => {
      const stats = proc ? await memoryStats(d, proc) : [];
      const actual = stats.find((s) => s.tag === MemTag.ACTUAL)?.val;
      const rows = [P.ullong('balloon.current', actual ?? def.currentMemoryKiB), P.ullong('balloon.maximum', def.memoryKiB)];
      for (const s of stats) if (BALLOON_KEYS[s.tag] !== undefined) rows.push(P.ullong(`balloon.${BALLOON_KEYS[s.tag]}`, s.val));
      out.push(...rows);
    });
  }
  if (groups & Group.VCPU) {
    const current = def.vcpu.current ?? def.vcpu.count;
    out.push(P.uint('vcpu.current', current), P.uint('vcpu.maximum', def.vcpu.count));
    if (proc) {
      await tryGroup(async () => {
        const threads = await vcpuThreads(d, proc);
        const rows: RemoteTypedParam[] = [];
        for (const [idx, tid] of [...threads].sort((a, b) => a[0] - b[0])) {
          const t = threadInfo(proc.pid, tid);
          rows.push(P.int(`vcpu.${idx}.state`, 1), P.ullong(`vcpu.${idx}.time`, t?.cpuTime ?? 0n),
            P.ullong(`vcpu.${idx}.wait`, 0n), P.ullong(`vcpu.${idx}.delay`, t?.delayNs ?? 0n));
        }
        out.push(...rows);
      });
    }
  }
  if (groups & Group.INTERFACE && proc) {
    out.push(P.uint('net.count', def.devices.nets.length));
    def.devices.nets.forEach((n, i) => {
      if (n.targetDev === undefined || n.type === 'user') return;
      try {
        const s = interfaceStats(n.targetDev, true);
        out.push(P.string(`net.${i}.name`, n.targetDev),
          P.ullong(`net.${i}.rx.bytes`, s.rxBytes), P.ullong(`net.${i}.rx.pkts`, s.rxPackets), P.ullong(`net.${i}.rx.errs`, s.rxErrs), P.ullong(`net.${i}.rx.drop`, s.rxDrop),
          P.ullong(`net.${i}.tx.bytes`, s.txBytes), P.ullong(`net.${i}.tx.pkts`, s.txPackets), P.ullong(`net.${i}.tx.errs`, s.txErrs), P.ullong(`net.${i}.tx.drop`, s.txDrop));
      } catch {
        // The tap is gone: no counters, as libvirt.
      }
    });
  }
  if (groups & Group.BLOCK) {
    await tryGroup(async () => {
      out.push(...(await blockRows(d)));
    });
  }
  if (groups & Group.DIRTYRATE && proc) {
    const r = await dirtyRate(d, proc);
    if (r) {
      out.push(P.int('dirtyrate.calc_status', r.status), P.llong('dirtyrate.calc_start_time', r.startTime),
        P.int('dirtyrate.calc_period', r.period), P.string('dirtyrate.calc_mode', r.mode));
      if (r.mbps !== undefined) out.push(P.llong('dirtyrate.megabytes_per_second', r.mbps));
    }
  }
  return out;
}

async function blockRows(d: QemuDomain): Promise<RemoteTypedParam[]> {
  const disks = d.def.devices.disks;
  const rows: RemoteTypedParam[] = [P.uint('block.count', disks.length)];
  const proc = d.active ? d.proc : null;
  if (proc) {
    for (const s of await diskStats(d, proc)) {
      const i = s.index;
      rows.push(P.string(`block.${i}.name`, s.disk.targetDev));
      if (s.path !== undefined) rows.push(P.string(`block.${i}.path`, s.path), P.uint(`block.${i}.backingIndex`, s.nodeIndex));
      rows.push(
        P.ullong(`block.${i}.rd.reqs`, s.rdReq), P.ullong(`block.${i}.rd.bytes`, s.rdBytes), P.ullong(`block.${i}.rd.times`, s.rdTimes),
        P.ullong(`block.${i}.wr.reqs`, s.wrReq), P.ullong(`block.${i}.wr.bytes`, s.wrBytes), P.ullong(`block.${i}.wr.times`, s.wrTimes),
        P.ullong(`block.${i}.fl.reqs`, s.flReq), P.ullong(`block.${i}.fl.times`, s.flTimes),
      );
      if (s.capacity !== undefined) {
        rows.push(P.ullong(`block.${i}.allocation`, s.wrHighestOffset), P.ullong(`block.${i}.capacity`, s.capacity),
          P.ullong(`block.${i}.physical`, s.actualSize ?? 0n));
      }
    }
    return rows;
  }
  for (const [i, disk] of disks.entries()) {
    rows.push(P.string(`block.${i}.name`, disk.targetDev));
    const path = diskPath(disk);
    if (path === undefined) continue;
    rows.push(P.string(`block.${i}.path`, path));
    // Not open anywhere: the image's own sizes, as libvirt reads them from the file.
    const size = await fileSize(path);
    if (size === undefined) continue;
    const img = await qemuImgInfo(path, attr(disk.driver, 'type') ?? 'raw');
    rows.push(P.ullong(`block.${i}.allocation`, img.actual ?? size), P.ullong(`block.${i}.capacity`, img.virtual ?? size),
      P.ullong(`block.${i}.physical`, size));
  }
  return rows;
}

export function domainStatsMethods(s: QemuDriverState): DriverMethods {
  const find = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);
  return {
    CONNECT_GET_ALL_DOMAIN_STATS: async ({ doms, stats: wanted, flags }) => {
      const f = flags >>> 0;
      checkFlags('qemuConnectGetAllDomainStats', f & ~ENFORCE_STATS, 0xff | NOWAIT | BACKING);
      if (f & ENFORCE_STATS && wanted & ~ALL_GROUPS) {
        throw VirError.format(VirErrorNumber.ARGUMENT_UNSUPPORTED, VirErrorDomain.QEMU, 'argument unsupported: %s',
          `Stats types bits 0x${((wanted & ~ALL_GROUPS) >>> 0).toString(16)} are not supported by this daemon`);
      }
      const groups = wanted === 0 ? ALL_GROUPS : wanted & ALL_GROUPS;
      const list = doms.length ? doms.map(find) : [...s.list.all()];
      const retStats = [];
      for (const d of list.filter((x) => matchesFilter(x, f))) retStats.push({ dom: d.handle(), params: await domainStats(d, groups) });
      return { retStats };
    },
  };
}
