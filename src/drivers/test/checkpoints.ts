// Domain checkpoints as libvirt 9.0's test driver keeps them: metadata only (name, description,
// parent, creation time, per-disk bitmaps, a copy of the live definition) in a tree with a
// "current" checkpoint that new ones hang under. Only running domains without snapshots get
// checkpoints (and snapshots are refused while checkpoints exist: see snapshot-methods.ts).
import type { DriverMethods } from '../../api/driver.js';
import type { Out, XmlEl } from '../../api/xml/tree.js';
import { attr, child, childText, elementsOf, parseXml, render } from '../../api/xml/tree.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomain } from '../../api/xml/domain/parse.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import type { RemoteNonnullDomain, RemoteNonnullDomainCheckpoint } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { DomainStore } from './domains.js';
import type { DomainObj } from './domain-obj.js';
import { copyDef } from './domain-obj.js';
import { applyTestDomainDefaults } from './xml/domain-defaults.js';
import { checkFlags, notRunning, operationFailed, operationUnsupported, xmlParse } from './errors.js';

const CHK = VirErrorDomain.DOMAIN_CHECKPOINT;
const LIST = { DESCENDANTS: 1, ROOTS: 1, TOPOLOGICAL: 2, LEAVES: 4, NO_LEAVES: 8 } as const;
const CREATE_REDEFINE = 1;
const CREATE_QUIESCE = 2;
const XML = { SECURE: 1, NO_DOMAIN: 2, SIZE: 4 } as const;
const DELETE = { CHILDREN: 1, METADATA_ONLY: 2, CHILDREN_ONLY: 4 } as const;

interface CheckpointDisk {
  name: string;
  type: 'default' | 'no' | 'bitmap';
  bitmap?: string;
}
export interface Checkpoint {
  name: string;
  description?: string;
  parent?: string;
  creationTime: bigint;
  disks: CheckpointDisk[];
  domain?: DomainDef;
  /** Newest first, as libvirt links moment children. */
  children: Checkpoint[];
}

class CheckpointList {
  readonly byName = new Map<string, Checkpoint>();
  current: Checkpoint | undefined;

  find(name: string): Checkpoint {
    const c = this.byName.get(name);
    if (!c) throw noCheckpoint(`no domain checkpoint with matching name '${name}'`);
    return c;
  }

  parentOf(c: Checkpoint): Checkpoint | undefined {
    return c.parent === undefined ? undefined : this.byName.get(c.parent);
  }

  link(c: Checkpoint): void {
    const p = this.parentOf(c);
    if (p && !p.children.includes(c)) p.children.unshift(c);
  }

  descendants(c: Checkpoint): Checkpoint[] {
    return c.children.flatMap((x) => [x, ...this.descendants(x)]);
  }

  list(from: Checkpoint | undefined, flags: number): Checkpoint[] {
    const roots = [...this.byName.values()].filter((c) => !this.parentOf(c));
    let set: Checkpoint[];
    if (flags & LIST.TOPOLOGICAL) {
      const walk = (c: Checkpoint): Checkpoint[] => [c, ...c.children.flatMap(walk)];
      if (from) set = flags & LIST.DESCENDANTS ? from.children.flatMap(walk) : [...from.children];
      else set = flags & LIST.ROOTS ? roots : roots.flatMap(walk);
    } else if (from) set = flags & LIST.DESCENDANTS ? this.descendants(from) : [...from.children];
    else set = flags & LIST.ROOTS ? roots : [...this.byName.values()];
    const leaves = flags & (LIST.LEAVES | LIST.NO_LEAVES);
    if (leaves === LIST.LEAVES) set = set.filter((c) => c.children.length === 0);
    if (leaves === LIST.NO_LEAVES) set = set.filter((c) => c.children.length > 0);
    return set;
  }
}

const noCheckpoint = (msg: string): VirError =>
  VirError.format(VirErrorNumber.NO_DOMAIN_CHECKPOINT, VirErrorDomain.TEST, 'Domain checkpoint not found: %s', msg);
const unsupportedConfig = (msg: string): VirError =>
  VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, CHK, 'unsupported configuration: %s', msg);

const lists = new WeakMap<DomainObj, CheckpointList>();
const listOf = (d: DomainObj): CheckpointList => {
  let l = lists.get(d);
  if (!l) lists.set(d, (l = new CheckpointList()));
  return l;
};

/** virDomainListCheckpoints(..) > 0, for the snapshot code's refusal. */
export const hasCheckpoints = (d: DomainObj): boolean => (lists.get(d)?.byName.size ?? 0) > 0;

function parseCheckpoint(el: XmlEl, redefine: boolean): Checkpoint {
  const name = childText(el, 'name')?.trim();
  if (name?.includes('/')) {
    throw VirError.format(
      VirErrorNumber.XML_INVALID_SCHEMA, VirErrorDomain.XML, 'XML document failed to validate against schema: %s',
      'Unable to validate doc against /usr/share/libvirt/schemas/domaincheckpoint.rng\nExtra element name in interleave\nElement domaincheckpoint failed to validate content\n',
    );
  }
  const now = BigInt(Math.floor(Date.now() / 1000));
  const ct = childText(el, 'creationTime')?.trim();
  const domEl = child(el, 'domain');
  let domain: DomainDef | undefined;
  if (redefine && domEl) {
    domain = parseDomain(domEl);
    applyTestDomainDefaults(domain);
  }
  const disks = elementsOf(child(el, 'disks') ?? { name: 'disks', attrs: [], children: [] }, 'disk').map((d): CheckpointDisk => {
    const t = attr(d, 'checkpoint') ?? 'default';
    if (t !== 'default' && t !== 'no' && t !== 'bitmap') throw unsupportedConfig(`unknown checkpoint type '${t}'`);
    return { name: attr(d, 'name') ?? '', type: t, bitmap: attr(d, 'bitmap') };
  });
  const creationTime = redefine && ct !== undefined && /^\d+$/.test(ct) ? BigInt(ct) : now;
  return {
    name: name ?? String(creationTime),
    description: childText(el, 'description'),
    parent: redefine ? childText(child(el, 'parent'), 'name')?.trim() : undefined,
    creationTime, disks, domain, children: [],
  };
}

/** virDomainCheckpointAlignDisks: one entry per domain disk, in domain order, bitmaps named after the checkpoint. */
function alignDisks(c: Checkpoint, dom: DomainDef): void {
  const domDisks = dom.devices.disks;
  if (c.disks.length > domDisks.length) throw unsupportedConfig('too many disk checkpoint requests for domain');
  const given = new Map<string, CheckpointDisk>();
  for (const d of c.disks) {
    const target = domDisks.find((x) => x.targetDev === d.name || attr(x.source, 'file') === d.name);
    if (!target) throw unsupportedConfig(`no disk named '${d.name}'`);
    if (given.has(target.targetDev)) throw unsupportedConfig(`disk '${d.name}' specified twice`);
    given.set(target.targetDev, { ...d, name: target.targetDev });
  }
  c.disks = domDisks.map((x) => {
    const d = given.get(x.targetDev) ?? { name: x.targetDev, type: 'default' as const };
    if (d.type === 'default') d.type = x.readonly || !x.source ? 'no' : 'bitmap';
    if (d.type === 'bitmap' && d.bitmap === undefined) d.bitmap = c.name;
    if (d.type === 'no') d.bitmap = undefined;
    return d;
  });
}

function formatCheckpoint(c: Checkpoint, flags: number): string {
  const head: Out = {
    name: 'domaincheckpoint',
    kids: [
      { name: 'name', text: c.name },
      c.description !== undefined && { name: 'description', text: c.description },
      c.parent !== undefined && { name: 'parent', kids: [{ name: 'name', text: c.parent }] },
      { name: 'creationTime', text: String(c.creationTime) },
      c.disks.length > 0 && {
        name: 'disks',
        kids: c.disks.map((d) => ({ name: 'disk', attrs: [['name', d.name], ['checkpoint', d.type], ['bitmap', d.bitmap]] })),
      },
    ],
  };
  const lines = render(head);
  const close = lines.pop() ?? '</domaincheckpoint>';
  if (c.domain && !(flags & XML.NO_DOMAIN)) {
    for (const l of formatDomain(c.domain, { inactive: true, secure: (flags & XML.SECURE) !== 0 }).replace(/\n$/, '').split('\n')) lines.push(`  ${l}`);
  }
  lines.push(close);
  return lines.join('\n') + '\n';
}

export function checkpointMethods(store: DomainStore): DriverMethods {
  const ref = (dom: RemoteNonnullDomain, c: Checkpoint): RemoteNonnullDomainCheckpoint => ({ name: c.name, dom });
  const lookup = (h: RemoteNonnullDomainCheckpoint): { d: DomainObj; list: CheckpointList; c: Checkpoint } => {
    const d = store.resolve(h.dom);
    const list = listOf(d);
    return { d, list, c: list.find(h.name) };
  };
  return {
    DOMAIN_CHECKPOINT_CREATE_XML: ({ dom, xmlDesc, flags }) => {
      checkFlags('testDomainCheckpointCreateXML', flags, CREATE_REDEFINE | CREATE_QUIESCE);
      const redefine = (flags & CREATE_REDEFINE) !== 0;
      const d = store.resolve(dom);
      if ((d.snapshots?.size ?? 0) > 0) throw operationUnsupported('cannot create checkpoint while snapshot exists');
      if (!d.active) throw operationUnsupported('cannot create checkpoint for inactive domain');
      const c = xmlParse(() => parseCheckpoint(parseXml(xmlDesc, 'domaincheckpoint', 'domain_checkpoint', CHK), redefine));
      const list = listOf(d);
      if (redefine) {
        const old = list.byName.get(c.name);
        if (old) c.children = old.children;
      } else {
        c.domain = copyDef(d.def);
        alignDisks(c, c.domain);
        if (list.byName.has(c.name)) throw operationFailed(`domain moment ${c.name} already exists`);
        c.parent = list.current?.name;
      }
      list.byName.set(c.name, c);
      if (!redefine) list.current = c;
      list.link(c);
      return { checkpoint: ref(dom, c) };
    },
    DOMAIN_LIST_ALL_CHECKPOINTS: ({ dom, needResults, flags }) => {
      checkFlags('testDomainListAllCheckpoints', flags, 0xf);
      const set = listOf(store.resolve(dom)).list(undefined, flags);
      return { checkpoints: needResults ? set.map((c) => ref(dom, c)) : [], ret: set.length };
    },
    DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN: ({ checkpoint, needResults, flags }) => {
      checkFlags('testDomainCheckpointListAllChildren', flags, 0xf);
      const { list, c } = lookup(checkpoint);
      const set = list.list(c, flags);
      return { checkpoints: needResults ? set.map((x) => ref(checkpoint.dom, x)) : [], ret: set.length };
    },
    DOMAIN_CHECKPOINT_LOOKUP_BY_NAME: ({ dom, name, flags }) => {
      checkFlags('testDomainCheckpointLookupByName', flags, 0);
      return { checkpoint: ref(dom, listOf(store.resolve(dom)).find(name)) };
    },
    DOMAIN_CHECKPOINT_GET_PARENT: ({ checkpoint, flags }) => {
      checkFlags('testDomainCheckpointGetParent', flags, 0);
      const { c } = lookup(checkpoint);
      if (c.parent === undefined) throw noCheckpoint(`checkpoint '${c.name}' does not have a parent`);
      return { parent: { name: c.parent, dom: checkpoint.dom } };
    },
    DOMAIN_CHECKPOINT_GET_XML_DESC: ({ checkpoint, flags }) => {
      checkFlags('testDomainCheckpointGetXMLDesc', flags, XML.SECURE | XML.NO_DOMAIN | XML.SIZE);
      const { d, c } = lookup(checkpoint);
      if (flags & XML.SIZE && !d.active) throw notRunning();
      return { xml: formatCheckpoint(c, flags) };
    },
    DOMAIN_CHECKPOINT_DELETE: ({ checkpoint, flags }) => {
      checkFlags('testDomainCheckpointDelete', flags, DELETE.CHILDREN | DELETE.METADATA_ONLY | DELETE.CHILDREN_ONLY);
      const { list, c } = lookup(checkpoint);
      const parent = list.parentOf(c);
      if (flags & (DELETE.CHILDREN | DELETE.CHILDREN_ONLY)) {
        let wasCurrent = false;
        for (const x of list.descendants(c)) {
          wasCurrent ||= list.current === x;
          list.byName.delete(x.name);
        }
        if (wasCurrent) list.current = c;
        c.children = [];
      } else if (c.children.length) {
        for (const x of c.children) {
          x.parent = parent?.name;
          if (parent) parent.children.unshift(x);
        }
        c.children = [];
      }
      if (!(flags & DELETE.CHILDREN_ONLY)) {
        if (parent) parent.children = parent.children.filter((x) => x !== c);
        if (list.current === c) list.current = c.parent === undefined ? undefined : list.byName.get(c.parent);
        list.byName.delete(c.name);
      }
    },
  };
}
