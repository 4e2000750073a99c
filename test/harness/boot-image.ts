// The bootable test guest (Debian cloud kernel + busybox initramfs), built by
// scripts/build-test-image.sh on first use and cached on disk keyed by package versions, so a
// run builds it at most once. Its /init prints LOGIN_BANNER on ttyS0 and powers off on the
// ACPI power button.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOGIN_BANNER = 'tsvirt test guest login:';
export const QEMU_BINARY = '/usr/bin/qemu-system-x86_64';

export interface BootImage {
  /** Cache dir holding the files below. */
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Kernel command line: serial console on ttyS0. */
  readonly cmdline: string;
}

/** The repository root, from test/harness (sources under tsx) or dist/test/harness (compiled). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'scripts', 'build-test-image.sh'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('scripts/build-test-image.sh not found above ' + dirname(fileURLToPath(import.meta.url)));
    dir = up;
  }
  return dir;
}

/**
 * Why the image cannot be built or booted here, or undefined when it can. Under CI this is
 * always undefined: a missing piece must fail the run, not skip it.
 */
export function bootImageSkipReason(): string | undefined {
  if (process.env.CI) return undefined;
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the test guest is an x86_64 Linux image';
  if (!existsSync(QEMU_BINARY)) return `${QEMU_BINARY} not found: install qemu-system-x86`;
  for (const tool of ['/usr/bin/apt-get', '/usr/bin/dpkg-deb']) if (!existsSync(tool)) return `${tool} not found (Debian tooling builds the test guest)`;
  return undefined;
}

let building: Promise<BootImage> | null = null;

/** Builds the image (or finds it in the cache); memoized per process. */
export function bootImage(): Promise<BootImage> {
  building ??= new Promise<BootImage>((resolve, reject) => {
    const script = join(repoRoot(), 'scripts', 'build-test-image.sh');
    execFile('bash', [script], { timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`build-test-image.sh failed: ${err.message}\n${stderr}`));
        return;
      }
      const dir = stdout.trim().split('\n').pop() ?? '';
      const kernel = join(dir, 'vmlinuz');
      const initrd = join(dir, 'initrd.img');
      if (!existsSync(kernel) || !existsSync(initrd)) {
        reject(new Error(`build-test-image.sh printed ${JSON.stringify(dir)}, which holds no image\n${stderr}`));
        return;
      }
      resolve({ dir, kernel, initrd, cmdline: readFileSync(join(dir, 'cmdline'), 'utf8').trim() });
    });
  });
  const p = building;
  p.catch(() => {
    // A failed build may succeed on retry (network hiccup): do not memoize the failure.
    if (building === p) building = null;
  });
  return p;
}

/** Domain XML direct-booting the image, diskless, with a pty serial console. */
export function bootDomainXml(img: BootImage, name: string, opts: { memoryMiB?: number; uuid?: string } = {}): string {
  const mem = (opts.memoryMiB ?? 128) * 1024;
  return [
    `<domain type='qemu'>`,
    `  <name>${name}</name>`,
    opts.uuid ? `  <uuid>${opts.uuid}</uuid>` : '',
    `  <memory unit='KiB'>${mem}</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='pc'>hvm</type>`,
    `    <kernel>${img.kernel}</kernel>`,
    `    <initrd>${img.initrd}</initrd>`,
    `    <cmdline>${img.cmdline}</cmdline>`,
    `  </os>`,
    `  <features><acpi/></features>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>restart</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    `    <emulator>${QEMU_BINARY}</emulator>`,
    `    <serial type='pty'><target port='0'/></serial>`,
    `    <console type='pty'><target type='serial' port='0'/></console>`,
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `</domain>`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}
