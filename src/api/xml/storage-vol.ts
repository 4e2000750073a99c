// <volume>: typed model, parse and format (libvirt 9.0 order).
import type { XmlEl, Out } from './tree.js';
import { attr, child, childText, parseXml, renderDoc } from './tree.js';
import { ErrDomain, xmlError } from './errors.js';
import { scaledToBytes } from './units.js';
import type { Permissions } from './perms.js';
import { permissionsOf, formatPermissions } from './perms.js';

const D = ErrDomain.storage;

export interface VolDef {
  type: string;
  name: string;
  key?: string;
  capacity: bigint;
  allocation: bigint;
  path?: string;
  format?: string;
  permissions?: Permissions;
  backingStore?: { path?: string; format?: string; permissions?: Permissions };
}

export const parseVolXml = (text: string): VolDef => parseVol(parseXml(text, 'volume', 'storage_volume_definition', D));

const size = (el: XmlEl | undefined): bigint | undefined => {
  const t = el && el.children.map((c) => ('text' in c ? c.text : '')).join('').trim();
  return t === undefined ? undefined : scaledToBytes(BigInt(t || '0'), attr(el, 'unit'), 1);
};

export function parseVol(el: XmlEl): VolDef {
  const name = childText(el, 'name');
  if (name === undefined || name === '') throw xmlError(D, 'missing volume name element');
  const capacity = size(child(el, 'capacity'));
  if (capacity === undefined) throw xmlError(D, 'missing capacity element');
  const target = child(el, 'target');
  const backing = child(el, 'backingStore');
  return {
    type: attr(el, 'type') ?? 'file',
    name,
    key: childText(el, 'key')?.trim(),
    capacity,
    // A missing allocation means "fully allocated".
    allocation: size(child(el, 'allocation')) ?? capacity,
    path: childText(target, 'path')?.trim(),
    format: attr(child(target, 'format'), 'type'),
    permissions: permissionsOf(target),
    backingStore: backing && {
      path: childText(backing, 'path')?.trim(),
      format: attr(child(backing, 'format'), 'type'),
      permissions: permissionsOf(backing),
    },
  };
}

/** Pool types whose volumes carry a file or partition format libvirt prints. */
const POOLS_WITH_FORMAT = ['dir', 'fs', 'netfs', 'gluster', 'disk', 'vstorage', 'rbd'];
/** The format a volume without one gets, per pool type. */
const DEFAULT_FORMAT: Record<string, string> = { dir: 'raw', fs: 'raw', netfs: 'raw', gluster: 'raw', vstorage: 'raw', rbd: 'raw', disk: 'none' };

export function formatVol(v: VolDef, poolType: string): string {
  const fmt = (f: string | undefined) =>
    f !== undefined && f !== 'unknown' && POOLS_WITH_FORMAT.includes(poolType) && { name: 'format', attrs: [['type', f]] as [string, string][] };
  const root: Out = {
    name: 'volume',
    attrs: [['type', v.type]],
    kids: [
      { name: 'name', text: v.name },
      { name: 'key', text: v.key ?? '(null)' },
      { name: 'capacity', attrs: [['unit', 'bytes']], text: String(v.capacity) },
      { name: 'allocation', attrs: [['unit', 'bytes']], text: String(v.allocation) },
      { name: 'target', kids: [v.path !== undefined && { name: 'path', text: v.path }, fmt(v.format ?? DEFAULT_FORMAT[poolType]), formatPermissions(v.permissions)] },
      v.backingStore && {
        name: 'backingStore',
        kids: [
          v.backingStore.path !== undefined && { name: 'path', text: v.backingStore.path },
          fmt(v.backingStore.format ?? DEFAULT_FORMAT[poolType]),
          formatPermissions(v.backingStore.permissions),
        ],
      },
    ],
  };
  return renderDoc(root);
}
