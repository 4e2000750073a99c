/**
 * A connection to a hypervisor: the public, promise-based API over a DriverConnection (in-process
 * test driver, or the remote driver over RPC). Lifecycle is data: `status`, 'status' events and
 * `statusUpdates()`. An optional reconnect policy reopens a lost remote connection with
 * backoff and jitter, replays event subscriptions and re-synchronises domain watches.
 */
import { resolve } from 'node:path';
import { EventEmitter } from 'node:events';
import { ApiCore, uuidFromString, type CallOptions } from './core.js';
import { Domain } from './domain.js';
import type { DriverConnection, DriverEvent, DriverEventFamily, DriverEventTarget } from './driver.js';
import {
  DomainEventID,
  EventHub,
  EventStream,
  StoragePoolEventID,
  NetworkEventID,
  type DomainEventType,
  type EventStreamOptions,
  type NetworkEventType,
  type StoragePoolEventType,
} from './events.js';
import type {
  ConnectListAllDomainsFlags,
  ConnectListAllInterfacesFlags,
  ConnectListAllNetworksFlags,
  ConnectListAllStoragePoolsFlags,
} from './flags.js';
import { charArrayText, cpuMapBits, typedParamsFromWire, type NodeCpuMap, type NodeInfo, type SecurityModel, type TypedParameters } from './info.js';
import { NodeDevice } from './nodedev.js';
import { Secret } from './secret.js';
import { Interface } from './interface.js';
import { Network } from './network.js';
import { attach as qemuAttach, monitorEventStream } from './qemu.js';
import { StoragePool, StorageVol } from './storage.js';
import { DomainWatch } from './watch.js';
import type { RemoteNonnullDomain, RemoteNonnullNetwork, RemoteNonnullStoragePool } from '../protocol/gen/remote.js';
import type { ClientStatus } from '../rpc/client.js';
import { ConnectionClosedError, type VirError } from '../rpc/errors.js';

/** The library version reported by in-process drivers: libvirt 9.0.0, which we match. */
const LIB_VERSION = 9_000_000n;
const LIST_MAX = 16384;

/** Why a connection closed, as libvirt's VIR_CONNECT_CLOSE_REASON_* say it. */
export type CloseReason = 'client' | 'eof' | 'error' | 'keepalive';

export type ConnectionStatus =
  | { readonly state: 'open'; readonly reconnects: number }
  | { readonly state: 'reconnecting'; readonly attempt: number; readonly error: VirError | null }
  | { readonly state: 'closed'; readonly reason: CloseReason; readonly error: VirError | null };

export interface ReconnectPolicy {
  /** Attempts before giving up; default 10. */
  readonly attempts?: number;
  /** First delay; default 250 ms. Each next delay doubles, up to maxDelayMs. */
  readonly initialDelayMs?: number;
  /** Default 10 s. */
  readonly maxDelayMs?: number;
  /** Random share of each delay, 0..1; default 0.5 (so delays vary between 50% and 100%). */
  readonly jitter?: number;
}

export interface ConnectionOptions {
  readonly readonly: boolean;
  /** Opens a fresh driver connection; used to reconnect. */
  readonly reopen?: (signal: AbortSignal) => Promise<DriverConnection>;
  readonly reconnect?: ReconnectPolicy;
  /** Default deadline of every call. */
  readonly callTimeoutMs?: number;
}

export interface DomainEventsOptions extends EventStreamOptions {
  /** Only events about this domain. */
  readonly domain?: Domain;
  /** Which event ids; default [LIFECYCLE]. */
  readonly events?: readonly DomainEventID[];
}

export type DomainEvent =
  | { readonly kind: 'lifecycle'; readonly eventID: DomainEventID.LIFECYCLE; readonly domain: Domain; readonly event: DomainEventType; readonly detail: number }
  | { readonly kind: 'other'; readonly eventID: DomainEventID; readonly procedure: string; readonly domain: Domain | null; readonly payload: Readonly<Record<string, unknown>> };

export type NetworkEvent = { readonly kind: 'lifecycle'; readonly network: Network; readonly event: NetworkEventType; readonly detail: number };

export type StoragePoolEvent =
  | { readonly kind: 'lifecycle'; readonly pool: StoragePool; readonly event: StoragePoolEventType; readonly detail: number }
  | { readonly kind: 'refresh'; readonly pool: StoragePool };

export interface QemuMonitorEventsOptions extends EventStreamOptions {
  /** Only this domain's events. */
  readonly domain?: Domain;
  /** Only events of this name ("STOP"); a regex searched in the name with `regex`. */
  readonly event?: string;
  readonly regex?: boolean;
  /** Match the name case-insensitively. */
  readonly nocase?: boolean;
}

/** A QMP event of a running domain (virConnectDomainQemuMonitorEventCallback's arguments). */
export interface QemuMonitorEventInfo {
  readonly domain: Domain;
  /** QMP event name ("STOP"). */
  readonly event: string;
  /** QEMU's timestamp. */
  readonly seconds: bigint;
  readonly micros: number;
  /** The event's "data" as JSON text; null when it had none. */
  readonly details: string | null;
}

interface ConnectionEvents {
  status: [ConnectionStatus];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  private readonly core: ApiCore;
  private readonly hub = new EventHub();
  private statusValue: ConnectionStatus = { state: 'open', reconnects: 0 };
  private readonly streams = new Set<EventStream<unknown>>();
  private readonly watches = new Set<DomainWatch>();
  private unwatchLink: (() => void) | null = null;
  private readonly stop = new AbortController();
  private closing: Promise<void> | null = null;
  private reconnects = 0;

  constructor(
    driver: DriverConnection,
    private readonly opts: ConnectionOptions,
  ) {
    super();
    this.core = new ApiCore(driver, opts.readonly, opts.callTimeoutMs);
    this.followLink(driver);
  }

  // Connection facts.

  /** The URI this connection was opened with. */
  get uri(): string {
    return this.core.isClosed ? '' : this.core.driver.uri;
  }

  get readonly(): boolean {
    return this.opts.readonly;
  }

  get status(): ConnectionStatus {
    return this.statusValue;
  }

  /** Status changes from now on, ending after 'closed'. */
  async *statusUpdates(): AsyncGenerator<ConnectionStatus> {
    const queue = new EventStream<ConnectionStatus>({ queueSize: 100 });
    const l = (s: ConnectionStatus) => {
      queue.push(s);
      if (s.state === 'closed') void queue.close().catch(() => undefined);
    };
    if (this.statusValue.state === 'closed') return;
    this.on('status', l);
    try {
      // close() discards what is queued: drain by hand so 'closed' itself is delivered.
      for (;;) {
        const r = await queue.next();
        if (r.done) return;
        yield r.value;
        if (r.value.state === 'closed') return;
      }
    } finally {
      this.off('status', l);
    }
  }

  /** The hypervisor type ("TEST", "QEMU"). */
  async type(o?: CallOptions): Promise<string> {
    return (await this.core.call('CONNECT_GET_TYPE', undefined, o)).type;
  }

  /** Hypervisor version, major * 1,000,000 + minor * 1,000 + release. */
  async version(o?: CallOptions): Promise<bigint> {
    return (await this.core.call('CONNECT_GET_VERSION', undefined, o)).hvVer;
  }

  /** libvirt library version of the daemon (remote) or the one we match (in-process). */
  async libVersion(o?: CallOptions): Promise<bigint> {
    if (!this.core.driver.link) return LIB_VERSION;
    return (await this.core.call('CONNECT_GET_LIB_VERSION', undefined, o)).libVer;
  }

  async hostname(o?: CallOptions): Promise<string> {
    return (await this.core.call('CONNECT_GET_HOSTNAME', undefined, o)).hostname;
  }

  async capabilities(o?: CallOptions): Promise<string> {
    return (await this.core.call('CONNECT_GET_CAPABILITIES', undefined, o)).capabilities;
  }

  async sysinfo(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('CONNECT_GET_SYSINFO', { flags }, o)).sysinfo;
  }

  async maxVcpus(type: string | null = null, o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_GET_MAX_VCPUS', { type }, o)).maxVcpus;
  }

  async cpuModelNames(arch: string, flags = 0, o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_GET_CPU_MODEL_NAMES', { arch, needResults: 1, flags }, o)).models;
  }

  /** The transport keeps data from other local users and the driver says it is secure. */
  async isSecure(o?: CallOptions): Promise<boolean> {
    const link = this.core.driver.link;
    const secure = (await this.core.call('CONNECT_IS_SECURE', undefined, o)).secure !== 0;
    return link ? link.secure && secure : secure;
  }

  /** The transport encrypts (TLS, SASL layer); in-process connections never do. */
  async isEncrypted(o?: CallOptions): Promise<boolean> {
    const link = this.core.driver.link;
    if (!link?.encrypted) return false;
    return (await this.core.call('CONNECT_IS_SECURE', undefined, o)).secure !== 0;
  }

  /** Open and answering (remote: the socket is up and keepalive has not given up). */
  isAlive(): boolean {
    if (this.statusValue.state !== 'open' || this.core.isClosed) return false;
    const link = this.core.driver.link;
    return link ? link.status.state === 'open' : true;
  }

  // Node.

  async nodeInfo(o?: CallOptions): Promise<NodeInfo> {
    const r = await this.core.call('NODE_GET_INFO', undefined, o);
    return { model: charArrayText(r.model), memory: r.memory, cpus: r.cpus, mhz: r.mhz, nodes: r.nodes, sockets: r.sockets, cores: r.cores, threads: r.threads };
  }

  /** Free memory in bytes. */
  async nodeFreeMemory(o?: CallOptions): Promise<bigint> {
    return (await this.core.call('NODE_GET_FREE_MEMORY', undefined, o)).freeMem;
  }

  /** Free memory per NUMA cell, bytes. */
  async nodeCellsFreeMemory(startCell: number, maxCells: number, o?: CallOptions): Promise<bigint[]> {
    return (await this.core.call('NODE_GET_CELLS_FREE_MEMORY', { startCell, maxcells: maxCells }, o)).cells;
  }

  async nodeCpuMap(flags = 0, o?: CallOptions): Promise<NodeCpuMap> {
    const r = await this.core.call('NODE_GET_CPU_MAP', { needMap: 1, needOnline: 1, flags }, o);
    return { cpus: cpuMapBits(r.cpumap, r.ret), online: r.online };
  }

  /** virNodeGetCPUStats for one CPU (-1: all), field -> value. */
  async nodeCpuStats(cpuNum = -1, flags = 0, o?: CallOptions): Promise<Record<string, bigint>> {
    const { nparams } = await this.core.call('NODE_GET_CPU_STATS', { cpuNum, nparams: 0, flags }, o);
    const r = await this.core.call('NODE_GET_CPU_STATS', { cpuNum, nparams, flags }, o);
    return Object.fromEntries(r.params.map((p) => [p.field, p.value]));
  }

  async nodeFreePages(pageSizes: number[], startCell: number, cellCount: number, flags = 0, o?: CallOptions): Promise<bigint[]> {
    return (await this.core.call('NODE_GET_FREE_PAGES', { pages: pageSizes, startCell, cellCount, flags }, o)).counts;
  }

  async securityModel(o?: CallOptions): Promise<SecurityModel> {
    const r = await this.core.call('NODE_GET_SECURITY_MODEL', undefined, o);
    return { model: charArrayText(r.model), doi: charArrayText(r.doi) };
  }

  // Domains.

  /** A Domain object for a handle obtained elsewhere (an event, a snapshot). */
  domainFromHandle(h: RemoteNonnullDomain): Domain {
    return new Domain(this.core, h);
  }

  /** Every domain matching `flags` with name, UUID and id, in one round trip. */
  async listAllDomains(flags: ConnectListAllDomainsFlags | number = 0, o?: CallOptions): Promise<Domain[]> {
    const r = await this.core.call('CONNECT_LIST_ALL_DOMAINS', { needResults: 1, flags }, o);
    return r.domains.map((d) => new Domain(this.core, d));
  }

  async listDomainIDs(o?: CallOptions): Promise<number[]> {
    return (await this.core.call('CONNECT_LIST_DOMAINS', { maxids: LIST_MAX }, o)).ids;
  }

  async listDefinedDomainNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_DEFINED_DOMAINS', { maxnames: LIST_MAX }, o)).names;
  }

  async numOfDomains(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_DOMAINS', undefined, o)).num;
  }

  async numOfDefinedDomains(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_DEFINED_DOMAINS', undefined, o)).num;
  }

  async domainLookupByName(name: string, o?: CallOptions): Promise<Domain> {
    return new Domain(this.core, (await this.core.call('DOMAIN_LOOKUP_BY_NAME', { name }, o)).dom);
  }

  async domainLookupByID(id: number, o?: CallOptions): Promise<Domain> {
    return new Domain(this.core, (await this.core.call('DOMAIN_LOOKUP_BY_ID', { id }, o)).dom);
  }

  /** By UUID, as text or 16 bytes. */
  async domainLookupByUUID(uuid: string | Uint8Array, o?: CallOptions): Promise<Domain> {
    const bytes = typeof uuid === 'string' ? uuidFromString(uuid) : uuid;
    return new Domain(this.core, (await this.core.call('DOMAIN_LOOKUP_BY_UUID', { uuid: bytes }, o)).dom);
  }

  /** virDomainDefineXML (no flags) or virDomainDefineXMLFlags. */
  async defineDomain(xml: string, flags?: number, o?: CallOptions): Promise<Domain> {
    const r = flags === undefined ? await this.core.call('DOMAIN_DEFINE_XML', { xml }, o) : await this.core.call('DOMAIN_DEFINE_XML_FLAGS', { xml, flags }, o);
    return new Domain(this.core, r.dom);
  }

  /** Creates and starts a transient domain (virDomainCreateXML). */
  async createDomain(xml: string, flags = 0, o?: CallOptions): Promise<Domain> {
    return new Domain(this.core, (await this.core.call('DOMAIN_CREATE_XML', { xmlDesc: xml, flags }, o)).dom);
  }

  /** virDomainRestore (no dxml, no flags) or virDomainRestoreFlags; relative paths are made absolute here, as libvirt does. */
  async restoreDomain(path: string, opts: { dxml?: string; flags?: number } = {}, o?: CallOptions): Promise<void> {
    const from = resolve(path);
    if (opts.dxml === undefined && opts.flags === undefined) await this.core.call('DOMAIN_RESTORE', { from }, o);
    else await this.core.call('DOMAIN_RESTORE_FLAGS', { from, dxml: opts.dxml ?? null, flags: opts.flags ?? 0 }, o);
  }

  // Networks.

  async listAllNetworks(flags: ConnectListAllNetworksFlags | number = 0, o?: CallOptions): Promise<Network[]> {
    const r = await this.core.call('CONNECT_LIST_ALL_NETWORKS', { needResults: 1, flags }, o);
    return r.nets.map((n) => new Network(this.core, n));
  }

  async listNetworkNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_NETWORKS', { maxnames: LIST_MAX }, o)).names;
  }

  async listDefinedNetworkNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_DEFINED_NETWORKS', { maxnames: LIST_MAX }, o)).names;
  }

  async numOfNetworks(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_NETWORKS', undefined, o)).num;
  }

  async numOfDefinedNetworks(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_DEFINED_NETWORKS', undefined, o)).num;
  }

  async networkLookupByName(name: string, o?: CallOptions): Promise<Network> {
    return new Network(this.core, (await this.core.call('NETWORK_LOOKUP_BY_NAME', { name }, o)).net);
  }

  async networkLookupByUUID(uuid: string | Uint8Array, o?: CallOptions): Promise<Network> {
    const bytes = typeof uuid === 'string' ? uuidFromString(uuid) : uuid;
    return new Network(this.core, (await this.core.call('NETWORK_LOOKUP_BY_UUID', { uuid: bytes }, o)).net);
  }

  async defineNetwork(xml: string, flags?: number, o?: CallOptions): Promise<Network> {
    const r = flags === undefined ? await this.core.call('NETWORK_DEFINE_XML', { xml }, o) : await this.core.call('NETWORK_DEFINE_XML_FLAGS', { xml, flags }, o);
    return new Network(this.core, r.net);
  }

  async createNetwork(xml: string, flags?: number, o?: CallOptions): Promise<Network> {
    const r = flags === undefined ? await this.core.call('NETWORK_CREATE_XML', { xml }, o) : await this.core.call('NETWORK_CREATE_XML_FLAGS', { xml, flags }, o);
    return new Network(this.core, r.net);
  }

  // Storage.

  async listAllStoragePools(flags: ConnectListAllStoragePoolsFlags | number = 0, o?: CallOptions): Promise<StoragePool[]> {
    const r = await this.core.call('CONNECT_LIST_ALL_STORAGE_POOLS', { needResults: 1, flags }, o);
    return r.pools.map((p) => new StoragePool(this.core, p));
  }

  async listStoragePoolNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_STORAGE_POOLS', { maxnames: LIST_MAX }, o)).names;
  }

  async listDefinedStoragePoolNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_DEFINED_STORAGE_POOLS', { maxnames: LIST_MAX }, o)).names;
  }

  async numOfStoragePools(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_STORAGE_POOLS', undefined, o)).num;
  }

  async numOfDefinedStoragePools(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_DEFINED_STORAGE_POOLS', undefined, o)).num;
  }

  async storagePoolLookupByName(name: string, o?: CallOptions): Promise<StoragePool> {
    return new StoragePool(this.core, (await this.core.call('STORAGE_POOL_LOOKUP_BY_NAME', { name }, o)).pool);
  }

  async storagePoolLookupByUUID(uuid: string | Uint8Array, o?: CallOptions): Promise<StoragePool> {
    const bytes = typeof uuid === 'string' ? uuidFromString(uuid) : uuid;
    return new StoragePool(this.core, (await this.core.call('STORAGE_POOL_LOOKUP_BY_UUID', { uuid: bytes }, o)).pool);
  }

  async defineStoragePool(xml: string, flags = 0, o?: CallOptions): Promise<StoragePool> {
    return new StoragePool(this.core, (await this.core.call('STORAGE_POOL_DEFINE_XML', { xml, flags }, o)).pool);
  }

  async createStoragePool(xml: string, flags = 0, o?: CallOptions): Promise<StoragePool> {
    return new StoragePool(this.core, (await this.core.call('STORAGE_POOL_CREATE_XML', { xml, flags }, o)).pool);
  }

  async findStoragePoolSources(type: string, srcSpec: string | null = null, flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('CONNECT_FIND_STORAGE_POOL_SOURCES', { type, srcSpec, flags }, o)).xml;
  }

  async storageVolLookupByKey(key: string, o?: CallOptions): Promise<StorageVol> {
    return new StorageVol(this.core, (await this.core.call('STORAGE_VOL_LOOKUP_BY_KEY', { key }, o)).vol);
  }

  async storageVolLookupByPath(path: string, o?: CallOptions): Promise<StorageVol> {
    return new StorageVol(this.core, (await this.core.call('STORAGE_VOL_LOOKUP_BY_PATH', { path }, o)).vol);
  }

  // Host interfaces.

  async listAllInterfaces(flags: ConnectListAllInterfacesFlags | number = 0, o?: CallOptions): Promise<Interface[]> {
    const r = await this.core.call('CONNECT_LIST_ALL_INTERFACES', { needResults: 1, flags }, o);
    return r.ifaces.map((i) => new Interface(this.core, i));
  }

  async listInterfaceNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_INTERFACES', { maxnames: LIST_MAX }, o)).names;
  }

  async listDefinedInterfaceNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_DEFINED_INTERFACES', { maxnames: LIST_MAX }, o)).names;
  }

  async numOfInterfaces(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_INTERFACES', undefined, o)).num;
  }

  async numOfDefinedInterfaces(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_DEFINED_INTERFACES', undefined, o)).num;
  }

  async interfaceLookupByName(name: string, o?: CallOptions): Promise<Interface> {
    return new Interface(this.core, (await this.core.call('INTERFACE_LOOKUP_BY_NAME', { name }, o)).iface);
  }

  async interfaceLookupByMAC(mac: string, o?: CallOptions): Promise<Interface> {
    return new Interface(this.core, (await this.core.call('INTERFACE_LOOKUP_BY_MAC_STRING', { mac }, o)).iface);
  }

  async defineInterface(xml: string, flags = 0, o?: CallOptions): Promise<Interface> {
    return new Interface(this.core, (await this.core.call('INTERFACE_DEFINE_XML', { xml, flags }, o)).iface);
  }

  async interfaceChangeBegin(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('INTERFACE_CHANGE_BEGIN', { flags }, o);
  }

  async interfaceChangeCommit(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('INTERFACE_CHANGE_COMMIT', { flags }, o);
  }

  async interfaceChangeRollback(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('INTERFACE_CHANGE_ROLLBACK', { flags }, o);
  }

  // Host devices, domain capabilities, statistics across domains (virsh's host commands).

  /** virNodeGetMemoryStats for one cell (-1: all), field -> KiB, in the driver's order. */
  async nodeMemoryStats(cellNum = -1, flags = 0, o?: CallOptions): Promise<[string, bigint][]> {
    const { nparams } = await this.core.call('NODE_GET_MEMORY_STATS', { nparams: 0, cellNum, flags }, o);
    if (nparams === 0) return [];
    const r = await this.core.call('NODE_GET_MEMORY_STATS', { nparams, cellNum, flags }, o);
    return r.params.map((p) => [p.field, p.value]);
  }

  async domainCapabilities(opts: { emulatorbin?: string | null; arch?: string | null; machine?: string | null; virttype?: string | null } = {}, flags = 0, o?: CallOptions): Promise<string> {
    const args = { emulatorbin: opts.emulatorbin ?? null, arch: opts.arch ?? null, machine: opts.machine ?? null, virttype: opts.virttype ?? null, flags };
    return (await this.core.call('CONNECT_GET_DOMAIN_CAPABILITIES', args, o)).capabilities;
  }

  /** virConnectGetAllDomainStats (no domains) or virDomainListGetStats: one record per domain. */
  async allDomainStats(stats: number, flags = 0, domains: readonly Domain[] = [], o?: CallOptions): Promise<{ domain: Domain; params: TypedParameters }[]> {
    const r = await this.core.call('CONNECT_GET_ALL_DOMAIN_STATS', { doms: domains.map((d) => d.handle), stats, flags }, o);
    return r.retStats.map((s) => ({ domain: new Domain(this.core, s.dom), params: typedParamsFromWire(s.params) }));
  }

  async saveImageXml(file: string, flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('DOMAIN_SAVE_IMAGE_GET_XML_DESC', { file: resolve(file), flags }, o)).xml;
  }

  async saveImageDefineXml(file: string, dxml: string, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('DOMAIN_SAVE_IMAGE_DEFINE_XML', { file: resolve(file), dxml, flags }, o);
  }

  async listAllNodeDevices(flags = 0, o?: CallOptions): Promise<NodeDevice[]> {
    const r = await this.core.call('CONNECT_LIST_ALL_NODE_DEVICES', { needResults: 1, flags }, o);
    return r.devices.map((d) => new NodeDevice(this.core, d.name));
  }

  async nodeDeviceLookupByName(name: string, o?: CallOptions): Promise<NodeDevice> {
    return new NodeDevice(this.core, (await this.core.call('NODE_DEVICE_LOOKUP_BY_NAME', { name }, o)).dev.name);
  }

  // Secrets and storage pool capabilities.

  async listAllSecrets(flags = 0, o?: CallOptions): Promise<Secret[]> {
    const r = await this.core.call('CONNECT_LIST_ALL_SECRETS', { needResults: 1, flags }, o);
    return r.secrets.map((x) => new Secret(this.core, x));
  }

  async numOfSecrets(o?: CallOptions): Promise<number> {
    return (await this.core.call('CONNECT_NUM_OF_SECRETS', undefined, o)).num;
  }

  async listSecretUUIDs(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('CONNECT_LIST_SECRETS', { maxuuids: 16384 }, o)).uuids;
  }

  async secretLookupByUUID(uuid: string | Uint8Array, o?: CallOptions): Promise<Secret> {
    const bytes = typeof uuid === 'string' ? uuidFromString(uuid) : uuid;
    return new Secret(this.core, (await this.core.call('SECRET_LOOKUP_BY_UUID', { uuid: bytes }, o)).secret);
  }

  async secretLookupByUsage(usageType: number, usageID: string, o?: CallOptions): Promise<Secret> {
    return new Secret(this.core, (await this.core.call('SECRET_LOOKUP_BY_USAGE', { usageType, usageID }, o)).secret);
  }

  async defineSecret(xml: string, flags = 0, o?: CallOptions): Promise<Secret> {
    return new Secret(this.core, (await this.core.call('SECRET_DEFINE_XML', { xml, flags }, o)).secret);
  }

  async storagePoolCapabilities(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('CONNECT_GET_STORAGE_POOL_CAPABILITIES', { flags }, o)).capabilities;
  }

  // Events.

  /** Domain events as an async iterable; resolves once the subscriptions are registered. */
  async domainEvents(opts: DomainEventsOptions = {}, o?: CallOptions): Promise<EventStream<DomainEvent>> {
    const ids = opts.events ?? [DomainEventID.LIFECYCLE];
    return this.stream('domain', ids, opts.domain?.handle ?? null, opts, o, (ev) => this.toDomainEvent(ev));
  }

  async networkEvents(opts: EventStreamOptions & { network?: Network } = {}, o?: CallOptions): Promise<EventStream<NetworkEvent>> {
    return this.stream('network', [NetworkEventID.LIFECYCLE], opts.network?.handle ?? null, opts, o, (ev) => {
      const p = ev.payload as { net: RemoteNonnullNetwork; event: number; detail: number };
      return { kind: 'lifecycle', network: new Network(this.core, p.net), event: p.event, detail: p.detail };
    });
  }

  async storagePoolEvents(
    opts: EventStreamOptions & { pool?: StoragePool; events?: readonly StoragePoolEventID[] } = {},
    o?: CallOptions,
  ): Promise<EventStream<StoragePoolEvent>> {
    const ids = opts.events ?? [StoragePoolEventID.LIFECYCLE];
    return this.stream('storage_pool', ids, opts.pool?.handle ?? null, opts, o, (ev) => {
      const p = ev.payload as { pool: RemoteNonnullStoragePool; event?: number; detail?: number };
      const pool = new StoragePool(this.core, p.pool);
      return ev.eventID === StoragePoolEventID.REFRESH ? { kind: 'refresh', pool } : { kind: 'lifecycle', pool, event: p.event ?? 0, detail: p.detail ?? 0 };
    });
  }

  /** Node device events (ids: 0 lifecycle, 1 update); payloads as the wire carries them. */
  async nodeDeviceEvents(opts: EventStreamOptions & { events?: readonly number[] } = {}, o?: CallOptions): Promise<EventStream<DriverEvent>> {
    return this.stream('node_device', opts.events ?? [0], null, opts, o, (ev) => ev);
  }

  /** Secret events (ids: 0 lifecycle, 1 value-changed); payloads as the wire carries them. */
  async secretEvents(opts: EventStreamOptions & { events?: readonly number[] } = {}, o?: CallOptions): Promise<EventStream<DriverEvent>> {
    return this.stream('secret', opts.events ?? [0], null, opts, o, (ev) => ev);
  }

  /** A live view of all domains kept current by events (see DomainWatch). */
  async watchDomains(o?: CallOptions): Promise<DomainWatch> {
    let watch: DomainWatch | null = null;
    const undo = await this.hub.add(this.core.driver, 'domain', DomainEventID.LIFECYCLE, null, (ev) => {
      const m = (ev.payload as { msg: { dom: RemoteNonnullDomain; event: number; detail: number } }).msg;
      watch?.lifecycle(m.dom, m.event, m.detail);
    }, o);
    watch = new DomainWatch(
      async () => (await this.core.call('CONNECT_LIST_ALL_DOMAINS', { needResults: 1, flags: 0 }, o)).domains,
      async () => {
        this.watches.delete(watch!);
        await undo();
      },
    );
    this.watches.add(watch);
    try {
      await watch.resync();
    } catch (err) {
      await watch.close();
      throw err;
    }
    return watch;
  }

  private async stream<T>(
    family: DriverEventFamily,
    ids: readonly number[],
    target: DriverEventTarget | null,
    opts: EventStreamOptions,
    o: CallOptions | undefined,
    convert: (ev: DriverEvent) => T,
  ): Promise<EventStream<T>> {
    const stream = new EventStream<T>(opts);
    const undos: Array<() => Promise<void>> = [];
    stream.onClose = async () => {
      this.streams.delete(stream as EventStream<unknown>);
      await Promise.all(undos.map((u) => u().catch(() => undefined)));
    };
    try {
      for (const id of ids) undos.push(await this.hub.add(this.core.driver, family, id, target, (ev) => stream.push(convert(ev)), o));
    } catch (err) {
      await stream.close();
      throw err;
    }
    this.streams.add(stream as EventStream<unknown>);
    return stream;
  }

  private toDomainEvent(ev: DriverEvent): DomainEvent {
    if (ev.eventID === DomainEventID.LIFECYCLE) {
      const m = (ev.payload as { msg: { dom: RemoteNonnullDomain; event: number; detail: number } }).msg;
      return { kind: 'lifecycle', eventID: DomainEventID.LIFECYCLE, domain: new Domain(this.core, m.dom), event: m.event, detail: m.detail };
    }
    const p = ev.payload as { dom?: RemoteNonnullDomain; msg?: { dom?: RemoteNonnullDomain } };
    const dom = p.dom ?? p.msg?.dom ?? null;
    return { kind: 'other', eventID: ev.eventID, procedure: ev.proc, domain: dom ? new Domain(this.core, dom) : null, payload: ev.payload };
  }

  // QEMU (libvirt-qemu's API; QEMU drivers only).

  /** virDomainQemuAttach: adopts a QEMU process started outside libvirt. */
  async qemuAttach(pid: number, flags = 0, o?: CallOptions): Promise<Domain> {
    return new Domain(this.core, await qemuAttach(this.core, pid, flags, o));
  }

  /**
   * QMP events of running domains (virConnectDomainQemuMonitorEventRegister) as an async
   * iterable; resolves once registered. Ends with the connection.
   */
  async qemuMonitorEvents(opts: QemuMonitorEventsOptions = {}, o?: CallOptions): Promise<EventStream<QemuMonitorEventInfo>> {
    const stream = new EventStream<QemuMonitorEventInfo>(opts);
    const filter = { dom: opts.domain?.handle ?? null, event: opts.event ?? null, regex: opts.regex, nocase: opts.nocase };
    await monitorEventStream(this.core, filter, stream, (ev) => ({
      domain: new Domain(this.core, ev.dom),
      event: ev.event,
      seconds: ev.seconds,
      micros: ev.micros,
      details: ev.details,
    }), o);
    this.streams.add(stream as EventStream<unknown>);
    const release = stream.onClose;
    stream.onClose = async () => {
      this.streams.delete(stream as EventStream<unknown>);
      await release?.();
    };
    return stream;
  }

  // Lifecycle.

  /** Closes the connection (remote: CONNECT_CLOSE, then the socket). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      this.unwatchLink?.();
      this.unwatchLink = null;
      const driver = this.core.shut(new ConnectionClosedError('connection is closed'));
      await Promise.all([...this.streams].map((s) => s.close()));
      await Promise.all([...this.watches].map((w) => w.close()));
      if (driver) await driver.close();
      this.setStatus({ state: 'closed', reason: 'client', error: null });
    })();
    return this.closing;
  }

  private setStatus(s: ConnectionStatus): void {
    if (this.statusValue.state === 'closed') return;
    this.statusValue = s;
    this.emit('status', s);
  }

  private followLink(driver: DriverConnection): void {
    const link = driver.link;
    if (!link) return;
    this.unwatchLink?.();
    const onStatus = (s: ClientStatus) => {
      if (s.state !== 'closed' || s.reason === 'local' || this.closing) return;
      this.unwatchLink?.();
      this.unwatchLink = null;
      void this.lost(s.reason, s.error);
    };
    this.unwatchLink = link.onStatus(onStatus);
    if (link.status.state === 'closed') onStatus(link.status);
  }

  /** The peer went away: reconnect if a policy says so, else close for good. */
  private async lost(reason: 'eof' | 'error' | 'keepalive', error: VirError | null): Promise<void> {
    const policy = this.opts.reconnect;
    if (policy && this.opts.reopen) {
      const attempts = policy.attempts ?? 10;
      let delay = policy.initialDelayMs ?? 250;
      let lastError: VirError | null = error;
      for (let attempt = 1; attempt <= attempts && !this.stop.signal.aborted; attempt++) {
        this.setStatus({ state: 'reconnecting', attempt, error: lastError });
        const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.5));
        await sleep(delay * (1 - jitter * Math.random()), this.stop.signal);
        delay = Math.min(delay * 2, policy.maxDelayMs ?? 10_000);
        if (this.stop.signal.aborted) return;
        let driver: DriverConnection;
        try {
          driver = await this.opts.reopen(this.stop.signal);
        } catch (err) {
          lastError = err as VirError;
          continue;
        }
        if (this.stop.signal.aborted) {
          await driver.close();
          return;
        }
        this.core.replace(driver);
        this.followLink(driver);
        await this.hub.replay(driver);
        this.setStatus({ state: 'open', reconnects: ++this.reconnects });
        await Promise.all([...this.watches].map((w) => w.resync().catch((e: unknown) => w.fail(e))));
        return;
      }
      if (this.stop.signal.aborted) return;
      error = lastError;
    }
    const err = error ?? new ConnectionClosedError('connection closed');
    this.core.shut(err);
    for (const s of [...this.streams]) s.fail(err);
    for (const w of [...this.watches]) w.fail(err);
    this.setStatus({ state: 'closed', reason, error });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
