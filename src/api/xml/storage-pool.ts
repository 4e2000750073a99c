// <pool>: typed model, parse and format (libvirt 9.0 order).
import type { XmlEl, Out } from './tree.js';
import { attr, child, childText, elementsOf, parseXml, renderDoc, textOf } from './tree.js';
import { ErrDomain, invalidAttr, missingAttr, xmlError, internalError } from './errors.js';
import { parseUuid, newUuid } from './uuid.js';
import { scaledToBytes } from './units.js';
import type { Permissions } from './perms.js';
import { permissionsOf, formatPermissions } from './perms.js';

const D = ErrDomain.storage;
export const POOL_TYPES = ['dir', 'fs', 'netfs', 'logical', 'disk', 'iscsi', 'iscsi-direct', 'scsi', 'mpath', 'rbd', 'sheepdog', 'gluster', 'zfs', 'vstorage'];
/** Pool types whose definition needs a <target><path>. */
const NEEDS_TARGET = ['dir', 'fs', 'netfs', 'logical', 'disk', 'iscsi', 'scsi', 'mpath', 'vstorage'];

export interface PoolSource {
  hosts: { name: string; port?: string }[];
  devices: { path: string; freeExtents: { start: string; end: string }[] }[];
  dirPath?: string;
  adapter?: [string, string][];
  name?: string;
  format?: string;
  initiatorIqn?: string;
  auth?: { type?: string; username?: string; secret?: [string, string][] };
  vendor?: string;
  product?: string;
}
export interface PoolDef {
  type: string;
  name: string;
  uuid: string;
  capacity: bigint;
  allocation: bigint;
  available: bigint;
  source: PoolSource;
  targetPath?: string;
  permissions?: Permissions;
}

export const parsePoolXml = (text: string): PoolDef => parsePool(parseXml(text, 'pool', 'storage_pool_definition', D));

const bytes = (el: XmlEl | undefined): bigint =>
  el ? scaledToBytes(BigInt((textOf(el) ?? '').trim() || '0'), attr(el, 'unit'), 1) : 0n;

/** libvirt's virFileSanitizePath: collapse repeated slashes, drop a trailing one. */
export function sanitizePath(p: string | undefined): string | undefined {
  if (p === undefined) return p;
  const s = p.replace(/\/{2,}/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

export function parsePool(el: XmlEl): PoolDef {
  const type = attr(el, 'type');
  if (type === undefined) throw missingAttr('type', 'pool');
  if (!POOL_TYPES.includes(type)) throw invalidAttr('type', 'pool', type);
  const name = childText(el, 'name');
  if (name === undefined || name === '') throw xmlError(D, 'missing pool source name element');
  const uuidText = childText(el, 'uuid');
  let uuid = newUuid();
  if (uuidText !== undefined) {
    const u = parseUuid(uuidText);
    if (!u) throw internalError(D, 'malformed uuid element');
    uuid = u;
  }
  const target = child(el, 'target');
  const src = child(el, 'source');
  let targetPath = sanitizePath(childText(target, 'path')?.trim());
  // zfs pools live under /dev/zvol/<source name>.
  if (type === 'zfs' && targetPath === undefined) targetPath = `/dev/zvol/${childText(src, 'name') ?? name}`;
  if (targetPath === undefined && NEEDS_TARGET.includes(type)) throw xmlError(D, 'missing storage pool target path');
  const adapter = child(src, 'adapter');
  const auth = child(src, 'auth');
  const secret = child(auth, 'secret');
  return {
    type,
    name,
    uuid,
    capacity: bytes(child(el, 'capacity')),
    allocation: bytes(child(el, 'allocation')),
    available: bytes(child(el, 'available')),
    source: {
      hosts: elementsOf(src ?? { name: '', attrs: [], children: [] }, 'host').map((h) => ({ name: attr(h, 'name') ?? '', port: attr(h, 'port') })),
      devices: src
        ? elementsOf(src, 'device').map((d) => ({
            path: attr(d, 'path') ?? '',
            freeExtents: elementsOf(d, 'freeExtent').map((f) => ({ start: attr(f, 'start') ?? '', end: attr(f, 'end') ?? '' })),
          }))
        : [],
      dirPath: attr(child(src, 'dir'), 'path'),
      adapter: adapter?.attrs,
      // logical pools default their VG name to the pool name and their format to lvm2.
      name: childText(src, 'name') ?? (type === 'logical' ? name : undefined),
      format: attr(child(src, 'format'), 'type') ?? (type === 'logical' ? 'lvm2' : undefined),
      initiatorIqn: attr(child(child(src, 'initiator'), 'iqn'), 'name'),
      auth: auth && { type: attr(auth, 'type'), username: attr(auth, 'username'), secret: secret?.attrs },
      vendor: attr(child(src, 'vendor'), 'name'),
      product: attr(child(src, 'product'), 'name'),
    },
    targetPath,
    permissions: permissionsOf(target),
  };
}

/** Types whose pools have a local target directory that libvirt prints. */
const HAS_TARGET = [...NEEDS_TARGET, 'zfs'];

export function formatPool(p: PoolDef): string {
  const s = p.source;
  const root: Out = {
    name: 'pool',
    attrs: [['type', p.type]],
    kids: [
      { name: 'name', text: p.name },
      { name: 'uuid', text: p.uuid },
      { name: 'capacity', attrs: [['unit', 'bytes']], text: String(p.capacity) },
      { name: 'allocation', attrs: [['unit', 'bytes']], text: String(p.allocation) },
      { name: 'available', attrs: [['unit', 'bytes']], text: String(p.available) },
      {
        name: 'source',
        open: true,
        kids: [
          ...s.hosts.map((h): Out => ({ name: 'host', attrs: [['name', h.name], ['port', h.port]] })),
          ...s.devices.map((d): Out => ({
            name: 'device',
            // freeExtent is runtime state libvirt recomputes, not echoed from the config.
            attrs: [['path', d.path]],
          })),
          s.dirPath !== undefined && { name: 'dir', attrs: [['path', s.dirPath]] },
          s.adapter && { name: 'adapter', attrs: s.adapter },
          s.name !== undefined && { name: 'name', text: s.name },
          s.initiatorIqn !== undefined && { name: 'initiator', kids: [{ name: 'iqn', attrs: [['name', s.initiatorIqn]] }] },
          s.auth && {
            name: 'auth',
            attrs: [['type', s.auth.type], ['username', s.auth.username]],
            open: true,
            kids: [s.auth.secret && { name: 'secret', attrs: s.auth.secret }],
          },
          s.vendor !== undefined && { name: 'vendor', attrs: [['name', s.vendor]] },
          s.product !== undefined && { name: 'product', attrs: [['name', s.product]] },
          s.format !== undefined && { name: 'format', attrs: [['type', s.format]] },
        ],
      },
      HAS_TARGET.includes(p.type) && {
        name: 'target',
        kids: [p.targetPath !== undefined && { name: 'path', text: p.targetPath }, formatPermissions(p.permissions)],
      },
    ],
  };
  return renderDoc(root);
}
