// A host device (virNodeDevice): named by its name alone, as on the wire.
import type { ApiCore, CallOptions } from './core.js';

/** REMOTE_NODE_DEVICE_CAPS_LIST_MAX. */
const CAPS_MAX = 65536;

export class NodeDevice {
  constructor(
    private readonly core: ApiCore,
    readonly name: string,
  ) {}

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('NODE_DEVICE_GET_XML_DESC', { name: this.name, flags }, o)).xml;
  }

  /** The parent device's name, null for the root. */
  async parent(o?: CallOptions): Promise<string | null> {
    return (await this.core.call('NODE_DEVICE_GET_PARENT', { name: this.name }, o)).parentName;
  }

  async capabilities(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('NODE_DEVICE_LIST_CAPS', { name: this.name, maxnames: CAPS_MAX }, o)).names;
  }

  async isActive(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('NODE_DEVICE_IS_ACTIVE', { name: this.name }, o)).active !== 0;
  }

  async isPersistent(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('NODE_DEVICE_IS_PERSISTENT', { name: this.name }, o)).persistent !== 0;
  }

  async autostart(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('NODE_DEVICE_GET_AUTOSTART', { name: this.name }, o)).autostart !== 0;
  }
}
