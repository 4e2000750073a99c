// <network>: typed model, parse (with libvirt's defaults) and format in libvirt 9.0's order.
import type { XmlEl, Out } from './tree.js';
import { attr, child, childText, elementsOf, parseXml, renderDoc } from './tree.js';
import { ErrCode, ErrDomain, XmlModelError, internalError, unsupported } from './errors.js';
import { parseUuid, newUuid } from './uuid.js';
import type { Bandwidth, VirtualPort } from './common.js';
import { parseBandwidth, formatBandwidth, parseVirtualPort, formatVirtualPort, parseMac } from './common.js';

const D = ErrDomain.network;
const FORWARD_MODES = ['nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev'];

export interface NetworkDhcpHost {
  mac?: string;
  id?: string;
  name?: string;
  ip?: string;
}
export interface NetworkIp {
  family?: string;
  address?: string;
  netmask?: string;
  prefix?: string;
  localPtr?: string;
  tftpRoot?: string;
  dhcp?: { ranges: { start: string; end: string }[]; hosts: NetworkDhcpHost[]; bootp?: { file?: string; server?: string } };
}
export interface NetworkRoute {
  family?: string;
  address?: string;
  netmask?: string;
  prefix?: string;
  gateway?: string;
  metric?: string;
}
export interface NetworkPortGroup {
  name: string;
  isDefault: boolean;
  virtualPort?: VirtualPort;
  bandwidth?: Bandwidth;
}
export interface NetworkDef {
  name: string;
  uuid: string;
  ipv6: boolean;
  forward?: { mode: string; dev?: string; managed?: string; pfs: string[]; interfaces: string[] };
  bridge?: { name?: string; stp?: boolean; delay?: string };
  mac?: string;
  domainName?: string;
  virtualPort?: VirtualPort;
  bandwidth?: Bandwidth;
  ips: NetworkIp[];
  routes: NetworkRoute[];
  portGroups: NetworkPortGroup[];
}

export function parseNetworkXml(text: string): NetworkDef {
  return parseNetwork(parseXml(text, 'network', 'network_definition', D));
}

export function parseNetwork(el: XmlEl): NetworkDef {
  const name = childText(el, 'name');
  if (name === undefined || name === '') throw new XmlModelError(ErrCode.noName, D, 'missing name information');
  const uuidText = childText(el, 'uuid');
  let uuid = newUuid();
  if (uuidText !== undefined) {
    const u = parseUuid(uuidText);
    if (!u) throw internalError(D, 'malformed uuid element');
    uuid = u;
  }
  const fwdEl = child(el, 'forward');
  let forward: NetworkDef['forward'];
  if (fwdEl) {
    const mode = attr(fwdEl, 'mode') ?? 'nat';
    if (!FORWARD_MODES.includes(mode)) throw unsupported(D, `unknown forwarding type '${mode}'`);
    const dev = attr(fwdEl, 'dev');
    const interfaces = elementsOf(fwdEl, 'interface').map((i) => attr(i, 'dev') ?? '');
    // libvirt lists the forward dev as the first <interface> too.
    if (dev !== undefined && interfaces.length === 0) interfaces.push(dev);
    forward = { mode, dev, managed: attr(fwdEl, 'managed'), pfs: elementsOf(fwdEl, 'pf').map((p) => attr(p, 'dev') ?? ''), interfaces };
  }
  const brEl = child(el, 'bridge');
  const macText = attr(child(el, 'mac'), 'address');
  const def: NetworkDef = {
    name,
    uuid,
    ipv6: attr(el, 'ipv6') === 'yes',
    forward,
    bridge: brEl && { name: attr(brEl, 'name'), stp: attr(brEl, 'stp') === undefined ? undefined : attr(brEl, 'stp') !== 'off', delay: attr(brEl, 'delay') },
    mac: macText === undefined ? undefined : parseMac(macText) ?? macText,
    domainName: attr(child(el, 'domain'), 'name'),
    virtualPort: parseVirtualPort(child(el, 'virtualport')),
    bandwidth: parseBandwidth(child(el, 'bandwidth')),
    ips: elementsOf(el, 'ip').map(parseIp),
    routes: elementsOf(el, 'route').map((r) => ({
      family: attr(r, 'family'), address: attr(r, 'address'), netmask: attr(r, 'netmask'),
      prefix: attr(r, 'prefix'), gateway: attr(r, 'gateway'), metric: attr(r, 'metric'),
    })),
    portGroups: elementsOf(el, 'portgroup').map((p) => ({
      name: attr(p, 'name') ?? '',
      isDefault: attr(p, 'default') === 'yes',
      virtualPort: parseVirtualPort(child(p, 'virtualport')),
      bandwidth: parseBandwidth(child(p, 'bandwidth')),
    })),
  };
  return def;
}

function parseIp(el: XmlEl): NetworkIp {
  const dhcp = child(el, 'dhcp');
  const bootp = child(dhcp, 'bootp');
  return {
    family: attr(el, 'family'),
    address: attr(el, 'address'),
    netmask: attr(el, 'netmask'),
    prefix: attr(el, 'prefix'),
    localPtr: attr(el, 'localPtr'),
    tftpRoot: attr(child(el, 'tftp'), 'root'),
    dhcp: dhcp && {
      ranges: elementsOf(dhcp, 'range').map((r) => ({ start: attr(r, 'start') ?? '', end: attr(r, 'end') ?? '' })),
      hosts: elementsOf(dhcp, 'host').map((h) => ({ mac: attr(h, 'mac'), id: attr(h, 'id'), name: attr(h, 'name'), ip: attr(h, 'ip') })),
      bootp: bootp && { file: attr(bootp, 'file'), server: attr(bootp, 'server') },
    },
  };
}

/** Modes whose networks get a host bridge that libvirt manages (stp/delay shown). */
const hasManagedBridge = (d: NetworkDef) => !d.forward || ['nat', 'route', 'open'].includes(d.forward.mode);

export function formatNetwork(d: NetworkDef): string {
  const f = d.forward;
  const bridgeOut: Out | undefined = hasManagedBridge(d)
    ? { name: 'bridge', attrs: [['name', d.bridge?.name], ['stp', d.bridge?.stp === false ? 'off' : 'on'], ['delay', d.bridge?.delay ?? '0']] }
    : d.bridge && { name: 'bridge', attrs: [['name', d.bridge.name]] };
  const root: Out = {
    name: 'network',
    attrs: [['ipv6', d.ipv6 ? 'yes' : undefined]],
    kids: [
      { name: 'name', text: d.name },
      { name: 'uuid', text: d.uuid },
      f && {
        name: 'forward',
        attrs: [['dev', f.dev], ['mode', f.mode], ['managed', f.managed]],
        kids: [
          ...f.pfs.map((p): Out => ({ name: 'pf', attrs: [['dev', p]] })),
          ...f.interfaces.map((i): Out => ({ name: 'interface', attrs: [['dev', i]] })),
        ],
      },
      bridgeOut,
      d.mac !== undefined && { name: 'mac', attrs: [['address', d.mac]] },
      d.domainName !== undefined && { name: 'domain', attrs: [['name', d.domainName]] },
      formatVirtualPort(d.virtualPort),
      formatBandwidth(d.bandwidth),
      ...d.ips.map(formatIp),
      ...d.routes.map((r): Out => ({
        name: 'route',
        attrs: [['family', r.family], ['address', r.address], ['netmask', r.netmask], ['prefix', r.prefix], ['gateway', r.gateway], ['metric', r.metric]],
      })),
      ...d.portGroups.map((p): Out => ({
        name: 'portgroup',
        attrs: [['name', p.name], ['default', p.isDefault ? 'yes' : undefined]],
        // libvirt always writes a portgroup's end tag on its own line.
        open: true,
        kids: [formatVirtualPort(p.virtualPort), formatBandwidth(p.bandwidth)],
      })),
    ],
  };
  return renderDoc(root);
}

function formatIp(ip: NetworkIp): Out {
  const dh = ip.dhcp;
  return {
    name: 'ip',
    attrs: [['family', ip.family], ['address', ip.address], ['netmask', ip.netmask], ['prefix', ip.prefix], ['localPtr', ip.localPtr]],
    open: true,
    kids: [
      ip.tftpRoot !== undefined && { name: 'tftp', attrs: [['root', ip.tftpRoot]] },
      dh && {
        name: 'dhcp',
        kids: [
          ...dh.ranges.map((r): Out => ({ name: 'range', attrs: [['start', r.start], ['end', r.end]] })),
          ...dh.hosts.map((h): Out => ({ name: 'host', attrs: [['mac', h.mac], ['id', h.id], ['name', h.name], ['ip', h.ip]] })),
          dh.bootp && { name: 'bootp', attrs: [['file', dh.bootp.file], ['server', dh.bootp.server]] },
        ],
      },
    ],
  };
}
