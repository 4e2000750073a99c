// The remaining devices: controllers, input, VNC graphics, video, watchdog, balloon and RNG.
import type { DomainController, DomainDef, DomainGraphics, DomainVideo } from '../../../api/xml/domain/types.js';
import type { XmlEl } from '../../../api/xml/tree.js';
import { attr, child, textOf } from '../../../api/xml/tree.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';
import { jsonArg } from './escape.js';
import type { PciAddresses } from './pci.js';

// ---- controllers ----

/** Controllers that become a PCI device of their own (IDE 0 and the default USB live in the PIIX3). */
export function pciControllers(def: DomainDef): DomainController[] {
  return def.devices.controllers.filter((c) => c.type === 'scsi' || c.type === 'sata');
}

/** libvirt's default SCSI controller on x86 is the LSI 53C895A. */
export const scsiModel = (c: DomainController): string => c.model ?? 'lsilogic';

const SCSI_DRIVERS: Record<string, string> = { 'virtio-scsi': 'virtio-scsi-pci', lsilogic: 'lsi' };

export function validateController(c: DomainController): void {
  switch (c.type) {
    case 'ide':
      if (c.index !== 0) throw unsupportedConfig('only one IDE controller (the PIIX3 one) is available on i440fx machines');
      return;
    case 'usb':
      if (c.index !== 0 || (c.model !== undefined && c.model !== 'piix3-uhci' && c.model !== 'none')) {
        throw unsupportedElement(`USB controller model '${c.model ?? ''}'`);
      }
      return;
    case 'pci':
      if (c.model !== 'pci-root') throw unsupportedElement(`PCI controller model '${c.model ?? ''}'`);
      return;
    case 'scsi':
      if (!(scsiModel(c) in SCSI_DRIVERS)) throw unsupportedElement(`SCSI controller model '${scsiModel(c)}'`);
      return;
    case 'sata':
      return;
    default:
      throw unsupportedElement(`controller type '${c.type}'`);
  }
}

export const usbEnabled = (def: DomainDef): boolean => !def.devices.controllers.some((c) => c.type === 'usb' && c.model === 'none');

export function controllerArgs(def: DomainDef, pci: PciAddresses): string[] {
  const args: string[] = [];
  if (usbEnabled(def)) args.push('-device', jsonArg({ driver: 'piix3-usb-uhci', id: 'usb', bus: 'pci.0', addr: '0x1.0x2' }));
  // libvirt emits controllers grouped by type: SCSI before SATA.
  for (const type of ['scsi', 'sata']) {
    for (const c of def.devices.controllers.filter((x) => x.type === type)) {
      const driver = type === 'scsi' ? SCSI_DRIVERS[scsiModel(c)] : 'ahci';
      args.push('-device', jsonArg({ driver, id: `${type}${c.index}`, bus: 'pci.0', addr: pci.get(c) }));
    }
  }
  return args;
}

// ---- input ----

const USB_INPUTS: Record<string, string> = { tablet: 'usb-tablet', mouse: 'usb-mouse', keyboard: 'usb-kbd' };
/** A UHCI controller has two root ports. */
const USB_PORTS = 2;

/** USB input devices; PS/2 mouse and keyboard are built into the i440fx board. */
export function inputArgs(def: DomainDef, inputs: readonly XmlEl[]): string[] {
  const args: string[] = [];
  let n = 0;
  for (const i of inputs) {
    const type = attr(i, 'type') ?? '';
    const bus = attr(i, 'bus') ?? (type === 'tablet' ? 'usb' : 'ps2');
    if (bus === 'ps2' && (type === 'mouse' || type === 'keyboard')) continue;
    if (bus !== 'usb' || !(type in USB_INPUTS)) throw unsupportedElement(`input device type '${type}' on bus '${bus}'`);
    if (!usbEnabled(def)) throw unsupportedConfig(`USB input device '${type}' needs a USB controller`);
    if (n >= USB_PORTS) throw unsupportedConfig('more USB devices than the USB controller has ports');
    args.push('-device', jsonArg({ driver: USB_INPUTS[type], id: `input${n}`, bus: 'usb.0', port: String(n + 1) }));
    n++;
  }
  return args;
}

// ---- graphics ----

const VNC_BASE_PORT = 5900;

export function validateGraphics(def: DomainDef): void {
  if (def.devices.graphics.length > 1) throw unsupportedConfig('only one graphics device is supported');
  const g = def.devices.graphics[0];
  if (g && g.type !== 'vnc') throw unsupportedElement(`graphics type '${g.type}'`);
  if (g?.passwd !== undefined) throw unsupportedElement('a VNC password');
}

function vncListen(g: DomainGraphics): string {
  const l = g.listens[0];
  const type = attr(l, 'type') ?? 'address';
  if (l && type !== 'address') throw unsupportedElement(`VNC listen type '${type}'`);
  const address = attr(l, 'address') ?? g.listen ?? '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}

/** -vnc HOST:DISPLAY; an autoport display uses the port the caller reserved (default 5900). */
export function graphicsArgs(g: DomainGraphics, vncPort: number | undefined, audiodev: string): string[] {
  const auto = g.autoport === 'yes' || g.port === undefined || g.port === -1;
  const port = auto ? (vncPort ?? VNC_BASE_PORT) : g.port ?? VNC_BASE_PORT;
  if (port < VNC_BASE_PORT) throw unsupportedConfig(`VNC port ${port} is below ${VNC_BASE_PORT}`);
  return ['-vnc', `${vncListen(g)}:${port - VNC_BASE_PORT},audiodev=${audiodev}`];
}

// ---- video ----

const modelAttr = (v: DomainVideo, k: string): string | undefined => v.modelAttrs.find(([a]) => a === k)?.[1];
export const videoType = (v: DomainVideo): string => modelAttr(v, 'type') ?? 'cirrus';

export function validateVideos(def: DomainDef): void {
  const vs = def.devices.videos;
  if (vs.length > 1) throw unsupportedConfig('only one video device is supported');
  if (vs[0] && !['vga', 'cirrus', 'none'].includes(videoType(vs[0]))) throw unsupportedElement(`video model '${videoType(vs[0])}'`);
}

export function videoArgs(v: DomainVideo, pci: PciAddresses): string[] {
  const type = videoType(v);
  if (type === 'none') return [];
  if (type === 'cirrus') return ['-device', jsonArg({ driver: 'cirrus-vga', id: 'video0', bus: 'pci.0', addr: pci.get(v) })];
  const vgamemMb = Math.floor(Number(modelAttr(v, 'vram') ?? '16384') / 1024);
  return ['-device', jsonArg({ driver: 'VGA', id: 'video0', vgamem_mb: vgamemMb, bus: 'pci.0', addr: pci.get(v) })];
}

// ---- watchdog, balloon, rng ----

const WATCHDOG_ACTIONS: Record<string, string> = { reset: 'reset', shutdown: 'shutdown', poweroff: 'poweroff', pause: 'pause', none: 'none', dump: 'pause', inject_nmi: 'inject-nmi' };

export function validateWatchdog(w: XmlEl): void {
  const model = attr(w, 'model') ?? '';
  if (model !== 'i6300esb' && model !== 'ib700') throw unsupportedElement(`watchdog model '${model}'`);
  const action = attr(w, 'action') ?? 'reset';
  if (!(action in WATCHDOG_ACTIONS)) throw unsupportedElement(`watchdog action '${action}'`);
}

export function watchdogArgs(w: XmlEl, pci: PciAddresses): string[] {
  const model = attr(w, 'model');
  const dev = model === 'i6300esb' ? { driver: 'i6300esb', id: 'watchdog0', bus: 'pci.0', addr: pci.get(w) } : { driver: 'ib700', id: 'watchdog0' };
  return ['-device', jsonArg(dev), '-watchdog-action', WATCHDOG_ACTIONS[attr(w, 'action') ?? 'reset']];
}

export function validateBalloon(b: XmlEl | undefined): void {
  const model = attr(b, 'model') ?? 'virtio';
  if (model !== 'virtio' && model !== 'none') throw unsupportedElement(`memballoon model '${model}'`);
  for (const k of ['autodeflate', 'freePageReporting']) if (attr(b, k) === 'on') throw unsupportedElement(`memballoon ${k}`);
}

export const balloonArgs = (pci: PciAddresses, key: object): string[] =>
  ['-device', jsonArg({ driver: 'virtio-balloon-pci', id: 'balloon0', bus: 'pci.0', addr: pci.get(key) })];

export function validateRng(r: XmlEl): void {
  if (attr(r, 'model') !== 'virtio') throw unsupportedElement(`rng model '${attr(r, 'model') ?? ''}'`);
  const backend = child(r, 'backend');
  if (attr(backend, 'model') !== 'random') throw unsupportedElement(`rng backend model '${attr(backend, 'model') ?? ''}'`);
  if (child(r, 'rate')) throw unsupportedElement('rng <rate>');
}

export function rngArgs(r: XmlEl, index: number, pci: PciAddresses): string[] {
  const file = (textOf(child(r, 'backend')) ?? '').trim() || '/dev/urandom';
  return [
    '-object', jsonArg({ 'qom-type': 'rng-random', id: `objrng${index}`, filename: file }),
    '-device', jsonArg({ driver: 'virtio-rng-pci', rng: `objrng${index}`, id: `rng${index}`, bus: 'pci.0', addr: pci.get(r) }),
  ];
}
