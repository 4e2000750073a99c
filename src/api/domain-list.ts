/**
 * A driver's collection of domain objects, indexed by UUID, name and id, with the rules libvirt
 * applies when a definition is added (virDomainObjListAdd). Shared by the test and QEMU drivers;
 * its errors come from libvirt's domain config code, so they are in the DOMAIN error domain.
 */
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import type { DomainDef } from './xml/domain/types.js';

/** What the list needs of a driver's domain object. */
export interface ListedDomain {
  def: DomainDef;
  /** The persistent definition while a persistent domain runs (libvirt's newDef). */
  newDef: DomainDef | undefined;
  id: number;
  persistent: boolean;
  readonly active: boolean;
  readonly name: string;
  readonly uuid: string;
}

const failed = (msg: string) => VirError.format(VirErrorNumber.OPERATION_FAILED, VirErrorDomain.DOMAIN, 'operation failed: %s', msg);
const invalid = (msg: string) =>
  VirError.format(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.DOMAIN, 'Requested operation is not valid: %s', msg);

export class DomainObjList<T extends ListedDomain> {
  private readonly byUuid = new Map<string, T>();
  private readonly byName = new Map<string, T>();
  private readonly byId = new Map<number, T>();

  constructor(private readonly create: (def: DomainDef) => T) {}

  all(): IterableIterator<T> {
    return this.byUuid.values();
  }

  get size(): number {
    return this.byUuid.size;
  }

  findByUuid(uuid: string): T | undefined {
    return this.byUuid.get(uuid);
  }

  findByName(name: string): T | undefined {
    return this.byName.get(name);
  }

  findById(id: number): T | undefined {
    return this.byId.get(id);
  }

  /** Keeps the id index in step with a domain's id. */
  setId(dom: T, id: number): void {
    if (dom.id >= 0 && this.byId.get(dom.id) === dom) this.byId.delete(dom.id);
    dom.id = id;
    if (id >= 0) this.byId.set(id, dom);
  }

  /** Changes a domain's name, keeping the name index in step. */
  rename(dom: T, name: string): void {
    if (this.byName.get(dom.name) === dom) this.byName.delete(dom.name);
    dom.def.name = name;
    if (dom.newDef) dom.newDef.name = name;
    this.byName.set(name, dom);
  }

  remove(dom: T): void {
    if (this.byUuid.get(dom.uuid) === dom) this.byUuid.delete(dom.uuid);
    if (this.byName.get(dom.name) === dom) this.byName.delete(dom.name);
    if (dom.id >= 0 && this.byId.get(dom.id) === dom) this.byId.delete(dom.id);
  }

  /**
   * virDomainObjListAdd. `live` installs the definition as the running one (create/restore),
   * refusing an active domain; otherwise it becomes the persistent definition. Returns the
   * object and whether it replaced an existing definition.
   */
  add(def: DomainDef, live: boolean): { dom: T; replaced: boolean } {
    const existing = this.byUuid.get(def.uuid);
    if (existing) {
      if (existing.name !== def.name) throw failed(`domain '${existing.name}' is already defined with uuid ${existing.uuid}`);
      if (live) {
        if (existing.active) throw invalid(`domain '${existing.name}' is already active`);
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
    if (clash) throw failed(`domain '${def.name}' already exists with uuid ${clash.uuid}`);
    const dom = this.create(def);
    this.byUuid.set(def.uuid, dom);
    this.byName.set(def.name, dom);
    return { dom, replaced: false };
  }
}
