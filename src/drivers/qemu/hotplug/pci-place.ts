// Where a PCI device joining a guest goes. i440fx: a free slot of pci.0. q35: slot 0 of an empty
// pcie-root-port; live, only the ports QEMU already has count (ports cannot be hot-plugged, and
// libvirt adds none), so a guest without an empty one is refused as libvirt refuses it.
import type { DomainAddress, DomainDef } from '../../../api/xml/domain/types.js';
import { pciAddr, type PciPlace } from '../command/pci.js';
import { addressablePciDevices } from '../command/pci-devices.js';
import { assignQ35Addresses, busName, isQ35, locationOf, pciAddress as q35Address } from '../command/q35.js';
import { internalError } from '../errors.js';
import type { QemuProcess } from '../process.js';
import { chooseSlot, configUnsupported, pciAddress, usedSlotsLive } from './common.js';

/** QEMU's bus/addr for a definition's PCI address. */
export function pciPlaceOf(def: DomainDef, a: DomainAddress | undefined): PciPlace | undefined {
  const loc = a?.type === 'pci' ? locationOf(a, 'device') : undefined;
  if (!loc) return undefined;
  return { bus: isQ35(def.os.machine) ? busName(loc.bus) : `pci.${loc.bus}`, addr: pciAddr(loc.slot, loc.fn) };
}

interface PciDeviceInfo { qdev_id?: string; pci_bridge?: { devices?: unknown[] } }
interface PciBusInfo { bus: number; devices: PciDeviceInfo[] }

/** The address a device hot-plugged into the running guest gets. */
export async function liveAddress(proc: QemuProcess, def: DomainDef, own: DomainAddress | undefined, what: string): Promise<DomainAddress> {
  if (!isQ35(def.os.machine)) return pciAddress(chooseSlot(await usedSlotsLive(proc, def), own, what));
  const buses = await proc.command<PciBusInfo[]>('query-pci', undefined, def.name);
  const taken = new Set<number>();
  for (const dev of [...def.devices.disks, ...def.devices.nets]) {
    const loc = dev.address?.type === 'pci' ? locationOf(dev.address, what) : undefined;
    if (loc && loc.bus !== 0) taken.add(loc.bus);
  }
  const empty: number[] = [];
  for (const b of buses) {
    if (b.bus !== 0) continue;
    for (const dev of b.devices) {
      const m = /^pci\.(\d+)$/.exec(dev.qdev_id ?? '');
      if (m && dev.pci_bridge && (dev.pci_bridge.devices ?? []).length === 0 && !taken.has(Number(m[1]))) empty.push(Number(m[1]));
    }
  }
  empty.sort((a, b) => a - b);
  const loc = locationOf(own, what);
  if (loc) {
    if (loc.bus === 0 || loc.slot !== 0 || loc.fn !== 0 || !empty.includes(loc.bus)) {
      throw configUnsupported(`${what}: PCI address ${loc.bus.toString(16).padStart(2, '0')}:${pciAddr(loc.slot, loc.fn)} is not an empty pcie-root-port`);
    }
    return q35Address(loc.bus, 0);
  }
  if (empty.length === 0) throw internalError('No more available PCI slots');
  return q35Address(empty[0], 0);
}

/** On q35, addresses the devices of a persistent definition that lack one (adding ports as needed). */
export function addressNewQ35(def: DomainDef): void {
  if (!isQ35(def.os.machine)) return;
  const { devs, video } = addressablePciDevices(def);
  assignQ35Addresses(def, devs, video);
}
