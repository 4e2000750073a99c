// Volume files of a directory pool, through qemu-img (create, resize, info) and stat: what
// libvirt's dir backend does for raw and qcow2 files.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../../rpc/errors.js';

export const QEMU_IMG = process.env.TSVIRT_QEMU_IMG ?? '/usr/bin/qemu-img';

/** What a volume looks like on disk. */
export interface VolumeFacts {
  readonly format: string;
  /** Virtual size (the guest's view). */
  readonly capacity: bigint;
  /** Bytes the file actually occupies (st_blocks * 512). */
  readonly allocation: bigint;
  /** Size of the file itself. */
  readonly physical: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly atime: string;
  readonly mtime: string;
  readonly ctime: string;
}

function qemuImg(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(QEMU_IMG, args, { maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const why = (stderr || err.message).trim();
        reject(VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.STORAGE, 'internal error: %s', `Child process (${[QEMU_IMG, ...args].join(' ')}) unexpected exit status ${err.code ?? '?'}: ${why}`));
        return;
      }
      resolve(stdout);
    });
  });
}

/** Creates the file; raw files are fully allocated when allocation equals capacity, as libvirt does. */
export async function createVolumeFile(path: string, format: string, capacity: bigint, allocation: bigint): Promise<void> {
  const opts = format === 'raw' && allocation >= capacity && capacity > 0n ? ['-o', 'preallocation=falloc'] : [];
  await qemuImg(['create', '-f', format, ...opts, path, String(capacity)]);
}

export async function resizeVolumeFile(path: string, format: string, capacity: bigint): Promise<void> {
  await qemuImg(['resize', '-f', format, path, String(capacity)]);
}

/** "seconds.nanoseconds" as libvirt prints timestamps. */
function stamp(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  return `${s}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

export async function volumeFacts(path: string): Promise<VolumeFacts> {
  const out = await qemuImg(['info', '--output=json', '-U', path]);
  const info = JSON.parse(out) as { format?: string; 'virtual-size'?: number };
  const st = statSync(path, { bigint: true });
  return {
    format: info.format ?? 'raw',
    capacity: BigInt(info['virtual-size'] ?? Number(st.size)),
    allocation: st.blocks * 512n,
    physical: st.size,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    atime: stamp(st.atimeNs),
    mtime: stamp(st.mtimeNs),
    ctime: stamp(st.ctimeNs),
  };
}
