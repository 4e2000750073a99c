/**
 * libvirtd.conf for tsvirtd: libvirt's "virconf" syntax, libvirtd 9.0's keys, defaults and checks.
 * Every key libvirtd 9.0 reads is accepted (stock /etc/libvirt/libvirtd.conf loads as is); keys we do not
 * act on are still type-checked and kept, so the daemon can report or use them later.
 * Unknown keys only warn (libvirtd ignores them silently); bad values throw ConfigError "FILE:LINE: KEY: reason".
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, parseConf, type ConfEntry, type ConfValue } from './conf-syntax.js';
import { isLogPriority, parseLogFilters, parseLogOutputs } from './log.js';
import { defaultConfigFile, userRuntimeDir, type Env } from './paths.js';

export { ConfigError };

export type AuthKind = 'none' | 'sasl' | 'polkit';

export interface DaemonConfig {
  /** Honoured only with --listen (see ipListeners in options.ts). */
  listenTcp: boolean;
  listenTls: boolean;
  tcpPort: number;
  tlsPort: number;
  /** '' = every interface, IPv4 and IPv6 (libvirtd's default); Node's listen() treats '' that way too. */
  listenAddr: string;
  unixSockDir: string;
  unixSockGroup: string | null;
  unixSockRoPerms: number;
  unixSockRwPerms: number;
  unixSockAdminPerms: number;
  authUnixRo: AuthKind;
  authUnixRw: AuthKind;
  authTcp: AuthKind;
  authTls: AuthKind;
  accessDrivers: string[];
  /** x509 files; null = the default location (paths.ts defaultTlsPaths). */
  keyFile: string | null;
  certFile: string | null;
  caFile: string | null;
  crlFile: string | null;
  tlsNoSanityCertificate: boolean;
  tlsNoVerifyCertificate: boolean;
  /** null = no check; an empty list lets nobody in (libvirt's rule). */
  tlsAllowedDnList: string[] | null;
  tlsPriority: string | null;
  tcpMinSsf: number;
  saslAllowedUsernameList: string[] | null;
  maxClients: number;
  maxQueuedClients: number;
  maxAnonymousClients: number;
  maxClientRequests: number;
  maxWorkers: number;
  minWorkers: number;
  prioWorkers: number;
  adminMinWorkers: number;
  adminMaxWorkers: number;
  adminMaxClients: number;
  adminMaxQueuedClients: number;
  adminMaxClientRequests: number;
  /** Seconds; -1 disables sending keepalive requests. */
  keepaliveInterval: number;
  keepaliveCount: number;
  adminKeepaliveInterval: number;
  adminKeepaliveCount: number;
  auditLevel: number;
  auditLogging: boolean;
  hostUuid: string | null;
  hostUuidSource: 'smbios' | 'machine-id' | null;
  /** 1 debug .. 4 error. */
  logLevel: number;
  logOutputs: string | null;
  logFilters: string | null;
  ovsTimeout: number;
}

export const DEFAULT_TCP_PORT = 16509;
export const DEFAULT_TLS_PORT = 16514;
/** libvirt refuses tcp_min_ssf below this (SSF_WARNING_LEVEL). */
const MIN_SSF = 112;

/** libvirtd 9.0's defaults (remote_daemon_config.c, daemonConfigNew). */
export function defaultConfig(privileged: boolean, env: Env = process.env): DaemonConfig {
  return {
    // libvirtd (unlike virtproxyd) defaults TLS on, but only listens with --listen.
    listenTcp: false,
    listenTls: true,
    tcpPort: DEFAULT_TCP_PORT,
    tlsPort: DEFAULT_TLS_PORT,
    listenAddr: '',
    unixSockDir: privileged ? '/run/libvirt' : userRuntimeDir(env),
    unixSockGroup: null,
    unixSockRoPerms: 0o777,
    // Debian's libvirtd defaults the UNIX sockets to auth "polkit" as root, with a 0777 rw socket.
    // We have no polkit, so we default to "none" with 0700, libvirt's own defaults for a build without it.
    unixSockRwPerms: 0o700,
    unixSockAdminPerms: 0o700,
    authUnixRo: 'none',
    authUnixRw: 'none',
    authTcp: 'sasl',
    authTls: 'none',
    accessDrivers: [],
    keyFile: null,
    certFile: null,
    caFile: null,
    crlFile: null,
    tlsNoSanityCertificate: false,
    tlsNoVerifyCertificate: false,
    tlsAllowedDnList: null,
    tlsPriority: null,
    tcpMinSsf: 56,
    saslAllowedUsernameList: null,
    maxClients: 5000,
    maxQueuedClients: 1000,
    maxAnonymousClients: 20,
    maxClientRequests: 5,
    maxWorkers: 20,
    minWorkers: 5,
    prioWorkers: 5,
    adminMinWorkers: 5,
    adminMaxWorkers: 20,
    adminMaxClients: 5000,
    adminMaxQueuedClients: 20,
    adminMaxClientRequests: 5,
    keepaliveInterval: 5,
    keepaliveCount: 5,
    adminKeepaliveInterval: 5,
    adminKeepaliveCount: 5,
    auditLevel: 1,
    auditLogging: false,
    hostUuid: null,
    hostUuidSource: null,
    logLevel: 3,
    logOutputs: null,
    logFilters: null,
    ovsTimeout: 5,
  };
}

/** A value check: returns the converted value or throws a plain Error whose message is the reason. */
type Reader<T> = (v: ConfValue) => T;

const UINT_MAX = 0xffffffffn;
const INT_MIN = -0x80000000n;
const INT_MAX = 0x7fffffffn;

const bool: Reader<boolean> = (v) => {
  if (v.kind !== 'number' || v.negative) throw new Error('expected a bool (0 or 1)');
  if (v.value > 1n) throw new Error('value must be 0 or 1');
  return v.value === 1n;
};
const uint: Reader<number> = (v) => {
  if (v.kind !== 'number' || v.negative) throw new Error('expected an unsigned integer');
  if (v.value > UINT_MAX) throw new Error(`value must be in range 0:${UINT_MAX}`);
  return Number(v.value);
};
const int: Reader<number> = (v) => {
  if (v.kind !== 'number') throw new Error('expected a signed integer');
  if (v.value < INT_MIN || v.value > INT_MAX) throw new Error(`value must be in range ${INT_MIN}:${INT_MAX}`);
  return Number(v.value);
};
const str: Reader<string> = (v) => {
  if (v.kind !== 'string') throw new Error('expected a string');
  return v.value;
};
const strList: Reader<string[]> = (v) => {
  if (v.kind !== 'list' || v.items.some((i) => i.kind !== 'string')) throw new Error('expected a string list');
  return v.items.map((i) => (i as { value: string }).value);
};
const auth: Reader<AuthKind> = (v) => {
  const s = str(v);
  if (s !== 'none' && s !== 'sasl' && s !== 'polkit') throw new Error(`unsupported auth ${s}`);
  return s;
};
/** Socket modes are strings read as octal ("0770"); libvirt rejects a bare number here. */
const perms: Reader<number> = (v) => {
  if (v.kind !== 'string') throw new Error('expected a string holding an octal mode, such as "0770"');
  if (!/^[0-7]{1,4}$/.test(v.value)) throw new Error(`failed to parse mode '${v.value}' (expected octal, 0 to 07777)`);
  return parseInt(v.value, 8);
};
/** Ports are strings in libvirtd ("16509", or a service name); we also take a bare number. */
const port: Reader<number> = (v) => {
  let n: number;
  if (v.kind === 'number') n = v.negative ? -1 : Number(v.value);
  else if (v.kind === 'string') n = /^[0-9]+$/.test(v.value) ? Number(v.value) : serviceTcpPort(v.value);
  else throw new Error('expected a port number or service name');
  if (!(n >= 0 && n <= 65535)) throw new Error(`port ${v.kind === 'string' ? v.value : n} out of range 0:65535`);
  return n;
};
const logLevel: Reader<number> = (v) => {
  const n = uint(v);
  // 0 means "unset" to libvirtd.
  if (n === 0) return 3;
  if (!isLogPriority(n)) throw new Error('log level must be 1 (debug) to 4 (error)');
  return n;
};
const checked = (parse: (s: string) => unknown): Reader<string> => (v) => {
  const s = str(v);
  parse(s);
  return s;
};
const uuid: Reader<string> = (v) => {
  const s = str(v);
  const hex = s.replace(/[-\s]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`invalid host UUID: ${s}`);
  if (/^(.)\1*$/.test(hex.toLowerCase())) throw new Error(`invalid host UUID: ${s} (all digits are the same)`);
  return s;
};

/** Looks a service name up in /etc/services, as getaddrinfo would when libvirtd binds. */
function serviceTcpPort(name: string): number {
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    // No services database: treated as an unknown service below.
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^([0-9]+)\/tcp$/.exec(words[1] ?? '');
    if (m && (words[0] === name || words.slice(2).includes(name))) return Number(m[1]);
  }
  throw new Error(`unknown service name '${name}'`);
}

interface KeySpec {
  apply(cfg: DaemonConfig, v: ConfValue): void;
}
const set = <K extends keyof DaemonConfig>(field: K, read: Reader<DaemonConfig[K]>): KeySpec => ({
  apply: (cfg, v) => {
    cfg[field] = read(v);
  },
});
/** Keys libvirtd no longer reads (keepalive_required, mDNS, max_requests): any value is accepted and ignored. */
const obsolete: KeySpec = { apply: () => {} };

const KEYS: Record<string, KeySpec> = {
  listen_tcp: set('listenTcp', bool),
  listen_tls: set('listenTls', bool),
  tcp_port: set('tcpPort', port),
  tls_port: set('tlsPort', port),
  listen_addr: set('listenAddr', str),
  unix_sock_group: set('unixSockGroup', str),
  unix_sock_ro_perms: set('unixSockRoPerms', perms),
  unix_sock_rw_perms: set('unixSockRwPerms', perms),
  unix_sock_admin_perms: set('unixSockAdminPerms', perms),
  unix_sock_dir: set('unixSockDir', str),
  auth_unix_ro: set('authUnixRo', auth),
  auth_unix_rw: set('authUnixRw', auth),
  auth_tcp: set('authTcp', auth),
  auth_tls: set('authTls', auth),
  access_drivers: set('accessDrivers', strList),
  key_file: set('keyFile', str),
  cert_file: set('certFile', str),
  ca_file: set('caFile', str),
  crl_file: set('crlFile', str),
  tls_no_sanity_certificate: set('tlsNoSanityCertificate', bool),
  tls_no_verify_certificate: set('tlsNoVerifyCertificate', bool),
  tls_allowed_dn_list: set('tlsAllowedDnList', strList),
  tls_priority: set('tlsPriority', str),
  tcp_min_ssf: set('tcpMinSsf', (v) => {
    const n = uint(v);
    if (n < MIN_SSF) throw new Error(`minimum SSF levels lower than ${MIN_SSF} are not supported`);
    return n;
  }),
  sasl_allowed_username_list: set('saslAllowedUsernameList', strList),
  min_workers: set('minWorkers', uint),
  max_workers: set('maxWorkers', (v) => {
    const n = uint(v);
    if (n < 1) throw new Error("'max_workers' must be greater than 0");
    return n;
  }),
  max_clients: set('maxClients', uint),
  max_queued_clients: set('maxQueuedClients', uint),
  max_anonymous_clients: set('maxAnonymousClients', uint),
  prio_workers: set('prioWorkers', uint),
  max_client_requests: set('maxClientRequests', uint),
  admin_min_workers: set('adminMinWorkers', uint),
  admin_max_workers: set('adminMaxWorkers', uint),
  admin_max_clients: set('adminMaxClients', uint),
  admin_max_queued_clients: set('adminMaxQueuedClients', uint),
  admin_max_client_requests: set('adminMaxClientRequests', uint),
  audit_level: set('auditLevel', (v) => {
    const n = uint(v);
    if (n > 2) throw new Error('audit level must be 0, 1 or 2');
    return n;
  }),
  audit_logging: set('auditLogging', bool),
  host_uuid: set('hostUuid', uuid),
  host_uuid_source: set('hostUuidSource', (v) => {
    const s = str(v);
    if (s !== 'smbios' && s !== 'machine-id') throw new Error(`invalid UUID source: ${s}`);
    return s;
  }),
  log_level: set('logLevel', logLevel),
  log_filters: set('logFilters', checked(parseLogFilters)),
  log_outputs: set('logOutputs', checked(parseLogOutputs)),
  keepalive_interval: set('keepaliveInterval', int),
  keepalive_count: set('keepaliveCount', uint),
  admin_keepalive_interval: set('adminKeepaliveInterval', int),
  admin_keepalive_count: set('adminKeepaliveCount', uint),
  ovs_timeout: set('ovsTimeout', uint),
  keepalive_required: obsolete,
  admin_keepalive_required: obsolete,
  mdns_adv: obsolete,
  mdns_name: obsolete,
  max_requests: obsolete,
};

export interface ParsedConfig {
  config: DaemonConfig;
  warnings: string[];
}

/** Applies the settings in `text` (the contents of `file`) on top of `base`; `base` is not modified. */
export function parseConfig(text: string, file: string, base: DaemonConfig): ParsedConfig {
  const entries = parseConf(text, file);
  const config: DaemonConfig = structuredClone(base);
  const warnings: string[] = [];
  const seen = new Map<string, ConfEntry>();
  for (const e of entries) {
    const first = seen.get(e.key);
    if (first) {
      // libvirt looks keys up from the top, so the first occurrence wins.
      warnings.push(`${file}:${e.line}: ${e.key}: duplicate setting ignored (first set on line ${first.line})`);
      continue;
    }
    seen.set(e.key, e);
    const spec = Object.hasOwn(KEYS, e.key) ? KEYS[e.key] : undefined;
    if (!spec) {
      warnings.push(`${file}:${e.line}: ${e.key}: unknown setting ignored`);
      continue;
    }
    try {
      spec.apply(config, e.value);
    } catch (err) {
      throw new ConfigError(`${file}:${e.line}: ${e.key}: ${(err as Error).message}`, file, e.line, e.key);
    }
  }
  // With polkit on the rw socket, libvirtd opens its mode to everyone unless the file sets one.
  if (seen.has('auth_unix_rw') && config.authUnixRw === 'polkit' && !seen.has('unix_sock_rw_perms')) {
    config.unixSockRwPerms = 0o777;
  }
  return { config, warnings };
}

/** The file to load for `-f FILE` (always, even if missing) or no -f (the default file, only if it exists). */
export function configFileToLoad(named: string | null, privileged: boolean, env: Env = process.env): string | null {
  if (named !== null) return named;
  const def = defaultConfigFile(privileged, env);
  return existsSync(def) ? def : null;
}

/**
 * Defaults, then `file` if given. A named file that is missing or unreadable is an error (libvirtd: "Can't
 * load config file"); callers that look for the default file should pass null when it does not exist.
 */
export function loadConfig(file: string | null, privileged: boolean, env: Env = process.env): ParsedConfig {
  const base = defaultConfig(privileged, env);
  if (file === null) return { config: base, warnings: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message;
    throw new ConfigError(`Failed to open file '${file}': ${reason}`, file, 0, null);
  }
  return parseConfig(text, file, base);
}
