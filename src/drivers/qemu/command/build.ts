// Domain definition + host facts -> the argv libvirt 9.0 would start QEMU 7.2 with (i440fx and
// q35 machines). Pure: no file system or process access, so the result can be compared with
// libvirt's own argv fixture by fixture.
import type { DomainDef, DomainDisk } from '../../../api/xml/domain/types.js';
import type { XmlEl } from '../../../api/xml/tree.js';
import { attr } from '../../../api/xml/tree.js';
import { unsupportedElement } from './errors.js';
import { jsonArg, qemuOptValue } from './escape.js';
import { machineArgs, machineType, smbiosArgs } from './machine.js';
import { formatDomain } from '../../../api/xml/domain/format.js';
import { parseDomainXml } from '../../../api/xml/domain/parse.js';
import { addressablePciDevices } from './pci-devices.js';
import { addQ35Controllers, assignQ35Addresses, isQ35, q35Places } from './q35.js';
import { diskArgs, validateDisk } from './disks.js';
import { netArgs, validateNet } from './nets.js';
import { serialArgs, validateChr } from './chardev.js';
import {
  balloonArgs, controllerArgs, graphicsArgs, inputArgs, pciControllers, rngArgs, scsiModel, validateBalloon, validateController,
  validateGraphics, validateRng, validateVideos, validateWatchdog, videoArgs, videoType, watchdogArgs,
} from './devices.js';
import { assignPciSlots, type PciDevice } from './pci.js';
import type { QemuCommand, QemuHostFacts } from './types.js';
import { bootIndexes, bootArgs, clockArgs, validateDomain } from './domain-opts.js';

const AUDIODEV = 'audio1';
/** Stands for the balloon libvirt adds when the definition has no <memballoon>. */
const IMPLICIT_BALLOON: object = {};

const others = (def: DomainDef, kind: string): XmlEl[] => def.devices.others.filter((o) => o.kind === kind).map((o) => o.el);

export function buildQemuCommand(input: DomainDef, host: QemuHostFacts): QemuCommand {
  validateDomain(input);
  const machine = machineType(input, host);
  const q35 = isQ35(machine);
  // q35 starts from a copy holding libvirt's define-time topology, so a definition that never
  // went through define (domxml-to-native) gets the same ports and addresses.
  const def = q35 ? withQ35Topology(input, machine) : input;
  const devs = def.devices;
  // Devices before controllers: an implicit controller's error would hide the device causing it.
  for (const d of devs.disks) validateDisk(d, q35);
  for (const n of devs.nets) validateNet(n, q35);
  for (const c of devs.chrs) validateChr(c);
  for (const c of devs.controllers) validateController(c, q35);
  validateGraphics(def);
  validateVideos(def);
  // Before the device lists below are read: addressing replaces <rng>/<watchdog>/<memballoon> elements.
  if (q35) {
    const { devs: all, video: primary } = addressablePciDevices(def);
    assignQ35Addresses(def, all, primary);
  }
  const watchdogs = others(def, 'watchdog');
  if (watchdogs.length > 1) throw unsupportedElement('more than one <watchdog>');
  watchdogs.forEach((w) => validateWatchdog(w, q35));
  const rngs = others(def, 'rng');
  rngs.forEach(validateRng);
  const balloonEl = others(def, 'memballoon')[0];
  validateBalloon(balloonEl);
  const balloon = (attr(balloonEl, 'model') ?? 'virtio') === 'virtio' ? balloonEl ?? IMPLICIT_BALLOON : undefined;

  // PCI slots, in libvirt's assignment order.
  const watchdog = watchdogs[0];
  const video = devs.videos.find((v) => videoType(v) !== 'none');
  const pciDevs: PciDevice[] = [
    ...devs.nets.map((n, i) => ({ key: n, address: n.address, what: `interface net${i}` })),
    ...pciControllers(def).map((c) => ({ key: c, address: addressIn(c.children), what: `${c.type} controller ${c.index}` })),
    ...devs.disks.filter((d) => d.targetBus === 'virtio').map((d) => ({ key: d, address: d.address, what: `disk ${d.targetDev}` })),
    ...(balloon ? [{ key: balloon, address: balloon === balloonEl ? addressOf(balloonEl) : undefined, what: 'memballoon' }] : []),
    ...rngs.map((r, i) => ({ key: r, address: addressOf(r), what: `rng${i}` })),
    ...(watchdog && attr(watchdog, 'model') === 'i6300esb' ? [{ key: watchdog, address: addressOf(watchdog), what: 'watchdog' }] : []),
    ...(video ? [{ key: video, address: video.address, what: 'video0' }] : []),
  ];
  const primaryVideo = video ? pciDevs[pciDevs.length - 1] : undefined;
  const pci = q35 ? q35Places(pciDevs) : assignPciSlots(pciDevs, primaryVideo);
  const boot = bootIndexes(def);
  const graphics = devs.graphics[0];

  const argv: string[] = [
    def.devices.emulator ?? host.binary,
    '-name', `guest=${qemuOptValue(def.name)},debug-threads=on`,
    '-S',
    ...machineArgs(def, host),
    '-uuid', def.uuid,
    ...smbiosArgs(def),
    ...(graphics ? [] : ['-display', 'none']),
    '-no-user-config',
    '-nodefaults',
    '-chardev', `socket,id=charmonitor,path=${qemuOptValue(host.monitorPath)},server=on,wait=off`,
    '-mon', 'chardev=charmonitor,id=monitor,mode=control',
    ...clockArgs(def),
    '-no-shutdown',
    ...(def.features.some((f) => f.name === 'acpi') ? [] : ['-no-acpi']),
    ...bootArgs(def),
    ...controllerArgs(def, pci),
  ];
  const scsiModels = new Map(devs.controllers.filter((c) => c.type === 'scsi').map((c) => [c.index, scsiModel(c)]));
  devs.disks.forEach((d: DomainDisk, i) => {
    argv.push(...diskArgs(d, { nodeIndex: devs.disks.length - i, bootIndex: boot.get(d), pci, scsiModels, q35 }));
  });
  devs.nets.forEach((n, i) => argv.push(...netArgs(n, i, pci, boot.get(n))));
  for (const c of devs.chrs) if (c.kind === 'serial') argv.push(...serialArgs(c));
  argv.push(...inputArgs(def, others(def, 'input')));
  argv.push('-audiodev', jsonArg({ id: AUDIODEV, driver: 'none' }));
  if (graphics) argv.push(...graphicsArgs(graphics, host.vncPort, AUDIODEV));
  if (video) argv.push(...videoArgs(video, pci));
  if (watchdog) argv.push(...watchdogArgs(watchdog, pci));
  // libvirt places -incoming here, between the watchdog and the balloon.
  if (host.incoming !== undefined) argv.push('-incoming', host.incoming);
  if (balloon) argv.push(...balloonArgs(pci, balloon));
  rngs.forEach((r, i) => argv.push(...rngArgs(r, i, pci)));
  argv.push('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  argv.push('-msg', 'timestamp=on');
  return { argv };
}

/** A copy of the definition with the concrete machine and the q35 controllers and balloon libvirt adds. */
function withQ35Topology(input: DomainDef, machine: string): DomainDef {
  const def = parseDomainXml(formatDomain(input, { inactive: true, secure: true }));
  def.os.machine = machine;
  addQ35Controllers(def);
  if (!def.devices.others.some((o) => o.kind === 'memballoon')) {
    def.devices.others.push({ kind: 'memballoon', el: { name: 'memballoon', attrs: [['model', 'virtio']], children: [] } });
  }
  return def;
}

const addressOf = (el: XmlEl): PciDevice['address'] => addressIn(el.children.filter((c): c is XmlEl => 'name' in c));

function addressIn(children: readonly XmlEl[]): PciDevice['address'] {
  const a = children.find((c) => c.name === 'address');
  if (!a) return undefined;
  return { type: attr(a, 'type') ?? '', attrs: a.attrs.filter(([k]) => k !== 'type') };
}
