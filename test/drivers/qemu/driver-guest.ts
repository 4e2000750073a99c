// Shared by the QEMU driver tests: a diskless 64 MiB TCG guest, private driver directories,
// and a sweep that SIGKILLs every QEMU started under a test's directory whatever happened.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GUEST_NAME = 'probe-guest';
export const QEMU_BIN = '/usr/bin/qemu-system-x86_64';

export function qemuSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'QEMU driver tests need Linux';
  if (!existsSync(QEMU_BIN)) return `${QEMU_BIN} not installed`;
  return undefined;
}

export function guestXml(opts: { name?: string; devices?: string; emulator?: string; acpi?: boolean } = {}): string {
  return `<domain type='qemu'>
  <name>${opts.name ?? GUEST_NAME}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>${opts.acpi ? '\n  <features><acpi/></features>' : ''}
  <devices>${opts.emulator ? `\n    <emulator>${opts.emulator}</emulator>` : ''}
    <memballoon model='none'/>${opts.devices ?? ''}
  </devices>
</domain>
`;
}

/** Driver directories under `base`; the capability cache is shared between runs to keep tests fast. */
export function qemuEnv(base: string): Record<string, string> {
  return {
    TSVIRT_QEMU_CONFIG_DIR: join(base, 'etc'),
    TSVIRT_QEMU_STATE_DIR: join(base, 'run'),
    TSVIRT_QEMU_LOG_DIR: join(base, 'log'),
    TSVIRT_QEMU_CACHE_DIR: join(tmpdir(), 'tsvirt-test-qemu-caps'),
    // Tests run side by side: one daemon must not adopt another test's hand-started QEMU.
    TSVIRT_QEMU_DISCOVER: '0',
  };
}

/** Pids of QEMU processes whose command line mentions `base` (their monitor socket lives there). */
export function guestPidsIn(base: string): number[] {
  const pids: number[] = [];
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const cmd = readFileSync(`/proc/${ent}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/qemu-system') && cmd.includes(base)) pids.push(Number(ent));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

export function killGuestsIn(base: string): number {
  const pids = guestPidsIn(base);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}
