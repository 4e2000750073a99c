// Volume transfer (vol-upload/vol-download, progress on a terminal's stderr only), volume and pool
// commands beyond the basics in objects.ts: resize, wipe, key/name/pool, clone, pool-*-as, build,
// delete, refresh, create, uuid, name — with virsh's texts.
import { closeSync, createReadStream, fstatSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { TransferProgress } from '../../api/stream.js';
import { asVirError, attempt, CliError, parseScaled, type Ctl, type Opts } from '../ctl.js';
import { looksLikeUuid, poolByText, volOpt } from '../lookup.js';
import { isEl, parseXml, type XmlEl } from '../../api/xml/tree.js';
import { dumpNode } from './devxml.js';
import { readXmlFile } from './domain.js';
import type { CommandTable } from './types.js';

/** --offset/--length: unsigned 64-bit, virsh's wording when malformed. */
function ull(o: Opts, name: string): bigint {
  const v = o.raw(name);
  if (v === undefined) return 0n;
  const m = /^\s*\+?(\d+)$/.exec(v);
  if (!m || BigInt(m[1]!) > 2n ** 64n - 1n) throw new CliError(`Numeric value '${v}' for <${name}> option is malformed or out of range`);
  return BigInt(m[1]!);
}

/** A one-line progress meter on stderr, only when stderr is a terminal (virsh itself prints none). */
function progressMeter(what: string): { update: (p: TransferProgress) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  const show = (p: TransferProgress) => {
    const mib = (p.bytes + p.holeBytes) / 1048576;
    process.stderr.write(`\r${what}: ${mib.toFixed(1)} MiB`);
    shown = true;
  };
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      show(p);
    },
    done: () => {
      if (shown) process.stderr.write('\n');
    },
  };
}

async function volUpload(ctl: Ctl, o: Opts): Promise<void> {
  const offset = ull(o, 'offset');
  const length = ull(o, 'length');
  const v = await volOpt(ctl, o);
  const file = o.string('file') ?? '';
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
  const meter = progressMeter(`Uploading ${v.name}`);
  try {
    const sparse = o.bool('sparse');
    const stream = await attempt(v.openUpload({ offset, length, sparse, onProgress: meter.update }), `cannot upload to volume ${v.name}`);
    const input = createReadStream('', { fd, autoClose: false, highWaterMark: 256 * 1024 });
    try {
      for await (const chunk of input) await stream.write(chunk as Buffer);
    } catch (e) {
      await stream.abort().catch(() => undefined);
      throw new CliError(`cannot send data to volume ${v.name}`, asVirError(e));
    }
    await attempt(stream.finish(), `cannot close volume ${v.name}`);
  } finally {
    meter.done();
    closeSync(fd);
  }
}

async function volDownload(ctl: Ctl, o: Opts): Promise<void> {
  const offset = ull(o, 'offset');
  const length = ull(o, 'length');
  const v = await volOpt(ctl, o);
  const file = o.string('file') ?? '';
  let fd: number;
  let created = false;
  try {
    try {
      fd = openSync(file, 'wx', 0o666);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      fd = openSync(file, 'w');
    }
  } catch {
    throw new CliError(`cannot create ${file}`);
  }
  const meter = progressMeter(`Downloading ${v.name}`);
  let ok = false;
  try {
    const sparse = o.bool('sparse');
    const stream = await attempt(v.download({ offset, length, sparse, onProgress: meter.update }), `cannot download from volume ${v.name}`);
    let pos = 0;
    try {
      for await (const c of stream) {
        if (c.kind === 'data') {
          let off = 0;
          while (off < c.data.length) off += writeSync(fd, c.data, off, c.data.length - off, pos + off);
          pos += c.data.length;
        } else pos += Number(c.length);
      }
    } catch (e) {
      throw new CliError(`cannot receive data from volume ${v.name}`, asVirError(e));
    }
    // A trailing hole still counts towards the file's size.
    if (fstatSync(fd).size < pos) ftruncateSync(fd, pos);
    ok = true;
  } finally {
    meter.done();
    closeSync(fd);
    // As virsh: a file it created for a download that failed is removed.
    if (!ok && created) unlinkSync(file);
  }
}

const WIPE_ALGORITHMS = ['zero', 'nnsa', 'dod', 'bsi', 'gutmann', 'schneier', 'pfitzner7', 'pfitzner33', 'random', 'trim'];

async function volWipe(ctl: Ctl, o: Opts): Promise<void> {
  const v = await volOpt(ctl, o);
  const alg = o.string('algorithm');
  let algorithm = 0;
  if (alg !== undefined) {
    algorithm = WIPE_ALGORITHMS.indexOf(alg);
    if (algorithm < 0) throw new CliError(`Unsupported algorithm '${alg}'`);
  }
  await attempt(v.wipe(algorithm === 0 ? undefined : algorithm), `Failed to wipe vol ${v.name}`);
  ctl.printExtra(`Vol ${v.name} wiped\n`);
}

async function volResize(ctl: Ctl, o: Opts): Promise<void> {
  let flags = 0;
  if (o.bool('allocate')) flags |= 1;
  if (o.bool('delta')) flags |= 2;
  if (o.bool('shrink')) flags |= 4;
  const v = await volOpt(ctl, o);
  let text = o.raw('capacity') ?? '';
  if (text.startsWith('-')) {
    if (!(flags & 4)) throw new CliError('negative size requires --shrink');
    flags |= 2;
    text = text.slice(1);
  }
  const cap = parseScaled(text, 1, 2n ** 64n - 1n);
  if (cap === null) {
    const suffix = /^\s*\+?\d+(.*)$/.exec(text)?.[1];
    throw new CliError(`Malformed size ${text}`, null, suffix ? `invalid argument: unknown suffix '${suffix}'` : null);
  }
  const delta = (flags & 2) !== 0;
  await attempt(v.resize(cap, flags), delta ? `Failed to change size of volume '${v.name}' by ${text}` : `Failed to change size of volume '${v.name}' to ${text}`);
  ctl.printExtra(delta ? `Size of volume '${v.name}' successfully changed by ${text}\n` : `Size of volume '${v.name}' successfully changed to ${text}\n`);
}

async function volClone(ctl: Ctl, o: Opts): Promise<void> {
  const orig = await volOpt(ctl, o);
  const pool = await attempt(orig.pool(), 'failed to get parent pool');
  const newName = o.string('newname') ?? '';
  let flags = 0;
  if (o.bool('prealloc-metadata')) flags |= 1;
  if (o.bool('reflink')) flags |= 2;
  // virsh re-serialises the volume's XML through libxml2 (double quotes, no trailing newline).
  const doc = parseXml(await orig.xmlDesc(0), 'volume', 'volume_definition', 0);
  const nameEl = doc.children.find((c): c is XmlEl => isEl(c) && c.name === 'name');
  if (nameEl) nameEl.children = [{ text: newName }];
  const xml = dumpNode(doc);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  await attempt(pool.createVolumeFrom(xml, orig, flags), `Failed to clone vol from ${orig.name}`);
  ctl.printExtra(`Vol ${newName} cloned from ${orig.name}\n`);
}

/**
 * The <pool> XML pool-create-as and pool-define-as build. virsh 9.0 pastes the values in
 * unescaped (its --print-xml shows it); so does this, to stay byte-identical.
 */
function poolXml(o: Opts): { name: string; xml: string } {
  const name = o.string('name') ?? '';
  const type = o.string('type') ?? '';
  const s = (n: string) => o.string(n);
  const [host, path, dev, srcName, target, format, authType, authUser, secretUsage, secretUuid, adName, wwnn, wwpn, parent, parentWwnn, parentWwpn, fabric, protoVer, initiator] = [
    'source-host', 'source-path', 'source-dev', 'source-name', 'target', 'source-format', 'auth-type', 'auth-username', 'secret-usage', 'secret-uuid',
    'adapter-name', 'adapter-wwnn', 'adapter-wwpn', 'adapter-parent', 'adapter-parent-wwnn', 'adapter-parent-wwpn', 'adapter-parent-fabric-wwn',
    'source-protocol-ver', 'source-initiator',
  ].map(s);
  if (secretUsage !== undefined && secretUuid !== undefined) throw new CliError('Options --secret-usage and --secret-uuid are mutually exclusive');
  let xml = `<pool type='${type}'>\n  <name>${name}</name>\n`;
  if (host || path || dev || initiator || format || srcName || (wwnn && wwpn) || adName) {
    let src = '';
    if (host) src += `<host name='${host}'/>\n`;
    if (path) src += `<dir path='${path}'/>\n`;
    if (dev) src += `<device path='${dev}'/>\n`;
    if (initiator) src += `<initiator>\n  <iqn name='${initiator}'/>\n</initiator>\n`;
    if (wwnn && wwpn) {
      src += "<adapter type='fc_host'";
      if (parent) src += ` parent='${parent}'`;
      else if (parentWwnn && parentWwpn) src += ` parent_wwnn='${parentWwnn}' parent_wwpn='${parentWwpn}'`;
      else if (fabric) src += ` parent_fabric_wwn='${fabric}'`;
      src += ` wwnn='${wwnn}' wwpn='${wwpn}'/>\n`;
    } else if (adName) src += `<adapter type='scsi_host' name='${adName}'/>\n`;
    if (authType && authUser && (secretUsage || secretUuid)) {
      src += `<auth type='${authType}' username='${authUser}'>\n`;
      src += secretUsage ? `  <secret usage='${secretUsage}'/>\n` : `  <secret uuid='${secretUuid}'/>\n`;
      src += '</auth>\n';
    }
    if (format) src += `<format type='${format}'/>\n`;
    if (srcName) src += `<name>${srcName}</name>\n`;
    if (protoVer) src += `<protocol ver='${protoVer}'/>\n`;
    xml += `  <source>\n${src.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n')}  </source>\n`;
  }
  if (target) xml += `  <target>\n    <path>${target}</path>\n  </target>\n`;
  return { name, xml: xml + '</pool>\n' };
}

/** --build/--overwrite/--no-overwrite as pool create flags (WITH_BUILD 1, OVERWRITE 2, NO_OVERWRITE 4). */
function buildFlags(o: Opts): number {
  let flags = 0;
  if (o.bool('build')) flags |= 1;
  if (o.bool('overwrite')) flags |= 2;
  if (o.bool('no-overwrite')) flags |= 4;
  return flags;
}

async function poolCreateAs(ctl: Ctl, o: Opts): Promise<void> {
  const flags = buildFlags(o);
  const { name, xml } = poolXml(o);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  await attempt(ctl.connection.createStoragePool(xml, flags), `Failed to create pool ${name}`);
  ctl.printExtra(`Pool ${name} created\n`);
}

async function poolDefineAs(ctl: Ctl, o: Opts): Promise<void> {
  const { name, xml } = poolXml(o);
  if (o.bool('print-xml')) {
    ctl.print(xml);
    return;
  }
  await attempt(ctl.connection.defineStoragePool(xml, 0), `Failed to define pool ${name}`);
  ctl.printExtra(`Pool ${name} defined\n`);
}

async function poolCreate(ctl: Ctl, o: Opts): Promise<void> {
  const flags = buildFlags(o);
  const file = o.string('file') ?? '';
  const xml = readXmlFile(file);
  const p = await attempt(ctl.connection.createStoragePool(xml, flags), `Failed to create pool from ${file}`);
  ctl.printExtra(`Pool ${p.name} created from ${file}\n`);
}

async function poolBuild(ctl: Ctl, o: Opts): Promise<void> {
  const p = await poolByText(ctl, o.string('pool') ?? '');
  let flags = 0;
  if (o.bool('no-overwrite')) flags |= 4;
  if (o.bool('overwrite')) flags |= 8;
  await attempt(p.build(flags), `Failed to build pool ${p.name}`);
  ctl.printExtra(`Pool ${p.name} built\n`);
}

function poolVerb(verb: 'refresh' | 'delete', ok: string, fail: string) {
  return async (ctl: Ctl, o: Opts): Promise<void> => {
    const p = await poolByText(ctl, o.string('pool') ?? '');
    await attempt(verb === 'refresh' ? p.refresh(0) : p.delete(0), fail.replace('%s', p.name));
    ctl.printExtra(ok.replace('%s', p.name));
  };
}

export const VOLUME_COMMANDS: CommandTable = {
  'vol-upload': volUpload,
  'vol-download': volDownload,
  'vol-wipe': volWipe,
  'vol-resize': volResize,
  'vol-clone': volClone,
  'vol-key': async (ctl, o) => ctl.print(`${(await volOpt(ctl, o)).key}\n`),
  'vol-name': async (ctl, o) => ctl.print(`${(await volOpt(ctl, o)).name}\n`),
  'vol-pool': async (ctl, o) => {
    const v = await volOpt(ctl, o);
    const p = await attempt(v.pool(), `failed to get parent pool`);
    ctl.print(`${o.bool('uuid') ? p.uuid : p.name}\n`);
  },
  'pool-create-as': poolCreateAs,
  'pool-define-as': poolDefineAs,
  'pool-create': poolCreate,
  'pool-build': poolBuild,
  'pool-delete': poolVerb('delete', 'Pool %s deleted\n', 'Failed to delete pool %s'),
  'pool-refresh': poolVerb('refresh', 'Pool %s refreshed\n', 'Failed to refresh pool %s'),
  'pool-uuid': async (ctl, o) => ctl.print(`${(await poolByText(ctl, o.string('pool') ?? '')).uuid}\n`),
  'pool-name': async (ctl, o) => ctl.print(`${(await poolByUuid(ctl, o.string('pool') ?? '')).name}\n`),
};

/** pool-name looks the pool up by UUID only; a word that is no UUID fails without libvirt's say. */
async function poolByUuid(ctl: Ctl, text: string) {
  if (!looksLikeUuid(text)) throw new CliError(`failed to get pool '${text}'`);
  try {
    return await ctl.connection.storagePoolLookupByUUID(text);
  } catch (e) {
    throw new CliError(`failed to get pool '${text}'`, asVirError(e));
  }
}
