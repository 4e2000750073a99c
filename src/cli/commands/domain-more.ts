// Domain monitoring commands beyond the basics: block sizes, bulk statistics, guest time, host
// name and file systems, title/description, rename, screenshots, job info and save-image XML.
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Domain } from '../../api/domain.js';
import type { TypedParameterValue } from '../../api/info.js';
import { VirErrorNumber } from '../../rpc/errors.js';
import { asVirError, attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { prettyCapacity } from '../format.js';
import { domainByText, domainOpt } from '../lookup.js';
import { readXmlFile, unescapeXml } from './domain.js';
import type { CommandTable } from './types.js';

function exclusive(o: Opts, a: string, b: string): void {
  if (o.has(a) && o.has(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
}

/** vshGetTypedParamValue. */
export function paramValue(p: TypedParameterValue): string {
  if (p.type === 'boolean') return p.value ? 'yes' : 'no';
  if (p.type === 'double') return p.value.toFixed(6);
  return String(p.value);
}

/** --live/--config/--current to VIR_DOMAIN_AFFECT_* (current excludes the other two). */
export function affectFlags(o: Opts): number {
  exclusive(o, 'current', 'live');
  exclusive(o, 'current', 'config');
  return (o.bool('live') ? 1 : 0) | (o.bool('config') ? 2 : 0);
}

function blkSizes(cap: bigint, alloc: bigint, phy: bigint, human: boolean): [string, string, string] {
  if (cap === 0n && alloc === 0n && phy === 0n) return ['-', '-', '-'];
  if (!human) return [String(cap), String(alloc), String(phy)];
  const h = (b: bigint) => {
    const [v, u] = prettyCapacity(b);
    return `${v.toFixed(3)} ${u}`;
  };
  return [h(cap), h(alloc), h(phy)];
}

async function domblkinfo(ctl: Ctl, o: Opts): Promise<void> {
  exclusive(o, 'all', 'device');
  const d = await domainOpt(ctl, o);
  const all = o.bool('all');
  const device = o.raw('device');
  if (!all && !device) throw new CliError("command 'domblkinfo' requires <device> option");
  const human = o.bool('human');
  if (!all) {
    const i = await attempt(d.blockInfo(device!), '');
    const [c, a, p] = blkSizes(i.capacity, i.allocation, i.physical, human);
    ctl.print(`${'Capacity:'.padEnd(15)} ${c}\n${'Allocation:'.padEnd(15)} ${a}\n${'Physical:'.padEnd(15)} ${p}\n`);
    return;
  }
  const active = await d.isActive().catch(() => false);
  const xml = await attempt(d.xmlDesc(0), '');
  const body = /<devices>([\s\S]*?)<\/devices>/.exec(xml)?.[1] ?? '';
  const rows: string[][] = [];
  for (const m of body.matchAll(/<disk\b[^>]*?(?:\/>|>([\s\S]*?)<\/disk>)/g)) {
    const inner = m[1] ?? '';
    const target = unescapeXml(/<target\b[^>]*?\bdev=['"]([^'"]*)['"]/.exec(inner)?.[1] ?? '');
    const protocol = /<source\b[^>]*?\bprotocol=['"]/.test(inner);
    let sizes: [bigint, bigint, bigint] = [0n, 0n, 0n];
    if (/<source\b/.test(inner)) {
      try {
        const i = await d.blockInfo(target);
        sizes = [i.capacity, i.allocation, i.physical];
      } catch (e) {
        // Networked storage of an inactive domain has no sizes: zeros, as virsh shows them.
        const err = asVirError(e);
        if (!(protocol && !active && err?.code === VirErrorNumber.INTERNAL_ERROR && err.domain === 18)) throw new CliError('', err);
      }
    }
    rows.push([target, ...blkSizes(...sizes, human)]);
  }
  ctl.table(['Target', 'Capacity', 'Allocation', 'Physical'], rows);
}

const STATS_GROUPS: readonly [string, number][] = [
  ['state', 1], ['cpu-total', 2], ['balloon', 4], ['vcpu', 8], ['interface', 16], ['block', 32], ['perf', 64], ['iothread', 128],
  ['memory', 256], ['dirtyrate', 512], ['vm', 1024],
];
const STATS_FLAGS: readonly [string, number][] = [
  ['list-active', 1], ['list-inactive', 2], ['list-persistent', 4], ['list-transient', 8], ['list-running', 16], ['list-paused', 32],
  ['list-shutoff', 64], ['list-other', 128], ['enforce', 0x80000000], ['backing', 0x40000000], ['nowait', 0x20000000],
];

async function domstats(ctl: Ctl, o: Opts): Promise<void> {
  let stats = 0;
  let flags = 0;
  for (const [n, v] of STATS_GROUPS) if (o.bool(n)) stats |= v;
  for (const [n, v] of STATS_FLAGS) if (o.bool(n)) flags = (flags | v) >>> 0;
  const names = o.argv('domain');
  const doms: Domain[] = [];
  for (const n of names) doms.push(await domainByText(ctl, n));
  const records = await attempt(ctl.connection.allDomainStats(stats, flags, doms), '');
  ctl.print(
    records
      .map((r) => `Domain: '${r.domain.name}'\n` + Object.entries(r.params).map(([k, v]) => `  ${k}=${paramValue(v)}\n`).join(''))
      .join('\n'),
  );
}

const pad2 = (n: number) => String(n).padStart(2, '0');

async function domtime(ctl: Ctl, o: Opts): Promise<void> {
  exclusive(o, 'time', 'now');
  exclusive(o, 'time', 'sync');
  exclusive(o, 'now', 'sync');
  const d = await domainOpt(ctl, o);
  const raw = o.raw('time');
  let seconds: bigint | undefined;
  if (raw !== undefined) {
    if (!/^\s*[+-]?\d+$/.test(raw) || BigInt(raw.trim()) > 2n ** 63n - 1n || BigInt(raw.trim()) < -(2n ** 63n)) {
      throw new CliError(`Numeric value '${raw}' for <time> option is malformed or out of range`);
    }
    seconds = BigInt(raw.trim());
  }
  if (seconds !== undefined || o.bool('now') || o.bool('sync')) {
    if (o.bool('now')) seconds = BigInt(Math.floor(Date.now() / 1000));
    await attempt(d.setTime(seconds ?? 0n, 0, o.bool('sync') ? 1 : 0), '');
    return;
  }
  const t = await attempt(d.time(), '');
  if (o.bool('pretty')) {
    const dt = new Date(Number(t.seconds) * 1000);
    const text = `${dt.getUTCFullYear()}-${pad2(dt.getUTCMonth() + 1)}-${pad2(dt.getUTCDate())} ${pad2(dt.getUTCHours())}:${pad2(dt.getUTCMinutes())}:${pad2(dt.getUTCSeconds())}`;
    ctl.print(`Time: ${text}`);
  } else ctl.print(`Time: ${t.seconds}`);
}

async function domhostname(ctl: Ctl, o: Opts): Promise<void> {
  const source = o.string('source');
  let flags = 0;
  if (source !== undefined) {
    if (source === 'agent') flags = 2;
    else if (source === 'lease') flags = 1;
    else throw new CliError(`Unknown data source '${source}'`);
  }
  const d = await domainOpt(ctl, o);
  ctl.print(`${await attempt(d.hostname(flags), 'failed to get hostname')}\n`);
}

async function domfsinfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const info = await attempt(d.fsInfo(), 'Unable to get filesystem information');
  if (info.length === 0) return;
  ctl.table(['Mountpoint', 'Name', 'Type', 'Target'], info.map((f) => [f.mountpoint, f.name, f.fstype, f.devAliases.join(',')]));
}

/** Title or description text the way virsh finds it: the metadata API, else empty. */
export async function description(d: Domain, title: boolean, flags: number): Promise<string> {
  try {
    return await d.metadata(title ? 1 : 0, null, flags);
  } catch (e) {
    const err = asVirError(e);
    if (err?.code === VirErrorNumber.NO_DOMAIN_METADATA) return '';
    throw new CliError('', err);
  }
}

async function desc(ctl: Ctl, o: Opts): Promise<void> {
  const flags = affectFlags(o);
  const d = await domainOpt(ctl, o);
  const title = o.bool('title');
  const words = o.argv('new-desc');
  if (o.bool('edit')) throw new CliError("command 'desc' option --edit is not supported by tsvirsh yet");
  if (words.length > 0) {
    const text = words.join(' ');
    await attempt(d.setMetadata(title ? 1 : 0, text, null, null, flags), title ? 'Failed to set new domain title' : 'Failed to set new domain description');
    ctl.print(title ? 'Domain title updated successfully' : 'Domain description updated successfully');
    return;
  }
  // Reading passes only the config bit (as VIR_DOMAIN_XML_INACTIVE).
  const text = await description(d, title, flags & 2);
  if (text.length > 0) ctl.print(text);
  else ctl.print(title ? `No title for domain: ${d.name}` : `No description for domain: ${d.name}`);
}

async function domrename(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const to = o.string('new-name')!;
  await attempt(d.rename(to), '');
  ctl.print('Domain successfully renamed\n');
}

const MIME_EXT: Record<string, string> = { 'image/x-portable-pixmap': '.ppm', 'image/png': '.png' };

async function screenshot(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const screen = o.uint('screen') ?? 0;
  let file = o.string('file');
  const generated = file === undefined;
  const shot = await attempt(d.screenshot(screen), `could not take a screenshot of ${d.name}`);
  const mime = shot.mime ?? '';
  if (file === undefined) {
    const t = new Date();
    const stamp = `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())}-${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
    file = `${d.name}-${stamp}${MIME_EXT[mime] ?? '.screen'}`;
  }
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o666);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !generated) fd = openSync(file, 'w');
    else throw new CliError(`cannot create file ${file}`);
  }
  try {
    writeSync(fd, shot.data);
  } catch {
    closeSync(fd);
    if (generated) unlinkSync(file);
    throw new CliError(`could not receive data from domain '${d.name}'`);
  }
  closeSync(fd);
  ctl.print(`Screenshot saved to ${file}, with type of ${mime}`);
}

function graphicsOf(xml: string, type: string): string | undefined {
  return [...xml.matchAll(/<graphics\b[^>]*?(?:\/>|>[\s\S]*?<\/graphics>)/g)].map((m) => m[0]).find((g) => new RegExp(`^<graphics\\b[^>]*\\btype=['"]${type}['"]`).test(g));
}

function attrOf(el: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}=(?:'([^']*)'|"([^"]*)")`).exec(el);
  return m ? unescapeXml(m[1] ?? m[2]!) : undefined;
}

async function vncdisplay(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const xml = await attempt(d.xmlDesc(0), '');
  const g = graphicsOf(xml, 'vnc');
  const head = g ? /^<graphics\b[^>]*>/.exec(g)![0] : '';
  const port = g ? Number(attrOf(head, 'port') ?? 'x') : NaN;
  if (!g || !Number.isInteger(port) || port <= 0) throw new CliError('Failed to get VNC port. Is this domain using VNC?');
  const listenEl = /<listen\b[^>]*>/.exec(g)?.[0];
  let listen = (listenEl && attrOf(listenEl, 'address')) ?? attrOf(head, 'listen');
  if (!listen || listen === '0.0.0.0' || listen === '::') listen = '';
  ctl.print(`${listen}:${port - 5900}\n`);
}

async function domdisplay(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const xml = await attempt(d.xmlDesc(o.bool('include-password') ? 1 : 0), '');
  const wanted = o.string('type');
  for (const type of ['vnc', 'spice', 'rdp']) {
    if (wanted !== undefined && wanted !== type) continue;
    const g = graphicsOf(xml, type);
    if (!g) continue;
    const head = /^<graphics\b[^>]*>/.exec(g)![0];
    const port = Number(attrOf(head, 'port') ?? 'x');
    if (!Number.isInteger(port) || port <= 0) continue;
    const listenEl = /<listen\b[^>]*>/.exec(g)?.[0];
    let host = (listenEl && attrOf(listenEl, 'address')) ?? attrOf(head, 'listen') ?? '';
    if (host === '' || host === '0.0.0.0' || host === '::') host = 'localhost';
    const p = type === 'vnc' ? port - 5900 : port;
    ctl.print(`${type}://${host}:${p}\n`);
    if (!o.bool('all')) return;
  }
  throw new CliError('No graphical display found');
}

const JOB_TYPES = ['None', 'Bounded', 'Unbounded', 'Completed', 'Failed', 'Cancelled'];

async function domjobinfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  let flags = 0;
  if (o.bool('completed')) flags |= 1;
  if (o.bool('keep-completed')) flags |= 2;
  let type: number;
  try {
    type = (await d.jobStats(flags)).type;
  } catch (e) {
    const err = asVirError(e);
    if (err?.code !== VirErrorNumber.NO_SUPPORT) throw new CliError('', err);
    // virsh falls back to the older call, whose error is the one shown.
    type = (await attempt(d.jobInfo(), '')).type;
  }
  ctl.print(`${'Job type:'.padEnd(17)} ${(JOB_TYPES[type] ?? 'unknown').padEnd(12)}\n\n`.replace(/\n\n$/, '\n'));
}

async function saveImageDumpxml(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = await attempt(ctl.connection.saveImageXml(file, o.bool('security-info') ? 1 : 0), '');
  ctl.print(xml);
}

async function managedsaveDumpxml(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  ctl.print(await attempt(d.managedSaveXml(o.bool('security-info') ? 1 : 0), ''));
}

function saveFlags(o: Opts): number {
  exclusive(o, 'running', 'paused');
  return (o.bool('running') ? 2 : 0) | (o.bool('paused') ? 4 : 0);
}

async function saveImageDefine(ctl: Ctl, o: Opts): Promise<void> {
  const flags = saveFlags(o);
  const file = o.string('file')!;
  const xml = readXmlFile(o.string('xml')!);
  await attempt(ctl.connection.saveImageDefineXml(file, xml, flags), `Failed to update ${file}`);
  ctl.print(`State file ${file} updated.\n`);
}

async function managedsaveDefine(ctl: Ctl, o: Opts): Promise<void> {
  const flags = saveFlags(o);
  const d = await domainOpt(ctl, o);
  const xml = readXmlFile(o.string('xml')!);
  await attempt(d.managedSaveDefineXml(xml, flags), `Failed to update managed save image for domain '${d.name}'`);
  ctl.print(`Managed save state file of domain '${d.name}' updated.\n`);
}

export const DOMAIN_MORE_COMMANDS: CommandTable = {
  domblkinfo,
  domstats,
  domtime,
  domhostname,
  domfsinfo,
  desc,
  domrename,
  screenshot,
  vncdisplay,
  domdisplay,
  domjobinfo,
  'save-image-dumpxml': saveImageDumpxml,
  'managedsave-dumpxml': managedsaveDumpxml,
  'save-image-define': saveImageDefine,
  'managedsave-define': managedsaveDefine,
};
