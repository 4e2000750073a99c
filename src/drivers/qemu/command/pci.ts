// PCI slot assignment on the i440fx root bus (pci.0), in the order libvirt's QEMU driver hands
// out slots: explicit addresses first, the primary video card on slot 2, then controllers' and
// devices' kinds in a fixed sequence, each taking the lowest free slot.
import type { DomainAddress } from '../../../api/xml/domain/types.js';
import { unsupportedConfig } from './errors.js';

/** Slot 0 is the host bridge, slot 1 the PIIX3 (ISA bridge, IDE at .1, USB at .2). */
const FIRST_FREE_SLOT = 2;
const LAST_SLOT = 31;

export interface PciDevice {
  /** Whatever object the caller uses to look the address up again. */
  readonly key: object;
  /** Address given in the definition, if any. */
  readonly address?: DomainAddress;
  /** Human name for error messages. */
  readonly what: string;
}

/** Where a device sits, as QEMU's "bus" ("pci.0", "pcie.0", "pci.3") and "addr" ("0x3", "0x1.0x2") properties. */
export interface PciPlace {
  readonly bus: string;
  readonly addr: string;
}

/** Assigned addresses by device. */
export type PciAddresses = Map<object, PciPlace>;

/** The bus/addr properties of a device's -device option, in libvirt's order. */
export const pciProps = (pci: PciAddresses, key: object): { bus?: string; addr?: string } => {
  const p = pci.get(key);
  return { bus: p?.bus, addr: p?.addr };
};

export const pciAddr = (slot: number, fn = 0): string => (fn === 0 ? `0x${slot.toString(16)}` : `0x${slot.toString(16)}.0x${fn.toString(16)}`);

/**
 * `ordered` lists every PCI device in libvirt's assignment order; `primaryVideo` (one of them)
 * gets slot 2 ahead of the others when that slot is free.
 */
export function assignPciSlots(ordered: readonly PciDevice[], primaryVideo?: PciDevice): PciAddresses {
  const used = new Set<number>([0, 1]);
  const out: PciAddresses = new Map();
  for (const d of ordered) {
    if (d.address === undefined) continue;
    if (d.address.type !== 'pci') throw unsupportedConfig(`${d.what} needs a PCI address, not '${d.address.type}'`);
    const get = (k: string) => parseInt(d.address?.attrs.find(([n]) => n === k)?.[1] ?? '0', 16);
    if (get('domain') !== 0 || get('bus') !== 0 || get('function') !== 0) {
      throw unsupportedConfig(`${d.what}: only function 0 of slots on PCI bus 0 can be used`);
    }
    const slot = get('slot');
    if (slot < FIRST_FREE_SLOT || slot > LAST_SLOT || used.has(slot)) {
      throw unsupportedConfig(`${d.what}: PCI slot 0x${slot.toString(16)} is reserved or already in use`);
    }
    used.add(slot);
    out.set(d.key, { bus: 'pci.0', addr: pciAddr(slot) });
  }
  const take = (d: PciDevice): void => {
    if (out.has(d.key)) return;
    let slot = FIRST_FREE_SLOT;
    while (used.has(slot)) slot++;
    if (slot > LAST_SLOT) throw unsupportedConfig(`no free PCI slot left for ${d.what}`);
    used.add(slot);
    out.set(d.key, { bus: 'pci.0', addr: pciAddr(slot) });
  };
  if (primaryVideo && !used.has(FIRST_FREE_SLOT)) take(primaryVideo);
  for (const d of ordered) take(d);
  return out;
}

/** The slot a hot-plugged device gets: the lowest one nothing occupies, as libvirt hands out. */
export function freePciSlot(used: ReadonlySet<number>, what: string): number {
  let slot = FIRST_FREE_SLOT;
  while (used.has(slot)) slot++;
  if (slot > LAST_SLOT) throw unsupportedConfig(`no free PCI slot left for ${what}`);
  return slot;
}
