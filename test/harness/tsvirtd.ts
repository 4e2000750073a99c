// Starts our own daemon, tsvirtd, as a separate process, the way a user would: a config file in
// libvirtd.conf format naming a private socket directory, and `tsvirtd -f FILE [--listen]`.
// It offers the same shape as the private libvirtd (test/harness/libvirtd.ts) so interop tests
// can run the same commands against both.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Libvirtd, UriOptions } from './libvirtd.js';
import { freeTcpPort, probeLibvirtSocket } from './probe.js';

export interface StartTsvirtdOptions {
  readonly tcp?: boolean;
  /** Extra libvirtd.conf lines. */
  readonly config?: string;
}

/** The daemon's entry point: compiled JS under dist/, or the TypeScript source when run through tsx. */
function entry(): { file: string; nodeArgs: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { file: join(dirname(here), '..', '..', 'src', 'daemon', 'main.ts'), nodeArgs: ['--import', 'tsx'] };
  return { file: join(dirname(here), '..', '..', 'src', 'daemon', 'main.js'), nodeArgs: [] };
}

export async function startTsvirtd(opts: StartTsvirtdOptions = {}): Promise<Libvirtd> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-tsvirtd-'));
  const sockDir = join(dir, 'sock');
  const tcpPort = opts.tcp ? await freeTcpPort() : undefined;
  const conf = join(dir, 'tsvirtd.conf');
  writeFileSync(
    conf,
    [
      `unix_sock_dir = "${sockDir}"`,
      'auth_unix_rw = "none"',
      'auth_unix_ro = "none"',
      ...(tcpPort !== undefined ? ['listen_tcp = 1', `tcp_port = "${tcpPort}"`, 'listen_addr = "127.0.0.1"', 'auth_tcp = "none"'] : []),
      opts.config ?? '',
    ].join('\n') + '\n',
  );
  const logPath = join(dir, 'tsvirtd.log');
  const logFd = openSync(logPath, 'w');
  const { file, nodeArgs } = entry();
  // TSVIRTD_NODE_FLAGS: extra node flags for the daemon, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" to profile it.
  const extraFlags = (process.env.TSVIRTD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const args = [...extraFlags, ...nodeArgs, file, '-f', conf, '-p', join(dir, 'tsvirtd.pid'), '-t', '300', ...(tcpPort !== undefined ? ['--listen'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const unixSocket = join(sockDir, 'libvirt-sock');
  const deadline = Date.now() + 20_000;
  while (!(await probeLibvirtSocket({ path: unixSocket }).catch(() => false))) {
    if (exit || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tsvirtd did not start (${exit ? `exit ${exit.code}` : 'timeout'}); log:\n${readLog()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    dir,
    unixSocket,
    roSocket: join(sockDir, 'libvirt-sock-ro'),
    adminSocket: join(sockDir, 'libvirt-admin-sock'),
    ...(tcpPort !== undefined ? { tcpPort } : {}),
    uri(driver: string, u: UriOptions = {}): string {
      const path = u.path ?? (driver === 'test' ? '/default' : '/system');
      if ((u.transport ?? 'unix') === 'tcp') return `${driver}+tcp://127.0.0.1:${tcpPort}${path}`;
      return `${driver}+unix://${path}?socket=${u.readonly ? join(sockDir, 'libvirt-sock-ro') : unixSocket}`;
    },
    log: readLog,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (!exit) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
