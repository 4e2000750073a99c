// Post-parse steps of libvirt that add or fill in devices: drive addresses from target
// names, the controllers those addresses need, the console mirroring serial 0, chardev
// port numbers and a default video card for guests with graphics.
import type { DomainChr, DomainDef, DomainController } from './types.js';

/** "hda" -> 0, "sdb" -> 1, "vdaa" -> 26, like virDiskNameToIndex. */
export function diskNameToIndex(dev: string): number {
  const m = /^(?:hd|sd|vd|xvd|fd|ubd)([a-z]+)/.exec(dev);
  if (!m) return 0;
  let idx = 0;
  for (const ch of m[1]) idx = idx * 26 + (ch.charCodeAt(0) - 96);
  return idx - 1;
}

/** Drive address for a disk on an ide/fdc/scsi bus, as libvirt assigns it. */
function driveAddress(bus: string, idx: number): [string, string][] | undefined {
  const a = (c: number, b: number, u: number): [string, string][] => [['controller', String(c)], ['bus', String(b)], ['target', '0'], ['unit', String(u)]];
  if (bus === 'ide') return a(Math.floor(idx / 4), Math.floor((idx % 4) / 2), idx % 2);
  if (bus === 'fdc') return a(Math.floor(idx / 2), 0, idx % 2);
  if (bus === 'scsi') return a(Math.floor(idx / 7), 0, idx % 7);
  if (bus === 'sata') return a(Math.floor(idx / 6), 0, idx % 6);
  return undefined;
}

function hasController(def: DomainDef, type: string, index: number): boolean {
  return def.devices.controllers.some((c) => c.type === type && c.index === index);
}

function addController(def: DomainDef, type: string, index: number): void {
  if (hasController(def, type, index)) return;
  const c: DomainController = { type, index, extraAttrs: [], children: [] };
  def.devices.controllers.push(c);
}

export function addImplicitDevices(def: DomainDef): void {
  const devs = def.devices;
  // Controllers without an index take the next free one of their type.
  for (const c of devs.controllers) {
    if (c.index >= 0) continue;
    let i = 0;
    while (hasController(def, c.type, i)) i++;
    c.index = i;
  }
  for (const d of devs.disks) {
    if (d.address || !d.targetBus) continue;
    const attrs = driveAddress(d.targetBus, diskNameToIndex(d.targetDev));
    if (attrs) d.address = { type: 'drive', attrs };
  }
  // Every drive-addressed disk needs controllers 0..N of its bus type.
  for (const bus of ['scsi', 'fdc', 'ide', 'sata']) {
    let max = -1;
    for (const d of devs.disks) {
      if (d.targetBus !== bus || d.address?.type !== 'drive') continue;
      max = Math.max(max, Number(d.address.attrs.find(([k]) => k === 'controller')?.[1] ?? 0));
    }
    for (const h of devs.others) {
      if (bus === 'scsi' && h.kind === 'hostdev' && h.el.attrs.some(([k, v]) => k === 'type' && v === 'scsi')) max = Math.max(max, 0);
    }
    for (let i = 0; i <= max; i++) addController(def, bus, i);
  }
  linkConsoles(def);
  numberPorts(def.devices.chrs);
  // virtio channels/consoles sit on a virtio-serial controller.
  const virtioChr = devs.chrs.filter((c) => (c.kind === 'channel' || c.kind === 'console') && c.targetType === 'virtio');
  for (const c of virtioChr) {
    if (c.address?.type === 'virtio-serial') addController(def, 'virtio-serial', Number(c.address.attrs.find(([k]) => k === 'controller')?.[1] ?? 0));
  }
  if (virtioChr.length) addController(def, 'virtio-serial', 0);
  if (devs.others.some((o) => o.kind === 'smartcard')) addController(def, 'ccid', 0);
  if (devs.graphics.length && devs.videos.length === 0) {
    const xen = def.os.type === 'xen';
    devs.videos.push({ modelAttrs: [['type', xen ? 'xen' : 'cirrus']], modelChildren: [] });
  }
  normaliseVideos(def);
}

/** libvirt keeps consoles[0] as an alias of serials[0] on HVM/Xen guests. */
function linkConsoles(def: DomainDef): void {
  const chrs = def.devices.chrs;
  let serial0 = chrs.find((c) => c.kind === 'serial');
  const consoles = chrs.filter((c) => c.kind === 'console');
  const first = consoles[0];
  // An HVM serial console without a serial port gets one created behind it.
  if (!serial0 && first && first.targetType === 'serial' && def.os.type === 'hvm') {
    serial0 = { kind: 'serial', type: first.type, sources: first.sources, protocol: first.protocol, targetPort: 0, targetAttrs: [], targetChildren: [] };
    chrs.splice(chrs.indexOf(first), 0, serial0);
  }
  if (!serial0) return;
  if (first && first.targetType === 'serial') {
    // The console shows the serial's backend.
    first.type = serial0.type;
    first.sources = serial0.sources;
    first.protocol = serial0.protocol;
    first.targetPort = serial0.targetPort ?? 0;
    return;
  }
  const copy: DomainChr = {
    kind: 'console', type: serial0.type, sources: serial0.sources, protocol: serial0.protocol,
    targetType: 'serial', targetPort: serial0.targetPort ?? 0, targetAttrs: [], targetChildren: [],
  };
  const at = first ? chrs.indexOf(first) : chrs.length;
  chrs.splice(at, 0, copy);
}

function numberPorts(chrs: DomainChr[]): void {
  for (const kind of ['serial', 'parallel'] as const) {
    let next = 0;
    for (const c of chrs.filter((x) => x.kind === kind)) {
      if (c.targetPort === undefined) c.targetPort = next;
      next = c.targetPort + 1;
    }
  }
  for (const c of chrs) if (c.kind === 'console' && c.targetPort === undefined) c.targetPort = 0;
}

const VRAM_DEFAULT: Record<string, number> = { cirrus: 16384, vga: 16384, vmvga: 16384, xen: 4096, qxl: 65536 };

function normaliseVideos(def: DomainDef): void {
  def.devices.videos.forEach((v, i) => {
    const get = (k: string) => v.modelAttrs.find(([a]) => a === k)?.[1];
    const type = get('type') ?? 'cirrus';
    const ordered: [string, string][] = [['type', type]];
    const ram = get('ram') ?? (type === 'qxl' ? '65536' : undefined);
    if (ram !== undefined) ordered.push(['ram', ram]);
    const vram = get('vram') ?? (VRAM_DEFAULT[type] !== undefined ? String(VRAM_DEFAULT[type]) : undefined);
    if (vram !== undefined) ordered.push(['vram', vram]);
    const vgamem = get('vgamem') ?? (type === 'qxl' ? '16384' : undefined);
    if (vgamem !== undefined) ordered.push(['vgamem', vgamem]);
    ordered.push(['heads', get('heads') ?? '1']);
    if (i === 0 || get('primary') === 'yes') ordered.push(['primary', 'yes']);
    v.modelAttrs = ordered;
  });
}
