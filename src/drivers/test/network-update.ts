// virNetworkUpdate's section editors for the sections our network model carries: DHCP hosts,
// DHCP ranges and portgroups, with libvirt 9.0's matching rules and messages (checked with
// python-libvirt on test:///default). Other sections libvirt can edit (dns-*, forward-interface,
// forward-pf) are refused like the sections libvirt itself cannot update.
import type { NetworkDef, NetworkDhcpHost, NetworkIp, NetworkPortGroup } from '../../api/xml/network.js';
import type { XmlEl } from '../../api/xml/tree.js';
import { attr, child, parseXml } from '../../api/xml/tree.js';
import { parseBandwidth, parseVirtualPort, parseMac } from '../../api/xml/common.js';
import { XmlModelError } from '../../api/xml/errors.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { operationInvalid, parsing, virErr } from './node-common.js';

const NET = VirErrorDomain.NETWORK;
export const UpdateCommand = { MODIFY: 1, DELETE: 2, ADD_LAST: 3, ADD_FIRST: 4 } as const;
const SECTIONS = ['none', 'bridge', 'domain', 'ip', 'ip-dhcp-host', 'ip-dhcp-range', 'forward', 'forward-interface', 'forward-pf', 'portgroup', 'dns-host', 'dns-txt', 'dns-srv'];

const invalid = (msg: string) => operationInvalid(msg, NET);
const unsupported = (msg: string) => virErr(VirErrorNumber.OPERATION_UNSUPPORTED, 'Operation not supported: %s', msg, NET);
const xmlErr = (msg: string) => virErr(VirErrorNumber.XML_ERROR, 'XML error: %s', msg, NET);

function expectName(el: XmlEl, name: string, net: string): void {
  if (el.name !== name) throw xmlErr(`unexpected element <${el.name}>, expecting <${name}>, while updating network '${net}'`);
}

function badCommand(command: number): VirError {
  return unsupported(`unrecognized network update command code ${command}`);
}

/** virNetworkIPDefByIndex: an explicit index, else the <ip> that already has DHCP entries, else the first IPv4/IPv6 one. */
function ipFor(def: NetworkDef, parentIndex: number, what: string): NetworkIp {
  if (parentIndex >= 0) {
    const ip = def.ips[parentIndex];
    if (!ip) throw invalid(`couldn't update ${what} entry - no <ip> element found at index ${parentIndex} in network '${def.name}'`);
    return ip;
  }
  const v6 = (ip: NetworkIp) => ip.family === 'ipv6' || (ip.address ?? '').includes(':');
  const ip = def.ips.find((i) => (i.dhcp?.ranges.length ?? 0) + (i.dhcp?.hosts.length ?? 0) > 0) ?? def.ips.find((i) => !v6(i)) ?? def.ips.find(v6);
  if (!ip) throw invalid(`couldn't update ${what} entry - no <ip> element found in network '${def.name}'`);
  return ip;
}

const hostXml = (h: NetworkDhcpHost): string =>
  `<host${[['mac', h.mac], ['id', h.id], ['name', h.name], ['ip', h.ip]].map(([k, v]) => (v === undefined ? '' : ` ${k}='${v}'`)).join('')}/>`;

function dhcpHost(def: NetworkDef, ip: NetworkIp, el: XmlEl, command: number): void {
  const macText = attr(el, 'mac');
  const mac = macText === undefined ? undefined : parseMac(macText);
  if (mac === null) throw xmlErr(`Cannot parse MAC address '${macText}' in network '${def.name}'`);
  const host: NetworkDhcpHost = { mac, id: attr(el, 'id'), name: attr(el, 'name'), ip: attr(el, 'ip') };
  if (command !== UpdateCommand.DELETE && host.ip === undefined) throw xmlErr(`Missing IP address in static host definition for network '${def.name}'`);
  const dhcp = (ip.dhcp ??= { ranges: [], hosts: [] });
  const hosts = dhcp.hosts;
  const sameAny = (h: NetworkDhcpHost) =>
    (host.mac !== undefined && h.mac === host.mac) || (host.name !== undefined && h.name === host.name) || (host.ip !== undefined && h.ip === host.ip);
  switch (command) {
    case UpdateCommand.MODIFY: {
      const i = hosts.findIndex((h) => host.mac !== undefined && h.mac === host.mac);
      if (i < 0) {
        const fields = [['mac', host.mac], ['name', host.name], ['ip', host.ip]].filter(([, v]) => v !== undefined).map(([k, v]) => `"${k}='${v}'"`);
        throw invalid(`couldn't locate an existing dhcp host entry with ${fields.join(' ')} in network '${def.name}'`);
      }
      hosts[i] = host;
      return;
    }
    case UpdateCommand.ADD_FIRST:
    case UpdateCommand.ADD_LAST:
      if (hosts.some(sameAny)) throw invalid(`there is an existing dhcp host entry in network '${def.name}' that matches "${hostXml(host)}"`);
      if (command === UpdateCommand.ADD_FIRST) hosts.unshift(host);
      else hosts.push(host);
      return;
    case UpdateCommand.DELETE: {
      const i = hosts.findIndex(sameAny);
      if (i < 0) throw invalid(`couldn't locate a matching dhcp host entry in network '${def.name}'`);
      hosts.splice(i, 1);
      return;
    }
    default:
      throw badCommand(command);
  }
}

const ipv4 = (s: string): number | undefined => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  return p.some((x) => x > 255) ? undefined : ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
};
const popcount = (n: number): number => n.toString(2).replace(/0/g, '').length;
const prefixOf = (ip: NetworkIp): number => (ip.prefix !== undefined ? Number(ip.prefix) : popcount(ipv4(ip.netmask ?? '255.255.255.0') ?? 0));

function dhcpRange(def: NetworkDef, ip: NetworkIp, el: XmlEl, command: number): void {
  const start = attr(el, 'start') ?? '';
  const end = attr(el, 'end') ?? '';
  const internal = (msg: string) => virErr(VirErrorNumber.INTERNAL_ERROR, 'internal error: %s', msg, VirErrorDomain.NONE);
  if (command === UpdateCommand.MODIFY) throw unsupported('dhcp ranges cannot be modified, only added or deleted');
  const dhcp = (ip.dhcp ??= { ranges: [], hosts: [] });
  const ranges = dhcp.ranges;
  const same = (r: { start: string; end: string }) => r.start === start && r.end === end;
  const a = ipv4(start);
  const b = ipv4(end);
  const net = ipv4(ip.address ?? '');
  if (command === UpdateCommand.ADD_FIRST || command === UpdateCommand.ADD_LAST) {
    if (a !== undefined && b !== undefined && net !== undefined) {
      const prefix = prefixOf(ip);
      const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
      if (((a & mask) >>> 0) !== ((net & mask) >>> 0) || ((b & mask) >>> 0) !== ((net & mask) >>> 0)) {
        throw internal(`range ${start} - ${end} is not entirely within network ${ip.address}/${prefix}`);
      }
      if (a > b) throw internal(`range ${start} - ${end} is reversed `);
    }
  }
  switch (command) {
    case UpdateCommand.ADD_FIRST:
    case UpdateCommand.ADD_LAST:
      if (ranges.some(same)) throw invalid(`there is an existing dhcp range entry in network '${def.name}' that matches "<range start='${start}' end='${end}'/>"`);
      if (command === UpdateCommand.ADD_FIRST) ranges.unshift({ start, end });
      else ranges.push({ start, end });
      return;
    case UpdateCommand.DELETE: {
      const i = ranges.findIndex(same);
      if (i < 0) throw invalid(`couldn't locate a matching dhcp range entry in network '${def.name}'`);
      ranges.splice(i, 1);
      return;
    }
    default:
      throw badCommand(command);
  }
}

function portGroup(def: NetworkDef, el: XmlEl, command: number): void {
  const pg: NetworkPortGroup = {
    name: attr(el, 'name') ?? '',
    isDefault: attr(el, 'default') === 'yes',
    virtualPort: parseVirtualPort(child(el, 'virtualport')),
    bandwidth: parseBandwidth(child(el, 'bandwidth')),
  };
  const groups = def.portGroups;
  const i = groups.findIndex((g) => g.name === pg.name);
  const notFound = () => invalid(`couldn't find a portgroup entry in network '${def.name}' matching <portgroup name='${pg.name}'>`);
  if ((command === UpdateCommand.MODIFY || command === UpdateCommand.DELETE) && i < 0) throw notFound();
  if ((command === UpdateCommand.ADD_FIRST || command === UpdateCommand.ADD_LAST) && i >= 0) {
    throw invalid(`there is an existing portgroup entry in network '${def.name}' that matches "<portgroup name='${pg.name}'>"`);
  }
  if (command !== UpdateCommand.DELETE && pg.isDefault && groups.some((g, j) => g.isDefault && j !== i)) {
    throw invalid(`a different portgroup entry in network '${def.name}' is already set as the default. Only one default is allowed.`);
  }
  switch (command) {
    case UpdateCommand.MODIFY:
      groups[i] = pg;
      return;
    case UpdateCommand.DELETE:
      groups.splice(i, 1);
      return;
    case UpdateCommand.ADD_FIRST:
      groups.unshift(pg);
      return;
    case UpdateCommand.ADD_LAST:
      groups.push(pg);
      return;
    default:
      throw badCommand(command);
  }
}

/** virNetworkDefUpdateSection on `def` in place. */
export function updateNetworkSection(def: NetworkDef, command: number, section: number, parentIndex: number, xml: string): void {
  const el = parsing(() => {
    try {
      return parseXml(xml, '', 'network_update_xml', NET);
    } catch (e) {
      // libvirt parses the snippet from a string named without the usual parentheses.
      if (e instanceof XmlModelError) throw new XmlModelError(e.code, e.domain, e.message.replace(/^\(network_update_xml\)/, 'network_update_xml'));
      throw e;
    }
  });
  switch (section) {
    case 4:
      expectName(el, 'host', def.name);
      return dhcpHost(def, ipFor(def, parentIndex, 'dhcp host'), el, command);
    case 5:
      expectName(el, 'range', def.name);
      return dhcpRange(def, ipFor(def, parentIndex, 'dhcp range'), el, command);
    case 9:
      expectName(el, 'portgroup', def.name);
      return portGroup(def, el, command);
    default: {
      const name = SECTIONS[section];
      if (name === undefined || section === 0) throw unsupported("can't update unrecognized section of network");
      throw unsupported(`can't update '${name}' section of network '${def.name}'`);
    }
  }
}
