// Starts a private, real libvirtd (Debian's 9.0) for interop tests and captures.
// Each daemon gets its own mount namespace (so pid files and driver state never collide with another
// daemon), its own temp dir for sockets and config, and, when asked, its own TCP port on 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, probeLibvirtSocket } from './probe.js';
import { libvirtdConf, NS_SCRIPT, QEMU_CONF_EXTRA, type DaemonConfigInput } from './libvirtd-config.js';

/** Thrown when this machine cannot run a private libvirtd (not installed, not root, ...). */
export class LibvirtdUnavailableError extends Error {
  override readonly name = 'LibvirtdUnavailableError';
}

export interface StartLibvirtdOptions {
  /** Also listen on TCP 127.0.0.1 (auth none) on a free port. Default false. */
  readonly tcp?: boolean;
  /** Also listen with TLS on 127.0.0.1 (auth none; client certificates verified) on a free port. */
  readonly tls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  /** More libvirtd.conf lines, appended verbatim. */
  readonly extraConfig?: readonly string[];
  /** Safety net: libvirtd exits by itself after this many seconds with no client. Default 300. */
  readonly idleTimeoutSeconds?: number;
  /** How long to wait for the daemon to answer its first call. Default 30 s. */
  readonly startTimeoutMs?: number;
  /** SIGTERM grace period in stop() before SIGKILL. Default 5 s. */
  readonly stopTimeoutMs?: number;
}

export interface UriOptions {
  /** Default 'unix'. */
  readonly transport?: 'unix' | 'tcp';
  /** URI path; default '/default' for the test driver and '/system' for anything else. */
  readonly path?: string;
  /** Use the read-only socket (unix transport only). */
  readonly readonly?: boolean;
}

export interface Libvirtd {
  readonly pid: number;
  /** Temp dir holding sockets, config copy and log; removed by stop(). */
  readonly dir: string;
  readonly unixSocket: string;
  readonly roSocket: string;
  readonly adminSocket: string;
  readonly tcpPort?: number;
  readonly tlsPort?: number;
  /** e.g. uri('test') = test+unix:///default?socket=..., uri('qemu', {transport: 'tcp'}) = qemu+tcp://127.0.0.1:P/system */
  uri(driver: string, opts?: UriOptions): string;
  /** What the daemon wrote to stdout/stderr so far. */
  log(): string;
  /** SIGTERM, SIGKILL after the grace period, wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';

function daemonBinary(): string {
  return process.env.TSVIRT_LIBVIRTD ?? '/usr/sbin/libvirtd';
}

/** Why a private libvirtd cannot run here, or undefined when it can. */
export function libvirtdUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'a private libvirtd needs Linux mount namespaces';
  const bin = daemonBinary();
  if (!existsSync(bin)) return `libvirtd not found at ${bin}: install libvirt-daemon-system (see .ci/run)`;
  if (process.getuid?.() !== 0) return 'a private libvirtd needs root (mount namespace, tmpfs mounts)';
  for (const tool of [UNSHARE, SETPRIV]) if (!existsSync(tool)) return `${tool} not found (util-linux)`;
  return undefined;
}

/**
 * For `test(name, { skip: libvirtdSkipReason() }, ...)`. Outside CI a machine without libvirtd skips
 * with the reason printed by the runner; under CI this is always undefined so the test runs and
 * startLibvirtd() fails loudly instead of the suite silently skipping.
 */
export function libvirtdSkipReason(): string | undefined {
  if (process.env.CI) return undefined;
  return libvirtdUnavailableReason();
}

// Daemons still running; killed synchronously if the process exits without stop().
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [child, dir] of live) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The QEMU driver refuses to initialise (and takes libvirtd down) without its configured user. */
function ensureQemuUser(): void {
  if (spawnSync('getent', ['passwd', 'libvirt-qemu']).status === 0) return;
  if (spawnSync('getent', ['group', 'libvirt-qemu']).status !== 0) spawnSync('groupadd', ['-r', 'libvirt-qemu']);
  const r = spawnSync('useradd', ['-r', '-g', 'libvirt-qemu', '-d', '/var/lib/libvirt', '-s', '/usr/sbin/nologin', 'libvirt-qemu']);
  if (r.status !== 0) throw new LibvirtdUnavailableError(`cannot create user libvirt-qemu: ${String(r.stderr)}`);
}

/** Private copy of /etc/libvirt with our configs and without autostart links (no host bridges or pools). */
function prepareEtc(etc: string, sockDir: string, tcpPort: number | undefined, extra: Partial<DaemonConfigInput> = {}): void {
  rmSync(etc, { recursive: true, force: true });
  cpSync('/etc/libvirt', etc, { recursive: true, verbatimSymlinks: true });
  for (const sub of ['qemu/networks/autostart', 'qemu/autostart', 'storage/autostart']) {
    const p = join(etc, sub);
    if (existsSync(p)) for (const n of readdirSync(p)) rmSync(join(p, n), { force: true });
  }
  writeFileSync(join(etc, 'libvirtd.conf'), libvirtdConf({ sockDir, tcpPort, ...extra }));
  appendFileSync(join(etc, 'qemu.conf'), QEMU_CONF_EXTRA);
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export async function startLibvirtd(opts: StartLibvirtdOptions = {}): Promise<Libvirtd> {
  const reason = libvirtdUnavailableReason();
  if (reason !== undefined) throw new LibvirtdUnavailableError(reason);
  ensureQemuUser();
  installExitHook();

  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-libvirtd-'));
  const sockDir = join(dir, 'sock');
  mkdirSync(sockDir);
  const logPath = join(dir, 'libvirtd.log');
  const readLog = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const unixSocket = join(sockDir, 'libvirt-sock');

  // A free port can be taken by someone else before libvirtd binds it: retry with a fresh one.
  for (let attempt = 1; ; attempt++) {
    const tcpPort = opts.tcp ? await freeTcpPort() : undefined;
    const tls = opts.tls ? { ...opts.tls, port: await freeTcpPort() } : undefined;
    prepareEtc(join(dir, 'etc'), sockDir, tcpPort, { ...(tls ? { tls } : {}), ...(opts.extraConfig ? { extraConfig: opts.extraConfig } : {}) });
    const logFd = openSync(logPath, 'w');
    const child = spawn(
      UNSHARE,
      ['-m', 'bash', '-c', NS_SCRIPT, 'bash', join(dir, 'etc'), '/etc/libvirt/libvirtd.conf', join(dir, 'libvirtd.pid'),
        String(opts.idleTimeoutSeconds ?? 300), tcpPort !== undefined || tls !== undefined ? '1' : '0', daemonBinary()],
      { stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    // Not keeping the test process alive: a forgotten stop() is handled by the exit hook.
    child.unref();
    live.set(child, dir);
    let exit: Exit | undefined;
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        live.delete(child);
        resolve(exit);
      });
      child.once('error', () => resolve({ code: null, signal: null }));
    });

    const ready = await waitReady(unixSocket, tcpPort, opts.startTimeoutMs ?? 30_000, () => exit !== undefined);
    if (!ready) {
      if (exit === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
      const log = readLog();
      if (attempt < 3 && /Address already in use/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      const how = exit ? `exited (code ${exit.code}, signal ${exit.signal})` : 'did not answer in time';
      throw new Error(`private libvirtd ${how}; log:\n${tail(log)}`);
    }

    const pid = child.pid;
    if (pid === undefined) throw new Error('libvirtd has no pid');
    let stopping: Promise<void> | undefined;
    return {
      pid,
      dir,
      unixSocket,
      roSocket: join(sockDir, 'libvirt-sock-ro'),
      adminSocket: join(sockDir, 'libvirt-admin-sock'),
      ...(tcpPort !== undefined ? { tcpPort } : {}),
      ...(tls !== undefined ? { tlsPort: tls.port } : {}),
      uri(driver: string, u: UriOptions = {}): string {
        const path = u.path ?? (driver === 'test' ? '/default' : '/system');
        if ((u.transport ?? 'unix') === 'tcp') {
          if (tcpPort === undefined) throw new Error('this libvirtd was started without tcp: true');
          return `${driver}+tcp://127.0.0.1:${tcpPort}${path}`;
        }
        return `${driver}+unix://${path}?socket=${u.readonly ? join(sockDir, 'libvirt-sock-ro') : unixSocket}`;
      },
      log: readLog,
      stop(): Promise<void> {
        stopping ??= (async () => {
          if (exit === undefined) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), opts.stopTimeoutMs ?? 5_000);
            await exited;
            clearTimeout(killer);
          }
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
}

/** Polls until the daemon answers a call on the UNIX socket (and TCP when enabled). */
async function waitReady(sock: string, tcpPort: number | undefined, timeoutMs: number, dead: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !dead()) {
    if (existsSync(sock) && (await probeLibvirtSocket({ path: sock }))) {
      if (tcpPort === undefined || (await probeLibvirtSocket({ port: tcpPort, host: '127.0.0.1' }))) return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
