/**
 * Typed records the API returns, and the state enums they use (libvirt's names: DomainState
 * RUNNING is VIR_DOMAIN_RUNNING). Memory sizes are KiB unless a field says otherwise; 64-bit
 * counters are bigint, as on the wire.
 */
import type { RemoteTypedParam, RemoteTypedParamValue } from '../protocol/gen/remote.js';

/** VIR_DOMAIN_* states. */
export enum DomainState {
  NOSTATE = 0,
  RUNNING = 1,
  BLOCKED = 2,
  PAUSED = 3,
  SHUTDOWN = 4,
  SHUTOFF = 5,
  CRASHED = 6,
  PMSUSPENDED = 7,
}

/** VIR_STORAGE_POOL_* states. */
export enum StoragePoolState {
  INACTIVE = 0,
  BUILDING = 1,
  RUNNING = 2,
  DEGRADED = 3,
  INACCESSIBLE = 4,
}

/** VIR_STORAGE_VOL_* types. */
export enum StorageVolType {
  FILE = 0,
  BLOCK = 1,
  DIR = 2,
  NETWORK = 3,
  NETDIR = 4,
  PLOOP = 5,
}

/** VIR_DOMAIN_MEMORY_STAT_* tags. */
export enum DomainMemoryStatTag {
  SWAP_IN = 0,
  SWAP_OUT = 1,
  MAJOR_FAULT = 2,
  MINOR_FAULT = 3,
  UNUSED = 4,
  AVAILABLE = 5,
  ACTUAL_BALLOON = 6,
  RSS = 7,
  USABLE = 8,
  LAST_UPDATE = 9,
  DISK_CACHES = 10,
  HUGETLB_PGALLOC = 11,
  HUGETLB_PGFAIL = 12,
}

/** virDomainInfo. */
export interface DomainInfo {
  readonly state: DomainState;
  /** Maximum memory, KiB. */
  readonly maxMem: bigint;
  /** Current memory, KiB. */
  readonly memory: bigint;
  readonly nrVirtCpu: number;
  /** CPU time used, nanoseconds. */
  readonly cpuTime: bigint;
}

/** virDomainGetState: the state and its reason (VIR_DOMAIN_<STATE>_* reason enums). */
export interface DomainStateInfo {
  readonly state: DomainState;
  readonly reason: number;
}

/** virNodeInfo. */
export interface NodeInfo {
  readonly model: string;
  /** KiB. */
  readonly memory: bigint;
  readonly cpus: number;
  readonly mhz: number;
  readonly nodes: number;
  readonly sockets: number;
  readonly cores: number;
  readonly threads: number;
}

export interface NodeCpuMap {
  /** One entry per host CPU: online or not. */
  readonly cpus: readonly boolean[];
  readonly online: number;
}

export interface SecurityModel {
  readonly model: string;
  readonly doi: string;
}

export interface SecurityLabel {
  readonly label: string;
  readonly enforcing: boolean;
}

/** virStoragePoolInfo (bytes). */
export interface StoragePoolInfo {
  readonly state: StoragePoolState;
  readonly capacity: bigint;
  readonly allocation: bigint;
  readonly available: bigint;
}

/** virStorageVolInfo (bytes). */
export interface StorageVolInfo {
  readonly type: StorageVolType;
  readonly capacity: bigint;
  readonly allocation: bigint;
}

/** virDomainBlockInfo (bytes). */
export interface DomainBlockInfo {
  readonly capacity: bigint;
  readonly allocation: bigint;
  readonly physical: bigint;
}

export interface DomainBlockStats {
  readonly rdReq: bigint;
  readonly rdBytes: bigint;
  readonly wrReq: bigint;
  readonly wrBytes: bigint;
  readonly errs: bigint;
}

export interface DomainInterfaceStats {
  readonly rxBytes: bigint;
  readonly rxPackets: bigint;
  readonly rxErrs: bigint;
  readonly rxDrop: bigint;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrs: bigint;
  readonly txDrop: bigint;
}

/** virDomainJobInfo: the job type (VIR_DOMAIN_JOB_*), milliseconds and bytes. */
export interface DomainJobInfo {
  readonly type: number;
  readonly timeElapsed: bigint;
  readonly timeRemaining: bigint;
  readonly dataTotal: bigint;
  readonly dataProcessed: bigint;
  readonly dataRemaining: bigint;
  readonly memTotal: bigint;
  readonly memProcessed: bigint;
  readonly memRemaining: bigint;
  readonly fileTotal: bigint;
  readonly fileProcessed: bigint;
  readonly fileRemaining: bigint;
}

export interface DomainMemoryStat {
  readonly tag: DomainMemoryStatTag;
  readonly value: bigint;
}

/** virVcpuInfo plus the vCPU's host CPU affinity. */
export interface VcpuInfo {
  readonly number: number;
  readonly state: number;
  /** Nanoseconds. */
  readonly cpuTime: bigint;
  /** Host CPU it runs on, -1 when offline. */
  readonly cpu: number;
  /** Host CPUs it may run on. */
  readonly affinity: readonly boolean[];
}

/** VIR_TYPED_PARAM_* value types. */
export type TypedParameterValue =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'uint'; readonly value: number }
  | { readonly type: 'llong'; readonly value: bigint }
  | { readonly type: 'ullong'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string };

export type TypedParameters = Record<string, TypedParameterValue>;

export function typedParamsFromWire(params: readonly RemoteTypedParam[]): TypedParameters {
  const out: Record<string, TypedParameterValue> = {};
  for (const { field, value: v } of params) {
    switch (v.type) {
      case 1: out[field] = { type: 'int', value: v.i }; break;
      case 2: out[field] = { type: 'uint', value: v.ui }; break;
      case 3: out[field] = { type: 'llong', value: v.l }; break;
      case 4: out[field] = { type: 'ullong', value: v.ul }; break;
      case 5: out[field] = { type: 'double', value: v.d }; break;
      case 6: out[field] = { type: 'boolean', value: v.b !== 0 }; break;
      case 7: out[field] = { type: 'string', value: v.s }; break;
    }
  }
  return out;
}

export function typedParamsToWire(params: TypedParameters): RemoteTypedParam[] {
  return Object.entries(params).map(([field, p]): RemoteTypedParam => {
    let value: RemoteTypedParamValue;
    switch (p.type) {
      case 'int': value = { type: 1, i: p.value }; break;
      case 'uint': value = { type: 2, ui: p.value }; break;
      case 'llong': value = { type: 3, l: p.value }; break;
      case 'ullong': value = { type: 4, ul: p.value }; break;
      case 'double': value = { type: 5, d: p.value }; break;
      case 'boolean': value = { type: 6, b: p.value ? 1 : 0 }; break;
      case 'string': value = { type: 7, s: p.value }; break;
    }
    return { field, value };
  });
}

/** A wire `char x[N]` / `char x<N>` field as text: up to the first NUL. */
export function charArrayText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** A CPU bitmap (bit i of byte i/8 = CPU i) as booleans. */
export function cpuMapBits(map: Uint8Array, count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => ((map[i >> 3] ?? 0) & (1 << (i & 7))) !== 0);
}
