// The PCI Express topology libvirt 9.0 gives a q35 guest at define time: the implicit controllers
// (pcie-root, the ICH9 AHCI at 00:1f.2, a qemu-xhci USB controller), the primary video card on
// 00:01.0, one pcie-root-port per PCIe device (each device on slot 0 of its port), one spare port
// for hot-plug on a new guest, and the ports themselves packed as functions of slots on pcie-root.
import type { DomainAddress, DomainController, DomainDef } from '../../../api/xml/domain/types.js';
import type { XmlEl } from '../../../api/xml/tree.js';
import { attr, child } from '../../../api/xml/tree.js';
import { unsupportedConfig } from './errors.js';
import { jsonArg } from './escape.js';
import { pciAddr, type PciAddresses, type PciDevice } from './pci.js';

export const isQ35 = (machine: string | undefined): boolean => machine !== undefined && /^pc-q35-\d+\.\d+$/.test(machine);

/** Slots of pcie-root nothing may take: the host bridge and the ICH9 functions (LPC, AHCI, SMBus). */
const RESERVED_SLOTS = [0, 0x1f];
const LAST_SLOT = 31;
const FUNCTIONS = 8;

const el = (name: string, attrs: [string, string][], children: XmlEl['children'] = []): XmlEl => ({ name, attrs, children });
const hex = (n: number, w: number): string => `0x${n.toString(16).padStart(w, '0')}`;

export const pciAddress = (bus: number, slot: number, fn = 0): DomainAddress => ({
  type: 'pci',
  attrs: [['domain', '0x0000'], ['bus', hex(bus, 2)], ['slot', hex(slot, 2)], ['function', hex(fn, 1)]],
});

export interface PciLocation {
  readonly bus: number;
  readonly slot: number;
  readonly fn: number;
  readonly multifunction?: boolean;
}

/** A PCI address of the definition as numbers; undefined when there is none. */
export function locationOf(a: DomainAddress | undefined, what: string): PciLocation | undefined {
  if (a === undefined) return undefined;
  if (a.type !== 'pci') throw unsupportedConfig(`${what} needs a PCI address, not '${a.type}'`);
  const get = (k: string) => parseInt(a.attrs.find(([n]) => n === k)?.[1] ?? '0', 16);
  if (get('domain') !== 0) throw unsupportedConfig(`${what}: only PCI domain 0 exists`);
  return { bus: get('bus'), slot: get('slot'), fn: get('function'), multifunction: a.attrs.some(([k, v]) => k === 'multifunction' && v === 'on') };
}

const controllerAddress = (c: DomainController): DomainAddress | undefined => {
  const a = c.children.find((x) => x.name === 'address');
  return a ? { type: attr(a, 'type') ?? '', attrs: a.attrs.filter(([k]) => k !== 'type') } : undefined;
};

const isRootPort = (c: DomainController): boolean => c.type === 'pci' && c.model === 'pcie-root-port';

/** Device names QEMU gives the buses: pcie-root is pcie.0, every port's secondary bus pci.N. */
export const busName = (bus: number): string => (bus === 0 ? 'pcie.0' : `pci.${bus}`);

/** The devices of q35 libvirt adds at define time when the definition lacks them. */
export function addQ35Controllers(def: DomainDef): void {
  const list = def.devices.controllers;
  const ctl = (type: string, model?: string, children: XmlEl[] = []): DomainController => ({ type, index: 0, model, extraAttrs: [], children });
  if (list.some((c) => c.type === 'ide')) throw unsupportedConfig('IDE controllers are unsupported for this QEMU binary or machine type');
  const usb = list.find((c) => c.type === 'usb' && c.index === 0);
  // libvirt adds the USB controller before the SATA one disks imply.
  const firstSata = list.findIndex((c) => c.type === 'sata');
  if (!usb) list.splice(firstSata === -1 ? list.length : firstSata, 0, ctl('usb', 'qemu-xhci'));
  else if (usb.model === undefined) usb.model = 'qemu-xhci';
  const sata = list.find((c) => c.type === 'sata' && c.index === 0);
  if (!sata) list.push(ctl('sata', undefined, [el('address', [['type', 'pci'], ...pciAddress(0, 0x1f, 2).attrs])]));
  else if (!sata.children.some((x) => x.name === 'address')) sata.children.push(el('address', [['type', 'pci'], ...pciAddress(0, 0x1f, 2).attrs]));
  if (!list.some((c) => c.type === 'pci' && c.index === 0)) list.push(ctl('pci', 'pcie-root'));
}

/** Tracks which functions of which slots on pcie-root are taken. */
class RootBus {
  private readonly used = new Map<number, Set<number>>();
  /** Slots holding only root ports libvirt packed there, which more ports may join. */
  private readonly aggregate = new Set<number>();

  constructor() {
    for (const s of RESERVED_SLOTS) this.used.set(s, new Set(Array.from({ length: FUNCTIONS }, (_, i) => i)));
  }

  /** `port`: a root port, whose slot stays open to more ports as long as only ports use it. */
  take(slot: number, fn: number, what: string, port = false): void {
    if (slot > LAST_SLOT || fn >= FUNCTIONS) throw unsupportedConfig(`${what}: PCI address ${pciAddr(slot, fn)} does not exist`);
    const fns = this.used.get(slot) ?? new Set<number>();
    if (fns.has(fn) || RESERVED_SLOTS.includes(slot)) throw unsupportedConfig(`${what}: PCI slot ${pciAddr(slot, fn)} is reserved or already in use`);
    if (port && (fns.size === 0 || this.aggregate.has(slot))) this.aggregate.add(slot);
    else this.aggregate.delete(slot);
    fns.add(fn);
    this.used.set(slot, fns);
  }

  /** The next function for a root port: beside earlier packed ports, else function 0 of an empty slot. */
  nextPortFunction(what: string): [number, number] {
    for (let s = 1; s <= LAST_SLOT; s++) {
      const fns = this.used.get(s);
      if (fns === undefined || fns.size === 0) {
        this.used.set(s, new Set([0]));
        this.aggregate.add(s);
        return [s, 0];
      }
      if (this.aggregate.has(s) && fns.size < FUNCTIONS) {
        let f = 0;
        while (fns.has(f)) f++;
        fns.add(f);
        return [s, f];
      }
    }
    throw unsupportedConfig(`no free PCI slot left for ${what}`);
  }

  functionsIn(slot: number): number {
    return this.used.get(slot)?.size ?? 0;
  }
}

/**
 * Addresses every PCI device of `ordered` (libvirt's assignment order) and adds the root ports
 * they need to `def`. `primaryVideo` gets 00:01.0 when that is free. Mutates the definition:
 * devices get their addresses through `set`, new ports join the controller list.
 */
export function assignQ35Addresses(
  def: DomainDef,
  ordered: readonly (PciDevice & { set: (a: DomainAddress) => void })[],
  primaryVideo?: PciDevice,
): void {
  const list = def.devices.controllers;
  const root = new RootBus();
  const pciCtls = list.filter((c) => c.type === 'pci');
  const maxIdx = Math.max(0, ...pciCtls.map((c) => c.index));
  const ports = new Map<number, DomainController>(pciCtls.filter(isRootPort).map((c) => [c.index, c]));
  for (const c of pciCtls) if (!isRootPort(c) && c.model !== 'pcie-root') throw unsupportedConfig(`PCI controller model '${c.model ?? ''}' on q35`);
  const occupied = new Set<number>();
  const claim = (loc: PciLocation, what: string, port = false): void => {
    if (loc.bus === 0) {
      root.take(loc.slot, loc.fn, what, port);
      return;
    }
    if (!ports.has(loc.bus)) throw unsupportedConfig(`${what}: there is no pcie-root-port with index ${loc.bus}`);
    if (loc.slot !== 0 || loc.fn !== 0 || occupied.has(loc.bus)) throw unsupportedConfig(`${what}: PCI address ${hex(loc.bus, 2)}:${pciAddr(loc.slot, loc.fn)} is not free`);
    occupied.add(loc.bus);
  };
  // Explicit addresses first: the ports', then the devices'.
  for (const c of ports.values()) {
    const loc = locationOf(controllerAddress(c), `pci controller ${c.index}`);
    if (loc) {
      if (loc.bus !== 0) throw unsupportedConfig(`pci controller ${c.index}: a pcie-root-port plugs into pcie-root (bus 0)`);
      claim(loc, `pci controller ${c.index}`, true);
    }
  }
  for (const c of list) {
    if (c.type === 'sata' && c.index === 0) {
      // The built-in AHCI sits in the reserved slot 0x1f; any other address is refused.
      const loc = locationOf(controllerAddress(c), 'sata controller 0');
      if (loc && !(loc.bus === 0 && loc.slot === 0x1f && loc.fn === 2)) throw unsupportedConfig('the q35 SATA controller 0 is at 0000:00:1f.2');
    }
  }
  const done = new Set<object>();
  for (const d of ordered) {
    const loc = locationOf(d.address, d.what);
    if (loc) {
      claim(loc, d.what);
      done.add(d.key);
    }
  }
  const video = ordered.find((d) => d.key === primaryVideo?.key);
  if (video && !done.has(video.key) && root.functionsIn(1) === 0) {
    root.take(1, 0, video.what);
    video.set(pciAddress(0, 1));
    done.add(video.key);
  }
  let next = maxIdx + 1;
  const added: DomainController[] = [];
  const newPort = (): number => {
    const c: DomainController = { type: 'pci', index: next++, model: 'pcie-root-port', extraAttrs: [], children: [] };
    ports.set(c.index, c);
    added.push(c);
    return c.index;
  };
  const freePort = (): number | undefined => [...ports.keys()].sort((a, b) => a - b).find((i) => !occupied.has(i));
  for (const d of ordered) {
    if (done.has(d.key)) continue;
    const bus = freePort() ?? newPort();
    occupied.add(bus);
    d.set(pciAddress(bus, 0));
  }
  // A new guest whose ports libvirt made gets one more, empty, for hot-plug.
  if (maxIdx <= 0 && added.length > 0 && freePort() === undefined) newPort();
  insertControllers(list, added);
  placePorts(ports, root);
}

function insertControllers(list: DomainController[], added: DomainController[]): void {
  if (added.length === 0) return;
  let at = list.length;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].type === 'pci') {
      at = i + 1;
      break;
    }
  }
  list.splice(at, 0, ...added);
}

/** Addresses, model name and target for every root port that lacks them, as libvirt fills them in. */
function placePorts(ports: Map<number, DomainController>, root: RootBus): void {
  const sorted = [...ports.values()].sort((a, b) => a.index - b.index);
  for (const c of sorted) {
    if (c.children.some((x) => x.name === 'address')) continue;
    const [slot, fn] = root.nextPortFunction(`pci controller ${c.index}`);
    c.children.push(el('address', [['type', 'pci'], ...pciAddress(0, slot, fn).attrs]));
  }
  for (const c of sorted) {
    const addr = c.children.find((x) => x.name === 'address');
    const loc = locationOf(controllerAddress(c), `pci controller ${c.index}`);
    if (!addr || !loc) continue;
    if (loc.fn === 0 && root.functionsIn(loc.slot) > 1 && !loc.multifunction) addr.attrs.push(['multifunction', 'on']);
    if (!child({ name: 'controller', attrs: [], children: c.children }, 'model')) c.children.unshift(el('model', [['name', 'pcie-root-port']]));
    const target = c.children.find((x) => x.name === 'target');
    const chassis = attr(target, 'chassis') ?? String(c.index);
    const port = attr(target, 'port') ?? `0x${((loc.slot << 3) + loc.fn).toString(16)}`;
    const t = el('target', [['chassis', chassis], ['port', port], ...(target?.attrs.filter(([k]) => k !== 'chassis' && k !== 'port') ?? [])], target?.children ?? []);
    const at = c.children.findIndex((x) => x.name === 'target');
    if (at >= 0) c.children[at] = t;
    else c.children.splice(c.children.findIndex((x) => x.name === 'address'), 0, t);
  }
}

/** QEMU's bus/addr for every addressed device of a finished q35 definition. */
export function q35Places(ordered: readonly PciDevice[]): PciAddresses {
  const out: PciAddresses = new Map();
  for (const d of ordered) {
    const loc = locationOf(d.address, d.what);
    if (loc) out.set(d.key, { bus: busName(loc.bus), addr: pciAddr(loc.slot, loc.fn) });
  }
  return out;
}

/** The -device options of the root ports, in index order. */
export function rootPortArgs(def: DomainDef): string[] {
  const args: string[] = [];
  const ports = def.devices.controllers.filter(isRootPort).sort((a, b) => a.index - b.index);
  for (const c of ports) {
    const loc = locationOf(controllerAddress(c), `pci controller ${c.index}`);
    const target = c.children.find((x) => x.name === 'target');
    if (!loc) throw unsupportedConfig(`pci controller ${c.index} has no address`);
    const props: Record<string, unknown> = {
      driver: 'pcie-root-port',
      port: parseInt(attr(target, 'port') ?? '0', 16),
      chassis: Number(attr(target, 'chassis') ?? c.index),
      id: `pci.${c.index}`,
      bus: 'pcie.0',
    };
    if (loc.multifunction) props.multifunction = true;
    props.addr = pciAddr(loc.slot, loc.fn);
    args.push('-device', jsonArg(props));
  }
  return args;
}
