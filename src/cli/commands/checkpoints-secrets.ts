// Snapshot and checkpoint parents, checkpoints, secrets, storage pool capabilities,
// vol-create-from, and the network, pool, node device and secret event commands (virsh 9.0).
import type { DomainCheckpoint } from '../../api/checkpoint.js';
import type { Domain } from '../../api/domain.js';
import { uuidToString } from '../../api/core.js';
import type { Network } from '../../api/network.js';
import type { Secret } from '../../api/secret.js';
import type { StoragePool } from '../../api/storage.js';
import { VirErrorNumber } from '../../rpc/errors.js';
import { asVirError, attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { pumpEvents, stamp, type EventSource } from '../event-loop.js';
import { kv } from '../format.js';
import { domainOpt, looksLikeUuid, networkByText, poolByText, volOpt } from '../lookup.js';
import { readXmlFile } from './domain.js';
import type { CommandTable } from './types.js';

async function snapshotParent(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const name = o.string('snapshotname');
  if (!o.bool('current') && name === undefined) throw new CliError('--snapshotname or --current is required');
  const s = name !== undefined ? await attempt(d.snapshotLookupByName(name), '') : await attempt(d.currentSnapshot(), '');
  try {
    ctl.print((await s.parent()).name);
  } catch (e) {
    const err = asVirError(e);
    if (err?.code === VirErrorNumber.NO_DOMAIN_SNAPSHOT) throw new CliError(`snapshot '${s.name}' has no parent`);
    throw new CliError('', err);
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** "vda,checkpoint=bitmap,bitmap=b1" as a <disk/> line. */
function diskspec(spec: string): string {
  const [name, ...rest] = spec.split(',');
  let line = `    <disk name='${escapeXml(name ?? '')}'`;
  for (const part of rest) {
    const m = /^(checkpoint|bitmap)=(.*)$/.exec(part);
    if (!m) throw new CliError(`unable to parse diskspec: ${spec}`);
    line += ` ${m[1]}='${escapeXml(m[2]!)}'`;
  }
  return `${line}/>\n`;
}

async function checkpointCreateAs(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const name = o.string('name');
  const desc = o.string('description');
  let xml = '<domaincheckpoint>\n';
  if (name !== undefined) xml += `  <name>${escapeXml(name)}</name>\n`;
  if (desc !== undefined) xml += `  <description>${escapeXml(desc)}</description>\n`;
  const specs = o.argv('diskspec');
  if (specs.length > 0) xml += `  <disks>\n${specs.map(diskspec).join('')}  </disks>\n`;
  xml += '</domaincheckpoint>\n';
  if (o.bool('print-xml')) {
    ctl.print(`${xml}\n`);
    return;
  }
  const c = await attempt(d.createCheckpoint(xml, o.bool('quiesce') ? 2 : 0), '');
  ctl.printExtra(`Domain checkpoint ${c.name} created`);
}

async function checkpointOpt(d: Domain, o: Opts): Promise<DomainCheckpoint> {
  const name = o.string('checkpointname');
  if (name === undefined) throw new CliError('--checkpointname is required');
  return attempt(d.checkpointLookupByName(name), '');
}

function parentName(xml: string): string | null {
  const head = xml.split(/<domain[\s>]/)[0]!;
  const m = /<parent>\s*<name>([\s\S]*?)<\/name>\s*<\/parent>/.exec(head);
  return m ? m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&') : null;
}

function creationTime(xml: string): string {
  const secs = Number(/<creationTime>(\d+)<\/creationTime>/.exec(xml.split(/<domain[\s>]/)[0]!)?.[1] ?? '0');
  const t = new Date(secs * 1000);
  const off = -t.getTimezoneOffset();
  const p = (n: number) => String(n).padStart(2, '0');
  const zone = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())} ${zone}`;
}

interface Row {
  name: string;
  parent: string | null;
  xml: string;
}

/** virsh's tree layout (vshTreePrint): roots, then children indented under "+- ". */
function treeText(rows: readonly Row[]): string {
  let out = '';
  const walk = (i: number, isLast: boolean, root: boolean, indent: string): void => {
    const r = rows[i]!;
    out += `${indent}${root ? '' : '+- '}${r.name}\n`;
    const own = root ? indent : indent + (isLast ? ' ' : '|') + ' ';
    const kids = rows.map((c, j) => [c, j] as const).filter(([c]) => c.parent === r.name).map(([, j]) => j);
    if (kids.length > 0) out += `${own}  |\n`;
    kids.forEach((j, k) => walk(j, k === kids.length - 1, false, own + '  '));
    if (kids.length === 0 && isLast) out += `${own}\n`;
  };
  rows.forEach((r, i) => {
    if (r.parent === null) walk(i, true, true, '');
  });
  return out;
}

function cmpName(a: Row, b: Row): number {
  const x = a.name.toLowerCase(), y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

async function checkpointList(ctl: Ctl, o: Opts): Promise<void> {
  for (const [a, b] of [['parent', 'roots'], ['parent', 'tree'], ['roots', 'tree'], ['tree', 'name'], ['roots', 'from'], ['leaves', 'tree']] as const) {
    if (o.has(a) && o.has(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
  }
  const d = await domainOpt(ctl, o);
  let flags = 0;
  if (o.bool('roots') || o.bool('descendants')) flags |= 1;
  if (o.bool('topological')) flags |= 2;
  if (o.bool('leaves')) flags |= 4;
  if (o.bool('no-leaves')) flags |= 8;
  const fromName = o.string('from');
  let list: DomainCheckpoint[];
  let from: DomainCheckpoint | null = null;
  if (fromName !== undefined) {
    from = await attempt(d.checkpointLookupByName(fromName), '');
    list = await attempt(from.listAllChildren(flags), '');
  } else list = await attempt(d.listAllCheckpoints(flags), '');
  const rows: Row[] = [];
  for (const c of list) {
    const xml = await attempt(c.xmlDesc(2), '');
    rows.push({ name: c.name, parent: parentName(xml), xml });
  }
  if (!o.bool('topological')) rows.sort(cmpName);
  if (o.bool('tree')) {
    if (from) rows.unshift({ name: from.name, parent: null, xml: '' });
    ctl.print(treeText(rows));
    return;
  }
  if (o.bool('name')) {
    ctl.print(rows.map((r) => `${r.name}\n`).join(''));
    return;
  }
  const withParent = o.bool('parent');
  const header = withParent ? ['Name', 'Creation Time', 'Parent'] : ['Name', 'Creation Time'];
  ctl.table(header, rows.map((r) => (withParent ? [r.name, creationTime(r.xml), r.parent ?? ''] : [r.name, creationTime(r.xml)])));
}

async function checkpointInfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const c = await checkpointOpt(d, o);
  const xml = await attempt(c.xmlDesc(2), '');
  const children = await attempt(c.listAllChildren(0), '');
  const descendants = await attempt(c.listAllChildren(1), '');
  ctl.print(kv('Name:', c.name) + kv('Domain:', d.name) + kv('Parent:', parentName(xml) ?? '-') + kv('Children:', children.length) + kv('Descendants:', descendants.length));
}

async function checkpointDumpxml(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  if (o.has('xpath')) throw new CliError("command 'checkpoint-dumpxml' option --xpath is not supported by tsvirsh yet");
  const c = await checkpointOpt(d, o);
  const flags = (o.bool('security-info') ? 1 : 0) | (o.bool('no-domain') ? 2 : 0) | (o.bool('size') ? 4 : 0);
  ctl.print(await attempt(c.xmlDesc(flags), ''));
}

async function checkpointDelete(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const c = await checkpointOpt(d, o);
  const flags = (o.bool('children') ? 1 : 0) | (o.bool('metadata') ? 2 : 0) | (o.bool('children-only') ? 4 : 0);
  await attempt(c.delete(flags), `Failed to delete checkpoint ${c.name}`);
  ctl.printExtra(o.bool('children-only') ? `Domain checkpoint ${c.name} children deleted\n` : `Domain checkpoint ${c.name} deleted\n`);
}

async function checkpointParent(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const c = await checkpointOpt(d, o);
  try {
    ctl.print((await c.parent()).name);
  } catch (e) {
    const err = asVirError(e);
    if (err?.code === VirErrorNumber.NO_DOMAIN_CHECKPOINT) throw new CliError(`checkpoint '${c.name}' has no parent`);
    throw new CliError('', err);
  }
}

async function secretOpt(ctl: Ctl, o: Opts): Promise<Secret> {
  const n = o.string('secret')!;
  // libvirt's client refuses a malformed UUID before asking the driver.
  if (!looksLikeUuid(n)) throw new CliError(`failed to get secret '${n}'`, null, 'uuidstr in virSecretLookupByUUIDString must be a valid UUID');
  return attempt(ctl.connection.secretLookupByUUID(n.trim()), `failed to get secret '${n}'`);
}

const USAGE_TYPES = ['none', 'volume', 'ceph', 'iscsi', 'tls', 'vtpm'];

async function secretList(ctl: Ctl, o: Opts): Promise<void> {
  const flags = (o.bool('ephemeral') ? 1 : 0) | (o.bool('no-ephemeral') ? 2 : 0) | (o.bool('private') ? 4 : 0) | (o.bool('no-private') ? 8 : 0);
  const c = ctl.connection;
  let secrets: Secret[];
  try {
    secrets = await c.listAllSecrets(flags);
  } catch (e) {
    const err = asVirError(e);
    if (err?.code !== VirErrorNumber.NO_SUPPORT) throw new CliError('Failed to list secrets', err);
    // The older calls, which cannot filter.
    if (flags !== 0) throw new CliError('Filtering is not supported by this libvirt');
    await attempt(c.numOfSecrets(), 'Failed to count secrets');
    const uuids = await attempt(c.listSecretUUIDs(), 'Failed to list secrets');
    secrets = [];
    for (const u of uuids) secrets.push(await attempt(c.secretLookupByUUID(u), ''));
  }
  secrets.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  ctl.table(['UUID', 'Usage'], secrets.map((s) => [s.uuid, s.usageType === 0 ? 'Unused' : `${USAGE_TYPES[s.usageType] ?? ''} ${s.usageID}`]));
}

async function secretDefine(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  const s = await attempt(ctl.connection.defineSecret(xml, o.bool('validate') ? 1 : 0), `Failed to set attributes from ${file}`);
  ctl.print(`Secret ${s.uuid} created\n`);
}

async function secretDumpxml(ctl: Ctl, o: Opts): Promise<void> {
  const s = await secretOpt(ctl, o);
  if (o.has('xpath')) throw new CliError("command 'secret-dumpxml' option --xpath is not supported by tsvirsh yet");
  ctl.print(await attempt(s.xmlDesc(), ''));
}

async function secretUndefine(ctl: Ctl, o: Opts): Promise<void> {
  const s = await secretOpt(ctl, o);
  await attempt(s.undefine(), `Failed to delete secret ${o.string('secret')!}`);
  ctl.print(`Secret ${o.string('secret')!} deleted\n`);
}

async function secretSetValue(ctl: Ctl, o: Opts): Promise<void> {
  for (const [a, b] of [['file', 'base64'], ['file', 'interactive'], ['base64', 'interactive'], ['plain', 'base64']] as const) {
    if (o.has(a) && o.has(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
  }
  const s = await secretOpt(ctl, o);
  const b64 = o.string('base64');
  const file = o.string('file');
  let value: Uint8Array;
  if (b64 !== undefined) value = Buffer.from(b64, 'base64');
  else if (file !== undefined) {
    const text = readXmlFile(file);
    value = o.bool('plain') ? Buffer.from(text) : Buffer.from(text, 'base64');
  } else if (o.bool('interactive')) throw new CliError("command 'secret-set-value' option --interactive is not supported by tsvirsh yet");
  else throw new CliError('Input secret value is missing');
  await attempt(s.setValue(value), 'Failed to set secret value');
  ctl.print('Secret value set\n');
}

async function secretGetValue(ctl: Ctl, o: Opts): Promise<void> {
  const s = await secretOpt(ctl, o);
  const value = await attempt(s.value(), '');
  ctl.print(o.bool('plain') ? Buffer.from(value).toString('latin1') : `${Buffer.from(value).toString('base64')}\n`);
}

async function poolCapabilities(ctl: Ctl): Promise<void> {
  ctl.print(`${await attempt(ctl.connection.storagePoolCapabilities(), 'failed to get storage pool capabilities')}\n`);
}

async function volCreateFrom(ctl: Ctl, o: Opts): Promise<void> {
  const pool = await poolByText(ctl, o.string('pool')!);
  const input = await volOpt(ctl, o, 'inputpool');
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  const flags = (o.bool('prealloc-metadata') ? 1 : 0) | (o.bool('reflink') ? 2 : 0) | (o.bool('validate') ? 4 : 0);
  const v = await attempt(pool.createVolumeFrom(xml, input, flags), `Failed to create vol from ${file}`);
  ctl.print(`Vol ${v.name} created from input vol ${input.name}\n`);
}


interface EventKind {
  /** Event names by id, as --list shows them. */
  names: readonly string[];
  /** Subscribes to one event id; `filter` is what --<object> named (already looked up). */
  open(ctl: Ctl, id: number, filter: unknown): Promise<EventSource<unknown>>;
  /** The line for one event, or null to skip it. */
  text(ev: unknown, filter: unknown): string | null;
  /** Looks up the --<object> option; on failure returns the error to report after the wait, or throws. */
  lookup(ctl: Ctl, o: Opts): Promise<{ filter: unknown; late: CliError | null }>;
}

/** Shared by the four object event commands, with `event`'s wait loop. */
function objectEvent(kind: EventKind) {
  return async (ctl: Ctl, o: Opts): Promise<void> => {
    if (o.bool('list')) {
      ctl.print(kind.names.map((n) => `${n}\n`).join(''));
      return;
    }
    const name = o.string('event');
    if (name === undefined) throw new CliError('either --list or --event <type> is required');
    const id = kind.names.indexOf(name);
    if (id < 0) throw new CliError(`unknown event type ${name}`);
    const raw = o.raw('timeout');
    const timeout = o.int('timeout');
    if (timeout !== undefined && timeout < 1) throw new CliError(`Numeric value '${raw}' for <timeout> option is malformed or out of range`);
    const { filter, late } = await kind.lookup(ctl, o);
    const stream = await attempt(kind.open(ctl, id, filter), '');
    const timestamps = o.bool('timestamp');
    const { count, timedOut, interrupted } = await pumpEvents(stream, { timeoutSec: timeout, loop: o.bool('loop') }, (ev) => {
      const line = kind.text(ev, filter);
      if (line === null) return false;
      ctl.print((timestamps ? stamp() : '') + line);
      return true;
    });
    if (timedOut && !interrupted) ctl.print('event loop timed out\n');
    ctl.printExtra(`events received: ${count}\n`);
    if (late) throw late;
    if (timedOut && !interrupted) throw new CliError('');
  };
}

/** virsh looks the object up first, says so when that fails, and then waits for every object's events. */
async function lateLookup<T>(ctl: Ctl, o: Opts, opt: string, find: (n: string) => Promise<T>): Promise<{ filter: unknown; late: CliError | null }> {
  const n = o.string(opt);
  if (n === undefined) return { filter: null, late: null };
  try {
    return { filter: await find(n), late: null };
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    if (e.message) ctl.error(e.message);
    return { filter: null, late: new CliError('', e.virCause, e.extra) };
  }
}

const NET_LIFECYCLE = ['Defined', 'Undefined', 'Started', 'Stopped'];
const POOL_LIFECYCLE = ['Defined', 'Undefined', 'Started', 'Stopped', 'Created', 'Deleted'];
const NODEDEV_LIFECYCLE = ['Created', 'Deleted', 'Defined', 'Undefined'];
const SECRET_LIFECYCLE = ['Defined', 'Undefined'];

/** The event's payload: the callback message without callbackID. */
function payload(ev: unknown): { dev?: { name: string }; secret?: { uuid: Uint8Array }; event?: number } {
  return (ev as { payload: { dev?: { name: string }; secret?: { uuid: Uint8Array }; event?: number } }).payload;
}

const NET_EVENTS: EventKind = {
  names: ['lifecycle'],
  lookup: (ctl, o) => lateLookup(ctl, o, 'network', (n) => networkByText(ctl, n)),
  open: (ctl, _id, filter) => ctl.connection.networkEvents({ network: (filter as Network | null) ?? undefined }),
  text: (ev) => {
    const e = ev as { network: { name: string }; event: number };
    return `event 'lifecycle' for network ${e.network.name}: ${NET_LIFECYCLE[e.event] ?? 'unknown'}\n`;
  },
};

const POOL_EVENTS: EventKind = {
  names: ['lifecycle', 'refresh'],
  lookup: (ctl, o) => lateLookup(ctl, o, 'pool', (n) => poolByText(ctl, n)),
  open: (ctl, id, filter) => ctl.connection.storagePoolEvents({ pool: (filter as StoragePool | null) ?? undefined, events: [id] }),
  text: (ev) => {
    const e = ev as { kind: string; pool: { name: string }; event?: number };
    if (e.kind === 'refresh') return `event 'refresh' for storage pool ${e.pool.name}\n`;
    return `event 'lifecycle' for storage pool ${e.pool.name}: ${POOL_LIFECYCLE[e.event ?? -1] ?? 'unknown'}\n`;
  },
};

const NODEDEV_EVENTS: EventKind = {
  names: ['lifecycle', 'update'],
  lookup: async (ctl, o) => {
    const n = o.string('device');
    if (n === undefined) return { filter: null, late: null };
    await attempt(ctl.connection.nodeDeviceLookupByName(n), `Could not find matching device '${n}'`);
    return { filter: n, late: null };
  },
  open: (ctl, id) => ctl.connection.nodeDeviceEvents({ events: [id] }),
  text: (ev, filter) => {
    const p = payload(ev);
    const dev = p.dev?.name ?? '';
    if (filter !== null && dev !== filter) return null;
    if ((ev as { eventID: number }).eventID === 1) return `event 'update' for node device ${dev}\n`;
    return `event 'lifecycle' for node device ${dev}: ${NODEDEV_LIFECYCLE[p.event ?? -1] ?? 'unknown'}\n`;
  },
};

const SECRET_EVENTS: EventKind = {
  names: ['lifecycle', 'value-changed'],
  lookup: (ctl, o) => lateLookup(ctl, o, 'secret', async (n) => {
    if (!looksLikeUuid(n)) throw new CliError(`failed to get secret '${n}'`, null, 'uuidstr in virSecretLookupByUUIDString must be a valid UUID');
    return attempt(ctl.connection.secretLookupByUUID(n.trim()), `failed to get secret '${n}'`);
  }),
  open: (ctl, id) => ctl.connection.secretEvents({ events: [id] }),
  text: (ev, filter) => {
    const p = payload(ev);
    const uuid = p.secret ? uuidToString(p.secret.uuid) : '';
    if (filter !== null && uuid !== (filter as Secret).uuid) return null;
    if ((ev as { eventID: number }).eventID === 1) return `event 'value-changed' for secret ${uuid}\n`;
    return `event 'lifecycle' for secret ${uuid}: ${SECRET_LIFECYCLE[p.event ?? -1] ?? 'unknown'}\n`;
  },
};

export const CHECKPOINT_SECRET_COMMANDS: CommandTable = {
  'snapshot-parent': snapshotParent,
  'checkpoint-create-as': checkpointCreateAs,
  'checkpoint-list': checkpointList,
  'checkpoint-info': checkpointInfo,
  'checkpoint-dumpxml': checkpointDumpxml,
  'checkpoint-delete': checkpointDelete,
  'checkpoint-parent': checkpointParent,
  'secret-list': secretList,
  'secret-define': secretDefine,
  'secret-dumpxml': secretDumpxml,
  'secret-undefine': secretUndefine,
  'secret-set-value': secretSetValue,
  'secret-get-value': secretGetValue,
  'pool-capabilities': poolCapabilities,
  'vol-create-from': volCreateFrom,
  'net-event': objectEvent(NET_EVENTS),
  'pool-event': objectEvent(POOL_EVENTS),
  'nodedev-event': objectEvent(NODEDEV_EVENTS),
  'secret-event': objectEvent(SECRET_EVENTS),
};
