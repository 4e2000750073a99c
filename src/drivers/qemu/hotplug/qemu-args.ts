// The argv builder's JSON options reused as QMP arguments: what -blockdev/-netdev/-device say
// at start is exactly what blockdev-add/netdev_add/device_add take at hot-plug time.
import type { DomainDef, DomainDisk } from '../../../api/xml/domain/types.js';
import { buildQemuCommand } from '../command/index.js';
import { scsiModel } from '../command/devices.js';
import { diskArgs } from '../command/disks.js';
import { slotOf } from './common.js';
import type { PciAddresses } from '../command/pci.js';
import { isQ35 } from '../command/q35.js';
import { pciPlaceOf } from './pci-place.js';

export type Props = Record<string, unknown>;

/** The JSON options after each occurrence of `opt` ("-blockdev", "-device", ...). */
export function optionObjects(argv: readonly string[], opt: string): Props[] {
  const out: Props[] = [];
  for (let i = 0; i + 1 < argv.length; i++) if (argv[i] === opt && argv[i + 1].startsWith('{')) out.push(JSON.parse(argv[i + 1]) as Props);
  return out;
}

export const scsiModelsOf = (def: DomainDef): Map<number, string> =>
  new Map(def.devices.controllers.filter((c) => c.type === 'scsi').map((c) => [c.index, scsiModel(c)]));

/** The "bootindex" of a device with <boot order='N'/>. */
export function bootOrder(el: { boot?: { attrs: [string, string][] } }): number | undefined {
  const v = el.boot?.attrs.find(([k]) => k === 'order')?.[1];
  return v === undefined ? undefined : Number(v);
}

/** A disk's -blockdev nodes and -device, as the builder writes them. */
export function diskQmp(def: DomainDef, d: DomainDisk, nodeIndex: number): { blockdevs: Props[]; device: Props } {
  const place = pciPlaceOf(def, d.address);
  const pci: PciAddresses = new Map(place ? [[d, place]] : []);
  const argv = diskArgs(d, { nodeIndex, pci, scsiModels: scsiModelsOf(def), bootIndex: bootOrder(d), q35: isQ35(def.os.machine) });
  const device = optionObjects(argv, '-device')[0];
  // A PCI slot only exists on virtio disks; the others carry no addr.
  if (device.addr === undefined) delete device.addr;
  return { blockdevs: optionObjects(argv, '-blockdev'), device };
}

/** The alias (QEMU device id) libvirt gives a disk. */
export function diskAlias(def: DomainDef, d: DomainDisk): string | undefined {
  try {
    return String(diskQmp(def, d, 0).device.id);
  } catch {
    return undefined;
  }
}

/**
 * Slots the argv builder hands the persistent definition's PCI devices at the next start, so a
 * device added to it takes one of the others (libvirt assigns addresses at define time).
 */
export function usedSlotsConfig(def: DomainDef): Set<number> {
  const used = new Set<number>([0, 1]);
  for (const a of [...def.devices.disks.map((x) => x.address), ...def.devices.nets.map((x) => x.address)]) {
    const s = slotOf(a);
    if (s !== undefined) used.add(s);
  }
  try {
    const { argv } = buildQemuCommand(def, {
      binary: def.devices.emulator ?? 'qemu', version: 7_002_000, kvmUsable: true, machineAliases: new Map(), monitorPath: '/dev/null',
    });
    for (const dev of optionObjects(argv, '-device')) {
      if (dev.bus === 'pci.0' && typeof dev.addr === 'string') used.add(parseInt(dev.addr.split('.')[0], 16));
    }
  } catch {
    // A definition the builder refuses only gets its explicit addresses counted.
  }
  return used;
}
