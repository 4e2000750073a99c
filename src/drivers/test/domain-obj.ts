// The test driver's domain objects and their list: live and persistent definitions,
// run state with reason, ids, and lookups by uuid/name/id kept in Maps so listing stays
// O(n) and lookups O(1).
import type { DomainDef } from '../../api/xml/domain/types.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomainXml } from '../../api/xml/domain/parse.js';
import { applyTestDomainDefaults } from './xml/domain-defaults.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { uuidBytes } from './util.js';
import { operationFailed, operationInvalid, DOMAIN } from './errors.js';
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

export class DomainList {
  private readonly byUuid = new Map<string, DomainObj>();
  private readonly byName = new Map<string, DomainObj>();
  private readonly byId = new Map<number, DomainObj>();

  all(): IterableIterator<DomainObj> {
    return this.byUuid.values();
  }

  get size(): number {
    return this.byUuid.size;
  }

  findByUuid(uuid: string): DomainObj | undefined {
    return this.byUuid.get(uuid);
  }

  findByName(name: string): DomainObj | undefined {
    return this.byName.get(name);
  }

  findById(id: number): DomainObj | undefined {
    return this.byId.get(id);
  }

  /** Keeps the id index in step with a domain's id. */
  setId(dom: DomainObj, id: number): void {
    if (dom.id >= 0 && this.byId.get(dom.id) === dom) this.byId.delete(dom.id);
    dom.id = id;
    if (id >= 0) this.byId.set(id, dom);
  }

  /** Changes a domain's name, keeping the name index in step. */
  rename(dom: DomainObj, name: string): void {
    if (this.byName.get(dom.name) === dom) this.byName.delete(dom.name);
    dom.def.name = name;
    if (dom.newDef) dom.newDef.name = name;
    this.byName.set(name, dom);
  }

  remove(dom: DomainObj): void {
    this.byUuid.delete(dom.uuid);
    if (this.byName.get(dom.name) === dom) this.byName.delete(dom.name);
    if (dom.id >= 0 && this.byId.get(dom.id) === dom) this.byId.delete(dom.id);
  }

  /**
   * virDomainObjListAdd. `live` installs the definition as the running one (create/restore),
   * refusing an active domain; otherwise it becomes the persistent definition. Returns the
   * object and whether it replaced an existing definition.
   */
  add(def: DomainDef, live: boolean): { dom: DomainObj; replaced: boolean } {
    const existing = this.byUuid.get(def.uuid);
    if (existing) {
      if (existing.name !== def.name) {
        throw operationFailed(`domain '${existing.name}' is already defined with uuid ${existing.uuid}`);
      }
      if (live) {
        if (existing.active) throw operationInvalid(`domain '${existing.name}' is already active`, DOMAIN);
        if (existing.persistent) existing.newDef = existing.def;
        existing.def = def;
      } else if (existing.active) {
        existing.newDef = def;
      } else {
        existing.def = def;
      }
      return { dom: existing, replaced: true };
    }
    const clash = this.byName.get(def.name);
    if (clash) throw operationFailed(`domain '${def.name}' already exists with uuid ${clash.uuid}`);
    const dom = new DomainObj(def);
    this.byUuid.set(def.uuid, dom);
    this.byName.set(def.name, dom);
    return { dom, replaced: false };
  }
}
