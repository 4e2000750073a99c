/**
 * Process-level chores of a daemon: the pid file, --daemon, signals and --timeout.
 * Default pid file paths are in paths.ts (libvirtd's locations with our program name: /run/tsvirtd.pid).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { canonicalArgs } from './options.js';
import { DAEMON_NAME } from './paths.js';

export class PidFileError extends Error {
  override readonly name = 'PidFileError';
}

/** Whether `pid` names a running process (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in a pid file, or null if it is missing or holds no pid. */
export function readPidFile(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const m = /^\s*([0-9]+)\s*$/.exec(text);
  return m ? Number(m[1]) : null;
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Best effort: some filesystems cannot fsync a directory.
  }
}

/**
 * Claims `path` for `pid`. libvirtd holds a lock on its pid file; Node has no file locks, so instead the
 * file's content must never be partial (written to a temp file, fsynced, then linked or renamed in place)
 * and a file naming another live process is refused with libvirtd's message. A stale file is replaced.
 */
export function writePidFile(path: string, pid: number = process.pid): void {
  const tmp = join(dirname(path), `.${basename(path)}.${pid}.tmp`);
  const fail = (why: string): never => {
    throw new PidFileError(`Failed to acquire pid file '${path}': ${why}`);
  };
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    fail((err as Error).message);
  }
  try {
    try {
      // link() fails if the file exists, so two daemons starting at once cannot both win here.
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail((err as Error).message);
      const holder = readPidFile(path);
      if (holder !== null && holder !== pid && isProcessAlive(holder)) fail(`Resource temporarily unavailable (held by pid ${holder})`);
      renameSync(tmp, path);
    }
    syncDir(dirname(path));
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed into place.
    }
  }
}

/** Removes the pid file if it still names `pid`, so a successor's file is never deleted. */
export function removePidFile(path: string, pid: number = process.pid): void {
  if (readPidFile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}

/** Environment variable telling a daemonized child which fd to report its start-up status on. */
const STATUS_FD_ENV = 'TSVIRTD_STATUS_FD';

/**
 * Returns argv without -d/--daemon, for the background copy. Values of -f and -p become absolute paths,
 * since the daemon runs in '/' (like libvirtd, so it does not keep a mount point busy).
 */
export function backgroundArgs(argv: readonly string[], cwd: string = process.cwd()): string[] {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const out: string[] = [];
  // After canonicalArgs, every value is attached: "--config=FILE" or inside a short bundle ("-vfFILE").
  const args = canonicalArgs(argv);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const long = /^--(config|pid-file)=(.*)$/s.exec(a);
    if (long) out.push(`--${long[1]}=${abs(long[2]!)}`);
    else if (a === '--daemon') continue;
    else if (a.startsWith('-') && !a.startsWith('--') && a.length > 1) {
      const at = [...a.slice(1)].findIndex((c) => c === 'f' || c === 'p' || c === 't') + 1;
      const letters = (at > 0 ? a.slice(1, at + 1) : a.slice(1)).replace(/d/g, '');
      const value = at > 0 ? a.slice(at + 1) : '';
      if (letters === '') continue;
      out.push(value === '' ? `-${letters}` : `-${letters}${letters.endsWith('t') ? value : abs(value)}`);
    } else out.push(a);
  }
  return out;
}

export interface SpawnDaemonOptions {
  /** The Node script to run; default the current one (process.argv[1]). */
  script?: string;
  /** Node flags for the child; default the current ones (e.g. --import tsx). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * The background copy runs in '/', where Node would no longer find a bare `--import tsx` (it resolves
 * those from the working directory), so loader and preload flags are turned into absolute URLs/paths.
 */
export function portableExecArgv(execArgv: readonly string[], cwd: string = process.cwd()): string[] {
  const fix = (flag: string, spec: string): string => {
    if (spec.startsWith('.')) return flag === '--require' || flag === '-r' ? resolve(cwd, spec) : pathToFileURL(resolve(cwd, spec)).href;
    if (spec.startsWith('/') || /^[a-z]+:/.test(spec)) return spec;
    try {
      return flag === '--require' || flag === '-r' ? createRequire(join(cwd, 'noop.js')).resolve(spec) : import.meta.resolve(spec);
    } catch {
      return spec;
    }
  };
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    const m = /^(--import|--loader|--experimental-loader|--require)=(.*)$/s.exec(a);
    if (m) out.push(`${m[1]}=${fix(m[1]!, m[2]!)}`);
    else if (/^(--import|--loader|--experimental-loader|--require|-r)$/.test(a) && i + 1 < execArgv.length) out.push(a, fix(a, execArgv[++i]!));
    else out.push(a);
  }
  return out;
}

export type DaemonStartResult = { ok: true; pid: number } | { ok: false; message: string };

/**
 * The parent half of --daemon: starts a detached copy of this program without -d (new session, stdio on
 * /dev/null, cwd '/') and waits until it reports, through a pipe, that it is serving or why it failed.
 */
export function spawnDaemon(argv: readonly string[], opts: SpawnDaemonOptions = {}): Promise<DaemonStartResult> {
  const script = opts.script ?? process.argv[1]!;
  const cwd = process.cwd();
  const child = spawn(process.execPath, [...portableExecArgv(opts.execArgv ?? process.execArgv, cwd), resolve(cwd, script), ...backgroundArgs(argv, cwd)], {
    detached: true,
    cwd: opts.cwd ?? '/',
    env: { ...(opts.env ?? process.env), [STATUS_FD_ENV]: '3' },
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolvePromise) => {
    let text = '';
    let settled = false;
    const done = (r: DaemonStartResult) => {
      if (settled) return;
      settled = true;
      child.stdio[3]?.destroy();
      child.unref();
      resolvePromise(r);
    };
    child.once('error', (err) => done({ ok: false, message: err.message }));
    const status = child.stdio[3] as Readable;
    status.setEncoding('utf8');
    status.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      const line = text.slice(0, nl);
      if (line === 'ok') done({ ok: true, pid: child.pid! });
      else done({ ok: false, message: line.replace(/^error /, '') });
    });
    status.once('close', () => done({ ok: false, message: 'unable to determine if daemon is running: it exited without reporting' }));
  });
}

/** --daemon, parent side: returns only in the background copy's place... never: it exits with its status. */
export async function daemonize(argv: readonly string[], opts: SpawnDaemonOptions = {}): Promise<never> {
  const r = await spawnDaemon(argv, opts);
  if (!r.ok) {
    process.stderr.write(`${DAEMON_NAME}: error: ${r.message}. Check the log or run without --daemon for more info.\n`);
  }
  process.exit(r.ok ? 0 : 1);
}

export interface StartupReporter {
  /** Call once the sockets are listening and the pid file is written. */
  ready(): void;
  /** Call instead of ready() when start-up fails; the parent prints `message`. */
  failed(message: string): void;
}

const reporters = new WeakMap<object, StartupReporter>();

/**
 * The child half of --daemon; null when this process was not started by daemonize(). Repeated calls with
 * the same env return the same reporter (the variable is removed from env so children do not inherit it).
 */
export function startupReporter(env: NodeJS.ProcessEnv = process.env): StartupReporter | null {
  const known = reporters.get(env);
  if (known) return known;
  const fdText = env[STATUS_FD_ENV];
  if (!fdText) return null;
  delete env[STATUS_FD_ENV];
  let fd: number | null = Number(fdText);
  const send = (line: string) => {
    if (fd === null) return;
    try {
      writeSync(fd, `${line.replace(/\n/g, ' ')}\n`);
      closeSync(fd);
    } catch {
      // The parent is gone; nothing to tell.
    }
    fd = null;
  };
  const reporter: StartupReporter = { ready: () => send('ok'), failed: (m) => send(`error ${m}`) };
  reporters.set(env, reporter);
  return reporter;
}

export interface SignalHandlers {
  /** SIGINT, SIGQUIT, SIGTERM: libvirtd quits cleanly on each. */
  shutdown(signal: NodeJS.Signals): void;
  /** SIGHUP: libvirtd reloads driver state. */
  reload?(): void;
}

/** Installs libvirtd's signal behaviour; returns a function that removes the handlers. */
export function installSignalHandlers(h: SignalHandlers): () => void {
  const onShutdown = (sig: NodeJS.Signals) => h.shutdown(sig);
  const onHup = () => h.reload?.();
  const quit: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTERM'];
  for (const s of quit) process.on(s, onShutdown);
  process.on('SIGHUP', onHup);
  return () => {
    for (const s of quit) process.off(s, onShutdown);
    process.off('SIGHUP', onHup);
  };
}

export interface IdleTimeout {
  /** Marks one unit of activity (a client, a running domain); call the returned function when it ends. */
  hold(): () => void;
  readonly active: number;
  stop(): void;
}

/**
 * --timeout SECS: calls onIdle once nothing has been held for SECS seconds (libvirtd counts clients, and
 * running guests inhibit it too). The countdown starts at once, since a fresh daemon has no clients.
 * SECS 0 disables it. The timer does not keep Node alive by itself.
 */
export function createIdleTimeout(seconds: number, onIdle: () => void): IdleTimeout {
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = seconds <= 0;
  const arm = () => {
    if (stopped || active > 0) return;
    timer = setTimeout(() => {
      stopped = true;
      onIdle();
    }, seconds * 1000);
    timer.unref();
  };
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  arm();
  return {
    get active() {
      return active;
    },
    hold() {
      active++;
      disarm();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
        arm();
      };
    },
    stop() {
      stopped = true;
      disarm();
    },
  };
}
