/**
 * tsvirtd's command line: libvirtd's options, so a script that starts libvirtd starts tsvirtd by changing
 * the program name. Parsed with node:util parseArgs: it is built into Node (no dependency to keep up to
 * date), handles short bundles (-lv), attached values (-t5, --timeout=5) and "--", and is strict about
 * unknown options; we add getopt_long's unambiguous long-option prefixes (--pid = --pid-file) on top.
 */
import { parseArgs } from 'node:util';
import type { DaemonConfig } from './config.js';
import { DAEMON_NAME, defaultConfigFile, defaultPidFile, defaultTlsPaths, type Env } from './paths.js';

/** The libvirt release whose behaviour tsvirtd follows; printed by --version like libvirtd prints its own. */
export const COMPAT_VERSION = '9.0.0';
export const PACKAGE_NAME = 'tsvirt';

export interface DaemonOptions {
  /** -l: allow the TCP/TLS listeners that the config file enables. */
  listen: boolean;
  /** -f FILE; null = the default file, if it exists. */
  configFile: string | null;
  /** -p FILE; null = the default pid file. */
  pidFile: string | null;
  /** -t SECS: exit after SECS with no clients; 0 = never. */
  timeout: number;
  verbose: boolean;
  daemon: boolean;
  version: boolean;
  help: boolean;
}

/** Bad command line; `message` is one line, ready to print after the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  listen: { type: 'boolean', short: 'l' },
  config: { type: 'string', short: 'f' },
  'pid-file': { type: 'string', short: 'p' },
  timeout: { type: 'string', short: 't' },
  verbose: { type: 'boolean', short: 'v' },
  daemon: { type: 'boolean', short: 'd' },
  version: { type: 'boolean', short: 'V' },
  help: { type: 'boolean', short: 'h' },
} as const;
const LONG_NAMES = Object.keys(OPTIONS);
/** Options that take a value, by short letter. */
const SHORT_WITH_VALUE: Record<string, string> = { f: 'config', p: 'pid-file', t: 'timeout' };
const LONG_WITH_VALUE = new Set(Object.values(SHORT_WITH_VALUE));

/** libvirtd's limit: the timeout must fit in an int once multiplied by 1000. */
const MAX_TIMEOUT = Math.floor(0x7fffffff / 1000);

/**
 * Rewrites argv into a form parseArgs reads the way getopt_long does: unambiguous long-option prefixes are
 * expanded, and a value given as the next word becomes "--name=value", so it may start with '-'.
 */
export function canonicalArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const hasNext = i + 1 < argv.length;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const hits = LONG_NAMES.includes(name) ? [name] : LONG_NAMES.filter((n) => n.startsWith(name));
      if (hits.length > 1) throw new UsageError(`option '--${name}' is ambiguous; possibilities: ${hits.map((h) => `'--${h}'`).join(' ')}`);
      const full = hits.length === 1 ? hits[0]! : name;
      if (eq < 0 && LONG_WITH_VALUE.has(full) && hasNext) out.push(`--${full}=${argv[++i]}`);
      else out.push(`--${full}${eq < 0 ? '' : a.slice(eq)}`);
    } else if (a.startsWith('-') && a.length > 1) {
      const last = a[a.length - 1]!;
      const firstValued = [...a.slice(1)].findIndex((c) => c in SHORT_WITH_VALUE);
      // Only when the bundle ends with its first value-taking letter is the value the next word.
      if (firstValued === a.length - 2 && hasNext) {
        if (a.length > 2) out.push(a.slice(0, -1));
        out.push(`--${SHORT_WITH_VALUE[last]}=${argv[++i]}`);
      } else {
        out.push(a);
      }
    } else {
      out.push(a);
    }
  }
  return out;
}

const runParseArgs = (args: string[]) => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });

/** Parses argv (without node and script). Throws UsageError for anything libvirtd would reject. */
export function parseOptions(argv: readonly string[]): DaemonOptions {
  let parsed: ReturnType<typeof runParseArgs>;
  try {
    parsed = runParseArgs(canonicalArgs(argv));
  } catch (err) {
    throw new UsageError(usageProblem(err as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError('unexpected, non-option, command line arguments');
  let timeout = 0;
  if (values.timeout !== undefined) {
    const t = values.timeout.trim();
    timeout = /^[+]?[0-9]+$/.test(t) ? Number(t) : NaN;
    if (!(timeout >= 0 && timeout <= MAX_TIMEOUT)) throw new UsageError(`invalid value for timeout '${values.timeout}'`);
  }
  return {
    listen: values.listen ?? false,
    configFile: values.config ?? null,
    pidFile: values['pid-file'] ?? null,
    timeout,
    verbose: values.verbose ?? false,
    daemon: values.daemon ?? false,
    version: values.version ?? false,
    help: values.help ?? false,
  };
}

/** Turns parseArgs' multi-sentence errors into getopt-style one-liners. */
function usageProblem(err: Error & { code?: string }): string {
  const opt = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unrecognized option '${opt}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = /--[a-z-]+/.exec(err.message)?.[0] ?? opt;
      return /argument missing/.test(err.message) ? `option '${name}' requires an argument` : `option '${name}' doesn't allow an argument`;
    }
    default:
      return err.message.split('\n')[0]!;
  }
}

/** libvirtd's rule: TCP and TLS listeners only with --listen, and then only those the config enables. */
export function ipListeners(opts: Pick<DaemonOptions, 'listen'>, cfg: Pick<DaemonConfig, 'listenTcp' | 'listenTls'>): { tcp: boolean; tls: boolean } {
  return { tcp: opts.listen && cfg.listenTcp, tls: opts.listen && cfg.listenTls };
}

/** `tsvirtd (tsvirt) 9.0.0`, as `libvirtd --version` prints `libvirtd (libvirt) 9.0.0`. */
export function versionText(program = DAEMON_NAME): string {
  return `${program} (${PACKAGE_NAME}) ${COMPAT_VERSION}\n`;
}

/** The --help text (libvirtd prints it on stderr), with our default paths. */
export function usageText(privileged: boolean, program = DAEMON_NAME, env: Env = process.env): string {
  const opts: Array<[string, string]> = [
    ['-h | --help', 'Display program help'],
    ['-v | --verbose', 'Verbose messages'],
    ['-d | --daemon', 'Run as a daemon & write PID file'],
    ['-l | --listen', 'Listen for TCP/IP connections'],
    ['-t | --timeout <secs>', 'Exit after timeout period'],
    ['-f | --config <file>', 'Configuration file'],
    ['-V | --version', 'Display version information'],
    ['-p | --pid-file <file>', 'Change name of PID file'],
  ];
  // Like libvirtd, show $VARIABLES rather than expanded paths for the session daemon.
  const show = (p: string, v: string, value: string | undefined) => (value ? p.replace(value, v) : p);
  const tls = defaultTlsPaths(privileged, env);
  const sess = (p: string) => show(show(p, '$XDG_RUNTIME_DIR', env.XDG_RUNTIME_DIR), '$HOME', env.HOME);
  const lines = [
    '',
    'Usage:',
    `  ${program} [options]`,
    '',
    'Options:',
    ...opts.map(([o, h]) => `  ${o.padEnd(22)} ${h}`),
    '',
    `${PACKAGE_NAME} management daemon (libvirt ${COMPAT_VERSION} compatible):`,
    '',
    '  Default paths:',
    '',
    '    Configuration file (unless overridden by -f):',
    `      ${privileged ? defaultConfigFile(true) : `$XDG_CONFIG_HOME/libvirt/${DAEMON_NAME}.conf`}`,
    '',
    '    Sockets:',
    ...(privileged
      ? ['      /run/libvirt/libvirt-sock', '      /run/libvirt/libvirt-sock-ro']
      : ['      $XDG_RUNTIME_DIR/libvirt/libvirt-sock']),
    '',
    '    TLS:',
    `      CA certificate: ${privileged ? tls.caCert : sess(tls.caCert)}`,
    `      Server certificate: ${privileged ? tls.serverCert : sess(tls.serverCert)}`,
    `      Server private key: ${privileged ? tls.serverKey : sess(tls.serverKey)}`,
    '',
    '    PID file (unless overridden by -p):',
    `      ${privileged ? defaultPidFile(true) : `$XDG_RUNTIME_DIR/libvirt/${DAEMON_NAME}.pid`}`,
    '',
  ];
  return lines.join('\n') + '\n';
}
