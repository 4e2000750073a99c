// Host <interface> (virInterface): typed model, parse and format (libvirt 9.0 order).
import type { XmlEl, Out } from './tree.js';
import { attr, child, elementsOf, parseXml, renderDoc } from './tree.js';
import { ErrDomain, invalidAttr, missingAttr, xmlError } from './errors.js';

const D = ErrDomain.interface;
const TYPES = ['ethernet', 'bridge', 'bond', 'vlan'];

export interface IfaceProtocol {
  family: string;
  dhcp?: { peerdns?: string };
  autoconf: boolean;
  ips: { address: string; prefix?: string }[];
  routeGateway?: string;
}
export interface IfaceDef {
  type: string;
  name: string;
  startMode?: string;
  mtu?: string;
  mac?: string;
  protocols: IfaceProtocol[];
  /** bridge/bond/vlan members are kept as child interface definitions. */
  members: IfaceDef[];
}

export const parseIfaceXml = (text: string): IfaceDef => parseIface(parseXml(text, 'interface', 'interface_definition', D));

export function parseIface(el: XmlEl): IfaceDef {
  const type = attr(el, 'type');
  if (type === undefined) throw missingAttr('type', 'interface');
  if (!TYPES.includes(type)) throw invalidAttr('type', 'interface', type);
  const name = attr(el, 'name');
  if (name === undefined) throw xmlError(D, 'interface has no name');
  const holder = child(el, 'bridge') ?? child(el, 'bond') ?? child(el, 'vlan');
  return {
    type,
    name,
    startMode: attr(child(el, 'start'), 'mode'),
    mtu: attr(child(el, 'mtu'), 'size'),
    mac: attr(child(el, 'mac'), 'address'),
    protocols: elementsOf(el, 'protocol').map((p) => ({
      family: attr(p, 'family') ?? '',
      dhcp: child(p, 'dhcp') && { peerdns: attr(child(p, 'dhcp'), 'peerdns') },
      autoconf: child(p, 'autoconf') !== undefined,
      ips: elementsOf(p, 'ip').map((i) => ({ address: attr(i, 'address') ?? '', prefix: attr(i, 'prefix') })),
      routeGateway: attr(child(p, 'route'), 'gateway'),
    })),
    members: holder ? elementsOf(holder, 'interface').map(parseIface) : [],
  };
}

function ifaceOut(d: IfaceDef): Out {
  return {
    name: 'interface',
    attrs: [['type', d.type], ['name', d.name]],
    // libvirt always writes the start and end tags, even around nothing.
    open: true,
    kids: [
      d.startMode !== undefined && { name: 'start', attrs: [['mode', d.startMode]] },
      d.mtu !== undefined && { name: 'mtu', attrs: [['size', d.mtu]] },
      ...d.protocols.map((p): Out => ({
        name: 'protocol',
        attrs: [['family', p.family]],
        kids: [
          p.autoconf && { name: 'autoconf' },
          p.dhcp && { name: 'dhcp', attrs: [['peerdns', p.dhcp.peerdns]] },
          ...p.ips.map((i): Out => ({ name: 'ip', attrs: [['address', i.address], ['prefix', i.prefix]] })),
          p.routeGateway !== undefined && { name: 'route', attrs: [['gateway', p.routeGateway]] },
        ],
      })),
      // libvirt writes the MAC after the protocol blocks for ethernet interfaces.
      d.mac !== undefined && { name: 'mac', attrs: [['address', d.mac]] },
      d.members.length > 0 && { name: d.type, kids: d.members.map(ifaceOut) },
    ],
  };
}

export const formatIface = (d: IfaceDef): string => renderDoc(ifaceOut(d));
