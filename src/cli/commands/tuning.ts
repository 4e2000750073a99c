// Domain tuning commands: vCPU and emulator pinning, memory, block I/O and NUMA parameters
// (querying, and pinning), in virsh 9.0's layouts.
import type { TypedParameters } from '../../api/info.js';
import { attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { domainOpt } from '../lookup.js';
import { blkiotuneParams, memtuneParams, numatuneParams } from './tuning-set.js';
import { affectFlags, paramValue } from './domain-more.js';
import type { CommandTable } from './types.js';

/** virBitmapFormat: "0-3,5". */
export function cpuRanges(bits: readonly boolean[]): string {
  const parts: string[] = [];
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    let j = i;
    while (bits[j + 1]) j++;
    parts.push(i === j ? String(i) : `${i}-${j}`);
    i = j;
  }
  return parts.join(',');
}

/** The longest CPU list libvirt's bitmap parser accepts here (VIR_DOMAIN_CPUMASK_LEN). */
const CPUMASK_LEN = 1024;

/**
 * virsh's CPU list for pinning: "r" for every host CPU, else a bitmap ("0-3,^2,5") whose CPUs
 * must exist on the host; each refusal worded as virsh words it.
 */
function parseCpuList(text: string, max: number): boolean[] {
  if (text === 'r') return Array.from({ length: max }, () => true);
  const malformed = (): CliError => new CliError(`Invalid cpulist '${text}'`, null, `invalid argument: Failed to parse bitmap '${text}'`);
  const bits = new Set<number>();
  for (const part of text.split(',')) {
    const neg = part.startsWith('^');
    const m = /^(\d+)(?:-(\d+))?$/.exec(neg ? part.slice(1) : part);
    if (!m) throw malformed();
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= CPUMASK_LEN || (neg && m[2] !== undefined)) throw malformed();
    for (let i = a; i <= b; i++) {
      if (neg) bits.delete(i);
      else bits.add(i);
    }
  }
  if (bits.size === 0) throw new CliError(`Invalid cpulist '${text}'`);
  const last = Math.max(...bits);
  if (last >= max) throw new CliError(`CPU ${last} in cpulist '${text}' exceed the maxcpu ${max}`);
  return Array.from({ length: max }, (_, i) => bits.has(i));
}

async function hostCpus(ctl: Ctl): Promise<number> {
  return (await attempt(ctl.connection.nodeCpuMap(), '')).cpus.length;
}

async function vcpupin(ctl: Ctl, o: Opts): Promise<void> {
  const flags = affectFlags(o);
  const d = await domainOpt(ctl, o);
  const vcpu = o.int('vcpu');
  const list = o.string('cpulist');
  if (vcpu === undefined && list !== undefined) throw new CliError('vcpupin: Missing vCPU number in pin mode.');
  const max = await hostCpus(ctl);
  if (list === undefined) {
    const config = (flags & 2) !== 0;
    const count = await attempt(d.vcpus((config ? 2 : 0) | 4), '');
    if (vcpu !== undefined && (vcpu < 0 || vcpu >= count)) {
      throw new CliError(`vcpu ${vcpu} is out of range of ${config ? 'persistent' : 'live'} cpu count ${count}`);
    }
    const maps = await attempt(d.vcpuPinInfo(count, max, flags), '');
    const rows = maps.map((m, i) => [String(i), cpuRanges(m)]).filter((_, i) => vcpu === undefined || i === vcpu);
    ctl.table(['VCPU', 'CPU Affinity'], rows);
    return;
  }
  const bits = parseCpuList(list, max);
  await attempt(d.pinVcpu(vcpu!, bits, flags), '');
}

async function emulatorpin(ctl: Ctl, o: Opts): Promise<void> {
  const flags = affectFlags(o);
  const d = await domainOpt(ctl, o);
  const list = o.string('cpulist');
  const max = await hostCpus(ctl);
  if (list === undefined) {
    const map = await attempt(d.emulatorPinInfo(max, flags), '');
    ctl.printExtra(`emulator: CPU Affinity\n----------------------------------\n`);
    ctl.print(`${'*'.padStart(8)}: ${cpuRanges(map)}\n`);
    return;
  }
  const bits = parseCpuList(list, max);
  await attempt(d.pinEmulator(bits, flags), '');
}

/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED. */
const UNLIMITED = 9007199254740991n;
const NUMA_MODES = ['strict', 'preferred', 'interleave', 'restrictive'];

function printParams(ctl: Ctl, params: TypedParameters, show: (k: string, v: TypedParameters[string]) => string): void {
  ctl.print(Object.entries(params).map(([k, v]) => `${k.padEnd(15)}: ${show(k, v)}\n`).join(''));
}

export const TUNING_COMMANDS: CommandTable = {
  vcpupin,
  emulatorpin,
  memtune: async (ctl, o) => {
    const flags = affectFlags(o);
    const d = await domainOpt(ctl, o);
    const set = memtuneParams(o);
    if (set) {
      await attempt(d.setMemoryParameters(set, flags), 'Unable to change memory parameters');
      return;
    }
    const params = await attempt(d.memoryParameters(flags), 'Unable to get number of memory parameters');
    printParams(ctl, params, (_k, v) => (v.type === 'ullong' && v.value === UNLIMITED ? 'unlimited' : paramValue(v)));
  },
  blkiotune: async (ctl, o) => {
    const flags = affectFlags(o);
    const d = await domainOpt(ctl, o);
    const set = blkiotuneParams(o);
    if (set) {
      await attempt(d.setBlkioParameters(set, flags), 'Unable to change blkio parameters');
      return;
    }
    const params = await attempt(d.blkioParameters(flags), 'Unable to get number of blkio parameters');
    printParams(ctl, params, (_k, v) => paramValue(v));
  },
  numatune: async (ctl, o) => {
    const flags = affectFlags(o);
    const d = await domainOpt(ctl, o);
    const set = numatuneParams(o);
    if (set) {
      await attempt(d.setNumaParameters(set, flags), 'Unable to change numa parameters');
      return;
    }
    const params = await attempt(d.numaParameters(flags), 'Unable to get number of memory parameters');
    printParams(ctl, params, (k, v) => (k === 'numa_mode' && v.type === 'int' ? (NUMA_MODES[v.value] ?? 'unknown') : paramValue(v)));
  },
};
