// Starts a throwaway qemu-system-x86_64 with a QMP unix socket: no machine, no devices, no
// display, so it is up in well under a second. Every process started here is SIGKILLed by
// stop(), and again on process exit in case a test died before its finally ran.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError, connect, type ConnectOptions, type QmpClient, type QmpClientOptions } from '../../src/qmp/index.js';

export const QEMU_BINARY = process.env.TSVIRT_QEMU ?? 'qemu-system-x86_64';

export function qemuAvailable(): boolean {
  return spawnSync(QEMU_BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface Qemu {
  path: string;
  proc: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  stderr(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function startQemu(extra: string[] = []): Promise<Qemu> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-'));
  const path = join(dir, 'qmp.sock');
  const proc = spawn(
    QEMU_BINARY,
    ['-machine', 'none', '-nodefaults', '-display', 'none', '-accel', 'tcg', '-qmp', `unix:${path},server=on,wait=off`, ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.add(proc);
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  void exited.then(() => live.delete(proc));
  const stop = async () => {
    proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // With wait=off QEMU creates the socket before it starts listening for clients.
  const deadline = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`qemu did not create its QMP socket: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { path, proc, exited, stderr: () => err, stop };
}

/**
 * Connects to a fresh QEMU. The socket file appears at bind(), a moment before listen(), so a
 * refused connection is retried briefly.
 */
export async function connectQemu(q: Qemu, opts: ConnectOptions & QmpClientOptions = {}): Promise<QmpClient> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await connect(q.path, opts);
    } catch (err) {
      const code = err instanceof ConnectError ? (err.cause as NodeJS.ErrnoException).code : undefined;
      if (code !== 'ECONNREFUSED' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
