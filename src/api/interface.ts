// A host network interface: its (name, MAC) handle and the interface APIs.
import type { ApiCore, CallOptions } from './core.js';
import type { RemoteNonnullInterface } from '../protocol/gen/remote.js';

export class Interface {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullInterface,
  ) {}

  get handle(): RemoteNonnullInterface {
    return { ...this.h };
  }
  get name(): string {
    return this.h.name;
  }
  get mac(): string {
    return this.h.mac;
  }

  async create(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('INTERFACE_CREATE', { iface: this.h, flags }, o);
  }

  async destroy(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('INTERFACE_DESTROY', { iface: this.h, flags }, o);
  }

  async undefine(o?: CallOptions): Promise<void> {
    await this.core.call('INTERFACE_UNDEFINE', { iface: this.h }, o);
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('INTERFACE_GET_XML_DESC', { iface: this.h, flags }, o)).xml;
  }

  async isActive(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('INTERFACE_IS_ACTIVE', { iface: this.h }, o)).active !== 0;
  }
}
