/**
 * Device XML for the device commands: the XML virsh builds (attach-disk, attach-interface, its
 * address syntax) and the device nodes it picks out of a domain's XML (detach-disk,
 * detach-interface, change-media), written back the way libxml2 serialises a node: double-quoted
 * attributes, the document's own whitespace kept, removed nodes leaving their neighbours' text.
 */
import { parseXml, isEl, type XmlEl, type XmlNode } from '../../api/xml/tree.js';
import { CliError } from '../ctl.js';

/** virBufferEscapeString's five entities (for the XML virsh builds itself). */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

// ---- addresses: "pci:D.B.S.F", "scsi|ide|sata:C.B.U", "ccw:C.S.D", "usb:B.P" ----

export type VirshAddress =
  | { type: 'pci'; domain: number; bus: number; slot: number; fn: number; multifunction: boolean }
  | { type: 'drive'; kind: 'scsi' | 'ide' | 'sata'; controller: number; bus: number; unit: bigint }
  | { type: 'ccw'; cssid: number; ssid: number; devno: number }
  | { type: 'usb'; bus: number; port: number };

/**
 * Reads fields as virStrToLong_*p does: digits (hex may start with 0x) up to the first other
 * character, which must be there (it is skipped) for every field but the last.
 */
function fields(s: string, n: number, base: 10 | 16, lastBig = false): (number | bigint)[] | null {
  const out: (number | bigint)[] = [];
  let i = 0;
  // strtoul's view: leading blanks and a plus sign are fine, a minus is refused by the *p variants.
  const re = base === 16 ? /^\s*\+?((?:0[xX])?[0-9a-fA-F]+)/ : /^\s*\+?(\d+)/;
  for (let k = 0; k < n; k++) {
    const m = re.exec(s.slice(i));
    if (!m) return null;
    const digits = m[1]!;
    const big = BigInt(base === 16 && !/^0[xX]/.test(digits) ? `0x${digits}` : digits);
    const limit = lastBig && k === n - 1 ? 2n ** 64n - 1n : 4294967295n;
    if (big > limit) return null;
    out.push(lastBig && k === n - 1 ? big : Number(big));
    i += m[0].length;
    if (k < n - 1) {
      if (i >= s.length) return null;
      i++;
    }
  }
  return out;
}

export function parseAddress(str: string, multifunction: boolean): VirshAddress | null {
  const colon = str.indexOf(':');
  if (colon < 0) return null;
  const kind = str.slice(0, colon);
  const rest = str.slice(colon + 1);
  switch (kind) {
    case 'pci': {
      const f = fields(rest, 4, 16) as number[] | null;
      return f && { type: 'pci', domain: f[0]!, bus: f[1]!, slot: f[2]!, fn: f[3]!, multifunction };
    }
    case 'scsi':
    case 'ide':
    case 'sata': {
      const f = fields(rest, 3, 10, true);
      return f && { type: 'drive', kind, controller: f[0] as number, bus: f[1] as number, unit: f[2] as bigint };
    }
    case 'ccw': {
      const f = fields(rest, 3, 16) as number[] | null;
      return f && { type: 'ccw', cssid: f[0]!, ssid: f[1]!, devno: f[2]! };
    }
    case 'usb': {
      const f = fields(rest, 2, 10) as number[] | null;
      return f && { type: 'usb', bus: f[0]!, port: f[1]! };
    }
    default:
      return null;
  }
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export function formatAddress(a: VirshAddress): string {
  switch (a.type) {
    case 'pci':
      return `<address type='pci' domain='0x${hex(a.domain, 4)}' bus='0x${hex(a.bus, 2)}' slot='0x${hex(a.slot, 2)}' function='0x${hex(a.fn, 0)}'${a.multifunction ? " multifunction='on'" : ''}/>\n`;
    case 'drive':
      return `<address type='drive' controller='${a.controller}' bus='${a.bus}' unit='${a.unit}'/>\n`;
    case 'ccw':
      return `<address type='ccw' cssid='0x${hex(a.cssid, 2)}' ssid='0x${hex(a.ssid, 1)}' devno='0x${hex(a.devno, 4)}'/>\n`;
    case 'usb':
      return `<address type='usb' bus='${a.bus}' port='${a.port}'/>\n`;
  }
}

/** Indents every line of `body` by `n` spaces (virBufferAdjustIndent). */
export function indent(body: string, n: number): string {
  const pad = ' '.repeat(n);
  return body.split('\n').map((l) => (l ? pad + l : l)).join('\n');
}

/** virXMLFormatElement: nothing when there is nothing, self-closed without children. */
export function element(name: string, attrs: string, children = ''): string {
  if (!attrs && !children) return '';
  return children ? `<${name}${attrs}>\n${indent(children, 2)}</${name}>\n` : `<${name}${attrs}/>\n`;
}

// ---- nodes of a domain's XML ----

export function parseDomainXml(xml: string): XmlEl {
  return parseXml(xml, 'domain', 'domain_definition', 0);
}

function devicesOf(dom: XmlEl): XmlEl[] {
  const devs = dom.children.find((c): c is XmlEl => isEl(c) && c.name === 'devices');
  return devs ? devs.children.filter(isEl) : [];
}

const attrOf = (el: XmlEl | undefined, name: string) => el?.attrs.find(([k]) => k === name)?.[1];
const childEl = (el: XmlEl, name: string) => el.children.find((c): c is XmlEl => isEl(c) && c.name === name);

/**
 * The disk whose source (file, dev, dir or name) or target is `path`; `changeable` limits the
 * search to CD-ROMs and floppies (change-media).
 */
export function findDisk(dom: XmlEl, path: string, changeable = false): XmlEl {
  for (const d of devicesOf(dom)) {
    if (d.name !== 'disk') continue;
    if (changeable) {
      const dev = attrOf(d, 'device');
      if (dev !== 'cdrom' && dev !== 'floppy') continue;
    }
    const src = childEl(d, 'source');
    const srcPath = ['file', 'dev', 'dir', 'name'].map((a) => attrOf(src, a)).find((v) => v !== undefined);
    const tgt = attrOf(childEl(d, 'target') ?? undefined, 'dev');
    if (srcPath === path || tgt === path) return d;
  }
  throw new CliError(`No disk found whose source path or target is ${path}`);
}

export function interfacesOfType(dom: XmlEl, type: string): XmlEl[] {
  return devicesOf(dom).filter((d) => d.name === 'interface' && attrOf(d, 'type') === type);
}

export function macOf(iface: XmlEl): string | undefined {
  return attrOf(childEl(iface, 'mac'), 'address');
}

/** Drops the first child element called `name` (its surrounding text stays, as with xmlUnlinkNode). */
export function removeChild(el: XmlEl, name: string): XmlEl | undefined {
  const i = el.children.findIndex((c) => isEl(c) && c.name === name);
  if (i < 0) return undefined;
  return el.children.splice(i, 1)[0] as XmlEl;
}

export function setAttr(el: XmlEl, name: string, value: string): void {
  const a = el.attrs.find(([k]) => k === name);
  if (a) a[1] = value;
  else el.attrs.push([name, value]);
}

function escText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function escAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/** xmlNodeDump of one element: no declaration, no trailing newline. */
export function dumpNode(n: XmlNode): string {
  if (!isEl(n)) return escText(n.text);
  const attrs = n.attrs.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('');
  if (n.children.length === 0) return `<${n.name}${attrs}/>`;
  return `<${n.name}${attrs}>${n.children.map(dumpNode).join('')}</${n.name}>`;
}
