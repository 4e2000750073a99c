/**
 * Hand-written types for the QMP commands the QEMU driver uses (facts from QEMU 7.2's QAPI
 * schema). Replies are typed with the fields we rely on; QEMU may send more, hence the index
 * signatures. Anything not listed goes through execute's untyped fallback.
 */
import type { QmpVersion } from './message.js';

type Empty = Record<string, never>;
type Extra = Record<string, unknown>;

export type RunState =
  | 'debug' | 'inmigrate' | 'internal-error' | 'io-error' | 'paused' | 'postmigrate' | 'prelaunch'
  | 'finish-migrate' | 'restore-vm' | 'running' | 'save-vm' | 'shutdown' | 'suspended' | 'watchdog'
  | 'guest-panicked' | 'colo';

export interface StatusInfo {
  running: boolean;
  singlestep: boolean;
  status: RunState;
}

export interface CpuInfoFast extends Extra {
  'cpu-index': number;
  'qom-path': string;
  'thread-id': number;
  target: string;
  props?: { 'node-id'?: number; 'socket-id'?: number; 'die-id'?: number; 'core-id'?: number; 'thread-id'?: number } & Extra;
}

export interface BlockDeviceInfo extends Extra {
  file: string;
  'node-name'?: string;
  ro: boolean;
  drv: string;
  backing_file?: string;
  encrypted: boolean;
  bps: number;
  bps_rd: number;
  bps_wr: number;
  iops: number;
  iops_rd: number;
  iops_wr: number;
  image: { filename: string; format: string; 'virtual-size': number; 'actual-size'?: number } & Extra;
}

export interface BlockInfo extends Extra {
  device: string;
  qdev?: string;
  type: string;
  removable: boolean;
  locked: boolean;
  inserted?: BlockDeviceInfo;
  tray_open?: boolean;
  'io-status'?: 'ok' | 'failed' | 'nospace';
}

export interface BlockDeviceStats extends Extra {
  rd_bytes: number;
  wr_bytes: number;
  rd_operations: number;
  wr_operations: number;
  flush_operations: number;
  rd_total_time_ns: number;
  wr_total_time_ns: number;
  flush_total_time_ns: number;
  wr_highest_offset: number;
}

export interface BlockStats extends Extra {
  device?: string;
  qdev?: string;
  'node-name'?: string;
  stats: BlockDeviceStats;
  parent?: BlockStats;
  backing?: BlockStats;
}

export interface BalloonInfo {
  /** Bytes of memory the guest currently has. */
  actual: number;
}

export type MigrationStatus =
  | 'none' | 'setup' | 'cancelling' | 'cancelled' | 'active' | 'postcopy-active' | 'postcopy-paused'
  | 'postcopy-recover' | 'completed' | 'failed' | 'colo' | 'pre-switchover' | 'device' | 'wait-unplug';

export interface MigrationInfo extends Extra {
  status?: MigrationStatus;
  ram?: { transferred: number; remaining: number; total: number; duplicate: number; normal: number } & Extra;
  'total-time'?: number;
  'expected-downtime'?: number;
  downtime?: number;
  'setup-time'?: number;
  'error-desc'?: string;
}

/**
 * command name -> { args, result }. `args: undefined` means the command takes none; an args
 * type with required fields makes the argument mandatory in execute().
 */
export interface QmpCommandMap {
  'query-status': { args: undefined; result: StatusInfo };
  'query-version': { args: undefined; result: QmpVersion };
  'query-cpus-fast': { args: undefined; result: CpuInfoFast[] };
  'query-block': { args: undefined; result: BlockInfo[] };
  'query-blockstats': { args: { 'query-nodes'?: boolean } | undefined; result: BlockStats[] };
  'query-balloon': { args: undefined; result: BalloonInfo };
  balloon: { args: { value: number }; result: Empty };
  stop: { args: undefined; result: Empty };
  cont: { args: undefined; result: Empty };
  system_powerdown: { args: undefined; result: Empty };
  system_reset: { args: undefined; result: Empty };
  quit: { args: undefined; result: Empty };
  migrate: { args: { uri: string; blk?: boolean; inc?: boolean; detach?: boolean; resume?: boolean }; result: Empty };
  'query-migrate': { args: undefined; result: MigrationInfo };
  screendump: { args: { filename: string; device?: string; head?: number; format?: 'ppm' | 'png' }; result: Empty };
  device_add: { args: { driver: string; id?: string; bus?: string } & Extra; result: Empty };
  device_del: { args: { id: string }; result: Empty };
  'blockdev-add': { args: { driver: string; 'node-name'?: string } & Extra; result: Empty };
  netdev_add: { args: { type: string; id: string } & Extra; result: Empty };
  'human-monitor-command': { args: { 'command-line': string; 'cpu-index'?: number }; result: string };
}

export type QmpCommandName = keyof QmpCommandMap;
