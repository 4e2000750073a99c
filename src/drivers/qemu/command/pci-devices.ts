// The definition's PCI devices in the order libvirt's QEMU driver addresses them (interfaces,
// controllers, virtio disks, balloon, RNGs, watchdog, video), each with a way to write the
// address it receives back into the definition. Shared by define-time addressing and q35 starts.
import type { DomainAddress, DomainDef } from '../../../api/xml/domain/types.js';
import type { XmlEl } from '../../../api/xml/tree.js';
import { attr } from '../../../api/xml/tree.js';
import { parseAddress } from '../../../api/xml/domain/parse.js';
import { pciControllers, videoType } from './devices.js';
import type { PciDevice } from './pci.js';

export interface AddressablePci extends PciDevice {
  readonly set: (a: DomainAddress) => void;
}

const addressEl = (a: DomainAddress): XmlEl => ({ name: 'address', attrs: [['type', a.type], ...a.attrs], children: [] });

export function addressablePciDevices(def: DomainDef): { devs: AddressablePci[]; video?: AddressablePci } {
  const dv = def.devices;
  const others = (k: string) => dv.others.filter((o) => o.kind === k);
  const withAddr = (o: { el: XmlEl }) => parseAddress(o.el);
  const setOther = (o: { el: XmlEl }) => (a: DomainAddress) => (o.el = { ...o.el, children: [...o.el.children, addressEl(a)] });
  const devs: AddressablePci[] = [
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
  const v = dv.videos.find((x) => videoType(x) !== 'none');
  if (!v) return { devs };
  const video: AddressablePci = { key: v, address: v.address, what: 'video0', set: (a) => (v.address = a) };
  devs.push(video);
  return { devs, video };
}
