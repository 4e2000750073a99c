// The devices and addresses libvirt 9.0's QEMU driver adds to an i440fx definition at define
// time, so they show in the inactive XML too: the PIIX3 USB controller and the PCI root, PS/2
// input, the default balloon and audio back-end, isa-serial targets, USB ports and PCI slots.
import type { DomainAddress, DomainController, DomainDef } from '../../api/xml/domain/types.js';
import type { XmlEl } from '../../api/xml/tree.js';
import { attr, elementsOf } from '../../api/xml/tree.js';
import { pciControllers, videoType } from './command/devices.js';
import { assignPciSlots, type PciDevice } from './command/pci.js';
import { parseAddress } from '../../api/xml/domain/parse.js';

const el = (name: string, attrs: [string, string][], children: XmlEl[] = []): XmlEl => ({ name, attrs, children });
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
  const dv = def.devices;
  if (!dv.controllers.some((c) => c.type === 'usb')) {
    addController(def, { type: 'usb', index: 0, model: 'piix3-uhci', extraAttrs: [], children: [addressEl(pci(1, 2))] });
  }
  if (!dv.controllers.some((c) => c.type === 'pci')) addController(def, { type: 'pci', index: 0, model: 'pci-root', extraAttrs: [], children: [] });
  for (const c of dv.controllers) {
    if (c.type === 'ide' && c.index === 0 && !c.children.some((x) => x.name === 'address')) c.children.push(addressEl(pci(1, 1)));
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
  if (dv.graphics.length && !dv.others.some((o) => o.kind === 'audio')) dv.others.push({ kind: 'audio', el: el('audio', [['id', '1'], ['type', 'none']]) });
  if (!dv.others.some((o) => o.kind === 'memballoon')) dv.others.push({ kind: 'memballoon', el: el('memballoon', [['model', 'virtio']]) });
  assignAddresses(def);
}

/** PCI slots for every device without one, in the order the command line builder assigns them. */
function assignAddresses(def: DomainDef): void {
  const dv = def.devices;
  const others = (k: string) => dv.others.filter((o) => o.kind === k);
  const withAddr = (o: { el: XmlEl }) => parseAddress(o.el);
  const setOther = (o: { el: XmlEl }) => (a: DomainAddress) => (o.el = { ...o.el, children: [...o.el.children, addressEl(a)] });
  const devs: (PciDevice & { set?: (a: DomainAddress) => void })[] = [
    ...dv.nets.map((n, i) => ({ key: n, address: n.address, what: `interface net${i}`, set: (a: DomainAddress) => (n.address = a) })),
    ...pciControllers(def).map((c) => ({
      key: c, address: parseAddress({ name: 'controller', attrs: [], children: c.children }), what: `${c.type} controller ${c.index}`,
      set: (a: DomainAddress) => c.children.push(addressEl(a)),
    })),
    ...dv.disks.filter((d) => d.targetBus === 'virtio').map((d) => ({ key: d, address: d.address, what: `disk ${d.targetDev}`, set: (a: DomainAddress) => (d.address = a) })),
    ...others('memballoon').filter((o) => (attr(o.el, 'model') ?? 'virtio') === 'virtio').map((o) => ({ key: o, address: withAddr(o), what: 'memballoon', set: setOther(o) })),
    ...others('rng').map((o, i) => ({ key: o, address: withAddr(o), what: `rng${i}`, set: setOther(o) })),
    ...others('watchdog').filter((o) => attr(o.el, 'model') === 'i6300esb').map((o) => ({ key: o, address: withAddr(o), what: 'watchdog', set: setOther(o) })),
  ];
  const video = dv.videos.find((v) => videoType(v) !== 'none');
  if (video) devs.push({ key: video, address: video.address, what: 'video0', set: (a) => (video.address = a) });
  let slots;
  try {
    slots = assignPciSlots(devs, video ? devs[devs.length - 1] : undefined);
  } catch {
    // Addresses the builder would refuse are reported at start, with its error.
    return;
  }
  for (const d of devs) {
    if (d.address !== undefined || !d.set) continue;
    const s = slots.get(d.key);
    if (s !== undefined) d.set(pci(slotOf(s)));
  }
}
