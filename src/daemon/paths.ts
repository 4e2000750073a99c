/**
 * Where tsvirtd looks for things by default. The rules are libvirtd 9.0's (system daemon under /etc and
 * /run, session daemon under the XDG directories), with our program name wherever libvirtd puts its own
 * name (config file, pid file, log file), just as each libvirt daemon (virtqemud, virtproxyd) uses its own.
 * Socket names stay libvirt's, since clients find the daemon by them.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DAEMON_NAME = 'tsvirtd';

export type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v !== '' ? v : undefined);
const home = (env: Env): string => nonEmpty(env.HOME) ?? homedir();

/** $XDG_CACHE_HOME, else ~/.cache (GLib's rule, which libvirt uses). */
export function userCacheDir(env: Env = process.env): string {
  return nonEmpty(env.XDG_CACHE_HOME) ?? join(home(env), '.cache');
}

/** $XDG_CONFIG_HOME/libvirt, else ~/.config/libvirt. */
export function userConfigDir(env: Env = process.env): string {
  return join(nonEmpty(env.XDG_CONFIG_HOME) ?? join(home(env), '.config'), 'libvirt');
}

/** $XDG_RUNTIME_DIR/libvirt; GLib falls back to the cache dir when XDG_RUNTIME_DIR is unset, and so do we. */
export function userRuntimeDir(env: Env = process.env): string {
  return join(nonEmpty(env.XDG_RUNTIME_DIR) ?? userCacheDir(env), 'libvirt');
}

/** The config file read when -f is not given (a missing default file is not an error). */
export function defaultConfigFile(privileged: boolean, env: Env = process.env): string {
  return privileged ? `/etc/libvirt/${DAEMON_NAME}.conf` : join(userConfigDir(env), `${DAEMON_NAME}.conf`);
}

/** The pid file used when -p is not given: /run/tsvirtd.pid, or tsvirtd.pid in the user runtime dir. */
export function defaultPidFile(privileged: boolean, env: Env = process.env): string {
  return privileged ? `/run/${DAEMON_NAME}.pid` : join(userRuntimeDir(env), `${DAEMON_NAME}.pid`);
}

/** The log file used when running with --daemon and no log_outputs (stderr is /dev/null then). */
export function defaultLogFile(privileged: boolean, env: Env = process.env): string {
  return privileged ? `/var/log/libvirt/${DAEMON_NAME}.log` : join(userCacheDir(env), 'libvirt', 'log', `${DAEMON_NAME}.log`);
}

export interface TlsPaths {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** Where libvirtd expects its x509 files when key_file/cert_file/ca_file are not set. */
export function defaultTlsPaths(privileged: boolean, env: Env = process.env): TlsPaths {
  if (privileged) {
    return {
      caCert: '/etc/pki/CA/cacert.pem',
      serverCert: '/etc/pki/libvirt/servercert.pem',
      serverKey: '/etc/pki/libvirt/private/serverkey.pem',
    };
  }
  const dir = join(home(env), '.pki', 'libvirt');
  return { caCert: join(dir, 'cacert.pem'), serverCert: join(dir, 'servercert.pem'), serverKey: join(dir, 'serverkey.pem') };
}
