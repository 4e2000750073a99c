// <device> (node devices): typed model, parse and format as libvirt 9.0's node_device_conf does
// it, for the capability types the test driver's configs use. Formatting rebuilds every element
// (so input order, unknown elements like <driver> and whitespace do not survive), and nested
// capabilities become flags/lists on their parent capability as in libvirt.
import type { XmlEl, Out } from './tree.js';
import { attr, child, childText, elementsOf, parseXml, renderDoc } from './tree.js';
import { ErrCode, ErrDomain, XmlModelError, internalError, unsupported, xmlError } from './errors.js';
import { parseUuid } from './uuid.js';

export const NODEDEV_DOMAIN = 22;
const D = NODEDEV_DOMAIN;

/** virNodeDevCapType names, in libvirt's enum order. */
export const NODE_DEV_CAP_TYPES = [
  'system', 'pci', 'usb_device', 'usb', 'net', 'scsi_host', 'scsi_target', 'scsi', 'storage', 'fc_host', 'vports',
  'scsi_generic', 'drm', 'mdev_types', 'mdev', 'ccw', 'css', 'vdpa', 'ap_card', 'ap_queue', 'ap_matrix', 'vpd',
] as const;
const NET_FEATURES = ['rx', 'tx', 'sg', 'tso', 'gso', 'gro', 'lro', 'rxvlan', 'txvlan', 'ntuple', 'rxhash', 'rdma', 'txudptnl', 'switchdev'];
const IF_STATES = ['', 'unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];
const PCIE_SPEEDS = ['', '2.5', '5', '8', '16'];

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}
export interface MdevType {
  id: string;
  name?: string;
  deviceApi: string;
  availableInstances: number;
}
export interface PcieLink {
  port: number;
  speed?: string;
  width: number;
}

export type NodeDevCap =
  | {
      type: 'system';
      product?: string;
      hardware: { vendor?: string; version?: string; serial?: string; uuid: string };
      firmware: { vendor?: string; version?: string; releaseDate?: string };
    }
  | {
      type: 'pci';
      klass: number;
      addr: PciAddress;
      product: number;
      productName?: string;
      vendor: number;
      vendorName?: string;
      physFunction?: PciAddress;
      virtFunctions?: { maxCount: number; addrs: PciAddress[] };
      /** A PCI header type other than endpoint ('pci-bridge', 'cardbus-bridge'). */
      header?: string;
      mdevTypes?: MdevType[];
      iommuGroup?: { number: number; addrs: PciAddress[] };
      numaNode: number;
      pciExpress?: { cap?: PcieLink; sta?: PcieLink };
    }
  | { type: 'usb_device'; bus: number; device: number; product: number; productName?: string; vendor: number; vendorName?: string }
  | { type: 'usb'; number: number; klass: number; subclass: number; protocol: number; description?: string }
  | { type: 'net'; ifname: string; address?: string; link?: { speed: number; state: number }; features: string[]; subtype?: string }
  | {
      type: 'scsi_host';
      host: number;
      uniqueId: number;
      fc?: { wwnn: string; wwpn: string; fabricWwn?: string };
      vportOps?: { maxVports: number; vports: number };
    }
  | { type: 'scsi_target'; target: string; rport?: { rport: string; wwpn: string } }
  | { type: 'scsi'; host: number; bus: number; target: number; lun: number; scsiType?: string }
  | {
      type: 'storage';
      block: string;
      bus?: string;
      driveType?: string;
      model?: string;
      vendor?: string;
      serial?: string;
      removable?: { mediaAvailable: boolean; mediaSize: bigint; mediaLabel?: string };
      size: bigint;
      hotpluggable: boolean;
    }
  | { type: 'drm'; drmType: string }
  | { type: 'mdev'; mdevType: string; uuid?: string; iommuGroup: number; attrs: { name: string; value: string }[] }
  | { type: 'ccw'; cssid: number; ssid: number; devno: number }
  | { type: 'css'; cssid: number; ssid: number; devno: number; channel?: { cssid: number; ssid: number; devno: number }; mdevTypes?: MdevType[] }
  | { type: 'ap_card'; adapter: number }
  | { type: 'ap_queue'; adapter: number; domain: number }
  | { type: 'ap_matrix'; mdevTypes?: MdevType[] };

export interface NodeDeviceDef {
  name: string;
  path?: string;
  devnode?: string;
  devlinks: string[];
  parent?: string;
  parentWwnn?: string;
  parentWwpn?: string;
  parentFabricWwn?: string;
  caps: NodeDevCap[];
}

/** libvirt's virXPathString: an empty result counts as absent. */
const str = (el: XmlEl | undefined, name: string): string | undefined => {
  const t = childText(el, name);
  return t === undefined || t === '' ? undefined : t;
};
const attrStr = (el: XmlEl | undefined, name: string): string | undefined => {
  const t = attr(el, name);
  return t === undefined || t === '' ? undefined : t;
};

/** XPath number() of an element's text: trimmed decimal, NaN when absent or malformed. */
function xpathNumber(el: XmlEl | undefined, name: string): number {
  const t = childText(el, name);
  if (t === undefined) return NaN;
  const s = t.trim();
  return /^-?(\d+(\.\d*)?|\.\d+)$/.test(s) ? Number(s) : NaN;
}

/** virNodeDevCapsDefParseULong: missing/NaN and non-integral values have their own messages. */
function ulong(el: XmlEl, name: string, dev: string, what: string): number {
  const n = xpathNumber(el, name);
  if (Number.isNaN(n)) throw internalError(D, `no ${what} supplied for '${dev}'`);
  if (!Number.isInteger(n) || n < 0) throw internalError(D, `invalid ${what} supplied for '${dev}'`);
  return n;
}

/** An id='0x8086' style attribute of a child, parsed base 16. */
function hexId(el: XmlEl, name: string, dev: string, what: string): number {
  const t = attr(child(el, name), 'id');
  if (t === undefined || t === '') throw internalError(D, `no ${what} supplied for '${dev}'`);
  const m = /^\s*(0[xX])?([0-9a-fA-F]+)$/.exec(t);
  if (!m?.[2]) throw internalError(D, `invalid ${what} supplied for '${dev}'`);
  return parseInt(m[2], 16);
}

/** strtoul with base 0 (decimal, 0x hex or 0 octal), as virStrToLong_uip. */
function parseUintAuto(s: string | undefined, base = 0): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (base === 16) return /^(0[xX])?[0-9a-fA-F]+$/.test(t) ? parseInt(t.replace(/^0[xX]/, ''), 16) : undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[0-7]*$/.test(t)) return parseInt(t, 8);
  if (/^[1-9]\d*$/.test(t)) return parseInt(t, 10);
  return undefined;
}

function pciAddress(el: XmlEl): PciAddress {
  const get = (name: string): number => {
    const v = attr(el, name);
    if (v === undefined) return 0;
    const n = parseUintAuto(v);
    if (n === undefined) throw internalError(ErrDomain.none, `Cannot parse <address> '${name}' attribute`);
    return n;
  };
  return { domain: get('domain'), bus: get('bus'), slot: get('slot'), function: get('function') };
}

function mdevTypes(el: XmlEl): MdevType[] {
  return elementsOf(el, 'type').map((t) => {
    const id = attrStr(t, 'id');
    if (id === undefined) throw xmlError(D, "missing 'id' attribute for mediated device's <type> element");
    const deviceApi = str(t, 'deviceAPI');
    if (deviceApi === undefined) throw xmlError(D, `missing device API for mediated device type '${id}'`);
    const n = xpathNumber(t, 'availableInstances');
    if (!Number.isInteger(n) || n < 0) throw xmlError(D, `missing number of available instances for mediated device type '${id}'`);
    return { id, name: str(t, 'name'), deviceApi, availableInstances: n };
  });
}

function ccwAddress(el: XmlEl, dev: string): { cssid: number; ssid: number; devno: number } {
  const one = (name: string, base: number): number => {
    const t = str(el, name);
    if (t === undefined) throw unsupported(D, `missing ${name} value for '${dev}'`);
    const n = parseUintAuto(t, base);
    if (n === undefined) throw unsupported(D, `invalid ${name} value '${t}' for '${dev}'`);
    return n;
  };
  return { cssid: one('cssid', 0), ssid: one('ssid', 0), devno: one('devno', 16) };
}

function pcieLink(el: XmlEl | undefined): PcieLink | undefined {
  if (!el) return undefined;
  const width = parseUintAuto(attr(el, 'width'));
  if (width === undefined) throw xmlError(ErrDomain.xml, "Missing required attribute 'width' in element 'link'");
  const speed = attr(el, 'speed');
  if (speed !== undefined && !PCIE_SPEEDS.includes(speed)) throw xmlError(ErrDomain.xml, `Invalid value for attribute 'speed' in element 'link': '${speed}'.`);
  const port = attr(el, 'port');
  return { width, speed, port: port === undefined ? -1 : Number(port) };
}

function parseCap(el: XmlEl, dev: string, create: boolean): NodeDevCap {
  const type = attr(el, 'type');
  if (type === undefined) throw xmlError(ErrDomain.xml, "Missing required attribute 'type' in element 'capability'");
  const subcaps = elementsOf(el, 'capability');
  switch (type) {
    case 'system': {
      const hw = child(el, 'hardware');
      const fw = child(el, 'firmware');
      const u = str(hw, 'uuid');
      if (u === undefined) throw internalError(D, `no system UUID supplied for '${dev}'`);
      const uuid = parseUuid(u);
      if (!uuid) throw internalError(D, `malformed uuid element for '${dev}'`);
      return {
        type, product: str(el, 'product'),
        hardware: { vendor: str(hw, 'vendor'), version: str(hw, 'version'), serial: str(hw, 'serial'), uuid },
        firmware: { vendor: str(fw, 'vendor'), version: str(fw, 'version'), releaseDate: str(fw, 'release_date') },
      };
    }
    case 'pci': {
      const klassText = str(el, 'class');
      let klass = -1;
      if (klassText !== undefined) {
        const k = parseUintAuto(klassText, 16);
        if (k === undefined || k > 0xffffff) throw internalError(D, `invalid PCI class supplied for '${dev}'`);
        klass = k;
      }
      const addr = {
        domain: ulong(el, 'domain', dev, 'PCI domain ID'), bus: ulong(el, 'bus', dev, 'PCI bus ID'),
        slot: ulong(el, 'slot', dev, 'PCI slot ID'), function: ulong(el, 'function', dev, 'PCI function ID'),
      };
      const cap: NodeDevCap = {
        type, klass, addr,
        vendor: hexId(el, 'vendor', dev, 'PCI vendor ID'), product: hexId(el, 'product', dev, 'PCI product ID'),
        vendorName: str(el, 'vendor'), productName: str(el, 'product'), numaNode: -1,
      };
      for (const sc of subcaps) {
        const t = attr(sc, 'type');
        if (t === undefined) throw xmlError(D, 'Missing capability type');
        if (t === 'phys_function') {
          const a = child(sc, 'address');
          if (!a) throw xmlError(D, "Missing address in 'phys_function' capability");
          cap.physFunction = pciAddress(a);
        } else if (t === 'virt_functions') {
          const max = attr(sc, 'maxCount');
          const maxCount = max === undefined ? 0 : parseUintAuto(max, 10);
          if (maxCount === undefined) throw xmlError(D, "Malformed 'maxCount' parameter");
          cap.virtFunctions = { maxCount, addrs: elementsOf(sc, 'address').map(pciAddress) };
        } else if (t === 'mdev_types') {
          cap.mdevTypes = [...(cap.mdevTypes ?? []), ...mdevTypes(sc)];
        } else if ((t === 'pci-bridge' || t === 'cardbus-bridge') && cap.header === undefined) {
          cap.header = t;
        }
      }
      const ig = child(el, 'iommuGroup');
      if (ig) {
        const n = parseUintAuto(attr(ig, 'number'), 10);
        if (n === undefined) throw xmlError(ErrDomain.xml, "Missing required attribute 'number' in element 'iommuGroup'");
        cap.iommuGroup = { number: n, addrs: elementsOf(ig, 'address').map(pciAddress) };
      }
      const numa = attr(child(el, 'numa'), 'node');
      if (numa !== undefined) {
        const n = Number(numa.trim());
        if (!Number.isInteger(n)) throw internalError(D, `invalid NUMA node ID supplied for '${dev}'`);
        cap.numaNode = n;
      }
      const pe = child(el, 'pci-express');
      if (pe) {
        const links = elementsOf(pe, 'link');
        cap.pciExpress = { cap: pcieLink(links.find((l) => attr(l, 'validity') === 'cap')), sta: pcieLink(links.find((l) => attr(l, 'validity') === 'sta')) };
      }
      return cap;
    }
    case 'usb_device':
      return {
        type, bus: ulong(el, 'bus', dev, 'USB bus number'), device: ulong(el, 'device', dev, 'USB device number'),
        vendor: hexId(el, 'vendor', dev, 'USB vendor ID'), product: hexId(el, 'product', dev, 'USB product ID'),
        vendorName: str(el, 'vendor'), productName: str(el, 'product'),
      };
    case 'usb':
      return {
        type, number: ulong(el, 'number', dev, 'USB interface number'), klass: ulong(el, 'class', dev, 'USB interface class'),
        subclass: ulong(el, 'subclass', dev, 'USB interface subclass'), protocol: ulong(el, 'protocol', dev, 'USB interface protocol'),
        description: str(el, 'description'),
      };
    case 'net': {
      const ifname = str(el, 'interface');
      if (ifname === undefined) throw internalError(D, `no network interface supplied for '${dev}'`);
      const features: string[] = [];
      for (const f of elementsOf(el, 'feature')) {
        const n = attr(f, 'name');
        if (n === undefined) throw xmlError(D, 'missing network device feature name');
        if (!NET_FEATURES.includes(n)) throw xmlError(D, `unknown network device feature '${n}'`);
        if (!features.includes(n)) features.push(n);
      }
      features.sort((a, b) => NET_FEATURES.indexOf(a) - NET_FEATURES.indexOf(b));
      const subtype = attrStr(subcaps[0], 'type');
      if (subtype !== undefined && subtype !== '80203' && subtype !== '80211') throw unsupported(D, `invalid network type supplied for '${dev}'`);
      const l = child(el, 'link');
      let link: { speed: number; state: number } | undefined;
      if (l) {
        const st = attr(l, 'state');
        const state = st === undefined ? 0 : IF_STATES.indexOf(st);
        if (state <= 0 && st !== undefined) throw unsupported(ErrDomain.none, `unknown link state: ${st}`);
        link = { speed: Number(attr(l, 'speed') ?? 0) || 0, state };
      }
      return { type, ifname, address: str(el, 'address'), link, features, subtype };
    }
    case 'scsi_host': {
      let host = 0;
      let uniqueId = create ? 0 : -1;
      if (!create) {
        host = ulong(el, 'host', dev, 'SCSI host ID');
        const u = xpathNumber(el, 'unique_id');
        if (!Number.isNaN(u)) {
          if (!Number.isInteger(u)) throw internalError(D, `invalid unique_id supplied for '${dev}'`);
          uniqueId = u;
        }
      }
      const cap: NodeDevCap = { type, host, uniqueId };
      for (const sc of subcaps) {
        const t = attr(sc, 'type');
        if (t === undefined) throw internalError(D, `missing SCSI host capability type for '${dev}'`);
        if (t === 'vport_ops') cap.vportOps = { maxVports: 0, vports: 0 };
        else if (t === 'fc_host') {
          const wwnn = str(sc, 'wwnn');
          const wwpn = str(sc, 'wwpn');
          // libvirt generates random WWNs when missing; the test driver's fixtures always give them.
          cap.fc = { wwnn: wwnn ?? randomWwn(), wwpn: wwpn ?? randomWwn(), fabricWwn: str(sc, 'fabric_wwn') };
        } else throw internalError(D, `unknown SCSI host capability type '${t}' for '${dev}'`);
      }
      return cap;
    }
    case 'scsi_target': {
      const target = str(el, 'target');
      if (target === undefined) throw internalError(D, `no target name supplied for '${dev}'`);
      const cap: NodeDevCap = { type, target };
      for (const sc of subcaps) {
        const t = attr(sc, 'type');
        if (t === undefined) throw internalError(D, `missing type for SCSI target capability for '${dev}'`);
        if (t !== 'fc_remote_port') throw internalError(D, `unknown SCSI target capability type '${t}' for '${dev}'`);
        const rport = str(sc, 'rport');
        if (rport === undefined) throw internalError(D, `missing rport name for '${dev}'`);
        const wwpn = str(sc, 'wwpn');
        if (wwpn === undefined) throw internalError(D, `missing wwpn identifier for '${dev}'`);
        cap.rport = { rport, wwpn };
      }
      return cap;
    }
    case 'scsi':
      return {
        type, host: ulong(el, 'host', dev, 'SCSI host ID'), bus: ulong(el, 'bus', dev, 'SCSI bus ID'),
        target: ulong(el, 'target', dev, 'SCSI target ID'), lun: ulong(el, 'lun', dev, 'SCSI LUN ID'), scsiType: str(el, 'type'),
      };
    case 'storage': {
      const block = str(el, 'block');
      if (block === undefined) throw internalError(D, `no block device path supplied for '${dev}'`);
      const cap: NodeDevCap = {
        type, block, bus: str(el, 'bus'), driveType: str(el, 'drive_type'), model: str(el, 'model'), vendor: str(el, 'vendor'),
        serial: str(el, 'serial'), size: 0n, hotpluggable: false,
      };
      for (const sc of subcaps) {
        const t = attr(sc, 'type');
        if (t === undefined) throw internalError(D, `missing storage capability type for '${dev}'`);
        if (t === 'hotpluggable') cap.hotpluggable = true;
        else if (t === 'removable') {
          cap.removable = {
            mediaAvailable: elementsOf(sc, 'media_available').some((m) => textAll(m) === '1'),
            mediaSize: bigNumber(sc, 'media_size', `no removable media size supplied for '${dev}'`, `invalid removable media size supplied for '${dev}'`),
            mediaLabel: str(sc, 'media_label'),
          };
        } else throw internalError(D, `unknown storage capability type '${t}' for '${dev}'`);
      }
      if (!cap.removable) cap.size = bigNumber(el, 'size', `no size supplied for '${dev}'`, `invalid size supplied for '${dev}'`);
      return cap;
    }
    case 'drm': {
      const t = str(el, 'type');
      if (t === undefined || !['primary', 'control', 'render'].includes(t)) throw unsupported(D, `unknown drm type '${t ?? '(null)'}' for '${dev}'`);
      return { type, drmType: t };
    }
    case 'mdev': {
      const mdevType = attrStr(child(el, 'type'), 'id');
      if (mdevType === undefined) throw unsupported(D, `missing type id attribute for '${dev}'`);
      const u = str(el, 'uuid');
      let uuid: string | undefined;
      if (u !== undefined) {
        const p = parseUuid(u);
        if (!p) throw internalError(D, `Invalid uuid '${u}' for new mdev device`);
        uuid = p;
      }
      const ig = attr(child(el, 'iommuGroup'), 'number');
      const attrs = elementsOf(el, 'attr').flatMap((a) => {
        const name = attr(a, 'name');
        const value = attr(a, 'value');
        return name === undefined || value === undefined ? [] : [{ name, value }];
      });
      return { type, mdevType, uuid, iommuGroup: ig === undefined ? 0 : Number(ig.trim()) || 0, attrs };
    }
    case 'ccw':
      return { type, ...ccwAddress(el, dev) };
    case 'css': {
      const cap: NodeDevCap = { type, ...ccwAddress(el, dev) };
      for (const sc of subcaps) {
        const t = attr(sc, 'type');
        if (t === undefined) throw xmlError(D, 'Missing capability type');
        if (t === 'mdev_types') cap.mdevTypes = [...(cap.mdevTypes ?? []), ...mdevTypes(sc)];
      }
      const ch = child(el, 'channel_dev_addr');
      if (ch) cap.channel = ccwAddress(ch, dev);
      return cap;
    }
    case 'ap_card':
    case 'ap_queue': {
      const a = str(el, 'ap-adapter');
      if (a === undefined) throw unsupported(D, `missing ap-adapter value for '${dev}'`);
      const adapter = parseUintAuto(a);
      if (adapter === undefined) throw unsupported(D, `invalid ap-adapter value '${a}' for '${dev}'`);
      if (type === 'ap_card') return { type, adapter };
      const d = str(el, 'ap-domain');
      if (d === undefined) throw unsupported(D, `missing ap-domain value for '${dev}'`);
      const domain = parseUintAuto(d);
      if (domain === undefined) throw unsupported(D, `invalid ap-domain value '${d}' for '${dev}'`);
      if (domain > 255) throw unsupported(D, `ap-domain value '${d}' is out of range for '${dev}'`);
      return { type, adapter, domain };
    }
    case 'ap_matrix': {
      const cap: NodeDevCap = { type };
      for (const sc of subcaps) {
        const t = attr(sc, 'type');
        if (t === undefined) throw xmlError(D, 'Missing capability type');
        if (t === 'mdev_types') cap.mdevTypes = [...(cap.mdevTypes ?? []), ...mdevTypes(sc)];
      }
      return cap;
    }
    default: {
      const idx = (NODE_DEV_CAP_TYPES as readonly string[]).indexOf(type);
      if (idx < 0) throw xmlError(ErrDomain.xml, `Invalid value for attribute 'type' in element 'capability': '${type}'.`);
      throw internalError(D, `unknown capability type '${idx}' for '${dev}'`);
    }
  }
}

const textAll = (el: XmlEl): string => el.children.map((c) => ('text' in c ? c.text : textAll(c))).join('');

function bigNumber(el: XmlEl, name: string, missing: string, invalid: string): bigint {
  const n = xpathNumber(el, name);
  if (Number.isNaN(n)) throw internalError(D, missing);
  if (!Number.isInteger(n) || n < 0) throw internalError(D, invalid);
  const t = (childText(el, name) ?? '').trim();
  return /^\d+$/.test(t) ? BigInt(t) : BigInt(n);
}

/** A WWN in the QEMU/KVM OUI space, as virRandomGenerateWWN makes for the test driver. */
function randomWwn(): string {
  const hex = Array.from({ length: 9 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `5001a4a${hex}`;
}

/** Parses a <device> element; `create` is libvirt's CREATE_DEVICE mode (no name, no scsi host numbers). */
export function parseNodeDevice(el: XmlEl, create = false): NodeDeviceDef {
  let name = 'new device';
  if (!create) {
    const n = str(el, 'name');
    if (n === undefined) throw new XmlModelError(ErrCode.noName, D, 'missing name information');
    name = n;
  }
  let devnode: string | undefined;
  const devlinks: string[] = [];
  for (const dn of elementsOf(el, 'devnode')) {
    const t = attr(dn, 'type');
    if (t === undefined) throw xmlError(ErrDomain.xml, "Missing required attribute 'type' in element 'devnode'");
    if (t === 'dev') devnode = textAll(dn);
    else if (t === 'link') devlinks.push(textAll(dn));
    else throw xmlError(ErrDomain.xml, `Invalid value for attribute 'type' in element 'devnode': '${t}'.`);
  }
  const parentEl = child(el, 'parent');
  const parentWwnn = attrStr(parentEl, 'wwnn');
  const parentWwpn = attrStr(parentEl, 'wwpn');
  if (parentWwnn !== undefined && parentWwpn === undefined) throw xmlError(D, `when providing parent wwnn='${parentWwnn}', the wwpn must also be provided`);
  if (parentWwnn === undefined && parentWwpn !== undefined) throw xmlError(D, `when providing parent wwpn='${parentWwpn}', the wwnn must also be provided`);
  const capEls = elementsOf(el, 'capability');
  if (capEls.length === 0) throw internalError(D, `no device capabilities for '${name}'`);
  return {
    name, path: str(el, 'path'), devnode, devlinks, parent: str(el, 'parent'), parentWwnn, parentWwpn,
    parentFabricWwn: attrStr(parentEl, 'fabric_wwn'), caps: capEls.map((c) => parseCap(c, name, create)),
  };
}

export function parseNodeDeviceXml(text: string, create = false): NodeDeviceDef {
  return parseNodeDevice(parseXml(text, 'device', 'node_device_definition', D), create);
}

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;
const addrOut = (a: PciAddress): Out => ({
  name: 'address',
  attrs: [['domain', hex(a.domain, 4)], ['bus', hex(a.bus, 2)], ['slot', hex(a.slot, 2)], ['function', `0x${a.function}`]],
});
const tx = (name: string, text?: string | number | bigint, attrs: Out['attrs'] = []): Out | undefined =>
  text === undefined ? undefined : { name, attrs, text: String(text) };
/** <product id='0x..'>name</product>, or self-closed without a name (usb writes ' />'). */
const idEl = (name: string, id: number, label: string | undefined, spaced: boolean): Out =>
  label === undefined ? { name, attrs: [['id', hex(id, 4)]], spacedClose: spaced } : { name, attrs: [['id', hex(id, 4)]], text: label };

function mdevTypesOut(types: MdevType[] | undefined): Out | undefined {
  if (!types?.length) return undefined;
  return {
    name: 'capability', attrs: [['type', 'mdev_types']],
    kids: types.map((t) => ({
      name: 'type', attrs: [['id', t.id]],
      kids: [tx('name', t.name), tx('deviceAPI', t.deviceApi), tx('availableInstances', t.availableInstances)],
    })),
  };
}

const linkOut = (l: PcieLink | undefined, validity: string): Out | undefined =>
  l && {
    name: 'link',
    attrs: [['validity', validity], ['port', l.port >= 0 ? l.port : undefined], ['speed', l.speed || undefined], ['width', l.width]],
  };

function capChildren(c: NodeDevCap): (Out | undefined)[] {
  switch (c.type) {
    case 'system':
      return [
        tx('product', c.product),
        { name: 'hardware', kids: [tx('vendor', c.hardware.vendor), tx('version', c.hardware.version), tx('serial', c.hardware.serial), tx('uuid', c.hardware.uuid)] },
        { name: 'firmware', kids: [tx('vendor', c.firmware.vendor), tx('version', c.firmware.version), tx('release_date', c.firmware.releaseDate)] },
      ];
    case 'pci': {
      const vf = c.virtFunctions;
      return [
        c.klass >= 0 ? tx('class', hex(c.klass, 6)) : undefined,
        tx('domain', c.addr.domain), tx('bus', c.addr.bus), tx('slot', c.addr.slot), tx('function', c.addr.function),
        idEl('product', c.product, c.productName, false), idEl('vendor', c.vendor, c.vendorName, false),
        c.physFunction && { name: 'capability', attrs: [['type', 'phys_function']], kids: [addrOut(c.physFunction)] },
        vf && {
          name: 'capability', attrs: [['type', 'virt_functions'], ['maxCount', vf.maxCount || undefined]],
          kids: vf.addrs.length ? vf.addrs.map(addrOut) : undefined,
        },
        c.header === undefined ? undefined : { name: 'capability', attrs: [['type', c.header]] },
        mdevTypesOut(c.mdevTypes),
        c.iommuGroup?.addrs.length ? { name: 'iommuGroup', attrs: [['number', c.iommuGroup.number]], kids: c.iommuGroup.addrs.map(addrOut) } : undefined,
        c.numaNode >= 0 ? { name: 'numa', attrs: [['node', c.numaNode]] } : undefined,
        c.pciExpress && (c.pciExpress.cap || c.pciExpress.sta
          ? { name: 'pci-express', kids: [linkOut(c.pciExpress.cap, 'cap'), linkOut(c.pciExpress.sta, 'sta')] }
          : { name: 'pci-express' }),
      ];
    }
    case 'usb_device':
      return [tx('bus', c.bus), tx('device', c.device), idEl('product', c.product, c.productName, true), idEl('vendor', c.vendor, c.vendorName, true)];
    case 'usb':
      return [tx('number', c.number), tx('class', c.klass), tx('subclass', c.subclass), tx('protocol', c.protocol), tx('description', c.description)];
    case 'net':
      return [
        tx('interface', c.ifname), tx('address', c.address),
        c.link && (c.link.speed || c.link.state)
          ? { name: 'link', attrs: [['speed', c.link.speed || undefined], ['state', c.link.state ? IF_STATES[c.link.state] : undefined]] }
          : undefined,
        ...c.features.map((f) => ({ name: 'feature', attrs: [['name', f]] }) as Out),
        c.subtype === undefined ? undefined : { name: 'capability', attrs: [['type', c.subtype]] },
      ];
    case 'scsi_host':
      return [
        tx('host', c.host), c.uniqueId !== -1 ? tx('unique_id', c.uniqueId) : undefined,
        c.fc && { name: 'capability', attrs: [['type', 'fc_host']], kids: [tx('wwnn', c.fc.wwnn), tx('wwpn', c.fc.wwpn), tx('fabric_wwn', c.fc.fabricWwn)] },
        c.vportOps && { name: 'capability', attrs: [['type', 'vport_ops']], kids: [tx('max_vports', c.vportOps.maxVports), tx('vports', c.vportOps.vports)] },
      ];
    case 'scsi_target':
      return [
        tx('target', c.target),
        c.rport && { name: 'capability', attrs: [['type', 'fc_remote_port']], kids: [tx('rport', c.rport.rport), tx('wwpn', c.rport.wwpn)] },
      ];
    case 'scsi':
      return [tx('host', c.host), tx('bus', c.bus), tx('target', c.target), tx('lun', c.lun), tx('type', c.scsiType)];
    case 'storage':
      return [
        tx('block', c.block), tx('bus', c.bus), tx('drive_type', c.driveType), tx('model', c.model), tx('vendor', c.vendor), tx('serial', c.serial),
        c.removable
          ? {
              name: 'capability', attrs: [['type', 'removable']],
              kids: [tx('media_available', c.removable.mediaAvailable ? 1 : 0), tx('media_size', c.removable.mediaSize), tx('media_label', c.removable.mediaLabel)],
            }
          : tx('size', c.size),
        c.hotpluggable ? { name: 'capability', attrs: [['type', 'hotpluggable']] } : undefined,
      ];
    case 'drm':
      return [tx('type', c.drmType)];
    case 'mdev':
      return [
        { name: 'type', attrs: [['id', c.mdevType]] }, tx('uuid', c.uuid), { name: 'iommuGroup', attrs: [['number', c.iommuGroup]] },
        ...c.attrs.map((a) => ({ name: 'attr', attrs: [['name', a.name], ['value', a.value]] }) as Out),
      ];
    case 'ccw':
    case 'css': {
      const ccw = (a: { cssid: number; ssid: number; devno: number }): Out[] => [
        { name: 'cssid', text: `0x${a.cssid.toString(16)}` }, { name: 'ssid', text: `0x${a.ssid.toString(16)}` }, { name: 'devno', text: hex(a.devno, 4) },
      ];
      if (c.type === 'ccw') return ccw(c);
      return [...ccw(c), c.channel && { name: 'channel_dev_addr', kids: ccw(c.channel) }, mdevTypesOut(c.mdevTypes)];
    }
    case 'ap_card':
      return [tx('ap-adapter', `0x${c.adapter.toString(16).padStart(2, '0')}`)];
    case 'ap_queue':
      return [tx('ap-adapter', `0x${c.adapter.toString(16).padStart(2, '0')}`), tx('ap-domain', hex(c.domain, 4))];
    case 'ap_matrix':
      return [mdevTypesOut(c.mdevTypes)];
  }
}

export function formatNodeDevice(d: NodeDeviceDef): string {
  return renderDoc({
    name: 'device',
    kids: [
      tx('name', d.name), tx('path', d.path), tx('devnode', d.devnode, [['type', 'dev']]),
      ...d.devlinks.map((l) => tx('devnode', l, [['type', 'link']])),
      tx('parent', d.parent),
      ...d.caps.map((c): Out => ({ name: 'capability', attrs: [['type', c.type]], kids: capChildren(c), open: true })),
    ],
  });
}

/** The capability names a device answers to, nested ones included (virNodeDeviceObjHasCap). */
export function nodeDeviceHasCap(d: NodeDeviceDef, cap: string): boolean {
  return d.caps.some((c) => {
    if (c.type === cap) return true;
    if (c.type === 'scsi_host') return (cap === 'fc_host' && !!c.fc) || (cap === 'vports' && !!c.vportOps);
    if (c.type === 'pci' || c.type === 'css' || c.type === 'ap_matrix') return cap === 'mdev_types' && !!c.mdevTypes;
    return false;
  });
}

/** Re-reading of a formatted <device>, for copies (the test driver's vHBA mock). */
export const cloneNodeDevice = (d: NodeDeviceDef): NodeDeviceDef => structuredClone(d);

export { ErrDomain };
