// The devices and addresses libvirt 9.0's QEMU driver adds to a definition at define time, so
// they show in the inactive XML too. i440fx: the PIIX3 USB controller and the PCI root; q35: the
// PCIe topology (command/q35.ts). Both: PS/2 input, the default balloon and audio back-end,
// isa-serial targets, USB ports and PCI addresses.
import type { DomainAddress, DomainController, DomainDef } from '../../api/xml/domain/types.js';
import type { XmlEl } from '../../api/xml/tree.js';
import { attr, elementsOf } from '../../api/xml/tree.js';
import { assignPciSlots } from './command/pci.js';
import { addressablePciDevices } from './command/pci-devices.js';
import { addQ35Controllers, assignQ35Addresses, isQ35 } from './command/q35.js';

const el = (name: string, attrs: [string, string][], children: XmlEl['children'] = []): XmlEl => ({ name, attrs, children });
const pci = (slot: number, fn = 0): DomainAddress => ({
  type: 'pci',
  attrs: [['domain', '0x0000'], ['bus', '0x00'], ['slot', `0x${slot.toString(16).padStart(2, '0')}`], ['function', `0x${fn.toString(16)}`]],
});
const addressEl = (a: DomainAddress): XmlEl => el('address', [['type', a.type], ...a.attrs]);
/** "0x3" as the slot assigner writes it -> slot 3. */
const slotOf = (addr: string): number => parseInt(addr.split('.')[0], 16);

function addController(def: DomainDef, c: DomainController): void {
  const list = def.devices.controllers;
  // libvirt adds these before its generic implicit controllers (the IDE one).
  const ide = list.findIndex((x) => x.type === 'ide');
  list.splice(ide === -1 ? list.length : ide, 0, c);
}

export function addQemuDefaultDevices(def: DomainDef): void {
  dropDefaultBootWithBootOrder(def);
  const q35 = isQ35(def.os.machine);
  if (q35) addQ35Controllers(def);
  else addPiix3Controllers(def);
  addCommonDevices(def);
  if (q35) assignQ35(def);
  else assignAddresses(def);
}

/**
 * libvirt ends with <boot dev='hd'/> only when no device has a <boot order>; the shared parser
 * adds it first, as libvirt's parser does, and libvirt's post-parse takes it out again.
 * (A definition with both is refused by libvirt, so 'hd' alone next to a boot order is ours.)
 */
function dropDefaultBootWithBootOrder(def: DomainDef): void {
  const ordered = [...def.devices.disks, ...def.devices.nets].some((d) => d.boot !== undefined);
  if (ordered && def.os.boots.length === 1 && def.os.boots[0] === 'hd') def.os.boots = [];
}

function addPiix3Controllers(def: DomainDef): void {
  const dv = def.devices;
  if (!dv.controllers.some((c) => c.type === 'usb')) {
    addController(def, { type: 'usb', index: 0, model: 'piix3-uhci', extraAttrs: [], children: [addressEl(pci(1, 2))] });
  }
  if (!dv.controllers.some((c) => c.type === 'pci')) addController(def, { type: 'pci', index: 0, model: 'pci-root', extraAttrs: [], children: [] });
  for (const c of dv.controllers) {
    if (c.type === 'ide' && c.index === 0 && !c.children.some((x) => x.name === 'address')) c.children.push(addressEl(pci(1, 1)));
  }
}

function addCommonDevices(def: DomainDef): void {
  const dv = def.devices;
  // The CPU model QEMU reports as the machine's default (qemu64 on pc/q35), written out for TCG.
  if (def.type === 'qemu' && !def.sections.has('cpu')) {
    def.sections.set('cpu', [el('cpu', [['mode', 'custom'], ['match', 'exact'], ['check', 'none']], [el('model', [['fallback', 'forbid']], [{ text: 'qemu64' }])])]);
  }
  for (const c of dv.chrs) {
    if (c.kind === 'serial' && c.targetType === undefined) {
      c.targetType = 'isa-serial';
      if (!c.targetChildren.some((x) => x.name === 'model')) c.targetChildren.push(el('model', [['name', 'isa-serial']]));
    }
  }
  const inputs = dv.others.filter((o) => o.kind === 'input');
  const hasInput = (type: string) => inputs.some((o) => attr(o.el, 'type') === type && (attr(o.el, 'bus') ?? 'ps2') === 'ps2');
  // USB devices take the root hub's ports in order.
  let usbPort = 1;
  for (const o of inputs) {
    if (attr(o.el, 'bus') !== 'usb' || elementsOf(o.el, 'address').length) continue;
    o.el = { ...o.el, children: [...o.el.children, el('address', [['type', 'usb'], ['bus', '0'], ['port', String(usbPort++)]])] };
  }
  // The i8042 PS/2 mouse and keyboard every i440fx board has, after the configured inputs.
  if (!hasInput('mouse')) dv.others.push({ kind: 'input', el: el('input', [['type', 'mouse'], ['bus', 'ps2']]) });
  if (!hasInput('keyboard')) dv.others.push({ kind: 'input', el: el('input', [['type', 'keyboard'], ['bus', 'ps2']]) });
  // libvirtd 9.0 adds the "none" audio back-end to every guest, with or without graphics.
  if (!dv.others.some((o) => o.kind === 'audio')) dv.others.push({ kind: 'audio', el: el('audio', [['id', '1'], ['type', 'none']]) });
  if (!dv.others.some((o) => o.kind === 'memballoon')) dv.others.push({ kind: 'memballoon', el: el('memballoon', [['model', 'virtio']]) });
}

function assignQ35(def: DomainDef): void {
  const { devs, video } = addressablePciDevices(def);
  try {
    assignQ35Addresses(def, devs, video);
  } catch {
    // Addresses the builder would refuse are reported at start, with its error.
  }
}

/** PCI slots for every device without one, in the order the command line builder assigns them. */
function assignAddresses(def: DomainDef): void {
  const { devs, video } = addressablePciDevices(def);
  let slots;
  try {
    slots = assignPciSlots(devs, video);
  } catch {
    // Addresses the builder would refuse are reported at start, with its error.
    return;
  }
  for (const d of devs) {
    if (d.address !== undefined) continue;
    const s = slots.get(d.key);
    if (s !== undefined) d.set(pci(slotOf(s.addr)));
  }
}
