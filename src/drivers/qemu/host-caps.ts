// CONNECT_GET_CAPABILITIES of the QEMU driver: <host> (uuid, CPU, migration, NUMA topology,
// caches, security model) and one <guest> per installed qemu-system-* binary, with its machines
// from the capability cache and the qemu/kvm domain types, in libvirt 9.0's element order.
import { existsSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { render, type Out } from '../../api/xml/tree.js';
import { kvmUsable, loadQemuCaps, type QemuCaps } from './caps.js';
import { hostCpuModel, hostCpuXml } from './host-cpu.js';
import { formatCpuList, hostCells, nodeTopology, parseCpuList, readText, type HostCell } from './host-sys.js';

/** Architectures in libvirt's enum order, with their emulator name and word size. */
export const GUEST_ARCHES: readonly { arch: string; binary: string; wordsize: number }[] = [
  { arch: 'armv7l', binary: 'qemu-system-arm', wordsize: 32 },
  { arch: 'aarch64', binary: 'qemu-system-aarch64', wordsize: 64 },
  { arch: 'i686', binary: 'qemu-system-i386', wordsize: 32 },
  { arch: 'mips', binary: 'qemu-system-mips', wordsize: 32 },
  { arch: 'ppc', binary: 'qemu-system-ppc', wordsize: 32 },
  { arch: 'ppc64', binary: 'qemu-system-ppc64', wordsize: 64 },
  { arch: 'riscv64', binary: 'qemu-system-riscv64', wordsize: 64 },
  { arch: 's390x', binary: 'qemu-system-s390x', wordsize: 64 },
  { arch: 'x86_64', binary: 'qemu-system-x86_64', wordsize: 64 },
];

const SEARCH_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/libexec'];

export interface GuestBinary {
  readonly arch: string;
  readonly wordsize: number;
  readonly path: string;
}

/** The emulators installed, found the way libvirt looks for qemu-system-ARCH on the PATH. */
export function installedGuests(): GuestBinary[] {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_DIRS];
  const out: GuestBinary[] = [];
  for (const g of GUEST_ARCHES) {
    const dir = dirs.find((d) => existsSync(join(d, g.binary)));
    if (dir !== undefined) out.push({ arch: g.arch, wordsize: g.wordsize, path: join(dir, g.binary) });
  }
  return out;
}

let hostUuid: string | undefined;

/** SMBIOS system UUID when the firmware gives a real one, else one made up per daemon (as libvirt). */
export function hostUuidText(): string {
  if (hostUuid) return hostUuid;
  for (const f of ['/sys/devices/virtual/dmi/id/product_uuid', '/sys/class/dmi/id/product_uuid']) {
    const t = readText(f)?.trim().toLowerCase();
    if (t && /^[0-9a-f-]{36}$/.test(t) && new Set(t.replace(/-/g, '')).size > 1) return (hostUuid = t);
  }
  return (hostUuid = randomUUID());
}

/** The machines of one emulator: the default first, each alias right after its machine. */
function machinesXml(caps: QemuCaps): Out[] {
  // 'none' is QEMU's probing machine, never offered to guests.
  const usable = caps.machines.filter((m) => m.name !== 'none');
  const ordered = [...usable.filter((m) => m.isDefault), ...usable.filter((m) => !m.isDefault)];
  const out: Out[] = [];
  for (const m of ordered) {
    const common: [string, string | undefined][] = [['maxCpus', String(m.cpuMax)], ['deprecated', m.deprecated ? 'yes' : undefined]];
    out.push({ name: 'machine', attrs: common, text: m.name });
    if (m.alias !== undefined) out.push({ name: 'machine', attrs: [['canonical', m.name], ...common], text: m.alias });
  }
  return out;
}

const X86 = new Set(['i686', 'x86_64']);

function guestXml(g: GuestBinary, caps: QemuCaps, kvm: boolean): Out {
  const x86 = X86.has(g.arch);
  const toggle = (name: string, def: string, t: string): Out => ({ name, attrs: [['default', def], ['toggle', t]] });
  return {
    name: 'guest',
    kids: [
      { name: 'os_type', text: 'hvm' },
      {
        name: 'arch',
        attrs: [['name', g.arch]],
        kids: [
          { name: 'wordsize', text: String(g.wordsize) },
          { name: 'emulator', text: g.path },
          ...machinesXml(caps),
          { name: 'domain', attrs: [['type', 'qemu']] },
          kvm && caps.kvmPresent && { name: 'domain', attrs: [['type', 'kvm']] },
        ],
      },
      {
        name: 'features',
        kids: [
          g.arch === 'i686' && { name: 'pae' },
          g.arch === 'i686' && { name: 'nonpae' },
          x86 && toggle('acpi', 'on', 'yes'),
          x86 && toggle('apic', 'on', 'no'),
          { name: 'cpuselection' },
          { name: 'deviceboot' },
          toggle('disksnapshot', 'on', 'no'),
        ],
      },
    ],
  };
}

function cellXml(c: HostCell): Out {
  return {
    name: 'cell',
    attrs: [['id', c.id]],
    kids: [
      { name: 'memory', attrs: [['unit', 'KiB']], text: String(c.memory) },
      { name: 'pages', attrs: [['unit', 'KiB'], ['size', 4]], text: String(Math.floor(c.memory / 4)) },
      ...[...c.hugepages].map(([size, n]): Out => ({ name: 'pages', attrs: [['unit', 'KiB'], ['size', size]], text: String(n) })),
      c.distances.length > 0 && { name: 'distances', kids: c.distances.map((d): Out => ({ name: 'sibling', attrs: [['id', d.id], ['value', d.value]] })) },
      {
        name: 'cpus',
        attrs: [['num', c.cpus.length]],
        kids: c.cpus.map((p): Out => ({
          name: 'cpu', attrs: [['id', p.id], ['socket_id', p.socket], ['die_id', p.die], ['core_id', p.core], ['siblings', p.siblings]],
        })),
      },
    ],
  };
}

const CACHE_TYPES: Record<string, string> = { Unified: 'both', Data: 'data', Instruction: 'code' };

/** Level 3+ caches, one bank per (level, id, type), as libvirt's resctrl-oriented listing. */
function cacheXml(): Out | undefined {
  const banks = new Map<string, { id: number; level: number; type: string; sizeKiB: number; cpus: number[] }>();
  const base = '/sys/devices/system/cpu';
  for (const cpu of parseCpuList(readText(join(base, 'online')) ?? '')) {
    const dir = join(base, `cpu${cpu}`, 'cache');
    let entries: string[];
    try {
      entries = readdirSync(dir).filter((n) => n.startsWith('index'));
    } catch {
      continue;
    }
    for (const e of entries) {
      const level = Number(readText(join(dir, e, 'level')) ?? '0');
      if (level < 3) continue;
      const type = CACHE_TYPES[(readText(join(dir, e, 'type')) ?? '').trim()] ?? 'both';
      const id = Number(readText(join(dir, e, 'id')) ?? '0');
      const sizeKiB = Number(/^(\d+)K/.exec(readText(join(dir, e, 'size')) ?? '')?.[1] ?? '0');
      const key = `${level}/${id}/${type}`;
      const b = banks.get(key) ?? { id, level, type, sizeKiB, cpus: [] };
      b.cpus.push(cpu);
      banks.set(key, b);
    }
  }
  if (banks.size === 0) return undefined;
  return {
    name: 'cache',
    kids: [...banks.values()].map((b): Out => {
      const [size, unit] = bestUnit(b.sizeKiB);
      return { name: 'bank', attrs: [['id', b.id], ['level', b.level], ['type', b.type], ['size', size], ['unit', unit], ['cpus', formatCpuList(b.cpus)]] };
    }),
  };
}

/** The largest unit the KiB value divides into exactly (libvirt's virFormatIntPretty). */
function bestUnit(kib: number): [number, string] {
  if (kib > 0 && kib % (1024 * 1024) === 0) return [kib / (1024 * 1024), 'GiB'];
  if (kib > 0 && kib % 1024 === 0) return [kib / 1024, 'MiB'];
  return [kib, 'KiB'];
}

function hostXml(): Out {
  const topo = nodeTopology();
  const cells = hostCells();
  const iommu = (() => {
    try {
      return readdirSync('/sys/kernel/iommu_groups').length > 0;
    } catch {
      return false;
    }
  })();
  return {
    name: 'host',
    kids: [
      { name: 'uuid', text: hostUuidText() },
      hostCpuXml(hostCpuModel(process.arch === 'x64' ? 'x86_64' : process.arch), topo),
      { name: 'power_management' },
      { name: 'iommu', attrs: [['support', iommu ? 'yes' : 'no']] },
      {
        name: 'migration_features',
        kids: [{ name: 'live' }, { name: 'uri_transports', kids: ['tcp', 'rdma'].map((t): Out => ({ name: 'uri_transport', text: t })) }],
      },
      { name: 'topology', kids: [{ name: 'cells', attrs: [['num', cells.length]], kids: cells.map(cellXml) }] },
      cacheXml(),
      { name: 'secmodel', kids: [{ name: 'model', text: 'none' }, { name: 'doi', text: '0' }] },
      // DAC is always stacked under the primary model: guests run as the daemon's own user.
      {
        name: 'secmodel',
        kids: [
          { name: 'model', text: 'dac' },
          { name: 'doi', text: '0' },
          ...['kvm', 'qemu'].map((t): Out => ({ name: 'baselabel', attrs: [['type', t]], text: `+${process.getuid?.() ?? 0}:+${process.getgid?.() ?? 0}` })),
        ],
      },
    ],
  };
}

/** The whole document, blank lines between the top-level sections as libvirt writes them. */
export async function capabilitiesXml(cacheDir: string): Promise<string> {
  const kvm = await kvmUsable();
  const guests: Out[] = [];
  for (const g of installedGuests()) {
    // An emulator that cannot be probed is left out, as libvirt skips it.
    const caps = await loadQemuCaps(g.path, { cacheDir }).catch(() => undefined);
    if (caps) guests.push(guestXml(g, caps, kvm));
  }
  const parts = [hostXml(), ...guests].map((o) => render(o, 2).join('\n'));
  return `<capabilities>\n\n${parts.join('\n\n')}\n\n</capabilities>\n`;
}
