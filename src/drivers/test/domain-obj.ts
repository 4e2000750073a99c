// The test driver's domain objects and their list: live and persistent definitions,
// run state with reason, ids, and lookups by uuid/name/id kept in Maps so listing stays
// O(n) and lookups O(1).
import type { DomainDef } from '../../api/xml/domain/types.js';
import { DomainObjList } from '../../api/domain-list.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomainXml } from '../../api/xml/domain/parse.js';
import { applyTestDomainDefaults } from './xml/domain-defaults.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { uuidBytes } from './util.js';
import type { SnapshotList } from './snapshots.js';

/** virDomainState */
export const State = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 } as const;
export const RunningReason = { BOOTED: 1, RESTORED: 3, FROM_SNAPSHOT: 4, UNPAUSED: 5 } as const;
export const ShutoffReason = { UNKNOWN: 0, SHUTDOWN: 1, DESTROYED: 2, SAVED: 5, FROM_SNAPSHOT: 7 } as const;
export const PausedReason = { USER: 1, FROM_SNAPSHOT: 7 } as const;

export class DomainObj {
  /** The running definition, or the only one while shut off. */
  def: DomainDef;
  /** The persistent definition while a persistent domain runs (libvirt's newDef). */
  newDef: DomainDef | undefined;
  persistent = false;
  state: number = State.SHUTOFF;
  reason: number = ShutoffReason.UNKNOWN;
  id = -1;
  autostart = false;
  hasManagedSave = false;
  /** Messages for DOMAIN_GET_MESSAGES ("tainted: ..."). */
  taints: string[] = [];
  snapshots: SnapshotList | undefined;

  constructor(def: DomainDef) {
    this.def = def;
  }

  get active(): boolean {
    return this.state !== State.SHUTOFF;
  }

  get name(): string {
    return this.def.name;
  }

  get uuid(): string {
    return this.def.uuid;
  }

  /** The UUID's 16 bytes, kept between calls: every listing and event sends them. Never mutated. */
  private uuidCache: { text: string; bytes: Uint8Array } | null = null;

  handle(): RemoteNonnullDomain {
    const text = this.def.uuid;
    if (this.uuidCache?.text !== text) this.uuidCache = { text, bytes: uuidBytes(text) };
    return { name: this.def.name, uuid: this.uuidCache.bytes, id: this.active ? this.id : -1 };
  }

  /** The definition a config change applies to (newDef while running). */
  persistentDef(): DomainDef {
    return this.newDef ?? this.def;
  }
}

/** virDomainDefCopy: the test driver copies definitions by formatting and re-parsing. */
export function copyDef(def: DomainDef): DomainDef {
  const copy = parseDomainXml(formatDomain(def, { inactive: true, secure: true }));
  applyTestDomainDefaults(copy);
  copy.uuid = def.uuid;
  return copy;
}

/** The driver's domains, indexed by UUID, name and id (libvirt's domain object list). */
export class DomainList extends DomainObjList<DomainObj> {
  constructor() {
    super((def) => new DomainObj(def));
  }
}
