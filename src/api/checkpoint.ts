// A domain checkpoint: its (name, domain) handle and the checkpoint APIs.
import type { ApiCore, CallOptions } from './core.js';
import type { RemoteNonnullDomainCheckpoint } from '../protocol/gen/remote.js';

export class DomainCheckpoint {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullDomainCheckpoint,
  ) {}

  get handle(): RemoteNonnullDomainCheckpoint {
    return { name: this.h.name, dom: { ...this.h.dom } };
  }
  get name(): string {
    return this.h.name;
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_CHECKPOINT_GET_XML_DESC', { checkpoint: this.h, flags }, o)).xml;
  }

  async parent(flags = 0, o?: CallOptions): Promise<DomainCheckpoint> {
    return new DomainCheckpoint(this.core, (await this.core.call('DOMAIN_CHECKPOINT_GET_PARENT', { checkpoint: this.h, flags }, o)).parent);
  }

  async listAllChildren(flags = 0, o?: CallOptions): Promise<DomainCheckpoint[]> {
    const r = await this.core.call('DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN', { checkpoint: this.h, needResults: 1, flags }, o);
    return r.checkpoints.map((c) => new DomainCheckpoint(this.core, c));
  }

  /** Flags: VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN 1, METADATA_ONLY 2, CHILDREN_ONLY 4. */
  async delete(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_CHECKPOINT_DELETE', { checkpoint: this.h, flags }, o);
  }
}
