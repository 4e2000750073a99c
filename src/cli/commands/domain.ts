// Domain commands: listing, state, lifecycle, resources, save/restore (virsh's wording and layout).
import { readFileSync } from 'node:fs';
import type { Domain } from '../../api/domain.js';
import { ConnectListAllDomainsFlags } from '../../api/flags.js';
import { DomainState } from '../../api/info.js';
import { VirError, VirErrorNumber } from '../../rpc/errors.js';
import { attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { kv } from '../format.js';
import { domainOpt } from '../lookup.js';
import type { CommandTable } from './types.js';

const STATES = ['no state', 'running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended'];
const REASONS: readonly (readonly string[])[] = [
  ['unknown'],
  ['unknown', 'booted', 'migrated', 'restored', 'from snapshot', 'unpaused', 'migration canceled', 'save canceled', 'event wakeup', 'crashed', 'post-copy', 'post-copy failed'],
  ['unknown'],
  ['unknown', 'user', 'migrating', 'saving', 'dumping', 'I/O error', 'watchdog', 'from snapshot', 'shutting down', 'creating snapshot', 'crashed', 'starting up', 'post-copy', 'post-copy failed', 'api error'],
  ['unknown', 'user'],
  ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot', 'daemon'],
  ['unknown', 'panicked'],
  ['unknown'],
];

export function stateText(s: number): string {
  return STATES[s] ?? 'no state';
}

function reasonText(s: number, r: number): string {
  return REASONS[s]?.[r] ?? 'unknown';
}

/** Reads an XML file as virsh does; the failure is libvirt's file error. */
export function readXmlFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : String((e as Error).message);
    throw new CliError(`Failed to open file '${path}': ${why}`);
  }
}

const isNoSupport = (e: unknown) => e instanceof VirError && e.code === VirErrorNumber.NO_SUPPORT;

/** virDomainGetID's view: -1 as "-". */
const idText = (d: Domain) => (d.id === -1 ? '-' : String(d.id));

/** Domain's <title> from its XML, first line only, as virsh's list --title shows it. */
function titleOf(xml: string): string {
  const m = /<title>([\s\S]*?)<\/title>/.exec(xml);
  if (!m) return '';
  return unescapeXml(m[1]!).split('\n')[0]!;
}

export function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function sortDomains(doms: Domain[]): Domain[] {
  return doms.sort((a, b) => {
    const ia = a.id, ib = b.id;
    if (ia === -1 && ib === -1) return a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0;
    if (ia !== -1 && ib !== -1) return ia - ib;
    return ia !== -1 ? -1 : 1;
  });
}

const F = ConnectListAllDomainsFlags;
const LIST_FLAGS: Record<string, number> = {
  persistent: F.PERSISTENT, transient: F.TRANSIENT, 'with-managed-save': F.MANAGEDSAVE, 'without-managed-save': F.NO_MANAGEDSAVE,
  autostart: F.AUTOSTART, 'no-autostart': F.NO_AUTOSTART, 'with-snapshot': F.HAS_SNAPSHOT, 'without-snapshot': F.NO_SNAPSHOT,
  'with-checkpoint': F.HAS_CHECKPOINT, 'without-checkpoint': F.NO_CHECKPOINT,
  'state-running': F.RUNNING, 'state-paused': F.PAUSED, 'state-shutoff': F.SHUTOFF, 'state-other': F.OTHER,
};

function exclusive(o: Opts, a: string, b: string): void {
  if (o.has(a) && o.has(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
}

async function list(ctl: Ctl, o: Opts): Promise<void> {
  let flags = 1;
  if (o.bool('inactive') || o.bool('state-shutoff')) flags = 2;
  if (o.bool('all')) flags = 3;
  for (const [k, v] of Object.entries(LIST_FLAGS)) if (o.bool(k)) flags |= v;
  exclusive(o, 'table', 'name');
  exclusive(o, 'table', 'uuid');
  exclusive(o, 'table', 'id');
  const optUuid = o.bool('uuid'), optName = o.bool('name'), optId = o.bool('id');
  const optTable = o.bool('table') || (!optUuid && !optName && !optId);
  const doms = sortDomains(await attempt(ctl.connection.listAllDomains(flags), 'Failed to list domains'));
  if (optTable) {
    const rows: string[][] = [];
    for (const d of doms) {
      let st: number;
      try {
        st = (await d.state()).state;
      } catch {
        continue;
      }
      let stText = stateText(st);
      if (o.bool('managed-save') && st === DomainState.SHUTOFF && (await d.hasManagedSaveImage())) stText = 'saved';
      const row = [idText(d), d.name, stText];
      if (o.bool('title')) row.push(titleOf(await d.xmlDesc(0)));
      rows.push(row);
    }
    ctl.table(o.bool('title') ? ['Id', 'Name', 'State', 'Title'] : ['Id', 'Name', 'State'], rows);
    return;
  }
  for (const d of doms) {
    let line = '';
    let sep = '';
    if (optUuid) {
      line += d.uuid;
      sep = ' ';
    }
    if (optId) {
      if (d.id === -1 && !optUuid && !optName) continue;
      line += sep + idText(d);
      sep = ' ';
    }
    if (optName) line += sep + d.name;
    ctl.print(line + '\n');
  }
}

async function dominfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  let out = kv('Id:', idText(d)) + kv('Name:', d.name) + kv('UUID:', d.uuid);
  const flush = () => {
    ctl.print(out);
    out = '';
  };
  try {
    out += kv('OS Type:', await d.osType());
  } catch { /* virsh skips the line */ }
  try {
    const info = await d.info();
    out += kv('State:', stateText(info.state)) + kv('CPU(s):', info.nrVirtCpu);
    if (info.cpuTime !== 0n) out += kv('CPU time:', `${(Number(info.cpuTime) / 1e9).toFixed(1)}s`);
    out += info.maxMem === 4294967295n ? kv('Max memory:', 'no limit') : kv('Max memory:', `${info.maxMem} KiB`);
    out += kv('Used memory:', `${info.memory} KiB`);
  } catch { /* virsh goes on */ }
  out += kv('Persistent:', await d.isPersistent().then((p) => (p ? 'yes' : 'no'), () => 'unknown'));
  try {
    out += kv('Autostart:', (await d.autostart()) ? 'enable' : 'disable');
  } catch { /* skipped */ }
  out += kv('Managed save:', await d.hasManagedSaveImage().then((p) => (p ? 'yes' : 'no'), () => 'unknown'));
  let model;
  try {
    model = await ctl.connection.securityModel();
  } catch (e) {
    flush();
    if (!isNoSupport(e)) throw new CliError('', e instanceof VirError ? e : null);
  }
  if (model && model.model !== '') {
    out += kv('Security model:', model.model) + kv('Security DOI:', model.doi);
    let label;
    try {
      label = await d.securityLabel();
    } catch (e) {
      flush();
      throw new CliError('', e instanceof VirError ? e : null);
    }
    if (label.label !== '') out += kv('Security label:', `${label.label} (${label.enforcing ? 'enforcing' : 'permissive'})`);
  }
  try {
    const msgs = await d.messages();
    msgs.forEach((m, i) => (out += kv(i === 0 ? 'Messages:' : '', m)));
  } catch { /* none */ }
  flush();
}

async function domstate(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const s = await d.state();
  ctl.print(o.bool('reason') ? `${stateText(s.state)} (${reasonText(s.state, s.reason)})\n` : `${stateText(s.state)}\n`);
}

async function domid(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  ctl.print(`${idText(d)}\n`);
}

async function domname(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o, 'domain');
  ctl.print(`${d.name}\n`);
}

async function domuuid(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  ctl.print(`${d.uuid}\n`);
}

async function dumpxml(ctl: Ctl, o: Opts): Promise<void> {
  let flags = 0;
  if (o.bool('inactive')) flags |= 2;
  if (o.bool('security-info')) flags |= 1;
  if (o.bool('update-cpu')) flags |= 4;
  if (o.bool('migratable')) flags |= 8;
  const d = await domainOpt(ctl, o);
  ctl.print(await d.xmlDesc(flags));
}

async function define(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  const flags = o.bool('validate') ? 1 : 0;
  const d = await attempt(ctl.connection.defineDomain(xml, flags ? flags : undefined), `Failed to define domain from ${file}`);
  ctl.printExtra(`Domain '${d.name}' defined from ${file}\n`);
}

async function create(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  let flags = 0;
  if (o.bool('paused')) flags |= 1;
  if (o.bool('autodestroy')) flags |= 2;
  if (o.bool('validate')) flags |= 4;
  const d = await attempt(ctl.connection.createDomain(xml, flags), `Failed to create domain from ${file}`);
  ctl.printExtra(`Domain '${d.name}' created from ${file}\n`);
}

async function undefine(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  let flags = 0;
  if (o.bool('managed-save')) flags |= 1;
  if (o.bool('snapshots-metadata')) flags |= 2;
  if (o.bool('nvram')) flags |= 4;
  if (o.bool('keep-nvram')) flags |= 8;
  if (o.bool('checkpoints-metadata')) flags |= 16;
  if (o.bool('tpm')) flags |= 32;
  if (o.bool('keep-tpm')) flags |= 64;
  await attempt(d.undefine(flags), `Failed to undefine domain '${d.name}'`);
  ctl.printExtra(`Domain '${d.name}' has been undefined\n`);
}

async function start(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  if (await d.isActive()) throw new CliError('Domain is already active');
  let flags = 0;
  if (o.bool('paused')) flags |= 1;
  if (o.bool('autodestroy')) flags |= 2;
  if (o.bool('bypass-cache')) flags |= 4;
  if (o.bool('force-boot')) flags |= 8;
  if (o.bool('reset-nvram')) flags |= 32;
  await attempt(d.create(flags || undefined), `Failed to start domain '${d.name}'`);
  ctl.printExtra(`Domain '${d.name}' started\n`);
}

function simple(verb: (d: Domain, o: Opts) => Promise<void>, ok: string, fail: string) {
  return async (ctl: Ctl, o: Opts): Promise<void> => {
    const d = await domainOpt(ctl, o);
    await attempt(verb(d, o), fail.replace('%s', d.name));
    ctl.printExtra(ok.replace('%s', d.name));
  };
}

async function autostart(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const off = o.bool('disable');
  await attempt(d.setAutostart(!off), off ? `Failed to unmark domain '${d.name}' as autostarted` : `Failed to mark domain '${d.name}' as autostarted`);
  ctl.printExtra(off ? `Domain '${d.name}' unmarked as autostarted\n` : `Domain '${d.name}' marked as autostarted\n`);
}

function impactFlags(o: Opts): number {
  exclusive(o, 'current', 'live');
  exclusive(o, 'current', 'config');
  let flags = 0;
  if (o.bool('config')) flags |= 2;
  if (o.bool('live')) flags |= 1;
  return flags;
}

async function setmem(ctl: Ctl, o: Opts): Promise<void> {
  const flags = impactFlags(o);
  const d = await domainOpt(ctl, o);
  const bytes = o.scaled('size', 1024, 2n ** 64n - 1n)!;
  const kib = bytes / 1024n + (bytes % 1024n ? 1n : 0n);
  await d.setMemory(kib, flags === 0 && !o.bool('current') ? 1 : flags);
}

async function setmaxmem(ctl: Ctl, o: Opts): Promise<void> {
  const flags = impactFlags(o);
  const d = await domainOpt(ctl, o);
  const bytes = o.scaled('size', 1024, 2n ** 64n - 1n)!;
  const kib = bytes / 1024n + (bytes % 1024n ? 1n : 0n);
  await attempt(d.setMemory(kib, flags | 4), 'Unable to change MaxMemorySize');
}

async function setvcpus(ctl: Ctl, o: Opts): Promise<void> {
  const flags = impactFlags(o) | (o.bool('maximum') ? 4 : 0) | (o.bool('guest') ? 8 : 0) | (o.bool('hotpluggable') ? 16 : 0);
  const d = await domainOpt(ctl, o);
  const count = o.int('count')!;
  if (count <= 0) throw new CliError(`Invalid number of virtual CPUs`);
  await d.setVcpus(count, flags);
}

async function vcpucount(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const maximum = o.bool('maximum'), active = o.bool('active'), live = o.bool('live'), config = o.bool('config'), current = o.bool('current'), guest = o.bool('guest');
  if (maximum && active) throw new CliError('Options --maximum and --active are mutually exclusive');
  if (current && (live || config)) throw new CliError(`Options --current and --${live ? 'live' : 'config'} are mutually exclusive`);
  if (live && config) throw new CliError('Options --live and --config are mutually exclusive');
  if (guest && config) throw new CliError('Options --guest and --config are mutually exclusive');
  const all = !maximum && !active && !live && !config && !current && !guest;
  if (all) {
    const isActive = await d.isActive();
    let out = '';
    for (const [label, mflag] of [['maximum', 4], ['current', 0]] as const) {
      for (const [where, wflag] of [['config', 2], ['live', 1]] as const) {
        if (where === 'live' && !isActive) continue;
        const n = await d.vcpus(mflag | wflag);
        out += `${label.padEnd(12)} ${where.padEnd(12)} ${String(n).padStart(3)}\n`;
      }
    }
    ctl.print(out);
    return;
  }
  let flags = (maximum ? 4 : 0) | (live ? 1 : 0) | (config ? 2 : 0) | (guest ? 8 : 0);
  if (!live && !config && !current) flags |= 0;
  ctl.print(`${await d.vcpus(flags)}\n`);
}

async function vcpuinfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const vcpus = await d.vcpuInfo();
  const vstate = ['offline', 'running', 'blocked'];
  let out = '';
  for (const v of vcpus) {
    if (out) out += '\n';
    out += kv('VCPU:', v.number) + kv('CPU:', v.cpu) + kv('State:', vstate[v.state] ?? 'no state');
    if (v.cpuTime !== 0n) out += kv('CPU time:', `${(Number(v.cpuTime) / 1e9).toFixed(1)}s`);
    out += kv('CPU Affinity:', v.affinity.map((b) => (b ? 'y' : '-')).join(''));
  }
  ctl.print(out);
}

const MEMSTAT_ORDER: readonly [number, string][] = [
  [0, 'swap_in'], [1, 'swap_out'], [2, 'major_fault'], [3, 'minor_fault'], [4, 'unused'], [5, 'available'], [8, 'usable'],
  [6, 'actual'], [7, 'rss'], [9, 'last_update'], [10, 'disk_caches'], [11, 'hugetlb_pgalloc'], [12, 'hugetlb_pgfail'],
];

async function dommemstat(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const stats = await attempt(d.memoryStats(), `Failed to get memory statistics for domain ${d.name}`);
  let out = '';
  for (const s of stats) {
    const name = MEMSTAT_ORDER.find(([t]) => t === s.tag)?.[1];
    if (name) out += `${name} ${s.value}\n`;
  }
  ctl.print(out);
}

async function domblkstat(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const device = o.raw('device') ?? '';
  const human = o.bool('human');
  const s = await attempt(d.blockStats(device), `Failed to get block stats ${d.name} ${device}`);
  let out = human ? `Device: ${device}\n` : '';
  const dev = human ? '' : device;
  const rows: [string, string, bigint][] = [
    ['rd_req', 'number of read operations:', s.rdReq], ['rd_bytes', 'number of bytes read:', s.rdBytes], ['wr_req', 'number of write operations:', s.wrReq],
    ['wr_bytes', 'number of bytes written:', s.wrBytes], ['errs', 'error count:', s.errs],
  ];
  for (const [legacy, h, v] of rows) if (v >= 0n) out += `${dev} ${human ? h.padEnd(31) : legacy} ${v}\n`;
  ctl.print(out);
}

async function domifstat(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const dev = o.string('interface')!;
  const s = await attempt(d.interfaceStats(dev), `Failed to get interface stats ${d.name} ${dev}`);
  let out = '';
  for (const [k, v] of [['rx_bytes', s.rxBytes], ['rx_packets', s.rxPackets], ['rx_errs', s.rxErrs], ['rx_drop', s.rxDrop], ['tx_bytes', s.txBytes], ['tx_packets', s.txPackets], ['tx_errs', s.txErrs], ['tx_drop', s.txDrop]] as const) {
    if (v >= 0n) out += `${dev} ${k} ${v}\n`;
  }
  ctl.print(out);
}

/** Elements of one kind under <devices>, as attribute maps of themselves and their children. */
function devices(xml: string, tag: string): string[] {
  const body = /<devices>([\s\S]*?)<\/devices>/.exec(xml)?.[1] ?? '';
  return [...body.matchAll(new RegExp(`<${tag}\\b[^>]*?(?:/>|>[\\s\\S]*?</${tag}>)`, 'g'))].map((m) => m[0]);
}

function attr(fragment: string, path: string, names: readonly string[]): string | undefined {
  const el = path === '' ? /^<[^>]*>/.exec(fragment)?.[0] : new RegExp(`<${path}\\b[^>]*>`).exec(fragment)?.[0];
  if (!el) return undefined;
  for (const n of names) {
    const m = new RegExp(`\\s${n}=(?:'([^']*)'|"([^"]*)")`).exec(el);
    if (m) return unescapeXml(m[1] ?? m[2]!);
  }
  return undefined;
}

async function domblklist(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const xml = await d.xmlDesc(o.bool('inactive') ? 2 : 0);
  const details = o.bool('details');
  const rows = devices(xml, 'disk').map((disk) => {
    const target = attr(disk, 'target', ['dev']) ?? '';
    const source = attr(disk, 'source', ['file', 'dev', 'dir', 'name', 'volume', 'path']) ?? '-';
    return details ? [attr(disk, '', ['type']) ?? '', attr(disk, '', ['device']) ?? '', target, source] : [target, source];
  });
  ctl.table(details ? ['Type', 'Device', 'Target', 'Source'] : ['Target', 'Source'], rows);
}

async function domiflist(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const xml = await d.xmlDesc(o.bool('inactive') ? 2 : 0);
  const rows = devices(xml, 'interface').map((i) => [
    attr(i, 'target', ['dev']) ?? '-',
    attr(i, '', ['type']) ?? '',
    attr(i, 'source', ['bridge', 'dev', 'network', 'name', 'path']) ?? '-',
    attr(i, 'model', ['type']) ?? '-',
    attr(i, 'mac', ['address']) ?? '-',
  ]);
  ctl.table(['Interface', 'Type', 'Source', 'Model', 'MAC'], rows);
}

async function save(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const to = o.string('file')!;
  let flags = 0;
  if (o.bool('bypass-cache')) flags |= 1;
  if (o.bool('running')) flags |= 2;
  if (o.bool('paused')) flags |= 4;
  const xmlFile = o.string('xml');
  const dxml = xmlFile === undefined ? undefined : readXmlFile(xmlFile);
  await attempt(d.save(to, flags || dxml !== undefined ? { dxml, flags } : {}), `Failed to save domain '${d.name}' to ${to}`);
  ctl.printExtra(`\nDomain '${d.name}' saved to ${to}\n`);
}

async function restore(ctl: Ctl, o: Opts): Promise<void> {
  const from = o.string('file')!;
  let flags = 0;
  if (o.bool('bypass-cache')) flags |= 1;
  if (o.bool('running')) flags |= 2;
  if (o.bool('paused')) flags |= 4;
  if (o.bool('reset-nvram')) flags |= 8;
  const xmlFile = o.string('xml');
  const dxml = xmlFile === undefined ? undefined : readXmlFile(xmlFile);
  await attempt(ctl.connection.restoreDomain(from, flags || dxml !== undefined ? { dxml, flags } : {}), `Failed to restore domain from ${from}`);
  ctl.printExtra(`Domain restored from ${from}\n`);
}

async function managedsave(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  let flags = 0;
  if (o.bool('bypass-cache')) flags |= 1;
  if (o.bool('running')) flags |= 2;
  if (o.bool('paused')) flags |= 4;
  await attempt(d.managedSave(flags), `Failed to save domain '${d.name}' state`);
  ctl.printExtra(`\nDomain '${d.name}' state saved by libvirt\n`);
}

async function managedsaveRemove(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const has = await attempt(d.hasManagedSaveImage(), `Failed to check for domain '${d.name}' managed save image`);
  if (!has) {
    ctl.printExtra(`Domain '${d.name}' has no manage save image; removal skipped`);
    return;
  }
  await attempt(d.managedSaveRemove(), `Failed to remove managed save image for domain '${d.name}'`);
  ctl.printExtra(`Removed managedsave image for domain '${d.name}'`);
}

function paramText(p: { type: string; value: unknown }): string {
  if (p.type === 'boolean') return p.value ? 'yes' : 'no';
  if (p.type === 'double') return (p.value as number).toFixed(6);
  return String(p.value);
}

async function schedinfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const { type, nparams } = await d.schedulerType();
  let out = `${'Scheduler'.padEnd(15)}: ${type}\n`;
  if (nparams > 0) {
    let flags: number | undefined;
    if (o.bool('config')) flags = 2;
    else if (o.bool('live')) flags = 1;
    else if (o.bool('current')) flags = 0;
    const params = await d.schedulerParameters(flags);
    for (const [k, v] of Object.entries(params)) out += `${k.padEnd(15)}: ${paramText(v)}\n`;
  }
  ctl.print(out);
}

export const DOMAIN_COMMANDS: CommandTable = {
  list,
  dominfo,
  domstate,
  domid,
  domname,
  domuuid,
  dumpxml,
  define,
  create,
  undefine,
  start,
  destroy: simple((d, o) => d.destroy(o.bool('graceful') ? 1 : undefined), "Domain '%s' destroyed\n", "Failed to destroy domain '%s'"),
  shutdown: simple((d) => d.shutdown(), "Domain '%s' is being shutdown\n", "Failed to shutdown domain '%s'"),
  reboot: simple((d) => d.reboot(0), "Domain '%s' is being rebooted\n", "Failed to reboot domain '%s'"),
  reset: simple((d) => d.reset(0), "Domain '%s' was reset\n", "Failed to reset domain '%s'"),
  suspend: simple((d) => d.suspend(), "Domain '%s' suspended\n", "Failed to suspend domain '%s'"),
  resume: simple((d) => d.resume(), "Domain '%s' resumed\n", "Failed to resume domain '%s'"),
  autostart,
  setmem,
  setmaxmem,
  setvcpus,
  vcpucount,
  vcpuinfo,
  dommemstat,
  domblkstat,
  domifstat,
  domblklist,
  domiflist,
  save,
  restore,
  managedsave,
  'managedsave-remove': managedsaveRemove,
  schedinfo,
};
