// <domain> parsing plus the normalisation libvirt (and its test driver) applies at define
// time and that shows in dumpxml: units to KiB, defaults, implicit controllers, drive
// addresses, console/serial linking, default video.
import type { XmlEl } from '../tree.js';
import { attr, child, childText, elementsOf, parseXml, textOf } from '../tree.js';
import { ErrCode, ErrDomain, XmlModelError, internalError, invalidAttr, missingAttr, unsupported, xmlError } from '../errors.js';
import { parseUuid, newUuid } from '../uuid.js';
import { toKiB } from '../units.js';
import { parseMac } from '../common.js';
import type {
  DomainAddress, DomainChr, DomainController, DomainDef, DomainDevices, DomainDisk, DomainGraphics, DomainNet, DomainOs, DomainParseOptions,
} from './types.js';
import { addImplicitDevices, diskNameToIndex } from './implicit.js';

const D = ErrDomain.domain;
const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz'];
const OS_TYPES = ['hvm', 'xen', 'linux', 'exe', 'uml', 'xenpvh'];
const LIFECYCLE = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'];
const CLOCK_OFFSETS = ['utc', 'localtime', 'variable', 'timezone', 'absolute'];
const DISK_TYPES = ['file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'];
const DISK_DEVICES = ['disk', 'cdrom', 'floppy', 'lun'];
const GRAPHICS_TYPES = ['sdl', 'vnc', 'rdp', 'desktop', 'spice', 'egl-headless', 'dbus'];
const ARCHES = ['i686', 'x86_64', 'aarch64', 'armv7l', 'ppc64', 'ppc64le', 's390x', 'riscv64'];

export const parseDomainXml = (text: string, opts: DomainParseOptions = {}): DomainDef =>
  parseDomain(parseXml(text, 'domain', 'domain_definition', D), opts);

/** A device's <alias name>, kept only from a running domain's status. */
const aliasOf = (el: XmlEl, status: boolean | undefined): string | undefined => (status ? attr(child(el, 'alias'), 'name') : undefined);

function enumAttr(el: XmlEl, name: string, allowed: string[], fallback?: string): string {
  const v = attr(el, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(name, el.name);
    return fallback;
  }
  if (!allowed.includes(v)) throw invalidAttr(name, el.name, v);
  return v;
}

export function parseAddress(el: XmlEl | undefined): DomainAddress | undefined {
  const a = child(el, 'address');
  if (!a) return undefined;
  const type = attr(a, 'type') ?? '';
  const rest = a.attrs.filter(([k]) => k !== 'type');
  if (type === 'drive') {
    const v = (k: string) => attr(a, k) ?? '0';
    return { type, attrs: [['controller', v('controller')], ['bus', v('bus')], ['target', v('target')], ['unit', v('unit')]] };
  }
  if (type === 'pci') {
    const hex = (k: string, w: number) => '0x' + parseInt(attr(a, k) ?? '0', 16).toString(16).padStart(w, '0');
    return { type, attrs: [['domain', hex('domain', 4)], ['bus', hex('bus', 2)], ['slot', hex('slot', 2)], ['function', hex('function', 1)]] };
  }
  return { type, attrs: rest };
}

const memText = (el: XmlEl | undefined): bigint | undefined => {
  if (!el) return undefined;
  const t = (textOf(el) ?? '').trim();
  if (!/^\d+$/.test(t)) {
    const path = el.name === 'memory' ? './memory[1]' : `./${el.name}[1]`;
    throw xmlError(ErrDomain.xml, `Invalid value '${t}' for element or attribute '${path}'`);
  }
  return toKiB(BigInt(t), attr(el, 'unit'));
};

export function parseDomain(el: XmlEl, opts: DomainParseOptions = {}): DomainDef {
  const type = attr(el, 'type');
  if (type === undefined) throw internalError(D, 'missing domain type attribute');
  if (!VIRT_TYPES.includes(type)) throw unsupported(D, `invalid domain type ${type}`);
  const name = childText(el, 'name');
  if (name === undefined || name === '') throw new XmlModelError(ErrCode.noName, D, 'missing name information');
  // Names become file names (config, status, save images): a '/' would leave their directory.
  if (name.includes('/')) throw xmlError(D, `name ${name} cannot contain '/'`);
  const uuidText = childText(el, 'uuid');
  let uuid = newUuid();
  if (uuidText !== undefined) {
    const u = parseUuid(uuidText);
    if (!u) throw internalError(D, 'malformed uuid element');
    uuid = u;
  }
  const os = parseOs(el);
  const lifecycle = (n: string, def: string) => {
    const v = childText(el, n)?.trim();
    if (v === undefined) return def;
    if (!LIFECYCLE.includes(v)) throw unsupported(D, `unknown ${n} action: ${v}`);
    return v;
  };
  const onPoweroff = lifecycle('on_poweroff', 'destroy');
  const onReboot = lifecycle('on_reboot', 'restart');
  const onCrash = lifecycle('on_crash', 'destroy');
  let memoryKiB = memText(child(el, 'memory'));
  const cells = elementsOf(child(child(el, 'cpu'), 'numa') ?? { name: '', attrs: [], children: [] }, 'cell');
  // With NUMA cells the total memory is their sum.
  if (cells.length) memoryKiB = cells.reduce((sum, c) => sum + toKiB(BigInt(attr(c, 'memory') ?? '0'), attr(c, 'unit')), 0n);
  if (memoryKiB === undefined) throw xmlError(D, 'Memory size must be specified via <memory> or in the <numa> configuration');
  let currentMemoryKiB = memText(child(el, 'currentMemory')) ?? memoryKiB;
  if (currentMemoryKiB > memoryKiB) currentMemoryKiB = memoryKiB;
  const vcpuEl = child(el, 'vcpu');
  let count = 1;
  if (vcpuEl) {
    const t = (textOf(vcpuEl) ?? '').trim();
    if (!/^\d+$/.test(t)) throw xmlError(D, 'maximum vcpus count must be an integer');
    count = Number(t);
  }
  const cur = attr(vcpuEl, 'current');
  const clockEl = child(el, 'clock');
  const offset = clockEl ? enumClock(attr(clockEl, 'offset') ?? 'utc') : 'utc';
  const blk = child(el, 'blkiotune');
  const sections = new Map<string, XmlEl[]>();
  for (const n of KEPT_SECTIONS) {
    let els = elementsOf(el, n);
    // A status file's dynamic labels are the running guest's, not its configuration.
    if (n === 'seclabel' && opts.status) els = els.filter((e) => attr(e, 'type') !== 'dynamic');
    if (els.length) sections.set(n, els);
  }
  const liveSeclabels = opts.status ? elementsOf(el, 'seclabel').filter((e) => attr(e, 'type') === 'dynamic') : [];
  const devicesEl = child(el, 'devices');
  const def: DomainDef = {
    type,
    name,
    uuid,
    genid: childText(el, 'genid')?.trim(),
    title: childText(el, 'title'),
    description: childText(el, 'description'),
    metadata: child(el, 'metadata'),
    memoryKiB,
    currentMemoryKiB,
    blkiotune: blk && {
      weight: childText(blk, 'weight')?.trim(),
      devices: elementsOf(blk, 'device').map((d) => ({
        path: childText(d, 'path')?.trim() ?? '',
        weight: childText(d, 'weight')?.trim(),
        readIopsSec: childText(d, 'read_iops_sec')?.trim(),
        writeIopsSec: childText(d, 'write_iops_sec')?.trim(),
        readBytesSec: childText(d, 'read_bytes_sec')?.trim(),
        writeBytesSec: childText(d, 'write_bytes_sec')?.trim(),
      })),
    },
    vcpu: {
      count,
      placement: attr(vcpuEl, 'placement') ?? 'static',
      cpuset: attr(vcpuEl, 'cpuset'),
      current: cur === undefined || Number(cur) === count ? undefined : Number(cur),
    },
    bootloader: childText(el, 'bootloader'),
    os,
    features: sortFeatures(elementsOf(child(el, 'features') ?? { name: 'features', attrs: [], children: [] })),
    clock: { offset, attrs: (clockEl?.attrs ?? []).filter(([k]) => k !== 'offset'), children: clockEl ? elementsOf(clockEl) : [] },
    onPoweroff,
    onReboot,
    onCrash,
    devices: parseDevices(devicesEl, os, opts.status),
    sections,
    ...(liveSeclabels.length ? { liveSeclabels } : {}),
  };
  addImplicitDevices(def);
  return def;
}

/** Top-level elements carried through verbatim (in libvirt's output order). */
export const KEPT_SECTIONS = [
  'maxMemory', 'memtune', 'memoryBacking', 'vcpus', 'iothreads', 'iothreadids', 'cputune', 'numatune', 'resource', 'sysinfo',
  'idmap', 'cpu', 'pm', 'perf', 'seclabel', 'keywrap', 'launchSecurity',
];

function enumClock(v: string): string {
  if (!CLOCK_OFFSETS.includes(v)) throw unsupported(D, `unknown clock offset '${v}'`);
  return v;
}

/** libvirt's virDomainFeature enum order, which is the order features are written in. */
const FEATURE_ORDER = [
  'acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'hyperv', 'kvm', 'pvspinlock', 'capabilities', 'pmu', 'vmport', 'gic',
  'smm', 'ioapic', 'hpt', 'vmcoreinfo', 'htm', 'nested-hv', 'msrs', 'ccf-assist', 'xen', 'cfpc', 'sbbc', 'ibs', 'tcg', 'async-teardown',
];
function sortFeatures(els: XmlEl[]): XmlEl[] {
  return [...els].sort((a, b) => FEATURE_ORDER.indexOf(a.name) - FEATURE_ORDER.indexOf(b.name));
}

function parseOs(el: XmlEl): DomainOs {
  const osEl = child(el, 'os');
  const typeEl = child(osEl, 'type');
  let type = childText(osEl, 'type')?.trim();
  if (type === undefined) {
    // libvirt's test driver treats a bootloader-only definition as Xen PV.
    if (child(el, 'bootloader')) type = 'xen';
    else throw xmlError(D, 'an os <type> must be specified');
  }
  if (!OS_TYPES.includes(type)) throw unsupported(D, `unknown OS type '${type}'`);
  const arch = attr(typeEl, 'arch') ?? 'i686';
  if (!ARCHES.includes(arch)) throw unsupported(D, `Unknown architecture ${arch}`);
  const loaderEl = child(osEl, 'loader');
  const boots = osEl ? elementsOf(osEl, 'boot').map((b) => attr(b, 'dev') ?? '') : [];
  // HVM guests with no explicit boot order boot from the first disk.
  if (type === 'hvm' && boots.length === 0) boots.push('hd');
  const t = (n: string) => childText(osEl, n);
  const loaderAttrs: [string, string][] = [];
  if (loaderEl) {
    for (const k of ['readonly', 'secure', 'type', 'format']) {
      const v = attr(loaderEl, k) ?? (k === 'type' ? 'rom' : undefined);
      if (v !== undefined) loaderAttrs.push([k, v]);
    }
  }
  return {
    type,
    arch,
    ...(attr(typeEl, 'arch') === undefined ? { archDefaulted: true as const } : {}),
    machine: attr(typeEl, 'machine'),
    firmware: attr(osEl, 'firmware'),
    loader: loaderEl && { path: (textOf(loaderEl) ?? '').trim(), attrs: loaderAttrs },
    nvram: child(osEl, 'nvram'),
    kernel: t('kernel'),
    initrd: t('initrd'),
    cmdline: t('cmdline'),
    dtb: t('dtb'),
    root: t('root'),
    boots,
    rest: osEl ? elementsOf(osEl).filter((c) => !OS_TYPED.includes(c.name)) : [],
  };
}
const OS_TYPED = ['type', 'loader', 'nvram', 'kernel', 'initrd', 'cmdline', 'dtb', 'root', 'boot'];

const CHR_KINDS = ['serial', 'parallel', 'console', 'channel'] as const;

function parseDevices(el: XmlEl | undefined, os: DomainOs, status?: boolean): DomainDevices {
  const devs: DomainDevices = { emulator: childText(el, 'emulator'), disks: [], controllers: [], nets: [], chrs: [], graphics: [], videos: [], others: [] };
  if (!el) return devs;
  let consoleIdx = 0;
  // The bus written in the source, per disk: libvirt sorts on it before defaults are filled in.
  const sourceBus = new Map<DomainDisk, string | undefined>();
  for (const d of elementsOf(el)) {
    switch (d.name) {
      case 'emulator':
        break;
      case 'disk':
        insertDisk(devs.disks, parseDisk(d, status), attr(child(d, 'target'), 'bus'), sourceBus);
        break;
      case 'controller': {
        const idx = attr(d, 'index');
        insertController(devs.controllers, {
          type: attr(d, 'type') ?? 'ide',
          index: idx === undefined ? -1 : Number(idx),
          model: attr(d, 'model'),
          extraAttrs: d.attrs.filter(([k]) => !['type', 'index', 'model'].includes(k)),
          children: elementsOf(d).filter((c) => !status || c.name !== 'alias'),
          alias: aliasOf(d, status),
        });
        break;
      }
      case 'interface':
        devs.nets.push(parseNet(d, status));
        break;
      case 'graphics':
        devs.graphics.push(parseGraphics(d, status));
        break;
      case 'video': {
        const m = child(d, 'model');
        devs.videos.push({ modelAttrs: m?.attrs ?? [], modelChildren: m ? elementsOf(m) : [], address: parseAddress(d), alias: aliasOf(d, status) });
        break;
      }
      default:
        if ((CHR_KINDS as readonly string[]).includes(d.name)) {
          const chr = parseChr(d, d.name as DomainChr['kind'], os, status);
          if (chr.kind === 'console' && chr.targetType !== 'serial') chr.targetPort = consoleIdx;
          if (chr.kind === 'console') consoleIdx++;
          devs.chrs.push(chr);
        } else if (status && child(d, 'alias')) {
          devs.others.push({ kind: d.name, el: { ...d, children: d.children.filter((c) => !('name' in c) || c.name !== 'alias') }, alias: aliasOf(d, status) });
        } else devs.others.push({ kind: d.name, el: d });
    }
  }
  return devs;
}

/** virDomainDiskInsert: keep disks on the same (source) bus ordered by target index. */
function insertDisk(list: DomainDisk[], disk: DomainDisk, bus: string | undefined, buses: Map<DomainDisk, string | undefined>): void {
  buses.set(disk, bus);
  const idx = diskNameToIndex(disk.targetDev);
  let at = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (buses.get(list[i]) !== bus) continue;
    if (diskNameToIndex(list[i].targetDev) > idx) at = i;
    else if (at === -1) at = i + 1;
  }
  if (at === -1) list.push(disk);
  else list.splice(at, 0, disk);
}

/** virDomainControllerInsert: same-type controllers stay ordered by index. */
function insertController(list: DomainController[], c: DomainController): void {
  let at = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].type !== c.type) continue;
    if (c.index === -1 || list[i].index <= c.index) {
      at = i + 1;
      break;
    }
    at = i;
  }
  if (at === -1) list.push(c);
  else list.splice(at, 0, c);
}

/** Bus implied by a target device name prefix. */
function busForDev(dev: string): string {
  if (dev.startsWith('hd')) return 'ide';
  if (dev.startsWith('sd')) return 'scsi';
  if (dev.startsWith('vd')) return 'virtio';
  if (dev.startsWith('xvd')) return 'xen';
  if (dev.startsWith('fd')) return 'fdc';
  if (dev.startsWith('ubd')) return 'uml';
  return 'ide';
}

function parseDisk(d: XmlEl, status?: boolean): DomainDisk {
  const type = enumAttr(d, 'type', DISK_TYPES, 'file');
  const device = enumAttr(d, 'device', DISK_DEVICES, 'disk');
  const target = child(d, 'target');
  const srcEl = child(d, 'source');
  // The storage source index is runtime state: only a status file's is kept.
  const src = srcEl && { ...srcEl, attrs: srcEl.attrs.filter(([k]) => k !== 'index') };
  const index = status ? attr(srcEl, 'index') : undefined;
  const backing = status ? child(d, 'backingStore') : undefined;
  const targetDev = attr(target, 'dev');
  if (targetDev === undefined) {
    const what = attr(src, 'file') ?? attr(src, 'dev') ?? attr(src, 'dir') ?? attr(src, 'name') ?? '';
    throw new XmlModelError(ErrCode.noTarget, D, `missing target information for device ${what}`);
  }
  return {
    type,
    device,
    extraAttrs: d.attrs.filter(([k]) => !['type', 'device'].includes(k)),
    driver: child(d, 'driver'),
    source: src,
    targetDev,
    targetBus: attr(target, 'bus') ?? busForDev(targetDev),
    targetExtra: (target?.attrs ?? []).filter(([k]) => !['dev', 'bus'].includes(k)),
    iotune: child(d, 'iotune'),
    // CD-ROMs are always read-only.
    readonly: child(d, 'readonly') !== undefined || device === 'cdrom',
    shareable: child(d, 'shareable') !== undefined,
    serial: childText(d, 'serial'),
    boot: child(d, 'boot'),
    address: parseAddress(d),
    alias: aliasOf(d, status),
    ...(index !== undefined ? { sourceIndex: Number(index) } : {}),
    ...(backing && elementsOf(backing).length === 0 && backing.attrs.length === 0 ? { noBacking: true } : {}),
  };
}

function parseNet(d: XmlEl, status?: boolean): DomainNet {
  const macText = attr(child(d, 'mac'), 'address');
  let mac: string;
  if (macText === undefined) mac = randomMac();
  else {
    const m = parseMac(macText);
    if (!m) throw xmlError(D, `unable to parse mac address '${macText}'`);
    mac = m;
  }
  const typed = ['mac', 'source', 'virtualport', 'script', 'target', 'model', 'boot', 'address', ...(status ? ['alias'] : [])];
  return {
    type: attr(d, 'type') ?? 'user',
    mac,
    source: child(d, 'source'),
    virtualPort: child(d, 'virtualport'),
    script: attr(child(d, 'script'), 'path'),
    targetDev: attr(child(d, 'target'), 'dev'),
    model: attr(child(d, 'model'), 'type'),
    rest: elementsOf(d).filter((c) => !typed.includes(c.name)),
    boot: child(d, 'boot'),
    address: parseAddress(d),
    alias: aliasOf(d, status),
  };
}

function randomMac(): string {
  const b = [0x52, 0x54, 0x00, ...Array.from({ length: 3 }, () => Math.floor(Math.random() * 256))];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function parseChr(d: XmlEl, kind: DomainChr['kind'], os: DomainOs, status?: boolean): DomainChr {
  const target = child(d, 'target');
  let type = attr(d, 'type') ?? 'pty';
  if (!attr(d, 'type') && attr(d, 'tty')) type = 'pty';
  const port = attr(target, 'port');
  let targetType = attr(target, 'type');
  if (kind === 'console' && targetType === undefined) targetType = os.type === 'hvm' || os.type === 'xen' ? 'serial' : undefined;
  // A running pty's <source path> is the device QEMU opened, not configuration.
  const ptyPath = status && type === 'pty' ? attr(child(d, 'source'), 'path') : undefined;
  return {
    kind,
    type,
    sources: ptyPath !== undefined ? [] : elementsOf(d, 'source'),
    ...(ptyPath !== undefined ? { ptyPath } : {}),
    alias: aliasOf(d, status),
    protocol: child(d, 'protocol'),
    targetType,
    targetPort: port === undefined ? undefined : Number(port),
    // Runtime-only attributes (channel state) are not part of the definition.
    targetAttrs: (target?.attrs ?? []).filter(([k]) => !['type', 'port', 'state'].includes(k)),
    targetChildren: target ? elementsOf(target) : [],
    address: parseAddress(d),
  };
}

function parseGraphics(d: XmlEl, status?: boolean): DomainGraphics {
  const type = attr(d, 'type');
  if (type === undefined) throw missingAttr('type', 'graphics');
  if (!GRAPHICS_TYPES.includes(type)) throw invalidAttr('type', 'graphics', type);
  const port = attr(d, 'port');
  const known = ['type', 'port', 'tlsPort', 'autoport', 'listen', 'keymap', 'passwd'];
  // A running autoport display's port is the one it got, not a configured one.
  const live = status && attr(d, 'autoport') === 'yes' && port !== undefined && Number(port) > 0;
  return {
    type,
    port: port === undefined || live ? undefined : Number(port),
    ...(live ? { livePort: Number(port) } : {}),
    tlsPort: attr(d, 'tlsPort'),
    autoport: attr(d, 'autoport'),
    listen: attr(d, 'listen'),
    keymap: attr(d, 'keymap'),
    passwd: attr(d, 'passwd'),
    // sdl/desktop-only attributes are dropped for the other types, as libvirt does.
    extraAttrs: type === 'sdl' || type === 'desktop' ? d.attrs.filter(([k]) => !known.includes(k)) : [],
    listens: elementsOf(d, 'listen'),
    children: elementsOf(d).filter((c) => c.name !== 'listen'),
  };
}

/** virDomainDeviceType names, by the element that spells each device in a definition. */
const DEVICE_TYPES: Record<string, string> = {
  disk: 'disk', lease: 'lease', filesystem: 'filesystem', interface: 'net', input: 'input', sound: 'sound', video: 'video',
  hostdev: 'hostdev', watchdog: 'watchdog', controller: 'controller', graphics: 'graphics', hub: 'hub', redirdev: 'redirdev',
  smartcard: 'smartcard', serial: 'chr', parallel: 'chr', console: 'chr', channel: 'chr', memballoon: 'memballoon',
  nvram: 'nvram', rng: 'rng', shmem: 'shmem', tpm: 'tpm', panic: 'panic', memory: 'memory', iommu: 'iommu', vsock: 'vsock',
  audio: 'audio', crypto: 'crypto',
};

/** One device as attach/detach/update-device take it; `type` is libvirt's device type name. */
export type DomainDeviceFragment =
  | { type: 'disk'; disk: DomainDisk }
  | { type: 'net'; net: DomainNet; macGiven: boolean }
  | { type: string; el: XmlEl };

/** virDomainDeviceDefParse for a single device element, with the same element parsers as <devices>. */
export function parseDeviceXml(text: string): DomainDeviceFragment {
  const el = parseXml(text, '', 'device_definition', D);
  const type = DEVICE_TYPES[el.name];
  if (type === undefined) throw unsupported(D, `unknown device type '${el.name}'`);
  if (type === 'disk') return { type, disk: parseDisk(el) };
  if (type === 'net') return { type, net: parseNet(el), macGiven: attr(child(el, 'mac'), 'address') !== undefined };
  return { type, el };
}
