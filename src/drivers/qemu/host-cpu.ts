// The host CPU as the capabilities' <host><cpu> describes it: a named model plus the features the
// host has beyond it. libvirt matches CPUID against its whole CPU map; this picks the newest
// model of a short x86 ladder whose key flags /proc/cpuinfo shows, which gives the same element
// structure with a coarser model name.
import type { Out } from '../../api/xml/tree.js';
import { cpuinfo, hugePageSizes } from './host-sys.js';

/** /proc/cpuinfo flag -> libvirt feature name, for the flags libvirt's x86 map knows. */
const RENAME: Record<string, string> = {
  sse4_1: 'sse4.1', sse4_2: 'sse4.2', pclmulqdq: 'pclmuldq', tsc_deadline_timer: 'tsc-deadline', sha_ni: 'sha-ni',
  avx512_vnni: 'avx512vnni', avx512_bitalg: 'avx512bitalg', avx512_vpopcntdq: 'avx512-vpopcntdq', avx512_vbmi2: 'avx512vbmi2',
  avx512_bf16: 'avx512-bf16', avx512_fp16: 'avx512-fp16', amx_tile: 'amx-tile', amx_int8: 'amx-int8', amx_bf16: 'amx-bf16',
  md_clear: 'md-clear', bus_lock_detect: 'bus-lock-detect', avx_vnni: 'avx-vnni', tsxldtrk: 'tsx-ldtrk',
  arch_capabilities: 'arch-capabilities', constant_tsc: 'invtsc', ibrs_enhanced: 'ibrs-all', bmi1: 'bmi1',
};

const KNOWN = new Set([
  'vme', 'ds', 'acpi', 'ss', 'ht', 'tm', 'pbe', 'dtes64', 'monitor', 'ds_cpl', 'vmx', 'smx', 'est', 'tm2', 'xtpr', 'pdcm',
  'osxsave', 'f16c', 'rdrand', 'hypervisor', 'arat', 'tsc_adjust', 'avx512f', 'avx512dq', 'avx512ifma', 'clflushopt',
  'clwb', 'avx512cd', 'sha-ni', 'avx512bw', 'avx512vl', 'avx512vbmi', 'umip', 'pku', 'ospke', 'avx512vbmi2', 'gfni',
  'vaes', 'vpclmulqdq', 'avx512vnni', 'avx512bitalg', 'avx512-vpopcntdq', 'la57', 'rdpid', 'bus-lock-detect', 'cldemote',
  'movdiri', 'movdir64b', 'fsrm', 'md-clear', 'serialize', 'tsx-ldtrk', 'amx-bf16', 'avx512-fp16', 'amx-tile', 'amx-int8',
  'stibp', 'arch-capabilities', 'ssbd', 'avx-vnni', 'avx512-bf16', 'xsaveopt', 'xsavec', 'xgetbv1', 'xsaves', 'pdpe1gb',
  'abm', 'invtsc', 'wbnoinvd', 'ibpb', 'ibrs', 'x2apic', 'tsc-deadline', 'avx2', 'bmi1', 'bmi2', 'fma', 'movbe', 'invpcid',
  'pcid', 'rdseed', 'adx', 'smap', '3dnowprefetch', 'rdtscp', 'erms', 'smep', 'fsgsbase', 'avx', 'xsave', 'aes', 'pclmuldq',
  'ssse3', 'sse4.1', 'sse4.2', 'popcnt', 'cx16', 'lahf_lm', 'svm', 'sse4a', 'misalignsse', 'topoext', 'perfctr_core',
]);

/** Each rung adds flags to the one before; the model is the highest rung fully present. */
const LADDER: { readonly name: string; readonly adds: readonly string[] }[] = [
  { name: 'qemu64', adds: ['cx16', 'lahf_lm', 'sse4a', 'svm'] },
  { name: 'Nehalem', adds: ['ssse3', 'sse4.1', 'sse4.2', 'popcnt'] },
  { name: 'Westmere', adds: ['aes', 'pclmuldq'] },
  { name: 'SandyBridge', adds: ['avx', 'xsave', 'tsc-deadline', 'x2apic'] },
  { name: 'IvyBridge', adds: ['f16c', 'rdrand', 'fsgsbase', 'erms', 'smep'] },
  { name: 'Haswell-noTSX', adds: ['avx2', 'bmi1', 'bmi2', 'fma', 'movbe', 'invpcid', 'pcid'] },
  { name: 'Broadwell-noTSX', adds: ['rdseed', 'adx', 'smap', '3dnowprefetch', 'rdtscp'] },
  { name: 'Skylake-Client-noTSX-IBRS', adds: ['xsavec', 'xsaveopt', 'xgetbv1', 'clflushopt'] },
  { name: 'Skylake-Server-noTSX-IBRS', adds: ['avx512f', 'avx512dq', 'avx512cd', 'avx512bw', 'avx512vl', 'clwb', 'pku', 'pdpe1gb'] },
  { name: 'Cascadelake-Server-noTSX', adds: ['avx512vnni'] },
  { name: 'Icelake-Server-noTSX', adds: ['avx512vbmi', 'avx512vbmi2', 'gfni', 'vaes', 'vpclmulqdq', 'avx512bitalg', 'avx512-vpopcntdq', 'la57', 'wbnoinvd', 'rdpid', 'umip'] },
];
/** Flags of the base model (qemu64) that qemu64 does not need to list. */
const QEMU64_EXCEPT = new Set(['sse4a', 'svm']);

const VENDORS: Record<string, string> = { GenuineIntel: 'Intel', AuthenticAMD: 'AMD', HygonGenuine: 'Hygon' };

export interface HostCpuModel {
  readonly arch: string;
  readonly model: string;
  readonly vendor?: string;
  readonly features: string[];
  readonly info: Map<string, string>;
}

export function hostCpuModel(arch: string): HostCpuModel {
  const info = cpuinfo();
  const flags = new Set((info.get('flags') ?? '').split(/\s+/).filter(Boolean).map((f) => RENAME[f] ?? f));
  let model = 'qemu64';
  const covered = new Set<string>();
  for (const rung of LADDER) {
    const needs = rung.adds.filter((f) => !(rung.name === 'qemu64' && QEMU64_EXCEPT.has(f)));
    if (!needs.every((f) => flags.has(f))) break;
    model = rung.name;
    needs.forEach((f) => covered.add(f));
  }
  const vendorId = info.get('vendor_id') ?? '';
  return {
    arch, model, vendor: VENDORS[vendorId],
    features: [...flags].filter((f) => KNOWN.has(f) && !covered.has(f)),
    info,
  };
}

/** <cpu> of the capabilities' <host>, in libvirt's element order. */
export function hostCpuXml(cpu: HostCpuModel, topo: { sockets: number; cores: number; threads: number }): Out {
  const i = cpu.info;
  const num = (k: string): number | undefined => (i.has(k) ? Number(i.get(k)) : undefined);
  const microcode = i.get('microcode');
  const flags = (i.get('flags') ?? '').split(/\s+/);
  const mhz = Number(i.get('cpu MHz') ?? '0');
  const physBits = /(\d+) bits physical/.exec(i.get('address sizes') ?? '')?.[1];
  return {
    name: 'cpu',
    kids: [
      { name: 'arch', text: cpu.arch },
      { name: 'model', text: cpu.model },
      cpu.vendor !== undefined && { name: 'vendor', text: cpu.vendor },
      microcode !== undefined && { name: 'microcode', attrs: [['version', String(Number(microcode))]] },
      i.has('cpu family') && { name: 'signature', attrs: [['family', num('cpu family')], ['model', num('model')], ['stepping', num('stepping')]] },
      flags.includes('tsc_known_freq') && mhz > 0 && { name: 'counter', attrs: [['name', 'tsc'], ['frequency', String(Math.round(mhz * 1e6))], ['scaling', 'no']] },
      { name: 'topology', attrs: [['sockets', topo.sockets], ['dies', 1], ['cores', topo.cores], ['threads', topo.threads]] },
      physBits !== undefined && { name: 'maxphysaddr', attrs: [['mode', 'emulate'], ['bits', physBits]] },
      ...cpu.features.map((f): Out => ({ name: 'feature', attrs: [['name', f]] })),
      ...[4, ...hugePageSizes()].map((s): Out => ({ name: 'pages', attrs: [['unit', 'KiB'], ['size', s]] })),
    ],
  };
}
