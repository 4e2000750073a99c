// QEMU domain objects: definitions (live and persistent), run state with reason, id, and the
// running process when there is one; and the list with O(1) lookups by uuid, name and id.
import type { DomainDef } from '../../api/xml/domain/types.js';
import { DomainObjList } from '../../api/domain-list.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { VirErrorDomain } from '../../rpc/errors.js';
import { invalidArg, operationInvalid } from './errors.js';
import { uuidBytes } from './uuid.js';
import type { QemuProcess } from './process.js';

/** virDomainState and the reasons this driver sets. */
export const State = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 } as const;
export const RunningReason = { UNKNOWN: 0, BOOTED: 1, RESTORED: 3, UNPAUSED: 5, SAVE_CANCELED: 7 } as const;
export const PausedReason = { UNKNOWN: 0, USER: 1, MIGRATION: 2, SAVE: 3, SHUTTING_DOWN: 8, CRASHED: 10, STARTING_UP: 11 } as const;
export const ShutdownReason = { UNKNOWN: 0, USER: 1 } as const;
export const ShutoffReason = { UNKNOWN: 0, SHUTDOWN: 1, DESTROYED: 2, CRASHED: 3, SAVED: 5, FAILED: 6, DAEMON: 8 } as const;
export const CrashedReason = { UNKNOWN: 0, PANICKED: 1 } as const;

/** virDomainTaintFlags this driver records, and the text libvirt shows for each. */
export const Taint = { CUSTOM_MONITOR: 1, HIGH_PRIVILEGES: 2, EXTERNAL_LAUNCH: 5 } as const;
export const TAINT_MESSAGES: Readonly<Record<number, string>> = {
  [Taint.CUSTOM_MONITOR]: 'custom monitor control commands issued',
  [Taint.HIGH_PRIVILEGES]: 'running with undesirable elevated privileges',
  [Taint.EXTERNAL_LAUNCH]: 'managing externally launched configuration',
};

export class QemuDomain {
  def: DomainDef;
  /** The persistent definition while a persistent domain runs (libvirt's newDef). */
  newDef: DomainDef | undefined;
  persistent = false;
  state: number = State.SHUTOFF;
  reason: number = ShutoffReason.UNKNOWN;
  id = -1;
  autostart = false;
  /** The QEMU process while active. */
  proc: QemuProcess | null = null;
  /** virDomainTaintFlags numbers recorded while this run lasts (DOMAIN_GET_MESSAGES). */
  readonly taints = new Set<number>();
  /** Serialises lifecycle jobs on this domain (libvirt's domain job). */
  job: Promise<unknown> = Promise.resolve();
  private uuidCache: { text: string; bytes: Uint8Array } | null = null;

  constructor(def: DomainDef) {
    this.def = def;
  }

  /** Set from the first moment of a start until it succeeded or failed. */
  starting = false;

  get active(): boolean {
    return this.state !== State.SHUTOFF;
  }

  get name(): string {
    return this.def.name;
  }

  get uuid(): string {
    return this.def.uuid;
  }

  handle(): RemoteNonnullDomain {
    const text = this.def.uuid;
    if (this.uuidCache?.text !== text) this.uuidCache = { text, bytes: uuidBytes(text) };
    return { name: this.def.name, uuid: this.uuidCache.bytes, id: this.active ? this.id : -1 };
  }

  /** The definition a config change applies to. */
  persistentDef(): DomainDef {
    return this.newDef ?? this.def;
  }

  /** Runs `f` once earlier jobs on this domain are done. */
  withJob<T>(f: () => Promise<T> | T): Promise<T> {
    const run = this.job.then(f, f);
    this.job = run.catch(() => undefined);
    return run;
  }
}

/** The driver's domains, indexed by UUID, name and id (libvirt's domain object list). */
export class DomainList extends DomainObjList<QemuDomain> {
  constructor() {
    super((def) => new QemuDomain(def));
  }
}

/**
 * virDomainObjUpdateModificationImpact: which definitions a LIVE (1) / CONFIG (2) / CURRENT (0)
 * call touches; `read` refuses asking for both at once, as getters do.
 */
export function modificationImpact(d: QemuDomain, flags: number, read = false): { live: boolean; config: boolean } {
  let live = (flags & 1) !== 0;
  let config = (flags & 2) !== 0;
  if (read && live && config) throw invalidArg("invalid flag combination 'live' and 'config'", VirErrorDomain.DOMAIN);
  if (!live && !config) {
    live = d.active;
    config = !d.active;
  }
  if (live && !d.active) throw operationInvalid('domain is not running', VirErrorDomain.DOMAIN);
  if (config && !d.persistent) throw operationInvalid('transient domains do not have any persistent config', VirErrorDomain.DOMAIN);
  return { live, config };
}
