// What a running guest's XML shows beyond its definition, as libvirt 9.0 fills it in at start:
// device aliases (the ids the command line gives QEMU), storage source indexes and empty
// backing chains, the ptys QEMU opened, the VNC port it was given, and the DAC label.
import { closeSync, openSync, readSync } from 'node:fs';
import { createServer } from 'node:net';
import type { DomainDef, DomainDisk } from '../../api/xml/domain/types.js';
import { attr } from '../../api/xml/tree.js';
import { diskAlias } from './hotplug/qemu-args.js';
import { internalError } from './errors.js';
import type { QemuProcess } from './process.js';

const QCOW2_MAGIC = 0x514649fb;

/** Whether a disk image has no backing file: raw images never do, qcow2 ones when the header says so. */
export function imageHasNoBacking(file: string, format: string): boolean {
  if (format !== 'qcow2') return true;
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(16);
      if (readSync(fd, buf, 0, 16, 0) < 16 || buf.readUInt32BE(0) !== QCOW2_MAGIC) return false;
      return buf.readBigUInt64BE(8) === 0n;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

const sourcePath = (d: DomainDisk): string | undefined => attr(d.source, d.type === 'block' ? 'dev' : 'file') || undefined;

/** A disk's live storage facts: its node index (libvirt-N-*) and whether its chain ends at once. */
export function setDiskSource(d: DomainDisk, nodeIndex: number): void {
  const path = sourcePath(d);
  if (path === undefined) {
    delete d.sourceIndex;
    delete d.noBacking;
    return;
  }
  d.sourceIndex = nodeIndex;
  if (imageHasNoBacking(path, attr(d.driver, 'type') ?? 'raw')) d.noBacking = true;
  else delete d.noBacking;
}

/** The aliases and source indexes libvirt's QEMU driver assigns as it builds the command line. */
export function assignLiveNames(def: DomainDef): void {
  const dv = def.devices;
  dv.disks.forEach((d, i) => {
    d.alias = diskAlias(def, d);
    // The command line numbers block nodes down from the disk count.
    setDiskSource(d, dv.disks.length - i);
  });
  for (const c of dv.controllers) {
    c.alias = c.type === 'usb' && c.index === 0 ? 'usb' : c.type === 'ide' && c.index === 0 ? 'ide' : c.type === 'pci' ? `pci.${c.index}` : `${c.type}${c.index}`;
  }
  dv.nets.forEach((n, i) => (n.alias = `net${i}`));
  const counters = new Map<string, number>();
  const next = (k: string) => {
    const n = counters.get(k) ?? 0;
    counters.set(k, n + 1);
    return n;
  };
  for (const c of dv.chrs) {
    // A console that mirrors a serial port is that port.
    if (c.kind === 'console' && c.targetType === 'serial') c.alias = `serial${c.targetPort ?? 0}`;
    else if (c.kind === 'serial' || c.kind === 'parallel') c.alias = `${c.kind}${c.targetPort ?? next(c.kind)}`;
    else c.alias = `${c.kind}${next(c.kind)}`;
  }
  dv.videos.forEach((v, i) => (v.alias = `video${i}`));
  for (const o of dv.others) {
    switch (o.kind) {
      case 'input':
        o.alias = `input${next('input')}`;
        break;
      case 'memballoon':
        if ((attr(o.el, 'model') ?? 'virtio') !== 'none') o.alias = 'balloon0';
        break;
      case 'rng':
      case 'watchdog':
        o.alias = `${o.kind}${next(o.kind)}`;
        break;
      default:
        break;
    }
  }
}

/** The ptys QEMU opened for type='pty' serial ports (query-chardev "pty:/dev/pts/N"), as libvirt reads them. */
export async function readPtys(proc: QemuProcess, def: DomainDef): Promise<void> {
  const ptys = def.devices.chrs.filter((c) => c.type === 'pty');
  if (ptys.length === 0) return;
  const devs = await proc.command<{ label: string; filename: string }[]>('query-chardev', undefined, def.name);
  const byLabel = new Map(devs.map((d) => [d.label, d.filename]));
  for (const c of ptys) {
    const port = c.targetPort ?? 0;
    const kind = c.kind === 'console' && c.targetType === 'serial' ? 'serial' : c.kind;
    const f = byLabel.get(`char${kind}${port}`);
    if (f?.startsWith('pty:')) c.ptyPath = f.slice(4);
  }
}

/** The DAC label of a guest whose QEMU runs as the daemon's own user (libvirt's "+uid:+gid"). */
export function setDacLabel(def: DomainDef): void {
  const label = `+${process.getuid?.() ?? 0}:+${process.getgid?.() ?? 0}`;
  const text = (name: string) => ({ name, attrs: [], children: [{ text: label }] });
  def.liveSeclabels = [{
    name: 'seclabel',
    attrs: [['type', 'dynamic'], ['model', 'dac'], ['relabel', 'yes']],
    children: [text('label'), text('imagelabel')],
  }];
}

// ---- VNC ports ----

const VNC_FIRST = 5900;
const VNC_LAST = 65535;
/** Ports handed to guests being started that QEMU may not have bound yet. */
const reserved = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The first port from 5900 nobody listens on, reserved until `release` (libvirt's port allocator). */
export async function reserveVncPort(): Promise<number> {
  for (let p = VNC_FIRST; p <= VNC_LAST; p++) {
    if (reserved.has(p)) continue;
    reserved.add(p);
    if (await canBind(p)) return p;
    reserved.delete(p);
  }
  throw internalError("Unable to find an unused port in range 'display' (5900-65535)");
}

export const releaseVncPort = (port: number | undefined): void => void (port !== undefined && reserved.delete(port));

/** Keeps a port someone else turned out to hold out of our picks for a while. */
export function holdVncPort(port: number): void {
  reserved.add(port);
  setTimeout(() => reserved.delete(port), 60_000).unref();
}

/** The port of a start that failed because QEMU could not bind its VNC display, if that was why. */
export function vncPortClash(e: unknown): number | undefined {
  const m = /-vnc [^\s,]*:(\d+)\S*: Failed to find an available port/.exec(e instanceof Error ? e.message : '');
  return m ? VNC_FIRST + Number(m[1]) : undefined;
}

/** Whether the definition's display needs a port picked at start. */
export function needsVncPort(def: DomainDef): boolean {
  const g = def.devices.graphics[0];
  return g !== undefined && g.type === 'vnc' && (g.autoport === 'yes' || g.port === undefined || g.port === -1);
}
