// What every hot-plug procedure shares: the LIVE/CONFIG/CURRENT decision, libvirt's error texts,
// the PCI slot and node-name a new device gets, and waiting for QEMU to finish an unplug.
import { unsupportedConfig } from '../command/errors.js';
import type { DomainAddress, DomainDef } from '../../../api/xml/domain/types.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../../rpc/errors.js';
import { freePciSlot, pciAddr } from '../command/pci.js';
import type { QemuDomain } from '../domain-obj.js';
import { invalidArg, operationInvalid } from '../errors.js';
import type { QemuProcess } from '../process.js';
import { copyDef } from '../state.js';

export const AFFECT_LIVE = 1;
export const AFFECT_CONFIG = 2;

// ---- libvirt's error texts -------------------------------------------------------------------

export const deviceMissing = (msg: string, dom: VirErrorDomain = VirErrorDomain.QEMU): VirError =>
  VirError.format(VirErrorNumber.DEVICE_MISSING, dom, 'device not found: %s', msg);
export const configUnsupported = unsupportedConfig;
export const opUnsupported = (msg: string): VirError =>
  VirError.format(VirErrorNumber.OPERATION_UNSUPPORTED, VirErrorDomain.QEMU, 'Operation not supported: %s', msg);
export const targetExists = (dev: string): VirError => operationInvalid(`target ${dev} already exists`);
export const targetMissing = (dev: string): VirError => invalidArg(`target ${dev} doesn't exist.`);

// ---- addresses and node names ----------------------------------------------------------------

export const pciAddress = (slot: number): DomainAddress => ({
  type: 'pci',
  attrs: [['domain', '0x0000'], ['bus', '0x00'], ['slot', `0x${slot.toString(16).padStart(2, '0')}`], ['function', '0x0']],
});

/** Slot of a definition's PCI address on bus 0, if it has one. */
export function slotOf(a: DomainAddress | undefined): number | undefined {
  if (a?.type !== 'pci') return undefined;
  const v = (k: string) => parseInt(a.attrs.find(([n]) => n === k)?.[1] ?? '0', 16);
  return v('bus') === 0 && v('domain') === 0 ? v('slot') : undefined;
}

interface PciInfo { bus: number; devices: { slot: number }[] }

/** Slots QEMU has devices in on the root bus: the live truth, whoever assigned them. */
export async function usedSlotsLive(proc: QemuProcess, def: DomainDef): Promise<Set<number>> {
  const used = new Set<number>([0, 1]);
  const buses = await proc.command<PciInfo[]>('query-pci', undefined, def.name);
  for (const b of buses) if (b.bus === 0) for (const dev of b.devices) used.add(dev.slot);
  for (const a of [...def.devices.disks.map((x) => x.address), ...def.devices.nets.map((x) => x.address)]) {
    const s = slotOf(a);
    if (s !== undefined) used.add(s);
  }
  return used;
}

/**
 * The slot for a device joining `def` (persistent or live): its own address when it has one
 * (refused when taken), else the lowest free one.
 */
export function chooseSlot(used: ReadonlySet<number>, own: DomainAddress | undefined, what: string): number {
  const s = slotOf(own);
  if (own !== undefined && s === undefined) throw configUnsupported(`${what} needs a PCI address on bus 0, not '${own.type}'`);
  if (s !== undefined) {
    if (used.has(s) || s < 2) throw configUnsupported(`PCI slot ${pciAddr(s)} is reserved or already in use`);
    return s;
  }
  return freePciSlot(used, what);
}

/** libvirt numbers block nodes libvirt-N-*, counting on from the disks QEMU was started with. */
export async function nextNodeIndex(proc: QemuProcess, def: DomainDef): Promise<number> {
  const nodes = await proc.command<{ 'node-name'?: string }[]>('query-named-block-nodes', { flat: true }, def.name);
  let max = def.devices.disks.length;
  for (const n of nodes) {
    const m = /^libvirt-(\d+)-/.exec(n['node-name'] ?? '');
    if (m) max = Math.max(max, Number(m[1]));
  }
  const last = lastNode.get(proc) ?? 0;
  const next = Math.max(max, last) + 1;
  lastNode.set(proc, next);
  return next;
}
const lastNode = new WeakMap<QemuProcess, number>();

/** A persistent definition with one more device, run through parsing so implicit parts appear. */
export function redefine(def: DomainDef, change: (copy: DomainDef) => void): DomainDef {
  const copy = copyDef(def);
  change(copy);
  return copyDef(copy);
}

/** Commits a changed persistent definition in place of the old one. */
export function replacePersistent(d: QemuDomain, next: DomainDef): void {
  if (d.newDef) d.newDef = next;
  else d.def = next;
}
