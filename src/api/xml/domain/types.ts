// Typed domain model. Well-understood parts are typed fields; sections we only carry
// through (cpu, sysinfo, seclabel, ...) are kept as parsed elements and re-emitted in
// libvirt's position, so nothing in a definition is lost.
import type { XmlEl } from '../tree.js';

export interface DomainAddress {
  type: string;
  /** Attributes after `type`, in libvirt's output order. */
  attrs: [string, string][];
}

export interface DomainDisk {
  type: string;
  device: string;
  extraAttrs: [string, string][];
  driver?: XmlEl;
  source?: XmlEl;
  targetDev: string;
  targetBus?: string;
  targetExtra: [string, string][];
  iotune?: XmlEl;
  readonly: boolean;
  shareable: boolean;
  serial?: string;
  boot?: XmlEl;
  address?: DomainAddress;
  /** Live only: QEMU's device id. */
  alias?: string;
  /** Live only: the storage source's index (libvirt's node names libvirt-N-*). */
  sourceIndex?: number;
  /** Live only: the image has no backing chain (shown as an empty <backingStore/>). */
  noBacking?: boolean;
}

export interface DomainController {
  type: string;
  index: number;
  model?: string;
  extraAttrs: [string, string][];
  children: XmlEl[];
  /** Live only. */
  alias?: string;
}

export interface DomainNet {
  type: string;
  mac: string;
  source?: XmlEl;
  virtualPort?: XmlEl;
  script?: string;
  targetDev?: string;
  model?: string;
  rest: XmlEl[];
  boot?: XmlEl;
  address?: DomainAddress;
  /** Live only. */
  alias?: string;
}

/** serial, parallel, console and channel devices share libvirt's chardev shape. */
export interface DomainChr {
  kind: 'serial' | 'parallel' | 'console' | 'channel';
  type: string;
  sources: XmlEl[];
  protocol?: XmlEl;
  targetType?: string;
  targetPort?: number;
  targetAttrs: [string, string][];
  targetChildren: XmlEl[];
  address?: DomainAddress;
  /** Live only. */
  alias?: string;
  /** Live only: the pty QEMU opened for a type='pty' device. */
  ptyPath?: string;
}

export interface DomainGraphics {
  type: string;
  port?: number;
  tlsPort?: string;
  autoport?: string;
  listen?: string;
  keymap?: string;
  passwd?: string;
  extraAttrs: [string, string][];
  listens: XmlEl[];
  children: XmlEl[];
  /** Live only: the port an autoport display listens on. */
  livePort?: number;
}

export interface DomainVideo {
  modelAttrs: [string, string][];
  modelChildren: XmlEl[];
  address?: DomainAddress;
  /** Live only. */
  alias?: string;
}

/** A device kind we carry as its parsed element (rng, tpm, hostdev, ...). */
export interface DomainOtherDevice {
  kind: string;
  el: XmlEl;
  /** Live only. */
  alias?: string;
}

export interface DomainDevices {
  emulator?: string;
  disks: DomainDisk[];
  controllers: DomainController[];
  nets: DomainNet[];
  chrs: DomainChr[];
  graphics: DomainGraphics[];
  videos: DomainVideo[];
  others: DomainOtherDevice[];
}

export interface DomainOs {
  type: string;
  arch: string;
  /** Set when <type> had no arch attribute: the QEMU driver then uses the host's architecture. */
  archDefaulted?: true;
  machine?: string;
  firmware?: string;
  loader?: { path: string; attrs: [string, string][] };
  nvram?: XmlEl;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  dtb?: string;
  root?: string;
  boots: string[];
  rest: XmlEl[];
}

export interface BlkioDevice {
  path: string;
  weight?: string;
  readIopsSec?: string;
  writeIopsSec?: string;
  readBytesSec?: string;
  writeBytesSec?: string;
}

export interface DomainDef {
  type: string;
  name: string;
  uuid: string;
  genid?: string;
  title?: string;
  description?: string;
  metadata?: XmlEl;
  memoryKiB: bigint;
  currentMemoryKiB: bigint;
  blkiotune?: { weight?: string; devices: BlkioDevice[] };
  vcpu: { count: number; placement: string; cpuset?: string; current?: number };
  bootloader?: string;
  os: DomainOs;
  features: XmlEl[];
  clock: { offset: string; attrs: [string, string][]; children: XmlEl[] };
  onPoweroff: string;
  onReboot: string;
  onCrash: string;
  devices: DomainDevices;
  /** Carried-through top-level sections, keyed by element name. */
  sections: Map<string, XmlEl[]>;
  /** Live only: the security labels a running guest got (written after the configured ones). */
  liveSeclabels?: XmlEl[];
}

export interface DomainFormatOptions {
  /** Running domain id; omitted with `inactive`. */
  id?: number;
  inactive?: boolean;
  /** Include graphics passwords (VIR_DOMAIN_XML_SECURE). */
  secure?: boolean;
}

export interface DomainParseOptions {
  /** Parsing a running domain's status: keep the live-only parts (aliases, ptys, ports, ...). */
  status?: boolean;
}
