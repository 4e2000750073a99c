// Domain snapshots as the test driver keeps them: metadata only (name, state, parent,
// creation time, memory/disk locations, a copy of the domain definition) in a tree with a
// "current" snapshot. Formatting matches virsh snapshot-dumpxml.
import type { XmlEl, Out } from '../../api/xml/tree.js';
import { attr, child, childText, elementsOf, parseXml, passthrough, render } from '../../api/xml/tree.js';
import { parseDomain } from '../../api/xml/domain/parse.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import { applyTestDomainDefaults } from './xml/domain-defaults.js';
import { operationFailed, noSnapshot } from './errors.js';

/** virDomainSnapshotState names, indexed like virDomainState (8 = disk-snapshot). */
export const SNAP_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended', 'disk-snapshot'];
const DOMAIN_SNAPSHOT_ERR = 35;

export interface Snapshot {
  name: string;
  description?: string;
  state: string;
  parent?: string;
  creationTime: bigint;
  memory: [string, string][];
  disks: Out[];
  domain?: DomainDef;
  children: Snapshot[];
}

export const ListFlag = {
  ROOTS: 1, DESCENDANTS: 1, METADATA: 2, LEAVES: 4, NO_LEAVES: 8, NO_METADATA: 16, INACTIVE: 32, ACTIVE: 64,
  DISK_ONLY: 128, INTERNAL: 256, EXTERNAL: 512, TOPOLOGICAL: 1024,
} as const;

export class SnapshotList {
  private readonly byName = new Map<string, Snapshot>();
  current: Snapshot | undefined;

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Snapshot | undefined {
    return this.byName.get(name);
  }

  /** testSnapObjFromName */
  find(name: string): Snapshot {
    const s = this.byName.get(name);
    if (!s) throw noSnapshot(`no domain snapshot with matching name '${name}'`);
    return s;
  }

  add(s: Snapshot): void {
    if (this.byName.has(s.name)) throw operationFailed(`domain moment ${s.name} already exists`);
    this.byName.set(s.name, s);
  }

  /** Links a snapshot under its parent (by name), as virDomainSnapshotLinkParent. */
  link(s: Snapshot): void {
    const p = s.parent === undefined ? undefined : this.byName.get(s.parent);
    if (p && !p.children.includes(s)) p.children.push(s);
  }

  remove(s: Snapshot): void {
    this.byName.delete(s.name);
    if (this.current === s) this.current = undefined;
  }

  parentOf(s: Snapshot): Snapshot | undefined {
    return s.parent === undefined ? undefined : this.byName.get(s.parent);
  }

  all(): Snapshot[] {
    return [...this.byName.values()];
  }

  descendants(s: Snapshot): Snapshot[] {
    const out: Snapshot[] = [];
    const walk = (x: Snapshot): void => {
      for (const c of x.children) {
        out.push(c);
        walk(c);
      }
    };
    walk(s);
    return out;
  }

  /** virDomainSnapshotObjListGetNames' selection: `from` lists children (or descendants). */
  list(from: Snapshot | undefined, flags: number): Snapshot[] {
    let set: Snapshot[];
    if (from) set = flags & ListFlag.DESCENDANTS ? this.descendants(from) : [...from.children];
    else set = flags & ListFlag.ROOTS ? this.all().filter((s) => this.parentOf(s) === undefined) : this.all();
    if (flags & ListFlag.TOPOLOGICAL) set = this.topological(set);
    return set.filter((s) => matches(s, flags));
  }

  private topological(set: Snapshot[]): Snapshot[] {
    const want = new Set(set);
    const out: Snapshot[] = [];
    const walk = (x: Snapshot): void => {
      if (want.has(x)) out.push(x);
      for (const c of x.children) walk(c);
    };
    for (const r of this.all().filter((s) => this.parentOf(s) === undefined)) walk(r);
    return out;
  }
}

const isExternal = (s: Snapshot): boolean =>
  s.memory.some(([k, v]) => k === 'snapshot' && v === 'external') ||
  s.disks.some((d) => d.attrs?.some(([k, v]) => k === 'snapshot' && v === 'external'));

function matches(s: Snapshot, flags: number): boolean {
  const pair = (a: number, b: number, isA: boolean): boolean => {
    const fa = (flags & a) !== 0;
    const fb = (flags & b) !== 0;
    return fa === fb || (fa ? isA : !isA);
  };
  if (!pair(ListFlag.LEAVES, ListFlag.NO_LEAVES, s.children.length === 0)) return false;
  // Every test-driver snapshot has metadata.
  if (!pair(ListFlag.METADATA, ListFlag.NO_METADATA, true)) return false;
  const st = flags & (ListFlag.INACTIVE | ListFlag.ACTIVE | ListFlag.DISK_ONLY);
  if (st) {
    const kind = s.state === 'shutoff' ? ListFlag.INACTIVE : s.state === 'disk-snapshot' ? ListFlag.DISK_ONLY : ListFlag.ACTIVE;
    if (!(st & kind)) return false;
  }
  if (!pair(ListFlag.EXTERNAL, ListFlag.INTERNAL, isExternal(s))) return false;
  return true;
}

/** Parses <domainsnapshot>; `redefine` keeps state/parent/domain as given (config load, REDEFINE). */
export function parseSnapshot(el: XmlEl, redefine: boolean): { snap: Snapshot; current: boolean } {
  const domEl = child(el, 'domain');
  let domain: DomainDef | undefined;
  if (redefine && domEl) {
    domain = parseDomain(domEl);
    applyTestDomainDefaults(domain);
  }
  const ct = childText(el, 'creationTime');
  const mem = child(el, 'memory');
  const disks = elementsOf(child(el, 'disks') ?? { name: 'disks', attrs: [], children: [] }, 'disk').map((d) => {
    const out = passthrough(d);
    const external = attr(d, 'snapshot') === 'external';
    if (external && attr(d, 'type') === undefined && child(d, 'source')) out.attrs = [...(out.attrs ?? []), ['type', 'file']];
    return out;
  });
  const snap: Snapshot = {
    name: childText(el, 'name')?.trim() ?? String(Math.floor(Date.now() / 1000)),
    description: childText(el, 'description'),
    state: redefine ? (childText(el, 'state')?.trim() ?? 'nostate') : 'nostate',
    parent: redefine ? childText(child(el, 'parent'), 'name')?.trim() : undefined,
    creationTime: redefine && ct !== undefined ? BigInt(ct.trim()) : BigInt(Math.floor(Date.now() / 1000)),
    memory: mem ? mem.attrs : [],
    disks,
    domain,
    children: [],
  };
  // A redefined snapshot without <memory> gets the location its state implies.
  if (redefine && !mem) snap.memory = [['snapshot', snap.state === 'shutoff' || snap.state === 'disk-snapshot' ? 'no' : 'internal']];
  return { snap, current: childText(el, 'active')?.trim() === '1' };
}

export const parseSnapshotXml = (text: string, redefine: boolean): { snap: Snapshot; current: boolean } =>
  parseSnapshot(parseXml(text, 'domainsnapshot', 'domain_snapshot', DOMAIN_SNAPSHOT_ERR), redefine);

export function formatSnapshot(s: Snapshot, secure: boolean): string {
  const t = (name: string, v: string | undefined): Out | undefined => (v === undefined ? undefined : { name, text: v });
  const head: Out = {
    name: 'domainsnapshot',
    kids: [
      t('name', s.name),
      t('description', s.description),
      t('state', s.state),
      s.parent !== undefined && { name: 'parent', kids: [{ name: 'name', text: s.parent }] },
      { name: 'creationTime', text: String(s.creationTime) },
      s.memory.length > 0 && { name: 'memory', attrs: s.memory },
      s.disks.length > 0 && { name: 'disks', kids: s.disks },
    ],
  };
  const lines = render(head);
  const close = lines.pop() ?? '</domainsnapshot>';
  if (s.domain) {
    const dom = formatDomain(s.domain, { inactive: true, secure }).replace(/\n$/, '').split('\n');
    for (const l of dom) lines.push(`  ${l}`);
  }
  lines.push(close);
  return lines.join('\n') + '\n';
}
