/**
 * A domain: its wire handle (name, UUID, id are read from it without a round trip, as libvirt
 * does) and one method per domain API. Flags default to 0, options to none.
 */
import { resolve } from 'node:path';
import { ApiCore, uuidToString, type CallOptions } from './core.js';
import type { DomainChannelFlags, DomainConsoleFlags, DomainSnapshotCreateFlags, DomainSnapshotListFlags } from './flags.js';
import {
  charArrayText,
  cpuMapBits,
  typedParamsFromWire,
  typedParamsToWire,
  type DomainBlockInfo,
  type DomainBlockStats,
  type DomainInfo,
  type DomainInterfaceStats,
  type DomainJobInfo,
  type DomainMemoryStat,
  type DomainStateInfo,
  type SecurityLabel,
  type TypedParameters,
  type VcpuInfo,
} from './info.js';
import { agentCommand, domainQmp, monitorCommand, QemuAgentCommandTimeout, type QemuMonitorCommandOptions } from './qemu.js';
import { DomainCheckpoint } from './checkpoint.js';
import { DomainSnapshot } from './snapshot.js';
import { Stream, type StreamOptions } from './stream.js';
import type { RemoteNonnullDomain } from '../protocol/gen/remote.js';
import type { QmpClient, QmpClientOptions } from '../qmp/index.js';

/** VIR_DOMAIN_MEMORY_STAT_NR: how many statistics libvirt asks for. */
const MEMORY_STAT_NR = 13;
/** libvirt's list limits for the legacy name lists (REMOTE_*_LIST_MAX). */
const LIST_MAX = 16384;
/** VIR_DOMAIN_SCHED_FIELD_LENGTH-era limit on scheduler parameters (REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX). */
const SCHED_PARAMS_MAX = 16;
/** REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX: host CPUs per DOMAIN_GET_CPU_STATS call. */
const CPU_STATS_CHUNK = 128;

/** Booleans as a CPU bitmap (bit i of byte i/8 = CPU i). */
function cpuMapBytes(cpus: readonly boolean[]): Uint8Array {
  const map = new Uint8Array(Math.ceil(cpus.length / 8));
  cpus.forEach((on, i) => {
    if (on) map[i >> 3]! |= 1 << (i & 7);
  });
  return map;
}

export class Domain {
  private h: RemoteNonnullDomain;

  constructor(
    private readonly core: ApiCore,
    handle: RemoteNonnullDomain,
  ) {
    this.h = { name: handle.name, uuid: handle.uuid, id: handle.id };
  }

  /** The wire handle (a copy). */
  get handle(): RemoteNonnullDomain {
    return { ...this.h };
  }
  get name(): string {
    return this.h.name;
  }
  get uuid(): string {
    return uuidToString(this.h.uuid);
  }
  get uuidBytes(): Uint8Array {
    return this.h.uuid;
  }
  /** The id when it was last learnt; -1 for an inactive domain. */
  get id(): number {
    return this.h.id;
  }

  private get dom(): RemoteNonnullDomain {
    return this.h;
  }

  async info(o?: CallOptions): Promise<DomainInfo> {
    const r = await this.core.call('DOMAIN_GET_INFO', { dom: this.dom }, o);
    return { state: r.state, maxMem: r.maxMem, memory: r.memory, nrVirtCpu: r.nrVirtCpu, cpuTime: r.cpuTime };
  }

  async state(flags = 0, o?: CallOptions): Promise<DomainStateInfo> {
    const r = await this.core.call('DOMAIN_GET_STATE', { dom: this.dom, flags }, o);
    return { state: r.state, reason: r.reason };
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_GET_XML_DESC', { dom: this.dom, flags }, o)).xml;
  }

  /**
   * Starts the domain (virDomainCreate / virDomainCreateWithFlags); the handle's id is refreshed
   * as libvirt's client does (a lookup by UUID after a flag-less start).
   */
  async create(flags?: number, o?: CallOptions): Promise<void> {
    if (flags !== undefined) {
      this.h = (await this.core.call('DOMAIN_CREATE_WITH_FLAGS', { dom: this.dom, flags }, o)).dom;
      return;
    }
    await this.core.call('DOMAIN_CREATE', { dom: this.dom }, o);
    this.h = (await this.core.call('DOMAIN_LOOKUP_BY_UUID', { uuid: this.h.uuid }, o)).dom;
  }

  /** Alias of create(). */
  start(flags?: number, o?: CallOptions): Promise<void> {
    return this.create(flags, o);
  }

  async destroy(flags?: number, o?: CallOptions): Promise<void> {
    if (flags !== undefined) {
      // libvirt's remote driver keeps the id after virDomainDestroyFlags.
      await this.core.call('DOMAIN_DESTROY_FLAGS', { dom: this.dom, flags }, o);
      return;
    }
    await this.core.call('DOMAIN_DESTROY', { dom: this.dom }, o);
    // It forgets the id after virDomainDestroy, virDomainSave and virDomainManagedSave only.
    this.h = { ...this.h, id: -1 };
  }

  async shutdown(flags?: number, o?: CallOptions): Promise<void> {
    if (flags === undefined) await this.core.call('DOMAIN_SHUTDOWN', { dom: this.dom }, o);
    else await this.core.call('DOMAIN_SHUTDOWN_FLAGS', { dom: this.dom, flags }, o);
  }

  async reboot(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_REBOOT', { dom: this.dom, flags }, o);
  }

  async reset(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_RESET', { dom: this.dom, flags }, o);
  }

  /** A picture of `screen` (virDomainScreenshot): the MIME type the driver chose and the image. */
  async screenshot(screen = 0, flags = 0, o: CallOptions & StreamOptions = {}): Promise<{ mime: string | null; data: Uint8Array }> {
    const { ret, stream } = await this.core.openStream('DOMAIN_SCREENSHOT', { dom: this.dom, screen, flags }, o);
    return { mime: ret.mime, data: await new Stream(stream, 'virDomainScreenshot', false, o).readAll() };
  }

  /** The console `devName` (null: the first one) as a two-way stream (virDomainOpenConsole). */
  async openConsole(devName: string | null = null, flags: DomainConsoleFlags | number = 0, o: CallOptions & StreamOptions = {}): Promise<Stream> {
    const { stream } = await this.core.openStream('DOMAIN_OPEN_CONSOLE', { dom: this.dom, devName, flags }, o);
    return new Stream(stream, 'virDomainOpenConsole', false, o);
  }

  /** The channel `name` (null: the first one) as a two-way stream (virDomainOpenChannel). */
  async openChannel(name: string | null = null, flags: DomainChannelFlags | number = 0, o: CallOptions & StreamOptions = {}): Promise<Stream> {
    const { stream } = await this.core.openStream('DOMAIN_OPEN_CHANNEL', { dom: this.dom, name, flags }, o);
    return new Stream(stream, 'virDomainOpenChannel', false, o);
  }

  async suspend(o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SUSPEND', { dom: this.dom }, o);
  }

  async resume(o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_RESUME', { dom: this.dom }, o);
  }

  async undefine(flags?: number, o?: CallOptions): Promise<void> {
    if (flags === undefined) await this.core.call('DOMAIN_UNDEFINE', { dom: this.dom }, o);
    else await this.core.call('DOMAIN_UNDEFINE_FLAGS', { dom: this.dom, flags }, o);
  }

  /** Hot-plugs or defines a device (virDomainAttachDevice without flags, virDomainAttachDeviceFlags with). */
  async attachDevice(xml: string, flags?: number, o?: CallOptions): Promise<void> {
    if (flags === undefined) await this.core.call('DOMAIN_ATTACH_DEVICE', { dom: this.dom, xml }, o);
    else await this.core.call('DOMAIN_ATTACH_DEVICE_FLAGS', { dom: this.dom, xml, flags }, o);
  }

  /** Removes the device `xml` describes (virDomainDetachDevice / virDomainDetachDeviceFlags). */
  async detachDevice(xml: string, flags?: number, o?: CallOptions): Promise<void> {
    if (flags === undefined) await this.core.call('DOMAIN_DETACH_DEVICE', { dom: this.dom, xml }, o);
    else await this.core.call('DOMAIN_DETACH_DEVICE_FLAGS', { dom: this.dom, xml, flags }, o);
  }

  /** Removes the device with the alias `alias` (virDomainDetachDeviceAlias). */
  async detachDeviceAlias(alias: string, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_DETACH_DEVICE_ALIAS', { dom: this.dom, alias, flags }, o);
  }

  /** Changes a device in place (virDomainUpdateDeviceFlags). */
  async updateDevice(xml: string, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_UPDATE_DEVICE_FLAGS', { dom: this.dom, xml, flags }, o);
  }

  async autostart(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_GET_AUTOSTART', { dom: this.dom }, o)).autostart !== 0;
  }

  async setAutostart(autostart: boolean, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_AUTOSTART', { dom: this.dom, autostart: autostart ? 1 : 0 }, o);
  }

  async isActive(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_IS_ACTIVE', { dom: this.dom }, o)).active !== 0;
  }

  async isPersistent(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_IS_PERSISTENT', { dom: this.dom }, o)).persistent !== 0;
  }

  async isUpdated(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_IS_UPDATED', { dom: this.dom }, o)).updated !== 0;
  }

  async osType(o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_GET_OS_TYPE', { dom: this.dom }, o)).type;
  }

  async hostname(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_GET_HOSTNAME', { dom: this.dom, flags }, o)).hostname;
  }

  /** KiB. */
  async maxMemory(o?: CallOptions): Promise<bigint> {
    return (await this.core.call('DOMAIN_GET_MAX_MEMORY', { dom: this.dom }, o)).memory;
  }

  async setMaxMemory(kib: bigint | number, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_MAX_MEMORY', { dom: this.dom, memory: BigInt(kib) }, o);
  }

  /** virDomainSetMemory (no flags: the live domain) or virDomainSetMemoryFlags (DomainMemoryModFlags). KiB. */
  async setMemory(kib: bigint | number, flags?: number, o?: CallOptions): Promise<void> {
    if (flags === undefined) await this.core.call('DOMAIN_SET_MEMORY', { dom: this.dom, memory: BigInt(kib) }, o);
    else await this.core.call('DOMAIN_SET_MEMORY_FLAGS', { dom: this.dom, memory: BigInt(kib), flags }, o);
  }

  async maxVcpus(o?: CallOptions): Promise<number> {
    return (await this.core.call('DOMAIN_GET_MAX_VCPUS', { dom: this.dom }, o)).num;
  }

  /** virDomainGetVcpusFlags (DomainVcpuFlags). */
  async vcpus(flags = 0, o?: CallOptions): Promise<number> {
    return (await this.core.call('DOMAIN_GET_VCPUS_FLAGS', { dom: this.dom, flags }, o)).num;
  }

  /** virDomainSetVcpus (no flags) or virDomainSetVcpusFlags. */
  async setVcpus(count: number, flags?: number, o?: CallOptions): Promise<void> {
    if (flags === undefined) await this.core.call('DOMAIN_SET_VCPUS', { dom: this.dom, nvcpus: count }, o);
    else await this.core.call('DOMAIN_SET_VCPUS_FLAGS', { dom: this.dom, nvcpus: count, flags }, o);
  }

  /**
   * virDomainGetVcpus: per-vCPU state and affinity. Needs the host CPU count to size the maps;
   * asks the node's CPU map for it when not given (as libvirt-python does).
   */
  async vcpuInfo(hostCpus?: number, o?: CallOptions): Promise<VcpuInfo[]> {
    const cpus = hostCpus ?? (await this.core.call('NODE_GET_CPU_MAP', { needMap: 0, needOnline: 0, flags: 0 }, o)).ret;
    const count = (await this.info(o)).nrVirtCpu;
    const maplen = Math.ceil(cpus / 8);
    const r = await this.core.call('DOMAIN_GET_VCPUS', { dom: this.dom, maxinfo: count, maplen }, o);
    return r.info.map((v, i) => ({
      number: v.number,
      state: v.state,
      cpuTime: v.cpuTime,
      cpu: v.cpu,
      affinity: cpuMapBits(r.cpumaps.subarray(i * maplen, (i + 1) * maplen), cpus),
    }));
  }

  async managedSave(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_MANAGED_SAVE', { dom: this.dom, flags }, o);
    this.h = { ...this.h, id: -1 };
  }

  async hasManagedSaveImage(flags = 0, o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_HAS_MANAGED_SAVE_IMAGE', { dom: this.dom, flags }, o)).result !== 0;
  }

  async managedSaveRemove(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_MANAGED_SAVE_REMOVE', { dom: this.dom, flags }, o);
  }

  /** virDomainSave (no dxml, no flags) or virDomainSaveFlags; a relative path is the caller's, as libvirt makes it absolute. */
  async save(path: string, opts: { dxml?: string; flags?: number } = {}, o?: CallOptions): Promise<void> {
    const to = resolve(path);
    if (opts.dxml === undefined && opts.flags === undefined) {
      await this.core.call('DOMAIN_SAVE', { dom: this.dom, to }, o);
      this.h = { ...this.h, id: -1 };
    } else await this.core.call('DOMAIN_SAVE_FLAGS', { dom: this.dom, to, dxml: opts.dxml ?? null, flags: opts.flags ?? 0 }, o);
  }

  async memoryStats(flags = 0, o?: CallOptions): Promise<DomainMemoryStat[]> {
    const r = await this.core.call('DOMAIN_MEMORY_STATS', { dom: this.dom, maxStats: MEMORY_STAT_NR, flags }, o);
    return r.stats.map((s) => ({ tag: s.tag, value: s.val }));
  }

  async blockStats(path: string, o?: CallOptions): Promise<DomainBlockStats> {
    const r = await this.core.call('DOMAIN_BLOCK_STATS', { dom: this.dom, path }, o);
    return { rdReq: r.rdReq, rdBytes: r.rdBytes, wrReq: r.wrReq, wrBytes: r.wrBytes, errs: r.errs };
  }

  /** virDomainBlockStatsFlags: the disk's statistics by name (rd_bytes, flush_total_times, ...), as the driver lists them. */
  async blockStatsFlags(path: string, flags = 0, o?: CallOptions): Promise<TypedParameters> {
    const f = flags | (await this.core.stringParamsOkay(o));
    const { nparams } = await this.core.call('DOMAIN_BLOCK_STATS_FLAGS', { dom: this.dom, path, nparams: 0, flags: f }, o);
    if (nparams === 0) return {};
    return typedParamsFromWire((await this.core.call('DOMAIN_BLOCK_STATS_FLAGS', { dom: this.dom, path, nparams, flags: f }, o)).params);
  }

  /**
   * virDomainGetCPUStats as libvirt-python's getCPUStats(total) calls it: `total` gives one record
   * for the whole domain (start_cpu -1), otherwise one record per host CPU, asked in chunks of
   * REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX. A host CPU the daemon sent nothing for is an empty record.
   */
  async cpuStats(total: boolean, flags = 0, o?: CallOptions): Promise<TypedParameters[]> {
    const ask = (nparams: number, startCpu: number, ncpus: number) =>
      this.core.call('DOMAIN_GET_CPU_STATS', { dom: this.dom, nparams, startCpu, ncpus, flags }, o);
    if (total) {
      const { nparams } = await ask(0, -1, 1);
      return [typedParamsFromWire((await ask(nparams, -1, 1)).params)];
    }
    const ncpus = (await ask(0, 0, 0)).nparams;
    const nparams = (await ask(0, 0, 1)).nparams;
    const out: TypedParameters[] = [];
    for (let start = 0; start < ncpus; start += CPU_STATS_CHUNK) {
      const count = Math.min(CPU_STATS_CHUNK, ncpus - start);
      const r = await ask(nparams, start, count);
      for (let i = 0; i < count; i++) {
        const stride = r.nparams > 0 ? r.params.slice(i * r.nparams, (i + 1) * r.nparams) : [];
        out.push(typedParamsFromWire(stride));
      }
    }
    return out;
  }

  async interfaceStats(device: string, o?: CallOptions): Promise<DomainInterfaceStats> {
    return { ...(await this.core.call('DOMAIN_INTERFACE_STATS', { dom: this.dom, device }, o)) };
  }

  async blockInfo(path: string, flags = 0, o?: CallOptions): Promise<DomainBlockInfo> {
    const r = await this.core.call('DOMAIN_GET_BLOCK_INFO', { dom: this.dom, path, flags }, o);
    return { capacity: r.capacity, allocation: r.allocation, physical: r.physical };
  }

  async securityLabel(o?: CallOptions): Promise<SecurityLabel> {
    const r = await this.core.call('DOMAIN_GET_SECURITY_LABEL', { dom: this.dom }, o);
    return { label: charArrayText(r.label), enforcing: r.enforcing !== 0 };
  }

  async messages(flags = 0, o?: CallOptions): Promise<string[]> {
    return (await this.core.call('DOMAIN_GET_MESSAGES', { dom: this.dom, flags }, o)).msgs;
  }

  /** The scheduler's name and how many parameters it has. */
  async schedulerType(o?: CallOptions): Promise<{ type: string; nparams: number }> {
    const r = await this.core.call('DOMAIN_GET_SCHEDULER_TYPE', { dom: this.dom }, o);
    return { type: r.type, nparams: r.nparams };
  }

  /** virDomainGetSchedulerParameters (no flags) or ...Flags. */
  async schedulerParameters(flags?: number, o?: CallOptions): Promise<TypedParameters> {
    const { nparams } = await this.schedulerType(o);
    const n = Math.min(nparams, SCHED_PARAMS_MAX);
    const r =
      flags === undefined
        ? await this.core.call('DOMAIN_GET_SCHEDULER_PARAMETERS', { dom: this.dom, nparams: n }, o)
        : await this.core.call('DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS', { dom: this.dom, nparams: n, flags: flags | (await this.core.stringParamsOkay(o)) }, o);
    return typedParamsFromWire(r.params);
  }

  async setSchedulerParameters(params: TypedParameters, flags?: number, o?: CallOptions): Promise<void> {
    const wire = typedParamsToWire(params);
    if (flags === undefined) await this.core.call('DOMAIN_SET_SCHEDULER_PARAMETERS', { dom: this.dom, params: wire }, o);
    else await this.core.call('DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS', { dom: this.dom, params: wire, flags }, o);
  }

  // Tuning, pinning, metadata and job queries (virsh's domain commands).

  /** A typed-parameter getter called as libvirt's clients do: first for the count, then for the values. */
  private async paramGetter(proc: 'DOMAIN_GET_MEMORY_PARAMETERS' | 'DOMAIN_GET_BLKIO_PARAMETERS' | 'DOMAIN_GET_NUMA_PARAMETERS', flags: number, o?: CallOptions): Promise<TypedParameters> {
    const f = flags | (await this.core.stringParamsOkay(o));
    const { nparams } = await this.core.call(proc, { dom: this.dom, nparams: 0, flags: f }, o);
    if (nparams === 0) return {};
    return typedParamsFromWire((await this.core.call(proc, { dom: this.dom, nparams, flags: f }, o)).params);
  }

  async memoryParameters(flags = 0, o?: CallOptions): Promise<TypedParameters> {
    return this.paramGetter('DOMAIN_GET_MEMORY_PARAMETERS', flags, o);
  }

  async setMemoryParameters(params: TypedParameters, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_MEMORY_PARAMETERS', { dom: this.dom, params: typedParamsToWire(params), flags }, o);
  }

  async blkioParameters(flags = 0, o?: CallOptions): Promise<TypedParameters> {
    return this.paramGetter('DOMAIN_GET_BLKIO_PARAMETERS', flags, o);
  }

  async setBlkioParameters(params: TypedParameters, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_BLKIO_PARAMETERS', { dom: this.dom, params: typedParamsToWire(params), flags }, o);
  }

  async numaParameters(flags = 0, o?: CallOptions): Promise<TypedParameters> {
    return this.paramGetter('DOMAIN_GET_NUMA_PARAMETERS', flags, o);
  }

  async setNumaParameters(params: TypedParameters, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_NUMA_PARAMETERS', { dom: this.dom, params: typedParamsToWire(params), flags }, o);
  }

  /** virDomainGetVcpuPinInfo: one host-CPU bitmap per vCPU (`vcpus` of them, `hostCpus` bits each). */
  async vcpuPinInfo(vcpus: number, hostCpus: number, flags = 0, o?: CallOptions): Promise<boolean[][]> {
    const maplen = Math.ceil(hostCpus / 8);
    const r = await this.core.call('DOMAIN_GET_VCPU_PIN_INFO', { dom: this.dom, ncpumaps: vcpus, maplen, flags }, o);
    return Array.from({ length: r.num }, (_, i) => cpuMapBits(r.cpumaps.subarray(i * maplen, (i + 1) * maplen), hostCpus));
  }

  /** virDomainPinVcpuFlags; `cpus` is the bitmap as booleans. */
  async pinVcpu(vcpu: number, cpus: readonly boolean[], flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_PIN_VCPU_FLAGS', { dom: this.dom, vcpu, cpumap: cpuMapBytes(cpus), flags }, o);
  }

  /** virDomainGetEmulatorPinInfo: the emulator threads' host-CPU bitmap. */
  async emulatorPinInfo(hostCpus: number, flags = 0, o?: CallOptions): Promise<boolean[]> {
    const r = await this.core.call('DOMAIN_GET_EMULATOR_PIN_INFO', { dom: this.dom, maplen: Math.ceil(hostCpus / 8), flags }, o);
    return cpuMapBits(r.cpumaps, hostCpus);
  }

  async pinEmulator(cpus: readonly boolean[], flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_PIN_EMULATOR', { dom: this.dom, cpumap: cpuMapBytes(cpus), flags }, o);
  }

  /** virDomainGetMetadata (type: 0 description, 1 title, 2 element under `uri`). */
  async metadata(type: number, uri: string | null = null, flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_GET_METADATA', { dom: this.dom, type, uri, flags }, o)).metadata;
  }

  async setMetadata(type: number, metadata: string | null, key: string | null = null, uri: string | null = null, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_METADATA', { dom: this.dom, type, metadata, key, uri, flags }, o);
  }

  /** virDomainRename; the handle takes the new name. */
  async rename(newName: string, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_RENAME', { dom: this.dom, newName, flags }, o);
    this.h = { ...this.h, name: newName };
  }

  /** virDomainGetTime: guest time as seconds and nanoseconds since the epoch. */
  async time(flags = 0, o?: CallOptions): Promise<{ seconds: bigint; nseconds: number }> {
    const r = await this.core.call('DOMAIN_GET_TIME', { dom: this.dom, flags }, o);
    return { seconds: r.seconds, nseconds: r.nseconds };
  }

  async setTime(seconds: bigint, nseconds = 0, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_TIME', { dom: this.dom, seconds, nseconds, flags }, o);
  }

  /** virDomainGetJobInfo (the older call): the job type and its counters (virDomainJobInfo's fields, in its order). */
  async jobInfo(o?: CallOptions): Promise<DomainJobInfo> {
    const r = await this.core.call('DOMAIN_GET_JOB_INFO', { dom: this.dom }, o);
    return {
      type: r.type, timeElapsed: r.timeElapsed, timeRemaining: r.timeRemaining,
      dataTotal: r.dataTotal, dataProcessed: r.dataProcessed, dataRemaining: r.dataRemaining,
      memTotal: r.memTotal, memProcessed: r.memProcessed, memRemaining: r.memRemaining,
      fileTotal: r.fileTotal, fileProcessed: r.fileProcessed, fileRemaining: r.fileRemaining,
    };
  }

  async managedSaveXml(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_MANAGED_SAVE_GET_XML_DESC', { dom: this.dom, flags }, o)).xml;
  }

  async managedSaveDefineXml(dxml: string | null, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_MANAGED_SAVE_DEFINE_XML', { dom: this.dom, dxml, flags }, o);
  }

  /** virDomainGetJobStats: the job type and its statistics. */
  async jobStats(flags = 0, o?: CallOptions): Promise<{ type: number; params: TypedParameters }> {
    const r = await this.core.call('DOMAIN_GET_JOB_STATS', { dom: this.dom, flags }, o);
    return { type: r.type, params: typedParamsFromWire(r.params) };
  }

  /** virDomainGetFSInfo (guest agent). */
  async fsInfo(flags = 0, o?: CallOptions): Promise<{ mountpoint: string; name: string; fstype: string; devAliases: string[] }[]> {
    return (await this.core.call('DOMAIN_GET_FSINFO', { dom: this.dom, flags }, o)).info.map((f) => ({ ...f }));
  }

  // Snapshots.

  async createSnapshot(xml: string, flags: DomainSnapshotCreateFlags | number = 0, o?: CallOptions): Promise<DomainSnapshot> {
    const r = await this.core.call('DOMAIN_SNAPSHOT_CREATE_XML', { dom: this.dom, xmlDesc: xml, flags }, o);
    return new DomainSnapshot(this.core, r.snap);
  }

  async snapshotLookupByName(name: string, flags = 0, o?: CallOptions): Promise<DomainSnapshot> {
    const r = await this.core.call('DOMAIN_SNAPSHOT_LOOKUP_BY_NAME', { dom: this.dom, name, flags }, o);
    return new DomainSnapshot(this.core, r.snap);
  }

  async currentSnapshot(flags = 0, o?: CallOptions): Promise<DomainSnapshot> {
    const r = await this.core.call('DOMAIN_SNAPSHOT_CURRENT', { dom: this.dom, flags }, o);
    return new DomainSnapshot(this.core, r.snap);
  }

  async hasCurrentSnapshot(flags = 0, o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_HAS_CURRENT_SNAPSHOT', { dom: this.dom, flags }, o)).result !== 0;
  }

  async snapshotNum(flags: DomainSnapshotListFlags | number = 0, o?: CallOptions): Promise<number> {
    return (await this.core.call('DOMAIN_SNAPSHOT_NUM', { dom: this.dom, flags }, o)).num;
  }

  async snapshotListNames(flags: DomainSnapshotListFlags | number = 0, o?: CallOptions): Promise<string[]> {
    return (await this.core.call('DOMAIN_SNAPSHOT_LIST_NAMES', { dom: this.dom, maxnames: LIST_MAX, flags }, o)).names;
  }

  /** Every snapshot as an object, in one round trip. */
  async listAllSnapshots(flags: DomainSnapshotListFlags | number = 0, o?: CallOptions): Promise<DomainSnapshot[]> {
    const r = await this.core.call('DOMAIN_LIST_ALL_SNAPSHOTS', { dom: this.dom, needResults: 1, flags }, o);
    return r.snapshots.map((s) => new DomainSnapshot(this.core, s));
  }

  // Guest interfaces, power management, keys, jobs, lifecycle actions.

  /** virDomainInterfaceAddresses; `source` is VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_* (0 lease, 1 agent, 2 arp). */
  async interfaceAddresses(source = 0, flags = 0, o?: CallOptions): Promise<{ name: string; hwaddr: string | null; addrs: { type: number; addr: string; prefix: number }[] }[]> {
    const r = await this.core.call('DOMAIN_INTERFACE_ADDRESSES', { dom: this.dom, source, flags }, o);
    return r.ifaces.map((i) => ({ name: i.name, hwaddr: i.hwaddr, addrs: i.addrs.map((a) => ({ ...a })) }));
  }

  async abortJob(o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_ABORT_JOB', { dom: this.dom }, o);
  }

  /** virDomainAbortJobFlags (VIR_DOMAIN_ABORT_JOB_POSTCOPY = 1). */
  async abortJobFlags(flags: number, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_ABORT_JOB_FLAGS', { dom: this.dom, flags }, o);
  }

  async pmSuspendForDuration(target: number, duration: bigint | number, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_PM_SUSPEND_FOR_DURATION', { dom: this.dom, target, duration: BigInt(duration), flags }, o);
  }

  async pmWakeup(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_PM_WAKEUP', { dom: this.dom, flags }, o);
  }

  async injectNmi(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_INJECT_NMI', { dom: this.dom, flags }, o);
  }

  async sendKey(codeset: number, holdtime: number, keycodes: readonly number[], flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SEND_KEY', { dom: this.dom, codeset, holdtime, keycodes: [...keycodes], flags }, o);
  }

  /** virDomainGetDiskErrors: every disk with an error (virDomainDiskErrorCode). */
  async diskErrors(flags = 0, o?: CallOptions): Promise<{ disk: string; error: number }[]> {
    const { nerrors } = await this.core.call('DOMAIN_GET_DISK_ERRORS', { dom: this.dom, maxerrors: 0, flags }, o);
    if (nerrors === 0) return [];
    const r = await this.core.call('DOMAIN_GET_DISK_ERRORS', { dom: this.dom, maxerrors: nerrors, flags }, o);
    return r.errors.map((e) => ({ ...e }));
  }

  async controlInfo(flags = 0, o?: CallOptions): Promise<{ state: number; details: number; stateTime: bigint }> {
    const r = await this.core.call('DOMAIN_GET_CONTROL_INFO', { dom: this.dom, flags }, o);
    return { state: r.state, details: r.details, stateTime: r.stateTime };
  }

  async setLifecycleAction(type: number, action: number, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SET_LIFECYCLE_ACTION', { dom: this.dom, type, action, flags }, o);
  }

  async blockResize(disk: string, size: bigint | number, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_BLOCK_RESIZE', { dom: this.dom, disk, size: BigInt(size), flags }, o);
  }

  // Checkpoints.

  async createCheckpoint(xml: string, flags = 0, o?: CallOptions): Promise<DomainCheckpoint> {
    const r = await this.core.call('DOMAIN_CHECKPOINT_CREATE_XML', { dom: this.dom, xmlDesc: xml, flags }, o);
    return new DomainCheckpoint(this.core, r.checkpoint);
  }

  async checkpointLookupByName(name: string, flags = 0, o?: CallOptions): Promise<DomainCheckpoint> {
    const r = await this.core.call('DOMAIN_CHECKPOINT_LOOKUP_BY_NAME', { dom: this.dom, name, flags }, o);
    return new DomainCheckpoint(this.core, r.checkpoint);
  }

  async listAllCheckpoints(flags = 0, o?: CallOptions): Promise<DomainCheckpoint[]> {
    const r = await this.core.call('DOMAIN_LIST_ALL_CHECKPOINTS', { dom: this.dom, needResults: 1, flags }, o);
    return r.checkpoints.map((c) => new DomainCheckpoint(this.core, c));
  }

  // QEMU (libvirt-qemu's API; QEMU drivers only).

  /** virDomainQemuMonitorCommand: a QMP command as JSON text (or an HMP line with `hmp`); QEMU's reply text. */
  qemuMonitorCommand(cmd: string, o?: QemuMonitorCommandOptions): Promise<string> {
    return monitorCommand(this.core, this.dom, cmd, o);
  }

  /** virDomainQemuAgentCommand: a guest-agent command (JSON text); seconds or a QemuAgentCommandTimeout. */
  qemuAgentCommand(cmd: string, timeout: number = QemuAgentCommandTimeout.DEFAULT, flags = 0, o?: CallOptions): Promise<string | null> {
    return agentCommand(this.core, this.dom, cmd, timeout, flags, o);
  }

  /**
   * A QMP client for this domain's monitor, through libvirt's passthrough (the same QmpClient
   * as src/qmp's for a socket). Like any monitor passthrough, the daemon marks the domain tainted.
   */
  qmp(o?: CallOptions & QmpClientOptions): Promise<QmpClient> {
    return domainQmp(this.core, this.dom, o);
  }
}
