// Snapshot commands (virsh's snapshot-* group).
import type { Domain } from '../../api/domain.js';
import type { DomainSnapshot } from '../../api/snapshot.js';
import { attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { kv } from '../format.js';
import { domainOpt } from '../lookup.js';
import { readXmlFile, unescapeXml } from './domain.js';
import type { CommandTable } from './types.js';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function tag(xml: string, name: string): string | undefined {
  // The snapshot's own element, not one inside the embedded <domain>.
  const head = xml.split(/<domain[\s>]/)[0]!;
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(head);
  return m ? unescapeXml(m[1]!) : undefined;
}

async function snapByName(d: Domain, name: string): Promise<DomainSnapshot> {
  return attempt(d.snapshotLookupByName(name), '');
}

async function snapOpt(o: Opts, d: Domain): Promise<DomainSnapshot> {
  const name = o.string('snapshotname');
  if (!o.bool('current') && name === undefined) throw new CliError('--snapshotname or --current is required');
  if (o.bool('current') || name === undefined) {
    if (name !== undefined && o.bool('current')) return snapByName(d, name);
    return attempt(d.currentSnapshot(), '');
  }
  return snapByName(d, name);
}

function createFlags(o: Opts): number {
  let f = 0;
  if (o.bool('redefine')) f |= 1;
  if (o.bool('current')) f |= 2;
  if (o.bool('no-metadata')) f |= 4;
  if (o.bool('halt')) f |= 8;
  if (o.bool('disk-only')) f |= 16;
  if (o.bool('reuse-external')) f |= 32;
  if (o.bool('quiesce')) f |= 64;
  if (o.bool('atomic')) f |= 128;
  if (o.bool('live')) f |= 256;
  if (o.bool('validate')) f |= 512;
  return f;
}

async function createAs(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const name = o.string('name');
  const desc = o.string('description');
  let xml = '<domainsnapshot>\n';
  if (name !== undefined) xml += `  <name>${escapeXml(name)}</name>\n`;
  if (desc !== undefined) xml += `  <description>${escapeXml(desc)}</description>\n`;
  xml += '</domainsnapshot>\n';
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  const s = await attempt(d.createSnapshot(xml, createFlags(o)), '');
  ctl.printExtra(o.bool('disk-only') ? `Domain snapshot ${s.name} created` : `Domain snapshot ${s.name} created`);
}

async function createFromFile(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const file = o.string('xmlfile');
  const xml = file === undefined ? '<domainsnapshot/>' : readXmlFile(file);
  const s = await attempt(d.createSnapshot(xml, createFlags(o)), '');
  ctl.printExtra(file === undefined ? `Domain snapshot ${s.name} created` : `Domain snapshot ${s.name} created from '${file}'`);
}

interface SnapRow {
  name: string;
  parent: string | null;
  xml: string;
}

function creationTime(xml: string): string {
  const secs = Number(tag(xml, 'creationTime') ?? '0');
  const t = new Date(secs * 1000);
  const off = -t.getTimezoneOffset();
  const p = (n: number) => String(n).padStart(2, '0');
  const sign = off >= 0 ? '+' : '-';
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())} ${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

function cmpName(a: string, b: string): number {
  const x = a.toLowerCase(), y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** vshTreePrint's layout. */
function treeText(rows: readonly SnapRow[]): string {
  let out = '';
  const walk = (i: number, last: number, root: boolean, indent: string): string => {
    const r = rows[i]!;
    out += `${indent}${root ? '' : '+- '}${r.name}\n`;
    if (!root) indent += (i === last ? ' ' : '|') + ' ';
    let nextLast = -1;
    rows.forEach((c, j) => {
      if (c.parent === r.name) nextLast = j;
    });
    if (nextLast !== -1) out += `${indent}  |\n`;
    rows.forEach((c, j) => {
      if (c.parent === r.name) walk(j, nextLast, false, indent + '  ');
    });
    if (nextLast === -1 && i === last) out += `${indent}\n`;
    return indent;
  };
  rows.forEach((r, i) => {
    if (r.parent === null) walk(i, i, true, '');
  });
  return out;
}

async function snapList(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  let flags = 0;
  if (o.bool('roots')) flags |= 1;
  if (o.bool('metadata')) flags |= 2;
  if (o.bool('leaves')) flags |= 4;
  if (o.bool('no-leaves')) flags |= 8;
  if (o.bool('no-metadata')) flags |= 16;
  if (o.bool('inactive')) flags |= 32;
  if (o.bool('active')) flags |= 64;
  if (o.bool('disk-only')) flags |= 128;
  if (o.bool('internal')) flags |= 256;
  if (o.bool('external')) flags |= 512;
  if (o.bool('topological')) flags |= 1024;
  const snaps = await attempt(d.listAllSnapshots(flags), '');
  const rows: SnapRow[] = [];
  for (const s of snaps) {
    const xml = await s.xmlDesc(0);
    rows.push({ name: s.name, parent: parentOf(xml), xml });
  }
  if (!o.bool('topological')) rows.sort((a, b) => cmpName(a.name, b.name));
  if (o.bool('tree')) {
    ctl.print(treeText(rows));
    return;
  }
  if (o.bool('name')) {
    ctl.print(rows.map((r) => `${r.name}\n`).join(''));
    return;
  }
  const withParent = o.bool('parent');
  const header = withParent ? ['Name', 'Creation Time', 'State', 'Parent'] : ['Name', 'Creation Time', 'State'];
  ctl.table(header, rows.map((r) => {
    const row = [r.name, creationTime(r.xml), tag(r.xml, 'state') ?? ''];
    if (withParent) row.push(r.parent ?? '');
    return row;
  }));
}

function parentOf(xml: string): string | null {
  const head = xml.split(/<domain[\s>]/)[0]!;
  const m = /<parent>\s*<name>([\s\S]*?)<\/name>\s*<\/parent>/.exec(head);
  return m ? unescapeXml(m[1]!) : null;
}

async function snapCurrent(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const name = o.string('snapshotname');
  if (name !== undefined) {
    const s = await snapByName(d, name);
    const xml = await s.xmlDesc(0);
    await attempt(d.createSnapshot(xml, 1 | 2), '');
    ctl.printExtra(`Snapshot ${name} set as current`);
    return;
  }
  let s: DomainSnapshot;
  try {
    s = await d.currentSnapshot();
  } catch {
    throw new CliError(`domain '${d.name}' has no current snapshot`);
  }
  if (o.bool('name')) ctl.print(s.name);
  else ctl.print(await s.xmlDesc(o.bool('security-info') ? 1 : 0));
}

async function snapInfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const s = await snapOpt(o, d);
  const xml = await s.xmlDesc(0);
  const current = await s.isCurrent();
  const state = tag(xml, 'state') ?? '';
  const head = xml.split(/<domain[\s>]/)[0]!;
  const external = state === 'disk-snapshot' || /<memory snapshot='external'/.test(head) || /snapshot='external'/.test(head);
  let out = kv('Name:', s.name) + kv('Domain:', d.name) + kv('Current:', current ? 'yes' : 'no') + kv('State:', state);
  out += kv('Location:', external ? 'external' : 'internal');
  out += kv('Parent:', parentOf(xml) ?? '-');
  out += kv('Children:', await s.numChildren(0)) + kv('Descendants:', await s.numChildren(1));
  out += kv('Metadata:', (await s.hasMetadata()) ? 'yes' : 'no');
  ctl.print(out);
}

async function snapDumpxml(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const s = await snapByName(d, o.string('snapshotname')!);
  ctl.print(await s.xmlDesc(o.bool('security-info') ? 1 : 0));
}

async function snapRevert(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const s = await snapOpt(o, d);
  let flags = 0;
  if (o.bool('running')) flags |= 1;
  if (o.bool('paused')) flags |= 2;
  if (o.bool('force')) flags |= 4;
  if (o.bool('reset-nvram')) flags |= 8;
  await attempt(s.revert(flags), '');
  ctl.printExtra(`Domain snapshot ${s.name} reverted\n`);
}

async function snapDelete(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const s = await snapOpt(o, d);
  let flags = 0;
  if (o.bool('children')) flags |= 1;
  if (o.bool('children-only')) flags |= 4;
  if (o.bool('metadata')) flags |= 2;
  await attempt(s.delete(flags), `Failed to delete snapshot ${s.name}`);
  if (o.bool('children-only')) ctl.printExtra(`Domain snapshot ${s.name} children deleted\n`);
  else if (o.bool('children')) ctl.printExtra(`Domain snapshot ${s.name} and all its children deleted\n`);
  else ctl.printExtra(`Domain snapshot ${s.name} deleted\n`);
}

export const SNAPSHOT_COMMANDS: CommandTable = {
  'snapshot-create-as': createAs,
  'snapshot-create': createFromFile,
  'snapshot-list': snapList,
  'snapshot-current': snapCurrent,
  'snapshot-info': snapInfo,
  'snapshot-dumpxml': snapDumpxml,
  'snapshot-revert': snapRevert,
  'snapshot-delete': snapDelete,
};
