// Network, storage pool/volume and host interface commands.
import type { Network } from '../../api/network.js';
import type { StoragePool, StorageVol } from '../../api/storage.js';
import { attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { kv, pretty } from '../format.js';
import { ifaceByText, networkByText, poolByText, volOpt } from '../lookup.js';
import { readXmlFile } from './domain.js';
import type { CommandTable } from './types.js';

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * net-list and pool-list filters as list-all flags. Both families share the bit layout:
 * INACTIVE 1, ACTIVE 2, PERSISTENT 4, TRANSIENT 8, AUTOSTART 16, NO_AUTOSTART 32; active by default.
 */
function stateFlags(o: Opts): number {
  let flags = 0;
  if (o.bool('inactive')) flags |= 1;
  if (o.bool('all')) flags |= 3;
  if (!(flags & 3)) flags |= 2;
  if (o.bool('persistent')) flags |= 4;
  if (o.bool('transient')) flags |= 8;
  if (o.bool('autostart')) flags |= 16;
  if (o.bool('no-autostart')) flags |= 32;
  return flags;
}

/**
 * --name / --uuid: one line per object instead of the table. Returns false when neither was given.
 * pool-list pads names to 20 columns (virsh prints them with %-20s); net-list does not.
 */
function printNamesOrUuids(ctl: Ctl, o: Opts, items: ReadonlyArray<{ name: string; uuid: string }>, nameWidth = 0): boolean {
  const name = o.bool('name');
  const uuid = o.bool('uuid');
  if (!name && !uuid) return false;
  ctl.print(items.map((x) => `${uuid ? x.uuid : ''}${uuid && name ? ' ' : ''}${name ? x.name.padEnd(nameWidth) : ''}\n`).join(''));
  return true;
}

const netOpt = (ctl: Ctl, o: Opts) => networkByText(ctl, o.string('network')!);

async function netList(ctl: Ctl, o: Opts): Promise<void> {
  if (['table', 'name', 'uuid'].filter((k) => o.bool(k)).length > 1) {
    throw new CliError('Only one argument from --table, --name and --uuid may be specified.');
  }
  const flags = stateFlags(o);
  const nets = (await attempt(ctl.connection.listAllNetworks(flags), 'Failed to list networks')).sort(byName);
  if (printNamesOrUuids(ctl, o, nets)) return;
  const rows: string[][] = [];
  for (const n of nets) {
    rows.push([n.name, (await n.isActive()) ? 'active' : 'inactive', yesNo(await n.autostart()), yesNo(await n.isPersistent())]);
  }
  ctl.table(['Name', 'State', 'Autostart', 'Persistent'], rows);
}

async function netInfo(ctl: Ctl, o: Opts): Promise<void> {
  const n = await netOpt(ctl, o);
  let out = kv('Name:', n.name) + kv('UUID:', n.uuid);
  const active = await n.isActive().catch(() => null);
  if (active !== null) out += kv('Active:', yesNo(active));
  const persistent = await n.isPersistent().catch(() => null);
  out += kv('Persistent:', persistent === null ? 'unknown' : yesNo(persistent));
  const autostart = await n.autostart().catch(() => null);
  out += kv('Autostart:', autostart === null ? 'no autostart' : yesNo(autostart));
  const bridge = await n.bridgeName().catch(() => null);
  if (bridge !== null) out += kv('Bridge:', bridge);
  ctl.print(out);
}

function netAction(verb: (n: Network) => Promise<void>, ok: string, fail: string) {
  return async (ctl: Ctl, o: Opts): Promise<void> => {
    const n = await netOpt(ctl, o);
    await attempt(verb(n), fail.replace('%s', n.name));
    ctl.printExtra(ok.replace('%s', n.name));
  };
}

async function netDefine(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  const n = await attempt(ctl.connection.defineNetwork(xml, o.bool('validate') ? 1 : undefined), `Failed to define network from ${file}`);
  ctl.printExtra(`Network ${n.name} defined from ${file}\n`);
}

async function netCreate(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  const n = await attempt(ctl.connection.createNetwork(xml, o.bool('validate') ? 1 : undefined), `Failed to create network from ${file}`);
  ctl.printExtra(`Network ${n.name} created from ${file}\n`);
}

async function netAutostart(ctl: Ctl, o: Opts): Promise<void> {
  const n = await netOpt(ctl, o);
  const off = o.bool('disable');
  await attempt(n.setAutostart(!off), off ? `failed to unmark network ${n.name} as autostarted` : `failed to mark network ${n.name} as autostarted`);
  ctl.printExtra(off ? `Network ${n.name} unmarked as autostarted\n` : `Network ${n.name} marked as autostarted\n`);
}

// Storage.

const poolOpt = (ctl: Ctl, o: Opts) => poolByText(ctl, o.string('pool')!);
const POOL_STATES = ['inactive', 'building', 'running', 'degraded', 'inaccessible'];

async function poolList(ctl: Ctl, o: Opts): Promise<void> {
  const flags = stateFlags(o);
  const pools = (await attempt(ctl.connection.listAllStoragePools(flags), 'Failed to list pools')).sort(byName);
  if (o.bool('details') && o.bool('name')) throw new CliError('Options --details and --name are mutually exclusive');
  if (printNamesOrUuids(ctl, o, pools, 20)) return;
  const details = o.bool('details');
  const rows: string[][] = [];
  for (const p of pools) {
    const info = await p.info();
    const autostart = yesNo(await p.autostart());
    if (!details) {
      rows.push([p.name, info.state === 2 || info.state === 3 ? 'active' : 'inactive', autostart]);
      continue;
    }
    const active = info.state === 2 || info.state === 3;
    rows.push([p.name, POOL_STATES[info.state] ?? 'unknown', autostart, yesNo(await p.isPersistent()), active ? pretty(info.capacity) : '-', active ? pretty(info.allocation) : '-', active ? pretty(info.available) : '-']);
  }
  ctl.table(details ? ['Name', 'State', 'Autostart', 'Persistent', 'Capacity', 'Allocation', 'Available'] : ['Name', 'State', 'Autostart'], rows);
}

async function poolInfo(ctl: Ctl, o: Opts): Promise<void> {
  const p = await poolOpt(ctl, o);
  const info = await p.info();
  const bytes = o.bool('bytes');
  const size = (v: bigint) => (bytes ? `${v}` : pretty(v));
  let out = kv('Name:', p.name) + kv('UUID:', p.uuid) + kv('State:', POOL_STATES[info.state] ?? 'unknown');
  out += kv('Persistent:', await p.isPersistent().then(yesNo, () => 'unknown'));
  out += kv('Autostart:', await p.autostart().then(yesNo, () => 'no autostart'));
  if (info.state === 2 || info.state === 3) {
    out += kv('Capacity:', size(info.capacity)) + kv('Allocation:', size(info.allocation)) + kv('Available:', size(info.available));
  }
  ctl.print(out);
}

function poolAction(verb: (p: StoragePool) => Promise<void>, ok: string, fail: string) {
  return async (ctl: Ctl, o: Opts): Promise<void> => {
    const p = await poolOpt(ctl, o);
    await attempt(verb(p), fail.replace('%s', p.name));
    ctl.printExtra(ok.replace('%s', p.name));
  };
}

async function poolDefine(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const p = await attempt(ctl.connection.defineStoragePool(readXmlFile(file), o.bool('validate') ? 1 : 0), `Failed to define pool from ${file}`);
  ctl.printExtra(`Pool ${p.name} defined from ${file}\n`);
}

async function poolAutostart(ctl: Ctl, o: Opts): Promise<void> {
  const p = await poolOpt(ctl, o);
  const off = o.bool('disable');
  await attempt(p.setAutostart(!off), off ? `failed to unmark pool ${p.name} as autostarted` : `failed to mark pool ${p.name} as autostarted`);
  ctl.printExtra(off ? `Pool ${p.name} unmarked as autostarted\n` : `Pool ${p.name} marked as autostarted\n`);
}

const VOL_TYPES = ['file', 'block', 'dir', 'network', 'netdir', 'ploop'];

async function volList(ctl: Ctl, o: Opts): Promise<void> {
  const p = await poolOpt(ctl, o);
  const vols = (await attempt(p.listAllVolumes(), 'Failed to list volumes')).sort(byName);
  const details = o.bool('details');
  const rows: string[][] = [];
  for (const v of vols) {
    const path = await v.path();
    if (!details) {
      rows.push([v.name, path]);
      continue;
    }
    const info = await v.info();
    rows.push([v.name, path, VOL_TYPES[info.type] ?? 'unknown', pretty(info.capacity), pretty(info.allocation)]);
  }
  ctl.table(details ? ['Name', 'Path', 'Type', 'Capacity', 'Allocation'] : ['Name', 'Path'], rows);
}

async function volInfo(ctl: Ctl, o: Opts): Promise<void> {
  const v = await volOpt(ctl, o);
  const info = await v.info();
  const size = (x: bigint) => (o.bool('bytes') ? `${x} bytes` : pretty(x));
  ctl.print(kv('Name:', v.name) + kv('Type:', VOL_TYPES[info.type] ?? 'unknown') + kv('Capacity:', size(info.capacity)) + kv('Allocation:', size(info.allocation)));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

async function volCreateAs(ctl: Ctl, o: Opts): Promise<void> {
  const p = await poolOpt(ctl, o);
  const name = o.string('name')!;
  const capText = o.raw('capacity')!;
  const cap = o.scaled('capacity', 1);
  if (cap === undefined) throw new CliError(`Malformed size ${capText}`);
  let xml = `<volume>\n  <name>${escapeXml(name)}</name>\n  <capacity>${cap}</capacity>\n`;
  const alloc = o.raw('allocation');
  if (alloc !== undefined) xml += `  <allocation>${o.scaled('allocation', 1)}</allocation>\n`;
  const format = o.string('format');
  if (format !== undefined) xml += `  <target>\n    <format type='${escapeXml(format)}'/>\n  </target>\n`;
  xml += '</volume>\n';
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  const v = await attempt(p.createVolume(xml, o.bool('prealloc-metadata') ? 1 : 0), `Failed to create vol ${name}`);
  ctl.printExtra(`Vol ${v.name} created\n`);
}

async function volCreate(ctl: Ctl, o: Opts): Promise<void> {
  const p = await poolOpt(ctl, o);
  const file = o.string('file')!;
  const v = await attempt(p.createVolume(readXmlFile(file), o.bool('prealloc-metadata') ? 1 : 0), `Failed to create vol from ${file}`);
  ctl.printExtra(`Vol ${v.name} created from ${file}\n`);
}

function volAction(verb: (v: StorageVol) => Promise<string>) {
  return async (ctl: Ctl, o: Opts): Promise<void> => {
    const v = await volOpt(ctl, o);
    ctl.print(await verb(v));
  };
}

async function volDelete(ctl: Ctl, o: Opts): Promise<void> {
  const v = await volOpt(ctl, o);
  let flags = 0;
  if (o.bool('delete-snapshots')) flags |= 2;
  await attempt(v.delete(flags), `Failed to delete vol ${v.name}`);
  ctl.printExtra(`Vol ${v.name} deleted\n`);
}

// Host interfaces.

async function ifaceList(ctl: Ctl, o: Opts): Promise<void> {
  let flags = 2;
  if (o.bool('inactive')) flags = 1;
  if (o.bool('all')) flags = 3;
  const ifaces = (await attempt(ctl.connection.listAllInterfaces(flags), 'Failed to list interfaces')).sort(byName);
  const rows: string[][] = [];
  for (const i of ifaces) rows.push([i.name, (await i.isActive()) ? 'active' : 'inactive', i.mac]);
  ctl.table(['Name', 'State', 'MAC Address'], rows);
}

export const OBJECT_COMMANDS: CommandTable = {
  'net-list': netList,
  'net-info': netInfo,
  'net-dumpxml': async (ctl, o) => {
    const n = await netOpt(ctl, o);
    ctl.print(await n.xmlDesc(o.bool('inactive') ? 1 : 0));
  },
  'net-define': netDefine,
  'net-create': netCreate,
  'net-start': netAction((n) => n.create(), 'Network %s started\n', 'Failed to start network %s'),
  'net-destroy': netAction((n) => n.destroy(), 'Network %s destroyed\n', 'Failed to destroy network %s'),
  'net-undefine': netAction((n) => n.undefine(), 'Network %s has been undefined\n', 'Failed to undefine network %s'),
  'net-autostart': netAutostart,
  'net-uuid': async (ctl, o) => {
    const n = await networkByText(ctl, o.string('network')!, false, true);
    ctl.print(`${n.uuid}\n`);
  },
  'net-name': async (ctl, o) => {
    const n = await networkByText(ctl, o.string('network')!, true);
    ctl.print(`${n.name}\n`);
  },
  'pool-list': poolList,
  'pool-info': poolInfo,
  'pool-dumpxml': async (ctl, o) => {
    const p = await poolOpt(ctl, o);
    ctl.print(await p.xmlDesc(o.bool('inactive') ? 1 : 0));
  },
  'pool-define': poolDefine,
  'pool-start': poolAction((p) => p.create(0), 'Pool %s started\n', 'Failed to start pool %s'),
  'pool-destroy': poolAction((p) => p.destroy(), 'Pool %s destroyed\n', 'Failed to destroy pool %s'),
  'pool-undefine': poolAction((p) => p.undefine(), 'Pool %s has been undefined\n', 'Failed to undefine pool %s'),
  'pool-autostart': poolAutostart,
  'vol-list': volList,
  'vol-info': volInfo,
  'vol-dumpxml': volAction((v) => v.xmlDesc(0)),
  'vol-path': volAction(async (v) => `${await v.path()}\n`),
  'vol-create-as': volCreateAs,
  'vol-create': volCreate,
  'vol-delete': volDelete,
  'iface-list': ifaceList,
  'iface-dumpxml': async (ctl, o) => {
    const i = await ifaceByText(ctl, o.string('interface')!, 'any');
    ctl.print(await i.xmlDesc(o.bool('inactive') ? 1 : 0));
  },
  'iface-mac': async (ctl, o) => {
    const i = await ifaceByText(ctl, o.string('interface')!, 'name');
    ctl.print(`${i.mac}\n`);
  },
  'iface-name': async (ctl, o) => {
    const i = await ifaceByText(ctl, o.string('interface')!, 'mac');
    ctl.print(`${i.name}\n`);
  },
};
