/**
 * Which UNIX socket a remote URI means (remote_sockets.c): per-driver sockets of the modular daemons
 * ("direct") or libvirtd's libvirt-sock ("legacy"), system or per-user, read-write or read-only.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export type RemoteTransport = 'unix' | 'tcp' | 'tls' | 'ssh' | 'ext' | 'libssh' | 'libssh2';
export type RemoteMode = 'auto' | 'legacy' | 'direct';

/** Debian 12 builds libvirt with the legacy (libvirtd) mode as the fallback when no socket exists yet. */
export const DEFAULT_MODE: Exclude<RemoteMode, 'auto'> = 'legacy';

/** The system sockets live here; libvirt deliberately uses $LOCALSTATEDIR/run, not /run. */
export const SYSTEM_SOCKET_DIR = '/var/run/libvirt';

export interface SocketChoice {
  transport: RemoteTransport;
  mode: RemoteMode;
  /** The URI scheme's driver part; null when there is no URI at all. */
  driver: string | null;
  /** Connect to a per-user daemon (REMOTE_DRIVER_OPEN_USER). */
  user: boolean;
  readonly: boolean;
  env: Record<string, string | undefined>;
  exists: (path: string) => boolean;
}

/** g_get_user_runtime_dir() + "/libvirt": $XDG_RUNTIME_DIR, else the user cache dir. */
export function userRuntimeDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_RUNTIME_DIR || env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'libvirt');
}

function socketFor(prefix: string, c: SocketChoice): string {
  if (c.user) return join(userRuntimeDir(c.env), `${prefix}-sock`);
  return `${SYSTEM_SOCKET_DIR}/${prefix}-${c.readonly ? 'sock-ro' : 'sock'}`;
}

/** The socket path and the mode finally used. */
export function chooseUnixSocket(c: SocketChoice): { path: string; mode: Exclude<RemoteMode, 'auto'> } {
  const direct = socketFor(c.driver !== null ? `virt${c.driver}d` : 'libvirt', c);
  const legacy = socketFor('libvirt', c);
  let mode = c.mode;
  if (mode === 'auto') {
    if (c.transport === 'unix') mode = c.exists(direct) ? 'direct' : c.exists(legacy) ? 'legacy' : DEFAULT_MODE;
    else mode = 'legacy';
  }
  if (mode === 'direct' && c.transport !== 'unix') {
    throw VirError.format(
      VirErrorNumber.OPERATION_UNSUPPORTED,
      VirErrorDomain.REMOTE,
      'Operation not supported: %s',
      `Cannot use direct socket mode for ${c.transport} transport`,
    );
  }
  return { path: mode === 'direct' ? direct : legacy, mode };
}
