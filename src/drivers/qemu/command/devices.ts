// The remaining devices: controllers, input, VNC graphics, video, watchdog, balloon and RNG.
import type { DomainController, DomainDef, DomainGraphics, DomainVideo } from '../../../api/xml/domain/types.js';
import type { XmlEl } from '../../../api/xml/tree.js';
import { attr, child, textOf } from '../../../api/xml/tree.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';
import { jsonArg } from './escape.js';
import { pciProps, type PciAddresses } from './pci.js';
import { isQ35, rootPortArgs } from './q35.js';

// ---- controllers ----

/**
 * Controllers that become a PCI device of their own: on i440fx IDE 0 and the default USB live in
 * the PIIX3; on q35 SATA 0 is the ICH9 AHCI and the USB controller is a qemu-xhci on a root port.
 */
export function pciControllers(def: DomainDef): DomainController[] {
  if (isQ35(def.os.machine)) {
    return def.devices.controllers.filter((c) => c.type === 'scsi' || (c.type === 'sata' && c.index !== 0) || (c.type === 'usb' && c.model !== 'none'));
  }
  return def.devices.controllers.filter((c) => c.type === 'scsi' || c.type === 'sata');
}

/** libvirt's default SCSI controller on x86 is the LSI 53C895A. */
export const scsiModel = (c: DomainController): string => c.model ?? 'lsilogic';

const SCSI_DRIVERS: Record<string, string> = { 'virtio-scsi': 'virtio-scsi-pci', lsilogic: 'lsi' };

export function validateController(c: DomainController, q35 = false): void {
  switch (c.type) {
    case 'ide':
      if (q35) throw unsupportedConfig('IDE controllers are unsupported for this QEMU binary or machine type');
      if (c.index !== 0) throw unsupportedConfig('only one IDE controller (the PIIX3 one) is available on i440fx machines');
      return;
    case 'usb': {
      const usbModel = q35 ? 'qemu-xhci' : 'piix3-uhci';
      if (c.index !== 0 || (c.model !== undefined && c.model !== usbModel && c.model !== 'none')) {
        throw unsupportedElement(`USB controller model '${c.model ?? ''}'`);
      }
      return;
    }
    case 'pci':
      if (q35 ? c.model !== 'pcie-root' && c.model !== 'pcie-root-port' : c.model !== 'pci-root') {
        throw unsupportedElement(`PCI controller model '${c.model ?? ''}'`);
      }
      return;
    case 'scsi':
      if (!(scsiModel(c) in SCSI_DRIVERS)) throw unsupportedElement(`SCSI controller model '${scsiModel(c)}'`);
      // The LSI controller is conventional PCI: q35 would need a PCIe-to-PCI bridge we do not build.
      if (q35 && scsiModel(c) !== 'virtio-scsi') throw unsupportedElement(`SCSI controller model '${scsiModel(c)}' on q35`);
      return;
    case 'sata':
      if (q35 && c.index !== 0) throw unsupportedElement('SATA controllers beyond the built-in ICH9 one on q35');
      return;
    default:
      throw unsupportedElement(`controller type '${c.type}'`);
  }
}

export const usbEnabled = (def: DomainDef): boolean => !def.devices.controllers.some((c) => c.type === 'usb' && c.model === 'none');

export function controllerArgs(def: DomainDef, pci: PciAddresses): string[] {
  const args: string[] = [];
  const q35 = isQ35(def.os.machine);
  if (q35) args.push(...rootPortArgs(def));
  const usb = def.devices.controllers.find((c) => c.type === 'usb');
  if (q35 && usb && usbEnabled(def)) args.push('-device', jsonArg({ driver: 'qemu-xhci', id: 'usb', ...pciProps(pci, usb) }));
  else if (!q35 && usbEnabled(def)) args.push('-device', jsonArg({ driver: 'piix3-usb-uhci', id: 'usb', bus: 'pci.0', addr: '0x1.0x2' }));
  // libvirt emits controllers grouped by type: SCSI before SATA.
  for (const type of ['scsi', 'sata']) {
    for (const c of def.devices.controllers.filter((x) => x.type === type && !(q35 && type === 'sata' && x.index === 0))) {
      const driver = type === 'scsi' ? SCSI_DRIVERS[scsiModel(c)] : 'ahci';
      args.push('-device', jsonArg({ driver, id: `${type}${c.index}`, ...pciProps(pci, c) }));
    }
  }
  return args;
}

// ---- input ----

const USB_INPUTS: Record<string, string> = { tablet: 'usb-tablet', mouse: 'usb-mouse', keyboard: 'usb-kbd' };
/** A UHCI controller has two root ports, libvirt counts four on a qemu-xhci. */
const usbPorts = (def: DomainDef): number => (isQ35(def.os.machine) ? 4 : 2);

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
    if (n >= usbPorts(def)) throw unsupportedConfig('more USB devices than the USB controller has ports');
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
  if (type === 'cirrus') return ['-device', jsonArg({ driver: 'cirrus-vga', id: 'video0', ...pciProps(pci, v) })];
  const vgamemMb = Math.floor(Number(modelAttr(v, 'vram') ?? '16384') / 1024);
  return ['-device', jsonArg({ driver: 'VGA', id: 'video0', vgamem_mb: vgamemMb, ...pciProps(pci, v) })];
}

// ---- watchdog, balloon, rng ----

const WATCHDOG_ACTIONS: Record<string, string> = { reset: 'reset', shutdown: 'shutdown', poweroff: 'poweroff', pause: 'pause', none: 'none', dump: 'pause', inject_nmi: 'inject-nmi' };

export function validateWatchdog(w: XmlEl, q35 = false): void {
  const model = attr(w, 'model') ?? '';
  if (q35 && model === 'i6300esb') throw unsupportedElement("watchdog model 'i6300esb' on q35 (a conventional PCI device)");
  if (model !== 'i6300esb' && model !== 'ib700') throw unsupportedElement(`watchdog model '${model}'`);
  const action = attr(w, 'action') ?? 'reset';
  if (!(action in WATCHDOG_ACTIONS)) throw unsupportedElement(`watchdog action '${action}'`);
}

export function watchdogArgs(w: XmlEl, pci: PciAddresses): string[] {
  const model = attr(w, 'model');
  const dev = model === 'i6300esb' ? { driver: 'i6300esb', id: 'watchdog0', ...pciProps(pci, w) } : { driver: 'ib700', id: 'watchdog0' };
  return ['-device', jsonArg(dev), '-watchdog-action', WATCHDOG_ACTIONS[attr(w, 'action') ?? 'reset']];
}

export function validateBalloon(b: XmlEl | undefined): void {
  const model = attr(b, 'model') ?? 'virtio';
  if (model !== 'virtio' && model !== 'none') throw unsupportedElement(`memballoon model '${model}'`);
  for (const k of ['autodeflate', 'freePageReporting']) if (attr(b, k) === 'on') throw unsupportedElement(`memballoon ${k}`);
}

export const balloonArgs = (pci: PciAddresses, key: object): string[] =>
  ['-device', jsonArg({ driver: 'virtio-balloon-pci', id: 'balloon0', ...pciProps(pci, key) })];

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
    '-device', jsonArg({ driver: 'virtio-rng-pci', rng: `objrng${index}`, id: `rng${index}`, ...pciProps(pci, r) }),
  ];
}
