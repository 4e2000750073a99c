// A domain snapshot: its (name, domain) handle and the snapshot APIs.
import type { ApiCore, CallOptions } from './core.js';
import type { DomainSnapshotDeleteFlags, DomainSnapshotListFlags, DomainSnapshotRevertFlags } from './flags.js';
import type { RemoteNonnullDomain, RemoteNonnullDomainSnapshot } from '../protocol/gen/remote.js';

const LIST_MAX = 16384;

export class DomainSnapshot {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullDomainSnapshot,
  ) {}

  get handle(): RemoteNonnullDomainSnapshot {
    return { name: this.h.name, dom: { ...this.h.dom } };
  }
  get name(): string {
    return this.h.name;
  }
  /** The domain's handle (for Connection.domainFromHandle). */
  get domainHandle(): RemoteNonnullDomain {
    return { ...this.h.dom };
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_SNAPSHOT_GET_XML_DESC', { snap: this.h, flags }, o)).xml;
  }

  async parent(flags = 0, o?: CallOptions): Promise<DomainSnapshot> {
    return new DomainSnapshot(this.core, (await this.core.call('DOMAIN_SNAPSHOT_GET_PARENT', { snap: this.h, flags }, o)).snap);
  }

  async isCurrent(flags = 0, o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_SNAPSHOT_IS_CURRENT', { snap: this.h, flags }, o)).current !== 0;
  }

  async hasMetadata(flags = 0, o?: CallOptions): Promise<boolean> {
    return (await this.core.call('DOMAIN_SNAPSHOT_HAS_METADATA', { snap: this.h, flags }, o)).metadata !== 0;
  }

  async numChildren(flags: DomainSnapshotListFlags | number = 0, o?: CallOptions): Promise<number> {
    return (await this.core.call('DOMAIN_SNAPSHOT_NUM_CHILDREN', { snap: this.h, flags }, o)).num;
  }

  async listChildrenNames(flags: DomainSnapshotListFlags | number = 0, o?: CallOptions): Promise<string[]> {
    return (await this.core.call('DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES', { snap: this.h, maxnames: LIST_MAX, flags }, o)).names;
  }

  async listAllChildren(flags: DomainSnapshotListFlags | number = 0, o?: CallOptions): Promise<DomainSnapshot[]> {
    const r = await this.core.call('DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN', { snapshot: this.h, needResults: 1, flags }, o);
    return r.snapshots.map((s) => new DomainSnapshot(this.core, s));
  }

  async revert(flags: DomainSnapshotRevertFlags | number = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_REVERT_TO_SNAPSHOT', { snap: this.h, flags }, o);
  }

  async delete(flags: DomainSnapshotDeleteFlags | number = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SNAPSHOT_DELETE', { snap: this.h, flags }, o);
  }
}
