// Reads the test driver's <node> configuration format: objects inline or pulled in by
// file='...' (resolved by the caller's reader), volumes nested in their <pool>, and the
// host <cpu>/<memory> that nodeinfo reports.
import type { XmlEl } from './tree.js';
import { attr, child, childText, elementsOf, parseXml } from './tree.js';
import { ErrDomain } from './errors.js';

export interface NodeCpuInfo {
  mhz?: number;
  model?: string;
  active?: number;
  nodes?: number;
  sockets?: number;
  cores?: number;
  threads?: number;
}
export interface NodeConfig {
  cpu: NodeCpuInfo;
  memoryKiB?: number;
  domains: XmlEl[];
  networks: XmlEl[];
  pools: { pool: XmlEl; volumes: XmlEl[] }[];
  interfaces: XmlEl[];
  /** <device> node devices (libvirt parses them last). */
  devices: XmlEl[];
}

/** `readInclude(name)` returns the text of a file named by a file='...' attribute. */
export function parseNodeConfig(text: string, readInclude: (name: string) => string): NodeConfig {
  const root = parseXml(text, 'node', 'test_driver_config', ErrDomain.none);
  const load = (el: XmlEl, root: string, label: string): XmlEl => {
    const file = attr(el, 'file');
    return file === undefined ? el : parseXml(readInclude(file), root, label, ErrDomain.none);
  };
  const num = (name: string): number | undefined => {
    const t = childText(child(root, 'cpu'), name);
    return t === undefined ? undefined : Number(t.trim());
  };
  const mem = childText(root, 'memory');
  return {
    cpu: {
      mhz: num('mhz'), model: childText(child(root, 'cpu'), 'model'), active: num('active'), nodes: num('nodes'),
      sockets: num('sockets'), cores: num('cores'), threads: num('threads'),
    },
    memoryKiB: mem === undefined ? undefined : Number(mem.trim()),
    domains: elementsOf(root, 'domain').map((e) => load(e, 'domain', 'domain_definition')),
    networks: elementsOf(root, 'network').map((e) => load(e, 'network', 'network_definition')),
    pools: elementsOf(root, 'pool').map((e) => ({
      pool: load(e, 'pool', 'storage_pool_definition'),
      // libvirt 9.0 only finds volumes inside the pool element it parsed: with file='...'
      // that is the included document, so <volume> children of the reference are ignored.
      volumes: elementsOf(load(e, 'pool', 'storage_pool_definition'), 'volume').map((v) =>
        load(v, 'volume', 'storage_volume_definition'),
      ),
    })),
    interfaces: elementsOf(root, 'interface').map((e) => load(e, 'interface', 'interface_definition')),
    devices: elementsOf(root, 'device').map((e) => load(e, 'device', 'node_device_definition')),
  };
}
