/**
 * tsvirtd's logging, configured the way libvirtd's is: log_level (1 debug .. 4 error), log_outputs
 * ("LEVEL:stderr", "LEVEL:file:PATH", "LEVEL:syslog:IDENT", "LEVEL:journald", space separated),
 * the LIBVIRT_DEBUG / LIBVIRT_LOG_OUTPUTS / LIBVIRT_LOG_FILTERS environment variables, and --verbose.
 * A message is written to an output when its level reaches both the global level and the output's.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../rpc/log.js';
import { DAEMON_NAME, defaultLogFile, type Env } from './paths.js';

export type LogPriority = 1 | 2 | 3 | 4;
export const LOG_DEBUG: LogPriority = 1;
export const LOG_INFO: LogPriority = 2;
export const LOG_WARNING: LogPriority = 3;
export const LOG_ERROR: LogPriority = 4;
/** libvirt's default when log_level is unset. */
export const LOG_DEFAULT: LogPriority = LOG_WARNING;

const PRIORITY_NAMES: Record<LogPriority, string> = { 1: 'debug', 2: 'info', 3: 'warning', 4: 'error' };

export type LogDestination =
  | { kind: 'stderr' }
  | { kind: 'journald' }
  | { kind: 'file'; path: string }
  | { kind: 'syslog'; ident: string };

export interface LogOutputSpec {
  priority: LogPriority;
  dest: LogDestination;
}

export interface LogFilterSpec {
  priority: LogPriority;
  match: string;
}

/** The part of DaemonConfig that logging reads. */
export interface LogSettings {
  logLevel: number;
  logOutputs: string | null;
  logFilters: string | null;
}

export function isLogPriority(n: number): n is LogPriority {
  return n === 1 || n === 2 || n === 3 || n === 4;
}

function parsePriority(token: string, what: string): LogPriority {
  const n = /^[0-9]+$/.test(token) ? Number(token) : NaN;
  if (!isLogPriority(n)) throw new Error(`invalid log priority '${token}' for ${what} (expected 1 to 4)`);
  return n;
}

/** Parses log_outputs; a later output to the same destination replaces an earlier one, as in libvirt. */
export function parseLogOutputs(text: string): LogOutputSpec[] {
  const out: LogOutputSpec[] = [];
  for (const item of text.split(' ').filter((s) => s !== '')) {
    const tokens = item.split(':');
    if (tokens.length < 2) throw new Error(`malformed log output '${item}'`);
    const priority = parsePriority(tokens[0]!, `log output '${item}'`);
    const kind = tokens[1]!;
    const needs = kind === 'stderr' || kind === 'journald' ? 2 : kind === 'file' || kind === 'syslog' ? 3 : 0;
    if (needs === 0) throw new Error(`invalid log destination '${kind}' for log output '${item}'`);
    // libvirt splits on every ':', so a file path cannot contain one either.
    if (tokens.length !== needs || (needs === 3 && tokens[2] === '')) {
      throw new Error(`log output '${item}' does not meet the format requirements for destination type '${kind}'`);
    }
    const dest: LogDestination =
      kind === 'file' ? { kind, path: resolve(tokens[2]!) }
      : kind === 'syslog' ? { kind, ident: tokens[2]! }
      : kind === 'stderr' ? { kind } : { kind: 'journald' };
    const key = destinationKey(dest);
    const dup = out.findIndex((o) => destinationKey(o.dest) === key);
    if (dup >= 0) out.splice(dup, 1);
    out.push({ priority, dest });
  }
  return out;
}

function destinationKey(d: LogDestination): string {
  return d.kind === 'file' ? `file:${d.path}` : d.kind === 'syslog' ? `syslog:${d.ident}` : d.kind;
}

/**
 * Parses log_filters ("LEVEL:match ..."). They are validated so a bad value fails like in libvirtd, but
 * not applied: our Logger carries no source category to match them against.
 */
export function parseLogFilters(text: string): LogFilterSpec[] {
  const out: LogFilterSpec[] = [];
  for (const item of text.split(' ').filter((s) => s !== '')) {
    const tokens = item.split(':');
    if (tokens.length < 2) throw new Error(`malformed log filter '${item}'`);
    const priority = parsePriority(tokens[0]!, `log filter '${item}'`);
    // A leading '+' once asked for stack traces; libvirt still accepts and drops it.
    const match = tokens[1]!.replace(/^\+/, '');
    if (match === '') throw new Error(`invalid match string '${tokens[1]}' in log filter '${item}'`);
    out.push({ priority, match });
  }
  return out;
}

/** "2024-05-01 12:34:56.789+0000": libvirt's timestamp, always UTC. */
export function formatTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}+0000`
  );
}

export interface DaemonLogger extends Logger {
  /** Closes log files; later messages to them are dropped. */
  close(): void;
  /** Closes and reopens log files (after log rotation). */
  reopen(): void;
  /** The level a message needs to be written anywhere. */
  readonly priority: LogPriority;
  readonly outputs: readonly LogOutputSpec[];
}

export interface CreateLoggerOptions {
  /** Running with --daemon: the default output becomes a log file instead of stderr. */
  daemon?: boolean;
  /** Chooses the default log file location. Default: running as root. */
  privileged?: boolean;
  /** Source of LIBVIRT_DEBUG, LIBVIRT_LOG_OUTPUTS and LIBVIRT_LOG_FILTERS. Default process.env. */
  env?: Env;
  /** Where stderr lines go. Default process.stderr. */
  writeStderr?: (text: string) => void;
  now?: () => Date;
  pid?: number;
}

/** Reads LIBVIRT_DEBUG as libvirt does: a number 1-4 or a level name. Invalid values are ignored. */
function envPriority(v: string | undefined): LogPriority | undefined {
  if (v === undefined || v === '') return undefined;
  const names: Record<string, LogPriority> = { debug: 1, info: 2, warning: 3, warn: 3, error: 4 };
  const n = /^[0-9]+$/.test(v) ? Number(v) : names[v.toLowerCase()];
  return n !== undefined && isLogPriority(n) ? n : undefined;
}

interface Sink {
  spec: LogOutputSpec;
  write(line: string): void;
  open?(): void;
  close?(): void;
}

export function createLogger(cfg: LogSettings, verbose: boolean, opts: CreateLoggerOptions = {}): DaemonLogger {
  const env = opts.env ?? process.env;
  const writeStderr = opts.writeStderr ?? ((t: string) => void process.stderr.write(t));
  const now = opts.now ?? (() => new Date());
  const pid = opts.pid ?? process.pid;

  // Precedence, lowest first: config, environment, command line (libvirtd's order).
  let priority: LogPriority = isLogPriority(cfg.logLevel) ? cfg.logLevel : LOG_DEFAULT;
  let outputs = cfg.logOutputs ? parseLogOutputs(cfg.logOutputs) : [];
  if (cfg.logFilters) parseLogFilters(cfg.logFilters);
  priority = envPriority(env.LIBVIRT_DEBUG) ?? priority;
  if (env.LIBVIRT_LOG_OUTPUTS) outputs = parseLogOutputs(env.LIBVIRT_LOG_OUTPUTS);
  if (env.LIBVIRT_LOG_FILTERS) parseLogFilters(env.LIBVIRT_LOG_FILTERS);
  if (verbose && priority > LOG_INFO) priority = LOG_INFO;
  if (outputs.length === 0) {
    const dest: LogDestination = opts.daemon
      ? { kind: 'file', path: defaultLogFile(opts.privileged ?? process.getuid?.() === 0, env) }
      : { kind: 'stderr' };
    if (dest.kind === 'file') mkdirSync(dirname(dest.path), { recursive: true });
    outputs = [{ priority, dest }];
  }

  const sinks = outputs.map((spec) => makeSink(spec, writeStderr));
  for (const s of sinks) s.open?.();

  const log = (level: LogPriority, msg: string) => {
    if (level < priority) return;
    const head = `${pid}: ${PRIORITY_NAMES[level]} : ${msg}\n`;
    let stamped: string | undefined;
    for (const s of sinks) {
      if (level < s.spec.priority) continue;
      const d = s.spec.dest;
      // syslog and journald add their own time stamps, so libvirt sends them the line without one.
      if (d.kind === 'syslog' || d.kind === 'journald') s.write(head);
      else s.write((stamped ??= `${formatTimestamp(now())}: ${head}`));
    }
  };
  return {
    priority,
    outputs,
    debug: (m) => log(LOG_DEBUG, m),
    info: (m) => log(LOG_INFO, m),
    warn: (m) => log(LOG_WARNING, m),
    error: (m) => log(LOG_ERROR, m),
    close: () => sinks.forEach((s) => s.close?.()),
    reopen: () => sinks.forEach((s) => (s.close?.(), s.open?.())),
  };
}

function makeSink(spec: LogOutputSpec, writeStderr: (t: string) => void): Sink {
  const d = spec.dest;
  switch (d.kind) {
    case 'stderr':
      return { spec, write: writeStderr };
    // Node cannot send to the syslog or journald datagram sockets (no AF_UNIX datagram support), so these
    // go to stderr tagged with their name, which a systemd service's journal captures anyway.
    case 'syslog':
      return { spec, write: (l) => writeStderr(`${d.ident}: ${l}`) };
    case 'journald':
      return { spec, write: (l) => writeStderr(`${DAEMON_NAME}: ${l}`) };
    case 'file': {
      let fd: number | null = null;
      return {
        spec,
        // libvirt creates log files readable by the owner only.
        open: () => void (fd = openSync(d.path, 'a', 0o600)),
        close: () => {
          if (fd !== null) closeSync(fd);
          fd = null;
        },
        write: (l) => {
          if (fd !== null) writeSync(fd, l);
        },
      };
    }
  }
}
