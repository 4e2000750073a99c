// Disks: live attach (blockdev-add file + format node, device_add), detach (device_del, then the
// nodes go once QEMU let go), CD-ROM media change, and the same changes to the persistent
// definition. Sequences and texts as libvirt 9.0 with QEMU 7.2.
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import type { DomainDef, DomainDisk } from '../../../api/xml/domain/types.js';
import { attr } from '../../../api/xml/tree.js';
import { diskNameToIndex } from '../../../api/xml/domain/implicit.js';
import { validateDisk } from '../command/disks.js';
import type { QemuDomain } from '../domain-obj.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../../rpc/errors.js';
import { internalError, systemError } from '../errors.js';
import { deviceAddedEvent, deviceRemovedEvent } from '../events.js';
import type { QemuDriverState } from '../state.js';
import {
  chooseSlot, configUnsupported, deviceMissing, nextNodeIndex, opUnsupported, pciAddress, redefine, targetExists, targetMissing,
} from './common.js';
import { addressNewQ35, liveAddress } from './pci-place.js';
import { isQ35 } from '../command/q35.js';
import { diskAlias, diskQmp, usedSlotsConfig, type Props } from './qemu-args.js';
import type { Unplugs } from './unplug.js';
import { setDiskSource } from '../live-xml.js';

const sourceFile = (d: DomainDisk): string | undefined => attr(d.source, d.type === 'block' ? 'dev' : 'file');

/** virDomainDiskInsert: disks of one bus stay ordered by target index. */
export function insertDisk(list: DomainDisk[], d: DomainDisk): void {
  const idx = diskNameToIndex(d.targetDev);
  let at = list.length;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].targetBus !== d.targetBus) continue;
    if (diskNameToIndex(list[i].targetDev) > idx) at = i;
    else break;
  }
  list.splice(at, 0, d);
}

/** The checks libvirt's validation runs on a disk for either definition. */
function checkDisk(d: DomainDisk): void {
  if ((d.device === 'cdrom' || d.device === 'floppy') && d.targetBus === 'virtio') {
    throw configUnsupported(`disk type of '${d.targetDev}' does not support ejectable media`);
  }
  validateDisk(d);
}

// ---- persistent definition ------------------------------------------------------------------

export function attachDiskConfig(pd: DomainDef, disk: DomainDisk): DomainDef {
  if (pd.devices.disks.some((x) => x.targetDev === disk.targetDev)) throw targetExists(disk.targetDev);
  checkDisk(disk);
  const used = disk.targetBus === 'virtio' && !isQ35(pd.os.machine) ? usedSlotsConfig(pd) : undefined;
  return redefine(pd, (c) => {
    if (used) disk.address = pciAddress(chooseSlot(used, disk.address, `disk ${disk.targetDev}`));
    insertDisk(c.devices.disks, disk);
    if (disk.targetBus === 'virtio') addressNewQ35(c);
  });
}

export function detachDiskConfig(pd: DomainDef, disk: DomainDisk): DomainDef {
  if (!pd.devices.disks.some((x) => x.targetDev === disk.targetDev)) throw deviceMissing(`no target device ${disk.targetDev}`);
  return redefine(pd, (c) => {
    c.devices.disks = c.devices.disks.filter((x) => x.targetDev !== disk.targetDev);
  });
}

export function updateDiskConfig(pd: DomainDef, disk: DomainDisk): DomainDef {
  if (!pd.devices.disks.some((x) => x.targetDev === disk.targetDev)) throw targetMissing(disk.targetDev);
  return redefine(pd, (c) => {
    const old = c.devices.disks.find((x) => x.targetDev === disk.targetDev);
    if (!old) return;
    old.type = disk.type;
    old.source = disk.source;
    old.driver = disk.driver ?? old.driver;
  });
}

// ---- live -----------------------------------------------------------------------------------

/** qcow2 images without a backing file get "backing": null, as libvirt opens them. */
function hasNoBacking(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(16);
      if (readSync(fd, buf, 0, 16, 0) < 16 || buf.readUInt32BE(0) !== 0x514649fb) return false;
      return buf.readBigUInt64BE(8) === 0n;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** blockdev-add each node in order; returns them top node first (the order to delete them in). */
async function addNodes(d: QemuDomain, disk: DomainDisk, blockdevs: Props[]): Promise<string[]> {
  const proc = d.proc;
  const added: string[] = [];
  const file = sourceFile(disk);
  try {
    for (const b of blockdevs) {
      const args = b.driver === 'qcow2' && file !== undefined && hasNoBacking(file) ? { ...b, backing: null } : b;
      await proc?.command('blockdev-add', args, d.name);
      added.unshift(String(b['node-name']));
    }
  } catch (e) {
    await delNodes(d, added);
    throw e;
  }
  return added;
}

/** The live check (libvirt validates the would-be definition): an XML error naming both sources. */
function targetDuplicated(existing: DomainDisk, added: DomainDisk): VirError {
  const src = (d: DomainDisk) => attr(d.source, 'file') ?? attr(d.source, 'dev') ?? attr(d.source, 'name') ?? '<null>';
  return VirError.format(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, 'XML error: %s',
    `target '${added.targetDev}' duplicated for disk sources '${src(existing)}' and '${src(added)}'`);
}

async function delNodes(d: QemuDomain, nodes: readonly string[]): Promise<void> {
  for (const n of nodes) await d.proc?.command('blockdev-del', { 'node-name': n }, d.name).catch(() => undefined);
}

export async function attachDiskLive(s: QemuDriverState, d: QemuDomain, disk: DomainDisk): Promise<void> {
  const def = d.def;
  const proc = d.proc;
  if (!proc) throw internalError('monitor must not be NULL');
  const dup = def.devices.disks.find((x) => x.targetDev === disk.targetDev);
  if (dup) throw targetDuplicated(dup, disk);
  checkDisk(disk);
  // Parsed within the domain so drive addresses are filled in as at define time.
  const filled = redefine(def, (c) => insertDisk(c.devices.disks, disk)).devices.disks.find((x) => x.targetDev === disk.targetDev) ?? disk;
  const ctl = filled.address?.type === 'drive' ? Number(filled.address.attrs.find(([k]) => k === 'controller')?.[1] ?? 0) : 0;
  if ((filled.targetBus === 'sata' || filled.targetBus === 'scsi') && !def.devices.controllers.some((c) => c.type === filled.targetBus && c.index === ctl)) {
    throw internalError(`Could not find ${filled.targetBus} controller with index ${ctl} required for device`);
  }
  const file = sourceFile(filled);
  if (filled.type === 'file' && file !== undefined && file !== '' && !existsSync(file)) {
    throw systemError(`Cannot access storage file '${file}'`, { code: 'ENOENT' });
  }
  if (filled.targetBus === 'virtio') {
    filled.address = await liveAddress(proc, def, filled.address, `disk ${filled.targetDev}`);
  }
  const nodeIndex = await nextNodeIndex(proc, def);
  const { blockdevs, device } = diskQmp(def, filled, nodeIndex);
  const nodes = await addNodes(d, filled, blockdevs);
  try {
    await proc.command('device_add', device, d.name);
  } catch (e) {
    await delNodes(d, nodes);
    throw e;
  }
  filled.alias = String(device.id);
  setDiskSource(filled, nodeIndex);
  insertDisk(def.devices.disks, filled);
  s.saveStatus(d);
  s.events.emit(deviceAddedEvent(d.handle(), String(device.id)));
}

interface BlockInfo { device: string; qdev?: string; tray_open?: boolean; inserted?: { 'node-name'?: string } }

/** The format node QEMU has for the device `alias`, and the storage node under it. */
async function nodesOf(d: QemuDomain, alias: string): Promise<{ nodes: string[]; tray?: boolean }> {
  const blocks = (await d.proc?.command<BlockInfo[]>('query-block', undefined, d.name)) ?? [];
  const qdev = `/machine/peripheral/${alias}`;
  const b = blocks.find((x) => x.qdev === alias || x.qdev === qdev || x.qdev?.startsWith(`${qdev}/`) === true);
  const fmt = b?.inserted?.['node-name'];
  const nodes = fmt === undefined ? [] : [fmt, ...(/-format$/.test(fmt) ? [fmt.replace(/-format$/, '-storage')] : [])];
  return { nodes, tray: b?.tray_open };
}

export async function detachDiskLive(s: QemuDriverState, unplugs: Unplugs, d: QemuDomain, disk: DomainDisk, wait = true): Promise<void> {
  const def = d.def;
  const found = def.devices.disks.find((x) => x.targetDev === disk.targetDev);
  if (!found) throw deviceMissing(`disk ${disk.targetDev} not found`);
  if (found.device !== 'disk' && found.device !== 'lun') throw opUnsupported(`disk device type '${found.device}' cannot be detached`);
  if (!['virtio', 'scsi', 'usb'].includes(found.targetBus ?? '')) throw opUnsupported('This type of disk cannot be hot unplugged');
  const alias = diskAlias(def, found);
  if (alias === undefined) throw internalError(`Cannot detach disk device with no alias`);
  const { nodes } = await nodesOf(d, alias);
  const proc = d.proc;
  const finish = async (): Promise<void> => {
    // A late report may come after the guest restarted: node names repeat, so leave that one be.
    if (d.proc !== proc) return;
    await delNodes(d, nodes);
    const i = d.def.devices.disks.indexOf(found);
    if (i < 0) return;
    d.def.devices.disks.splice(i, 1);
    s.saveStatus(d);
    s.events.emit(deviceRemovedEvent(d.handle(), alias));
  };
  await unplugs.detach(d, alias, finish, wait);
}

/** update-device on a live CD-ROM/floppy: the tray opens, the old medium goes, the new one goes in. */
export async function updateDiskLive(s: QemuDriverState, d: QemuDomain, disk: DomainDisk): Promise<void> {
  const def = d.def;
  const proc = d.proc;
  const found = def.devices.disks.find((x) => x.targetDev === disk.targetDev);
  if (!found || !proc) throw internalError(`disk '${disk.targetDev}' not found`);
  if (found.device !== 'cdrom' && found.device !== 'floppy') {
    if (sourceFile(found) === sourceFile(disk) && found.type === disk.type) return;
    throw opUnsupported("cannot modify field 'source' of the disk");
  }
  const alias = diskAlias(def, found);
  if (alias === undefined) throw internalError(`disk '${disk.targetDev}' not found`);
  const next: DomainDisk = { ...found, type: disk.type, source: disk.source, driver: disk.driver ?? found.driver };
  const file = sourceFile(next);
  if (next.type === 'file' && file !== undefined && file !== '' && !existsSync(file)) {
    throw systemError(`Cannot access storage file '${file}'`, { code: 'ENOENT' });
  }
  const { nodes: old, tray } = await nodesOf(d, alias);
  if (tray !== true) await proc.command('blockdev-open-tray', { id: alias, force: false }, d.name);
  await proc.command('blockdev-remove-medium', { id: alias }, d.name);
  await delNodes(d, old);
  if (file !== undefined && file !== '') {
    try {
      const nodeIndex = await nextNodeIndex(proc, def);
      setDiskSource(next, nodeIndex);
      const { blockdevs } = diskQmp(def, next, nodeIndex);
      const nodes = await addNodes(d, next, blockdevs);
      try {
        await proc.command('blockdev-insert-medium', { id: alias, 'node-name': nodes[0] }, d.name);
      } catch (e) {
        await delNodes(d, nodes);
        throw e;
      }
    } catch (e) {
      // The old medium is out already: the definition says what the drive now holds (nothing).
      Object.assign(found, { source: undefined, sourceIndex: undefined, noBacking: undefined });
      s.saveStatus(d);
      throw e;
    }
  }
  await proc.command('blockdev-close-tray', { id: alias }, d.name);
  Object.assign(found, { type: next.type, source: next.source, driver: next.driver, sourceIndex: next.sourceIndex, noBacking: next.noBacking });
  if (file === undefined || file === '') setDiskSource(found, 0);
  s.saveStatus(d);
}
