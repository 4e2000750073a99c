// A virtual network: its (name, UUID) handle and the network APIs.
import { uuidToString, type ApiCore, type CallOptions } from './core.js';
import type { RemoteNetworkDhcpLease, RemoteNonnullNetwork } from '../protocol/gen/remote.js';

export class Network {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullNetwork,
  ) {}

  get handle(): RemoteNonnullNetwork {
    return { ...this.h };
  }
  get name(): string {
    return this.h.name;
  }
  get uuid(): string {
    return uuidToString(this.h.uuid);
  }

  /** Starts a defined network (virNetworkCreate). */
  async create(o?: CallOptions): Promise<void> {
    await this.core.call('NETWORK_CREATE', { net: this.h }, o);
  }
  start(o?: CallOptions): Promise<void> {
    return this.create(o);
  }

  async destroy(o?: CallOptions): Promise<void> {
    await this.core.call('NETWORK_DESTROY', { net: this.h }, o);
  }

  async undefine(o?: CallOptions): Promise<void> {
    await this.core.call('NETWORK_UNDEFINE', { net: this.h }, o);
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('NETWORK_GET_XML_DESC', { net: this.h, flags }, o)).xml;
  }

  async bridgeName(o?: CallOptions): Promise<string> {
    return (await this.core.call('NETWORK_GET_BRIDGE_NAME', { net: this.h }, o)).name;
  }

  async autostart(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('NETWORK_GET_AUTOSTART', { net: this.h }, o)).autostart !== 0;
  }

  async setAutostart(autostart: boolean, o?: CallOptions): Promise<void> {
    await this.core.call('NETWORK_SET_AUTOSTART', { net: this.h, autostart: autostart ? 1 : 0 }, o);
  }

  async isActive(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('NETWORK_IS_ACTIVE', { net: this.h }, o)).active !== 0;
  }

  async isPersistent(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('NETWORK_IS_PERSISTENT', { net: this.h }, o)).persistent !== 0;
  }

  /** virNetworkUpdate: `command` (1 modify, 2 delete, 3 add-last, 4 add-first) on `section` of the definition. */
  async update(command: number, section: number, parentIndex: number, xml: string, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('NETWORK_UPDATE', { net: this.h, command, section, parentIndex, xml, flags }, o);
  }

  /** virNetworkGetDHCPLeases, optionally for one MAC. */
  async dhcpLeases(mac: string | null = null, flags = 0, o?: CallOptions): Promise<RemoteNetworkDhcpLease[]> {
    return (await this.core.call('NETWORK_GET_DHCP_LEASES', { net: this.h, mac, needResults: 1, flags }, o)).leases;
  }
}
