// Device commands: attach/detach/update from a file, and the ones that build or find the device
// XML themselves (attach-disk, attach-interface, detach-disk, detach-interface, change-media).
import { statSync } from 'node:fs';
import type { Domain } from '../../api/domain.js';
import { isEl, type XmlEl } from '../../api/xml/tree.js';
import { asVirError, attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { domainOpt } from '../lookup.js';
import { readXmlFile } from './domain.js';
import { dumpNode, element, esc, findDisk, formatAddress, interfacesOfType, macOf, parseAddress, parseDomainXml, removeChild, setAttr } from './devxml.js';
import type { CommandTable } from './types.js';

const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
const MODIFY_FORCE = 4;
const XML_INACTIVE = 2;

function exclusive(o: Opts, a: string, b: string): void {
  if (o.has(a) && o.has(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
}

function requires(o: Opts, opt: string, needed: string): void {
  if (o.has(opt) && !o.has(needed)) throw new CliError(`Option --${needed} is required by option --${opt}`);
}

/** --persistent/--config/--live/--current as virsh reads them; `persistent` only where offered. */
function impact(o: Opts, persistent: boolean): { flags: number; current: boolean } {
  if (persistent) exclusive(o, 'persistent', 'current');
  exclusive(o, 'current', 'live');
  exclusive(o, 'current', 'config');
  let flags = 0;
  if (o.bool('config') || (persistent && o.bool('persistent'))) flags |= AFFECT_CONFIG;
  if (o.bool('live')) flags |= AFFECT_LIVE;
  return { flags, current: o.bool('current') };
}

/** --persistent on a running domain means the live domain too. */
async function persistentLive(o: Opts, d: Domain, flags: number): Promise<number> {
  if (o.bool('persistent') && (await d.isActive().catch(() => false))) return flags | AFFECT_LIVE;
  return flags;
}

/** virsh calls the flag-less API unless a flag or --current was given. */
function attach(d: Domain, xml: string, flags: number, current: boolean): Promise<void> {
  return flags || current ? d.attachDevice(xml, flags) : d.attachDevice(xml);
}
function detach(d: Domain, xml: string, flags: number, current: boolean): Promise<void> {
  return flags || current ? d.detachDevice(xml, flags) : d.detachDevice(xml);
}

/** A required string that may be empty only where virsh allows it. */
function req(o: Opts, name: string): string {
  return o.string(name) ?? '';
}

async function attachDevice(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const d = await domainOpt(ctl, o);
  const file = req(o, 'file');
  const flags = await persistentLive(o, d, imp.flags);
  const xml = readXmlFile(file);
  await attempt(attach(d, xml, flags, imp.current), `Failed to attach device from ${file}`);
  ctl.printExtra('Device attached successfully\n');
}

async function detachDevice(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const d = await domainOpt(ctl, o);
  const file = req(o, 'file');
  const flags = await persistentLive(o, d, imp.flags);
  const xml = readXmlFile(file);
  await attempt(detach(d, xml, flags, imp.current), `Failed to detach device from ${file}`);
  ctl.printExtra('Device detached successfully\n');
}

async function updateDevice(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const d = await domainOpt(ctl, o);
  const file = req(o, 'file');
  let flags = await persistentLive(o, d, imp.flags);
  const xml = readXmlFile(file);
  if (o.bool('force')) flags |= MODIFY_FORCE;
  await attempt(d.updateDevice(xml, flags), `Failed to update device from ${file}`);
  ctl.printExtra('Device updated successfully\n');
}

async function detachDeviceAlias(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, false);
  const d = await domainOpt(ctl, o);
  const alias = req(o, 'alias');
  await attempt(d.detachDeviceAlias(alias, imp.flags), `Failed to detach device with alias ${alias}`);
  ctl.printExtra('Device detach request sent successfully\n');
}

const DISK_SOURCE_TYPES = ['file', 'block', 'network'];

function isBlockDevice(path: string): boolean {
  try {
    return statSync(path).isBlockDevice();
  } catch {
    return false;
  }
}

/** virValidateWWN: 16 hex digits, optionally after "0x". */
function checkWwn(wwn: string): void {
  if (!/^(0[xX])?[0-9a-fA-F]{16}$/.test(wwn)) throw new CliError(`internal error: Malformed wwn: ${wwn}`);
}

function diskAddress(straddr: string, target: string, multifunction: boolean): string {
  const a = parseAddress(straddr, multifunction);
  if (!a) throw new CliError('Invalid address.');
  if (target.startsWith('vd')) {
    if (a.type !== 'pci' && a.type !== 'ccw') throw new CliError('expecting a pci:0000.00.00.00 or ccw:00.0.0000 address.');
  } else if (target.startsWith('sd')) {
    if (!(a.type === 'drive' && a.kind !== 'ide') && a.type !== 'usb') throw new CliError('expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address.');
  } else if (target.startsWith('hd')) {
    if (!(a.type === 'drive' && a.kind === 'ide')) throw new CliError('expecting an ide:00.00.00 address.');
  }
  return formatAddress(a);
}

/** The <disk> attach-disk describes (its checks in virsh's order). */
function diskXml(o: Opts): string {
  requires(o, 'source-host-name', 'source-protocol');
  requires(o, 'source-host-transport', 'source-protocol');
  requires(o, 'source-host-socket', 'source-protocol');
  requires(o, 'source-host-socket', 'source-host-transport');
  exclusive(o, 'source-host-name', 'source-host-socket');
  const source = o.raw('source') ?? '';
  const target = req(o, 'target');
  const s = (n: string) => o.string(n);
  const [driver, subdriver, device, mode, iothread, cache, io, serial, wwn, straddr, targetbus, alias, stype, protocol, hostName, hostTransport, hostSocket] = [
    'driver', 'subdriver', 'type', 'mode', 'iothread', 'cache', 'io', 'serial', 'wwn', 'address', 'targetbus', 'alias', 'sourcetype',
    'source-protocol', 'source-host-name', 'source-host-transport', 'source-host-socket',
  ].map(s);
  let type: string;
  if (stype !== undefined) {
    if (!DISK_SOURCE_TYPES.includes(stype) && stype !== '') throw new CliError(`Unknown source type: '${stype}'`);
    type = stype;
  } else if (protocol !== undefined) type = 'network';
  else if (driver !== 'file' && driver !== 'tap' && isBlockDevice(source)) type = 'block';
  else type = 'file';
  if ((type === 'network') !== (protocol !== undefined)) throw new CliError('--source-protocol option requires --sourcetype network');
  if (mode !== undefined && mode !== 'readonly' && mode !== 'shareable') throw new CliError(`No support for ${mode} in command 'attach-disk'`);
  if (wwn !== undefined) checkWwn(wwn);

  const opt = (name: string, v: string | undefined) => (v === undefined ? '' : ` ${name}='${esc(v)}'`);
  let children = element('driver', opt('name', driver) + opt('type', subdriver) + opt('iothread', iothread) + opt('cache', cache) + opt('io', io));
  if (type === 'file') children += element('source', opt('file', source));
  else if (type === 'block') children += element('source', opt('dev', source));
  else {
    let hostAttrs = opt('transport', hostTransport) + opt('socket', hostSocket);
    if (hostName !== undefined) {
      const colon = hostName.indexOf(':');
      hostAttrs += colon < 0 ? opt('name', hostName) : opt('name', hostName.slice(0, colon)) + opt('port', hostName.slice(colon + 1));
    }
    children += element('source', opt('protocol', protocol) + opt('name', source), element('host', hostAttrs));
  }
  children += `<target dev='${target}'${targetbus !== undefined ? ` bus='${targetbus}'` : ''}/>\n`;
  if (mode !== undefined) children += `<${mode}/>\n`;
  if (serial !== undefined) children += `<serial>${serial}</serial>\n`;
  if (alias !== undefined) children += `<alias name='${alias}'/>\n`;
  if (wwn !== undefined) children += `<wwn>${wwn}</wwn>\n`;
  if (straddr !== undefined) children += diskAddress(straddr, target, o.bool('multifunction'));
  return element('disk', ` type='${type}'${opt('device', device)}${o.bool('rawio') ? " rawio='yes'" : ''}`, children);
}

async function attachDisk(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const xml = diskXml(o);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  const d = await domainOpt(ctl, o);
  const flags = await persistentLive(o, d, imp.flags);
  await attempt(attach(d, xml, flags, imp.current), 'Failed to attach disk');
  ctl.printExtra('Disk attached successfully\n');
}

/** virDomainNetType names, and the ones attach-interface can build. */
const NET_TYPES = ['user', 'ethernet', 'vhostuser', 'server', 'client', 'mcast', 'network', 'bridge', 'internal', 'direct', 'hostdev', 'udp', 'vdpa', 'null', 'vds'];

interface Rate {
  average: bigint;
  peak: bigint;
  burst: bigint;
  floor: bigint;
}

function parseRate(text: string): Rate {
  const tok = text.split(',');
  if (tok.length > 4) throw new CliError(`Rate string '${text}' has too many fields`);
  const names = ['average', 'peak', 'burst', 'floor'] as const;
  const r: Rate = { average: 0n, peak: 0n, burst: 0n, floor: 0n };
  tok.forEach((t, i) => {
    if (t === '') return;
    const m = /^\s*\+?(\d+)$/.exec(t);
    if (!m || BigInt(m[1]!) > 2n ** 64n - 1n) throw new CliError(`field '${names[i]}' is malformed`);
    r[names[i]!] = BigInt(m[1]!);
  });
  return r;
}

function interfaceXml(o: Opts): string {
  const type = req(o, 'type');
  const source = req(o, 'source');
  const [target, mac, script, model, alias, inboundStr, outboundStr, sourceMode] = ['target', 'mac', 'script', 'model', 'alias', 'inbound', 'outbound', 'source-mode'].map((n) => o.string(n));
  if (!NET_TYPES.includes(type)) throw new CliError(`No support for ${type} in command 'attach-interface'`);
  if (sourceMode !== undefined && sourceMode !== 'server' && sourceMode !== 'client') throw new CliError(`Invalid source mode: ${sourceMode}`);
  let inbound: Rate | undefined;
  let outbound: Rate | undefined;
  if (inboundStr !== undefined) {
    inbound = parseRate(inboundStr);
    if (!inbound.average && !inbound.floor) throw new CliError('either inbound average or floor is mandatory');
  }
  if (outboundStr !== undefined) {
    outbound = parseRate(outboundStr);
    if (!outbound.average) throw new CliError('outbound average is mandatory');
    if (outbound.floor) throw new CliError('outbound floor is unsupported yet');
  }
  let body = '';
  switch (type) {
    case 'network':
    case 'bridge':
      body += `<source ${type}='${source}'/>\n`;
      break;
    case 'direct':
      body += `<source dev='${source}'/>\n`;
      break;
    case 'hostdev': {
      const a = parseAddress(`pci:${source}`, false);
      if (!a) throw new CliError(`cannot parse pci address '${source}' for network interface`);
      body += `<source>\n  ${formatAddress(a)}</source>\n`;
      break;
    }
    case 'vhostuser':
      if (sourceMode === undefined) throw new CliError('source-mode is mandatory');
      body += `<source type='unix' path='${source}' mode='${sourceMode}'/>\n`;
      break;
    default:
      throw new CliError(`No support for ${type} in command 'attach-interface'`);
  }
  if (target !== undefined) body += `<target dev='${target}'/>\n`;
  if (mac !== undefined) body += `<mac address='${mac}'/>\n`;
  if (script !== undefined) body += `<script path='${script}'/>\n`;
  if (model !== undefined) body += `<model type='${model}'/>\n`;
  if (alias !== undefined) body += `<alias name='${alias}'/>\n`;
  if (inbound || outbound) {
    let bw = '';
    if (inbound && (inbound.average || inbound.floor)) {
      bw += '<inbound';
      for (const k of ['average', 'peak', 'burst', 'floor'] as const) if (inbound[k] > 0n) bw += ` ${k}='${inbound[k]}'`;
      bw += '/>\n';
    }
    if (outbound && outbound.average > 0n) {
      bw += `<outbound average='${outbound.average}'`;
      for (const k of ['peak', 'burst'] as const) if (outbound[k] > 0n) bw += ` ${k}='${outbound[k]}'`;
      bw += '/>\n';
    }
    body += `<bandwidth>\n${bw.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n')}</bandwidth>\n`;
  }
  const head = `<interface type='${type}'${o.bool('managed') ? " managed='yes'" : ''}>\n`;
  return head + body.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n') + '</interface>\n';
}

async function attachInterface(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const xml = interfaceXml(o);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  const d = await domainOpt(ctl, o);
  const flags = await persistentLive(o, d, imp.flags);
  await attempt(attach(d, xml, flags, imp.current), 'Failed to attach interface');
  ctl.printExtra('Interface attached successfully\n');
}

async function domainXml(d: Domain, inactive: boolean): Promise<XmlEl> {
  return parseDomainXml(await d.xmlDesc(inactive ? XML_INACTIVE : 0));
}

async function detachDisk(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const d = await domainOpt(ctl, o);
  const target = req(o, 'target');
  const doc = await domainXml(d, imp.flags === AFFECT_CONFIG);
  const flags = await persistentLive(o, d, imp.flags);
  const disk = findDisk(doc, target);
  removeChild(disk, 'backingStore');
  const xml = dumpNode(disk);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  await attempt(detach(d, xml, flags, imp.current), 'Failed to detach disk');
  ctl.printExtra('Disk detached successfully\n');
}

/** Picks the interface of `type` (and `mac`) out of one XML and detaches (or prints) it. */
async function detachInterfaceFrom(ctl: Ctl, d: Domain, doc: XmlEl, type: string, mac: string | undefined, flags: number, current: boolean, print: boolean): Promise<void> {
  const found = interfacesOfType(doc, type);
  if (found.length === 0) throw new CliError(`No interface found whose type is ${type}`);
  let match: XmlEl | undefined;
  if (mac === undefined) {
    if (found.length > 1) throw new CliError(`Domain has ${found.length} interfaces. Please specify which one to detach using --mac`);
    match = found[0];
  } else {
    const want = macBytes(mac);
    for (const i of found) {
      const have = macOf(i);
      if (have === undefined || want === null || macBytes(have) !== want) continue;
      if (match) throw new CliError(`Domain has multiple interfaces matching MAC address ${mac}. You must use detach-device and specify the device pci address to remove it.`);
      match = i;
    }
    if (!match) throw new CliError(`No interface with MAC address ${mac} was found`);
  }
  const xml = dumpNode(match!);
  if (print) {
    ctl.print(xml);
    return;
  }
  await detach(d, xml, flags, current);
}

/** virMacAddrCompare's view of a MAC: six hex bytes, case-insensitive. */
function macBytes(s: string): string | null {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return parts.map((p) => parseInt(p, 16)).join(':');
}

async function detachInterface(ctl: Ctl, o: Opts): Promise<void> {
  const imp = impact(o, true);
  const d = await domainOpt(ctl, o);
  const print = o.bool('print-xml');
  const failed = (e: unknown) => new CliError('Failed to detach interface', asVirError(e));
  let flags = imp.flags;
  let type: string;
  let mac: string | undefined;
  try {
    type = req(o, 'type');
    mac = o.string('mac');
    flags = await persistentLive(o, d, flags);
    if (flags & AFFECT_CONFIG) {
      await detachInterfaceFrom(ctl, d, await domainXml(d, true), type, mac, flags | AFFECT_CONFIG, imp.current, print);
    }
  } catch (e) {
    if (e instanceof CliError) ctl.error(e.message);
    throw failed(e);
  }
  if (!(flags & AFFECT_CONFIG) || flags & AFFECT_LIVE) {
    try {
      await detachInterfaceFrom(ctl, d, await domainXml(d, false), type, mac, flags & ~AFFECT_CONFIG, imp.current, print);
    } catch (e) {
      // With --print-xml a miss in the live XML ends the command without virsh's summary line.
      if (print && e instanceof CliError) throw e;
      if (e instanceof CliError) ctl.error(e.message);
      throw failed(e);
    }
  }
  if (print) return;
  ctl.printExtra('Interface detached successfully\n');
}

async function changeMedia(ctl: Ctl, o: Opts): Promise<void> {
  exclusive(o, 'eject', 'insert');
  exclusive(o, 'eject', 'update');
  exclusive(o, 'insert', 'update');
  exclusive(o, 'eject', 'block');
  exclusive(o, 'current', 'live');
  exclusive(o, 'current', 'config');
  const eject = o.bool('eject');
  const insert = o.bool('insert');
  const source = o.string('source');
  const action = eject ? 'eject' : insert ? 'insert' : 'update';
  const done = eject ? 'Successfully ejected media.\n' : insert ? 'Successfully inserted media.\n' : 'Successfully updated media.\n';
  if ((insert || action === 'update') && source === undefined) throw new CliError('New disk media source was not specified');
  let flags = 0;
  if (o.bool('config')) flags |= AFFECT_CONFIG;
  if (o.bool('live')) flags |= AFFECT_LIVE;
  if (o.bool('force')) flags |= MODIFY_FORCE;
  const d = await domainOpt(ctl, o);
  const path = req(o, 'path');
  const doc = await domainXml(d, (flags & AFFECT_CONFIG) !== 0);
  const disk = findDisk(doc, path, true);
  const target = disk.children.find((c): c is XmlEl => isEl(c) && c.name === 'target')?.attrs.find(([k]) => k === 'dev')?.[1] ?? path;
  const hasSource = disk.children.some((c) => isEl(c) && c.name === 'source');
  if (eject && !hasSource) throw new CliError(`The disk device '${target}' doesn't have media`);
  if (insert && hasSource) throw new CliError(`The disk device '${target}' already has media`);
  removeChild(disk, 'source');
  if (!eject) {
    const block = o.bool('block');
    setAttr(disk, 'type', block ? 'block' : 'file');
    const src: XmlEl = { name: 'source', attrs: [[block ? 'dev' : 'file', source!]], children: [] };
    const ti = disk.children.findIndex((c) => isEl(c) && c.name === 'target');
    const prev = disk.children[ti - 1];
    const ws = prev && !isEl(prev) && /^\s*$/.test(prev.text) ? [{ text: prev.text }] : [];
    if (ti < 0) disk.children.push(src);
    else disk.children.splice(ti, 0, src, ...ws);
  }
  const xml = dumpNode(disk);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  await attempt(d.updateDevice(xml, flags), `Failed to complete action ${action} on media`);
  ctl.printExtra(done);
}

export const DEVICE_COMMANDS: CommandTable = {
  'attach-device': attachDevice,
  'detach-device': detachDevice,
  'update-device': updateDevice,
  'detach-device-alias': detachDeviceAlias,
  'attach-disk': attachDisk,
  'attach-interface': attachInterface,
  'detach-disk': detachDisk,
  'detach-interface': detachInterface,
  'change-media': changeMedia,
};
