// Disks as libvirt 9.0 gives them to QEMU 7.2: a "file"/"host_device" protocol node and a
// format node per disk (-blockdev), then the front-end device on its bus.
import type { DomainDisk } from '../../../api/xml/domain/types.js';
import { attr } from '../../../api/xml/tree.js';
import { diskNameToIndex } from '../../../api/xml/domain/implicit.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';
import { jsonArg } from './escape.js';
import { pciProps, type PciAddresses } from './pci.js';

const FORMATS = ['raw', 'qcow2'];

/** QEMU's cache knobs for each libvirt cache mode: [cache.direct, cache.no-flush, write-cache]. */
const CACHE_MODES: Record<string, [boolean, boolean, 'on' | 'off']> = {
  none: [true, false, 'on'],
  writeback: [false, false, 'on'],
  writethrough: [false, false, 'off'],
  directsync: [true, false, 'off'],
  unsafe: [false, true, 'on'],
};

const driveAddr = (d: DomainDisk, key: string): number => Number(d.address?.attrs.find(([k]) => k === key)?.[1] ?? '0');

/** The source path, or undefined for an empty (ejected) CD-ROM. */
function sourcePath(d: DomainDisk): string | undefined {
  if (d.type === 'file') return attr(d.source, 'file');
  if (d.type === 'block') return attr(d.source, 'dev');
  throw unsupportedElement(`disk type '${d.type}'`);
}

/** Checks what the builder cannot translate before anything is emitted. */
export function validateDisk(d: DomainDisk, q35 = false): void {
  if (d.device !== 'disk' && d.device !== 'cdrom') throw unsupportedElement(`disk device '${d.device}'`);
  const bus = d.targetBus ?? '';
  if (!['virtio', 'ide', 'sata', 'scsi'].includes(bus)) throw unsupportedElement(`disk bus '${bus}'`);
  if (d.device === 'cdrom' && bus === 'virtio') throw unsupportedConfig(`disk ${d.targetDev}: a cdrom cannot be on the virtio bus`);
  sourcePath(d);
  const format = attr(d.driver, 'type') ?? 'raw';
  if (!FORMATS.includes(format)) throw unsupportedElement(`disk format '${format}'`);
  const cache = attr(d.driver, 'cache');
  if (cache !== undefined && cache !== 'default' && !(cache in CACHE_MODES)) throw unsupportedElement(`disk cache mode '${cache}'`);
  if (d.address && bus === 'virtio' && d.address.type !== 'pci') throw unsupportedConfig(`virtio disk cannot have an address of type '${d.address.type}'`);
  if (bus === 'ide' && q35) throw unsupportedConfig('IDE controllers are unsupported for this QEMU binary or machine type');
  if (bus === 'ide' && driveAddr(d, 'controller') !== 0) throw unsupportedConfig(`disk ${d.targetDev}: only the PIIX3 IDE controller is available`);
  if (bus === 'sata' && q35 && driveAddr(d, 'controller') !== 0) throw unsupportedConfig(`disk ${d.targetDev}: only the ICH9 SATA controller is available on q35`);
}

export interface DiskContext {
  /** Position in the domain's disk list; libvirt numbers node names down from the disk count. */
  readonly nodeIndex: number;
  readonly bootIndex?: number;
  readonly pci: PciAddresses;
  /** model of each SCSI controller by index. */
  readonly scsiModels: ReadonlyMap<number, string>;
  /** On q35, SATA controller 0 is the ICH9 AHCI, whose ports QEMU calls ide.0..ide.5. */
  readonly q35?: boolean;
}

export function diskArgs(d: DomainDisk, ctx: DiskContext): string[] {
  const path = sourcePath(d);
  const cacheMode = attr(d.driver, 'cache');
  const cache = cacheMode !== undefined ? CACHE_MODES[cacheMode] : undefined;
  const cacheProps = cache ? { cache: { direct: cache[0], 'no-flush': cache[1] } } : {};
  const format = `libvirt-${ctx.nodeIndex}-format`;
  const args: string[] = [];
  if (path !== undefined) {
    const storage = `libvirt-${ctx.nodeIndex}-storage`;
    args.push('-blockdev', jsonArg({
      driver: d.type === 'block' ? 'host_device' : 'file',
      filename: path,
      'node-name': storage,
      ...cacheProps,
      'auto-read-only': true,
      discard: 'unmap',
    }));
    args.push('-blockdev', jsonArg({
      'node-name': format,
      'read-only': d.readonly,
      ...cacheProps,
      driver: attr(d.driver, 'type') ?? 'raw',
      file: storage,
    }));
  }
  const drive = path !== undefined ? { drive: format } : {};
  const boot = ctx.bootIndex !== undefined ? { bootindex: ctx.bootIndex } : {};
  const writeCache = cache ? { 'write-cache': cache[2] } : {};
  const cd = d.device === 'cdrom';
  const controller = driveAddr(d, 'controller');
  const unit = driveAddr(d, 'unit');
  let props: Record<string, unknown>;
  switch (d.targetBus) {
    case 'virtio':
      props = {
        driver: 'virtio-blk-pci', ...pciProps(ctx.pci, d), ...drive,
        id: `virtio-disk${diskNameToIndex(d.targetDev)}`, ...boot, ...writeCache,
      };
      break;
    case 'ide': {
      const bus = driveAddr(d, 'bus');
      props = {
        driver: cd ? 'ide-cd' : 'ide-hd', bus: `ide.${bus}`, unit, ...drive,
        id: `ide${controller}-${bus}-${unit}`, ...boot, ...writeCache,
      };
      break;
    }
    case 'sata':
      props = {
        driver: cd ? 'ide-cd' : 'ide-hd', bus: ctx.q35 && controller === 0 ? `ide.${unit}` : `sata${controller}.${unit}`, ...drive,
        id: `sata${controller}-0-${unit}`, ...boot, ...writeCache,
      };
      break;
    default: {
      const bus = driveAddr(d, 'bus');
      const target = driveAddr(d, 'target');
      // virtio-scsi addresses channel/target/LUN; the LSI controller only has a unit per bus.
      const virtio = ctx.scsiModels.get(controller) === 'virtio-scsi';
      const alias = virtio ? `scsi${controller}-${bus}-${target}-${unit}` : `scsi${controller}-${bus}-${unit}`;
      const location = virtio
        ? { bus: `scsi${controller}.0`, channel: bus, 'scsi-id': target, lun: unit }
        : { bus: `scsi${controller}.${bus}`, 'scsi-id': unit };
      props = {
        driver: cd ? 'scsi-cd' : 'scsi-hd', ...location, device_id: `drive-${alias}`, ...drive,
        id: alias, ...boot, ...writeCache,
      };
    }
  }
  args.push('-device', jsonArg(props));
  return args;
}
