// CPU model names libvirt 9.0's CPU drivers report (from its cpu_map), per architecture
// family, as virConnectGetCPUModelNames returns them; recorded from the real library.

const X86 = [
  '486', 'pentium', 'pentium2', 'pentium3', 'pentiumpro', 'coreduo', 'n270', 'core2duo', 'qemu32', 'kvm32',
  'cpu64-rhel5', 'cpu64-rhel6', 'qemu64', 'kvm64', 'Conroe', 'Penryn', 'Nehalem', 'Nehalem-IBRS', 'Westmere',
  'Westmere-IBRS', 'SandyBridge', 'SandyBridge-IBRS', 'IvyBridge', 'IvyBridge-IBRS', 'Haswell-noTSX',
  'Haswell-noTSX-IBRS', 'Haswell', 'Haswell-IBRS', 'Broadwell-noTSX', 'Broadwell-noTSX-IBRS', 'Broadwell',
  'Broadwell-IBRS', 'Skylake-Client', 'Skylake-Client-IBRS', 'Skylake-Client-noTSX-IBRS', 'Skylake-Server',
  'Skylake-Server-IBRS', 'Skylake-Server-noTSX-IBRS', 'Cascadelake-Server', 'Cascadelake-Server-noTSX',
  'Icelake-Client', 'Icelake-Client-noTSX', 'Icelake-Server', 'Icelake-Server-noTSX', 'Cooperlake', 'Snowridge',
  'athlon', 'phenom', 'Opteron_G1', 'Opteron_G2', 'Opteron_G3', 'Opteron_G4', 'Opteron_G5', 'EPYC', 'EPYC-IBPB',
  'EPYC-Rome', 'EPYC-Milan', 'Dhyana',
];

const PPC64 = [
  'POWER6', 'POWER7', 'POWER8', 'POWER9', 'POWER10', 'POWERPC_e5500', 'POWERPC_e6500',
];

/** Architectures with a CPU driver, mapped to their model list (ARM and s390 list none). */
export const CPU_MODELS: Record<string, readonly string[]> = {
  i686: X86, x86_64: X86, ppc64: PPC64, ppc64le: PPC64,
  armv6l: [], armv7l: [], armv7b: [], aarch64: [], s390: [], s390x: [],
};

/** Every other architecture name libvirt 9.0 knows (virArch): known, but without a CPU driver. */
export const OTHER_ARCHES = [
  'alpha', 'cris', 'ia64', 'lm32', 'm68k', 'microblaze', 'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el',
  'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle', 'ppcemb', 'riscv32', 'riscv64', 'sh4', 'sh4eb', 'sparc',
  'sparc64', 'unicore32', 'xtensa', 'xtensaeb',
];
