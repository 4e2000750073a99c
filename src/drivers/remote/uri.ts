/**
 * Turns a connection URI into what the remote driver needs to reach a daemon, following libvirt 9.0
 * (virConnectOpen's default/alias handling, remoteConnectOpen, doRemoteOpen, remote_sockets.c).
 */
import { existsSync } from 'node:fs';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { clientConfigPath, confString, loadClientConfig, resolveAlias, type ClientConfig } from './client-config.js';
import { formatLocalUri, formatParams, parseUri, type ParsedUri, type UriParam } from './uri-parse.js';
import { sshArgv, sshRemoteCommand, type SshProxy } from './uri-ssh.js';
import { chooseUnixSocket, type RemoteMode, type RemoteTransport } from './uri-sockets.js';

export type { RemoteMode, RemoteTransport } from './uri-sockets.js';

export const DEFAULT_TCP_PORT = 16509;
export const DEFAULT_TLS_PORT = 16514;

export interface RemoteTarget {
  transport: RemoteTransport;
  /** The URI sent in CONNECT_OPEN; "" lets the daemon pick (remote:// URIs, no URI at all). */
  name: string;
  host?: string;
  port?: number;
  user?: string;
  /** unix: the socket to connect to; ssh/libssh*: the far side's socket. */
  socketPath?: string;
  /** ssh/libssh*: the full ssh argv; ext: [command]. */
  command?: string[];
  mode: RemoteMode;
  readonly: boolean;
  noVerify: boolean;
  noTty: boolean;
  pkipath?: string;
  keyfile?: string;
  knownHosts?: string;
  sshauth?: string;
  /** The URI as resolved (after LIBVIRT_DEFAULT_URI, uri_default, aliases); "" when there was none. */
  displayUri: string;
  /** ?auth= (sasl, sasl.MECH, polkit): which AUTH_LIST entry to use. */
  auth?: string;
  /** ?tls_priority= or the config's tls_priority (a GnuTLS priority string; informational for node:tls). */
  tlsPriority?: string;
  /** No URI was given or configured: after CONNECT_OPEN ask the daemon with CONNECT_GET_URI. */
  probeUri: boolean;
}

export interface ResolveOptions {
  readonly?: boolean;
  env?: Record<string, string | undefined>;
  /** The client libvirt.conf; undefined means libvirt's default path for `uid`, null means none. */
  configFile?: string | null;
  uid?: number;
  /** VIR_CONNECT_NO_ALIASES. */
  noAliases?: boolean;
  /** File existence test for the `auto` socket mode (tests replace it). */
  exists?: (path: string) => boolean;
}

const TRANSPORTS: readonly RemoteTransport[] = ['tls', 'unix', 'ssh', 'libssh2', 'ext', 'tcp', 'libssh'];
const MODES: readonly RemoteMode[] = ['auto', 'legacy', 'direct'];
const PROXIES: readonly SshProxy[] = ['auto', 'netcat', 'native'];

const invalidArg = (detail: string) => VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.REMOTE, 'invalid argument: %s', detail);

/** virStrToLong_i on the whole value: optional blanks and sign, decimal digits, nothing after. */
function parseBoolParam(p: UriParam): boolean {
  if (!/^\s*[+-]?[0-9]+$/.test(p.value)) throw invalidArg(`Failed to parse value of URI component ${p.name}`);
  return Number(p.value) !== 0;
}

/** The URI string libvirt would open: the argument, else LIBVIRT_DEFAULT_URI, else uri_default; aliases applied. */
function effectiveUri(uri: string | null, conf: ClientConfig, env: Record<string, string | undefined>, noAliases: boolean): string | null {
  let s = uri === '' ? null : uri;
  if (s !== null && s.toLowerCase() === 'xen') s = 'xen:///system';
  if (s === 'xen://') s = 'xen:///system';
  if (s === null) s = env.LIBVIRT_DEFAULT_URI || confString(conf, 'uri_default') || null;
  if (s !== null && !noAliases) s = resolveAlias(conf, s) ?? s;
  return s;
}

function checkParsed(text: string, original: string | null, u: ParsedUri): void {
  if (u.scheme === null) {
    throw VirError.format(
      VirErrorNumber.NO_CONNECT,
      VirErrorDomain.NONE,
      'no connection driver available for %s',
      `URI '${original ?? text}' does not include a driver name`,
    );
  }
  // qemu://system is a common typo for qemu:///system.
  if (u.server !== null && ['qemu', 'vbox', 'vz'].includes(u.scheme) && (u.server === 'system' || u.server === 'session')) {
    throw VirError.format(
      VirErrorNumber.INTERNAL_ERROR,
      VirErrorDomain.NONE,
      'internal error: %s',
      `invalid URI ${text} (maybe you want ${u.scheme}:///${u.server})`,
    );
  }
}

/** remoteSplitURIScheme: "drv+transport" -> driver and transport; no transport means tls with a host, unix without. */
function splitScheme(u: ParsedUri): { driver: string; transport: RemoteTransport } {
  const scheme = u.scheme!;
  const plus = scheme.indexOf('+');
  if (plus < 0) return { driver: scheme, transport: u.server !== null ? 'tls' : 'unix' };
  const t = scheme.slice(plus + 1).toLowerCase();
  if (!(TRANSPORTS as readonly string[]).includes(t)) {
    throw invalidArg('remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)');
  }
  if (t === 'unix' && u.server !== null) throw invalidArg(`using unix socket and remote server '${u.server}' is not supported.`);
  return { driver: scheme.slice(0, plus), transport: t as RemoteTransport };
}

interface Extracted {
  strings: Map<string, string>;
  noSanity: boolean;
  noVerify: boolean;
  noTty: boolean;
  kept: UriParam[];
}

const STRING_PARAMS = [
  'name', 'command', 'socket', 'auth', 'sshauth', 'netcat', 'keyfile', 'pkipath', 'known_hosts',
  'known_hosts_verify', 'tls_priority', 'mode', 'proxy',
];

/** doRemoteOpen's parameter loop: names compare case-insensitively, the last one wins, the rest pass through. */
function extractParams(params: readonly UriParam[]): Extracted {
  const x: Extracted = { strings: new Map(), noSanity: false, noVerify: false, noTty: false, kept: [] };
  for (const p of params) {
    const n = p.name.toLowerCase();
    if (STRING_PARAMS.includes(n)) x.strings.set(n, p.value);
    else if (n === 'no_sanity') x.noSanity = parseBoolParam(p);
    else if (n === 'no_verify') x.noVerify = parseBoolParam(p);
    else if (n === 'no_tty') x.noTty = parseBoolParam(p);
    else if (n !== 'authfile') x.kept.push(p);
  }
  return x;
}

function pickEnum<T extends string>(value: string | undefined, allowed: readonly T[], error: (v: string) => VirError): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw error(value);
  return value as T;
}

export function resolveUri(uri: string | null, opts: ResolveOptions = {}): RemoteTarget {
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? process.geteuid?.() ?? 0;
  const conf = loadClientConfig(opts.configFile === undefined ? clientConfigPath(uid, env) : opts.configFile);
  const text = effectiveUri(uri, conf, env, opts.noAliases ?? false);

  let u: ParsedUri | null = null;
  let driver: string | null = null;
  let transport: RemoteTransport = 'unix';
  if (text !== null) {
    u = parseUri(text);
    checkParsed(text, uri, u);
    ({ driver, transport } = splitScheme(u));
  }

  // remoteGetURIDaemonInfo: a per-user daemon for /session and test+X URIs, or no URI, when not root.
  const user = uid > 0 && (u === null || u.path === '/session' || u.scheme!.startsWith('test+'));
  const readonly = opts.readonly ?? false;
  const x = extractParams(u?.params ?? []);
  const str = (k: string) => x.strings.get(k);

  let name: string;
  if (str('name') !== undefined) name = str('name')!;
  else if (u === null || u.scheme === 'remote' || u.scheme!.startsWith('remote+')) name = '';
  else name = formatLocalUri(driver!, u.path, formatParams(x.kept), u.fragment);

  const mode =
    pickEnum(str('mode') ?? confString(conf, 'remote_mode'), MODES, (v) => invalidArg(`Unknown remote mode '${v}'`)) ?? 'auto';
  const socketParam = str('socket');
  // libvirt's own spelling of this message.
  const proxy =
    pickEnum(str('proxy') ?? confString(conf, 'remote_proxy'), PROXIES, (v) => invalidArg(`Unnkown proxy type '${v}'`)) ??
    (socketParam !== undefined ? 'netcat' : user ? 'native' : 'auto');

  if (transport === 'ext' && str('command') === undefined) invalidArgThrow("remote_open: for 'ext' transport, command is required");

  let socketPath = socketParam;
  let finalMode: RemoteMode = mode;
  if (socketPath === undefined && (transport === 'unix' || transport === 'ssh' || transport === 'libssh' || transport === 'libssh2')) {
    const chosen = chooseUnixSocket({ transport, mode, driver, user, readonly, env, exists: opts.exists ?? existsSync });
    socketPath = chosen.path;
    finalMode = chosen.mode;
  }

  const port = u !== null && u.port !== 0 ? u.port : transport === 'tls' ? DEFAULT_TLS_PORT : transport === 'tcp' ? DEFAULT_TCP_PORT : undefined;
  const host = u?.server ?? 'localhost';
  const target: RemoteTarget = {
    transport,
    name,
    mode: finalMode,
    readonly,
    noVerify: x.noVerify,
    noTty: x.noTty,
    displayUri: text ?? '',
    probeUri: u === null,
  };
  if (transport !== 'unix' && transport !== 'ext') target.host = host;
  if (port !== undefined && transport !== 'unix' && transport !== 'ext') target.port = port;
  if (u?.user != null) target.user = u.user;
  if (socketPath !== undefined && transport !== 'tcp' && transport !== 'tls' && transport !== 'ext') target.socketPath = socketPath;
  const optional = { pkipath: 'pkipath', keyfile: 'keyfile', knownHosts: 'known_hosts', sshauth: 'sshauth', auth: 'auth' } as const;
  for (const [field, param] of Object.entries(optional) as Array<[keyof typeof optional, string]>) {
    const v = str(param);
    if (v !== undefined) target[field] = v;
  }
  const tlsPriority = str('tls_priority') ?? confString(conf, 'tls_priority');
  if (transport === 'tls' && tlsPriority !== undefined) target.tlsPriority = tlsPriority;

  if (transport === 'ext') target.command = [str('command')!];
  if (transport === 'ssh' || transport === 'libssh' || transport === 'libssh2') {
    const netcat = str('netcat');
    const remoteCommand = sshRemoteCommand({
      proxy,
      ...(netcat !== undefined ? { netcat } : {}),
      socketPath: socketPath!,
      driverUri: name,
      readonly,
    });
    target.command = transport === 'ssh'
      ? sshArgv({
          binary: str('command') ?? 'ssh',
          host,
          ...(u !== null && u.port !== 0 ? { port: u.port } : {}),
          ...(u?.user != null ? { user: u.user } : {}),
          ...(target.keyfile !== undefined ? { keyfile: target.keyfile } : {}),
          noTty: x.noTty,
          noVerify: x.noVerify,
          ...(target.knownHosts !== undefined ? { knownHosts: target.knownHosts } : {}),
          remoteCommand,
        })
      : libsshArgv(host, u, target, str('known_hosts_verify'), remoteCommand);
  }
  return target;
}

function invalidArgThrow(detail: string): never {
  throw invalidArg(detail);
}

/**
 * libssh/libssh2 run in-process in libvirt; we reach the same far side with the OpenSSH binary, using
 * their defaults (user root, port 22) and host key policy (known_hosts_verify normal|auto|ignore).
 */
function libsshArgv(host: string, u: ParsedUri | null, t: RemoteTarget, verify: string | undefined, remoteCommand: string): string[] {
  const policy = (verify ?? 'normal').toLowerCase();
  const strict = { normal: 'yes', auto: 'accept-new', ignore: 'no' }[policy];
  if (strict === undefined) throw invalidArg(`Invalid host key verification method: '${verify}'`);
  const argv = ['ssh', '-p', String(u !== null && u.port !== 0 ? u.port : 22), '-l', u?.user ?? 'root'];
  if (t.keyfile !== undefined) argv.push('-i', t.keyfile);
  argv.push('-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', `StrictHostKeyChecking=${strict}`);
  if (t.knownHosts !== undefined) argv.push('-o', `UserKnownHostsFile=${t.knownHosts}`);
  argv.push('--', host, remoteCommand);
  return argv;
}
