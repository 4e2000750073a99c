// Writes a DomainDef in libvirt 9.0's element order (virDomainDefFormat).
import type { Out, XmlEl, AttrValue } from '../tree.js';
import { dumpLibxml, elementsOf, passthrough, renderDoc } from '../tree.js';
import type {
  DomainAddress, DomainChr, DomainDef, DomainDisk, DomainFormatOptions, DomainGraphics, DomainNet, DomainOtherDevice,
} from './types.js';

const addr = (a: DomainAddress | undefined): Out | undefined => a && { name: 'address', attrs: [['type', a.type], ...a.attrs] };
/** A running device's <alias> (libvirt writes it just before the address); never in inactive XML. */
const aliasOut = (alias: string | undefined, opts: DomainFormatOptions): Out | undefined =>
  alias === undefined || opts.inactive ? undefined : { name: 'alias', attrs: [['name', alias]] };

/** A carried-through device with its live alias put in before its <address>. */
function other(o: DomainOtherDevice, opts: DomainFormatOptions): Out {
  const a = aliasOut(o.alias, opts);
  if (!a) return passthrough(o.el);
  const kids = elementsOf(o.el).filter((e) => e.name !== 'alias').map(passthrough);
  const at = elementsOf(o.el).filter((e) => e.name !== 'alias').findIndex((e) => e.name === 'address');
  kids.splice(at === -1 ? kids.length : at, 0, a);
  return { name: o.el.name, attrs: o.el.attrs, kids };
}

/** Reorders a parsed element's attributes by a preferred list (unknown ones keep their place at the end). */
function ordered(el: XmlEl, order: string[]): Out {
  const out = passthrough(el);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  out.attrs = [...el.attrs].sort((a, b) => rank(a[0]) - rank(b[0]));
  return out;
}

const DRIVER_ATTRS = ['name', 'type', 'cache', 'error_policy', 'rerror_policy', 'io', 'ioeventfd', 'event_idx', 'copy_on_read', 'discard', 'iothread', 'detect_zeroes', 'queues'];
const SOURCE_ATTRS = ['file', 'dev', 'dir', 'protocol', 'name', 'pool', 'volume', 'mode', 'type', 'path', 'host', 'service', 'master', 'slave', 'network', 'bridge', 'portgroup', 'startupPolicy'];

function disk(d: DomainDisk, opts: DomainFormatOptions): Out {
  const live = !opts.inactive && d.sourceIndex !== undefined;
  const source = d.source && ordered(d.source, SOURCE_ATTRS);
  if (source && live) source.attrs = [...(source.attrs ?? []), ['index', d.sourceIndex]];
  return {
    name: 'disk',
    attrs: [['type', d.type], ['device', d.device], ...d.extraAttrs],
    kids: [
      d.driver && ordered(d.driver, DRIVER_ATTRS),
      source,
      source && live && d.noBacking && { name: 'backingStore' },
      { name: 'target', attrs: [['dev', d.targetDev], ['bus', d.targetBus], ...d.targetExtra] },
      d.iotune && passthrough(d.iotune),
      d.readonly && { name: 'readonly' },
      d.shareable && { name: 'shareable' },
      d.serial !== undefined && { name: 'serial', text: d.serial },
      d.boot && passthrough(d.boot),
      aliasOut(d.alias, opts),
      addr(d.address),
    ],
  };
}

function net(n: DomainNet, opts: DomainFormatOptions): Out {
  return {
    name: 'interface',
    attrs: [['type', n.type]],
    kids: [
      { name: 'mac', attrs: [['address', n.mac]] },
      n.source && ordered(n.source, SOURCE_ATTRS),
      n.virtualPort && passthrough(n.virtualPort),
      // libvirt writes an emptied <bandwidth> as an open/close pair.
      ...n.rest.filter((e) => e.name === 'bandwidth').map((e): Out => (elementsOf(e).length ? passthrough(e) : { name: 'bandwidth', attrs: e.attrs, open: true })),
      n.script !== undefined && { name: 'script', attrs: [['path', n.script]] },
      n.targetDev !== undefined && { name: 'target', attrs: [['dev', n.targetDev]] },
      n.model !== undefined && { name: 'model', attrs: [['type', n.model]] },
      ...n.rest.filter((e) => e.name !== 'bandwidth').map(passthrough),
      n.boot && passthrough(n.boot),
      aliasOut(n.alias, opts),
      addr(n.address),
    ],
  };
}

function chr(c: DomainChr, opts: DomainFormatOptions): Out {
  const target: Out =
    c.kind === 'channel'
      ? { name: 'target', attrs: [['type', c.targetType], ...c.targetAttrs, ...(c.targetType === 'guestfwd' ? [] : [])] }
      : {
          name: 'target',
          attrs: [['type', c.targetType], ['port', c.targetPort]],
          kids: c.targetChildren.map(passthrough),
        };
  if (c.kind === 'channel' && c.targetType === 'guestfwd') {
    target.attrs = [['type', 'guestfwd'], ...c.targetAttrs];
  }
  // A running pty shows the device QEMU opened; a console also names it as its tty.
  const pty = !opts.inactive && c.type === 'pty' && c.ptyPath !== undefined ? c.ptyPath : undefined;
  const sources = c.sources.map((s) => ordered(s, SOURCE_ATTRS));
  if (pty !== undefined && sources.length === 0) sources.push({ name: 'source', attrs: [['path', pty]] });
  return {
    name: c.kind,
    attrs: [['type', c.type], ['tty', c.kind === 'console' ? pty : undefined]],
    kids: [...sources, c.protocol && passthrough(c.protocol), target, aliasOut(c.alias, opts), addr(c.address)],
  };
}

function graphics(g: DomainGraphics, opts: DomainFormatOptions): Out {
  const attrs: [string, AttrValue][] = [['type', g.type]];
  let listens: Out[] = g.listens.map((l) => ordered(l, ['type', 'address', 'network', 'socket']));
  const listenNone = g.listens.some((l) => l.attrs.some(([k, v]) => k === 'type' && v === 'none'));
  if (g.type === 'vnc') {
    const port = (opts.inactive ? undefined : g.livePort) ?? g.port ?? -1;
    attrs.push(['port', port], ['autoport', g.autoport ?? (port === -1 ? 'yes' : 'no')]);
  } else if (g.type === 'rdp') {
    const port = g.port ?? 0;
    attrs.push(['port', port], ['autoport', g.autoport ?? (port === 0 ? 'yes' : 'no')]);
  } else if (g.type === 'spice') {
    attrs.push(['port', g.port], ['tlsPort', g.tlsPort], ['autoport', listenNone ? g.autoport : (g.autoport ?? 'no')]);
  }
  if (g.type === 'vnc' || g.type === 'spice' || g.type === 'rdp') {
    if (g.listen !== undefined) attrs.push(['listen', g.listen]);
    if (listens.length === 0) listens = [{ name: 'listen', attrs: [['type', 'address'], ['address', g.listen]] }];
  }
  attrs.push(['keymap', g.keymap], ...g.extraAttrs);
  if (opts.secure && g.passwd !== undefined) attrs.push(['passwd', g.passwd]);
  return { name: 'graphics', attrs, kids: [...listens, ...g.children.map(passthrough)] };
}

/** Device kinds in the order libvirt writes them. */
const OTHER_ORDER_BEFORE_NET = ['lease', 'filesystem'];
const OTHER_AFTER_NET = ['smartcard'];
const OTHER_AFTER_CHR = ['input', 'tpm'];
const OTHER_AFTER_GFX = ['sound', 'audio'];
const OTHER_AFTER_VIDEO = ['hostdev', 'redirdev', 'redirfilter', 'hub', 'watchdog', 'memballoon', 'rng', 'panic', 'shmem', 'memory', 'iommu', 'vsock'];

export function formatDomain(def: DomainDef, opts: DomainFormatOptions = {}): string {
  const dv = def.devices;
  const others = (kinds: string[]) => kinds.flatMap((k) => dv.others.filter((o) => o.kind === k).map((o) => other(o, opts)));
  const chrs = (k: DomainChr['kind']) => dv.chrs.filter((c) => c.kind === k).map((c) => chr(c, opts));
  const sec = (n: string) => (def.sections.get(n) ?? []).map(passthrough);
  const os = def.os;
  const t = (name: string, v: string | undefined): Out | undefined => (v === undefined ? undefined : { name, text: v });
  const root: Out = {
    name: 'domain',
    attrs: [['type', def.type], ['id', opts.inactive ? undefined : opts.id]],
    kids: [
      { name: 'name', text: def.name },
      { name: 'uuid', text: def.uuid },
      t('genid', def.genid),
      t('title', def.title),
      t('description', def.description),
      def.metadata && { name: 'metadata', raw: elementsOf(def.metadata).flatMap((e) => dumpLibxml(e, 0)) },
      ...sec('maxMemory'),
      { name: 'memory', attrs: [['unit', 'KiB']], text: String(def.memoryKiB) },
      { name: 'currentMemory', attrs: [['unit', 'KiB']], text: String(def.currentMemoryKiB) },
      def.blkiotune && {
        name: 'blkiotune',
        kids: [
          t('weight', def.blkiotune.weight),
          ...def.blkiotune.devices.map((d): Out => ({
            name: 'device',
            kids: [
              t('path', d.path), t('weight', d.weight), t('read_iops_sec', d.readIopsSec), t('write_iops_sec', d.writeIopsSec),
              t('read_bytes_sec', d.readBytesSec), t('write_bytes_sec', d.writeBytesSec),
            ],
          })),
        ],
      },
      ...sec('memtune'),
      ...sec('memoryBacking'),
      { name: 'vcpu', attrs: [['placement', def.vcpu.placement], ['cpuset', def.vcpu.cpuset], ['current', def.vcpu.current]], text: String(def.vcpu.count) },
      ...['vcpus', 'iothreads', 'iothreadids', 'cputune', 'numatune', 'resource', 'sysinfo'].flatMap(sec),
      t('bootloader', def.bootloader),
      {
        name: 'os',
        attrs: [['firmware', os.firmware]],
        kids: [
          { name: 'type', attrs: [['arch', os.arch], ['machine', os.machine]], text: os.type },
          os.loader && { name: 'loader', attrs: os.loader.attrs, text: os.loader.path },
          os.nvram && passthrough(os.nvram),
          t('kernel', os.kernel), t('initrd', os.initrd), t('cmdline', os.cmdline), t('dtb', os.dtb), t('root', os.root),
          ...os.boots.map((b): Out => ({ name: 'boot', attrs: [['dev', b]] })),
          ...os.rest.map(passthrough),
        ],
      },
      ...sec('idmap'),
      def.features.length > 0 && { name: 'features', kids: def.features.map(passthrough) },
      ...sec('cpu'),
      { name: 'clock', attrs: [['offset', def.clock.offset], ...def.clock.attrs], kids: def.clock.children.map(passthrough) },
      { name: 'on_poweroff', text: def.onPoweroff },
      { name: 'on_reboot', text: def.onReboot },
      { name: 'on_crash', text: def.onCrash },
      ...sec('pm'),
      ...sec('perf'),
      {
        name: 'devices',
        open: true,
        kids: [
          t('emulator', dv.emulator),
          ...dv.disks.map((d) => disk(d, opts)),
          ...dv.controllers.map((c): Out => {
            const kids: Out[] = c.children.map(passthrough);
            const a = aliasOut(c.alias, opts);
            const at = c.children.findIndex((e) => e.name === 'address');
            if (a) kids.splice(at === -1 ? kids.length : at, 0, a);
            return { name: 'controller', attrs: [['type', c.type], ['index', c.index], ['model', c.model], ...c.extraAttrs], kids };
          }),
          ...others(OTHER_ORDER_BEFORE_NET),
          ...dv.nets.map((n) => net(n, opts)),
          ...others(OTHER_AFTER_NET),
          ...chrs('serial'), ...chrs('parallel'), ...chrs('console'), ...chrs('channel'),
          ...others(OTHER_AFTER_CHR),
          ...dv.graphics.map((g) => graphics(g, opts)),
          ...others(OTHER_AFTER_GFX),
          ...dv.videos.map((v): Out => ({
            name: 'video',
            kids: [{ name: 'model', attrs: v.modelAttrs, kids: v.modelChildren.map(passthrough) }, aliasOut(v.alias, opts), addr(v.address)],
          })),
          ...others(OTHER_AFTER_VIDEO),
        ],
      },
      ...sec('seclabel'),
      ...(opts.inactive ? [] : (def.liveSeclabels ?? []).map(passthrough)),
      ...sec('keywrap'),
      ...sec('launchSecurity'),
    ],
  };
  return renderDoc(root);
}
