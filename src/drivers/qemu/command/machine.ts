// The guest-wide part of the command line: name, machine, accelerator, CPU, memory, vCPUs,
// UUID and SMBIOS tables.
import type { DomainDef } from '../../../api/xml/domain/types.js';
import type { XmlEl } from '../../../api/xml/tree.js';
import { attr, child, elementsOf, textOf } from '../../../api/xml/tree.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';
import { qemuOptValue, jsonArg } from './escape.js';
import type { QemuHostFacts } from './types.js';

const section = (def: DomainDef, name: string): XmlEl | undefined => def.sections.get(name)?.[0];

/** The concrete i440fx or q35 machine type; other boards are not built. */
export function machineType(def: DomainDef, host: QemuHostFacts): string {
  const asked = def.os.machine ?? 'pc';
  const machine = host.machineAliases.get(asked) ?? asked;
  if (!/^pc-(i440fx|q35)-\d+\.\d+$/.test(machine)) throw unsupportedElement(`machine type '${asked}'`);
  return machine;
}

export function accelerator(def: DomainDef, host: QemuHostFacts): 'kvm' | 'tcg' {
  if (def.type === 'qemu') return 'tcg';
  if (def.type !== 'kvm') throw unsupportedConfig(`domain type '${def.type}' needs another driver than QEMU`);
  if (!host.kvmUsable) throw unsupportedConfig('domain type kvm requires /dev/kvm, which is not usable on this host');
  return 'kvm';
}

export function cpuArg(def: DomainDef, accel: 'kvm' | 'tcg'): string {
  const cpu = section(def, 'cpu');
  const mode = attr(cpu, 'mode') ?? 'custom';
  if (mode === 'host-passthrough') {
    if (accel !== 'kvm') throw unsupportedConfig('CPU mode host-passthrough requires domain type kvm');
    return `host,migratable=${attr(cpu, 'migratable') === 'off' ? 'off' : 'on'}`;
  }
  if (mode !== 'custom') throw unsupportedElement(`CPU mode '${mode}'`);
  const modelEl = child(cpu, 'model');
  const model = modelEl ? (textOf(modelEl) ?? '').trim() : 'qemu64';
  if (model === '') throw unsupportedConfig('a custom CPU needs a <model>');
  const parts = [model];
  for (const f of cpu ? elementsOf(cpu, 'feature') : []) {
    const name = attr(f, 'name') ?? '';
    const policy = attr(f, 'policy') ?? 'require';
    if (policy === 'require' || policy === 'force') parts.push(`${name}=on`);
    else if (policy === 'disable' || policy === 'forbid') parts.push(`${name}=off`);
    else throw unsupportedElement(`CPU feature policy '${policy}'`);
  }
  return parts.join(',');
}

/** libvirt hands QEMU whole MiB; the definition's KiB are rounded up. */
export const memoryMiB = (def: DomainDef): bigint => (def.memoryKiB + 1023n) / 1024n;

/**
 * <vcpus> (written once vCPUs were hot-plugged): the enabled, hotpluggable ones are plugged over
 * QMP after QEMU starts, as libvirt does, so -smp counts only the rest.
 */
export function hotpluggedVcpuIds(def: DomainDef): number[] {
  const list = section(def, 'vcpus');
  if (!list) return [];
  return elementsOf(list, 'vcpu')
    .filter((v) => attr(v, 'enabled') === 'yes' && attr(v, 'hotpluggable') === 'yes')
    .map((v) => Number(attr(v, 'id')));
}

export function smpArg(def: DomainDef): string {
  const max = def.vcpu.count;
  const current = (def.vcpu.current ?? max) - hotpluggedVcpuIds(def).length;
  if (current < 1) throw unsupportedConfig('at least one vCPU must be enabled and not hotpluggable');
  const topo = child(section(def, 'cpu'), 'topology');
  const parts = [String(current)];
  if (current !== max) parts.push(`maxcpus=${max}`);
  if (topo) {
    const n = (k: string) => Number(attr(topo, k) ?? '1');
    if (n('sockets') * n('dies') * n('cores') * n('threads') !== max) {
      throw unsupportedConfig("CPU topology doesn't match maximum vcpu count");
    }
    parts.push(`sockets=${n('sockets')}`, `dies=${n('dies')}`, `cores=${n('cores')}`, `threads=${n('threads')}`);
  } else {
    parts.push(`sockets=${max}`, 'cores=1', 'threads=1');
  }
  return parts.join(',');
}

// SMBIOS entries QEMU accepts per table, in the order libvirt writes them.
const SMBIOS_TABLES: [string, number, string[]][] = [
  ['bios', 0, ['vendor', 'version', 'date', 'release']],
  ['system', 1, ['manufacturer', 'product', 'version', 'serial', 'uuid', 'sku', 'family']],
];

/** -smbios arguments for <smbios mode='sysinfo'/>; other modes need nothing on the command line. */
export function smbiosArgs(def: DomainDef): string[] {
  const smbios = def.os.rest.find((e) => e.name === 'smbios');
  const mode = attr(smbios, 'mode');
  if (mode === undefined || mode === 'emulate') return [];
  if (mode !== 'sysinfo') throw unsupportedElement(`SMBIOS mode '${mode}'`);
  const sysinfo = def.sections.get('sysinfo')?.find((s) => (attr(s, 'type') ?? 'smbios') === 'smbios');
  if (!sysinfo) throw unsupportedConfig('Domain requires SMBIOS, but sysinfo is not specified');
  const out: string[] = [];
  for (const [el, type, keys] of SMBIOS_TABLES) {
    const table = child(sysinfo, el);
    if (!table) continue;
    const entries = new Map(elementsOf(table, 'entry').map((e) => [attr(e, 'name') ?? '', (textOf(e) ?? '').trim()]));
    const fields = keys.filter((k) => entries.has(k)).map((k) => `${k}=${qemuOptValue(entries.get(k) ?? '')}`);
    if (fields.length) out.push('-smbios', [`type=${type}`, ...fields].join(','));
  }
  for (const s of elementsOf(sysinfo)) {
    if (!SMBIOS_TABLES.some(([el]) => el === s.name)) throw unsupportedElement(`sysinfo <${s.name}>`);
  }
  return out;
}

/** -machine, -accel, -cpu, -m with its RAM backend object, -overcommit and -smp. */
export function machineArgs(def: DomainDef, host: QemuHostFacts): string[] {
  const accel = accelerator(def, host);
  const mib = memoryMiB(def);
  return [
    '-machine', `${machineType(def, host)},usb=off,dump-guest-core=off,memory-backend=pc.ram`,
    '-accel', accel,
    '-cpu', cpuArg(def, accel),
    '-m', String(mib),
    '-object', jsonArg({ 'qom-type': 'memory-backend-ram', id: 'pc.ram', size: Number(mib * 1024n * 1024n) }),
    '-overcommit', 'mem-lock=off',
    '-smp', smpArg(def),
  ];
}
