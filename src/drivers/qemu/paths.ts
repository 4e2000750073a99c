// Where the QEMU driver keeps its files. Defaults sit beside, never inside, a real libvirtd's
// (/etc/libvirt/qemu, /run/libvirt/qemu, ...) so both can run on one host. Each directory can
// be moved in a qemu.conf-like file (TSVIRT_QEMU_CONF, default /etc/tsvirt/qemu.conf as root)
// or, winning over it, an environment variable; tests point them all at a temp dir.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface QemuPaths {
  /** Persistent definitions, NAME.xml. */
  readonly configDir: string;
  /** Symlinks NAME.xml -> ../NAME.xml for domains started with the daemon. */
  readonly autostartDir: string;
  /** Status of running domains (NAME.xml) and their monitor sockets. */
  readonly stateDir: string;
  /** One NAME.log per domain: QEMU's stdout/stderr. */
  readonly logDir: string;
  /** Capability probe results. */
  readonly cacheDir: string;
  /** Managed save images NAME.save; unset means <configDir>/save (see save-image.ts). */
  readonly saveDir?: string;
  /** The emulator used when a definition names none. */
  readonly binary: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** qemu:///system paths when privileged, qemu:///session paths (under $HOME) otherwise. */
export function qemuPaths(privileged: boolean, env: Env = process.env): QemuPaths {
  const base = privileged
    ? { config: '/etc/tsvirt/qemu', state: '/run/tsvirt/qemu', log: '/var/log/tsvirt/qemu', cache: '/var/cache/tsvirt/qemu' }
    : sessionBase(env);
  const conf = qemuConf(privileged, env);
  const configDir = env.TSVIRT_QEMU_CONFIG_DIR ?? conf.get('config_dir') ?? base.config;
  const saveDir = env.TSVIRT_QEMU_SAVE_DIR ?? conf.get('save_dir');
  return {
    configDir,
    autostartDir: env.TSVIRT_QEMU_AUTOSTART_DIR ?? conf.get('autostart_dir') ?? join(configDir, 'autostart'),
    stateDir: env.TSVIRT_QEMU_STATE_DIR ?? conf.get('state_dir') ?? base.state,
    logDir: env.TSVIRT_QEMU_LOG_DIR ?? conf.get('log_dir') ?? base.log,
    cacheDir: env.TSVIRT_QEMU_CACHE_DIR ?? conf.get('cache_dir') ?? base.cache,
    binary: env.TSVIRT_QEMU_BINARY ?? conf.get('emulator') ?? '/usr/bin/qemu-system-x86_64',
    // Only when moved: the default depends on configDir and is resolved where it is used.
    ...(saveDir === undefined ? {} : { saveDir }),
  };
}

/** The driver's qemu.conf-like settings (TSVIRT_QEMU_CONF, else beside the config directory). */
export function qemuConf(privileged: boolean, env: Env = process.env): Map<string, string> {
  const base = privileged ? '/etc/tsvirt' : join(sessionBase(env).config, '..');
  return readConf(env.TSVIRT_QEMU_CONF ?? join(base, 'qemu.conf'));
}

/** `key = "value"` lines in libvirt's config syntax; # comments; a missing file is empty. */
export function readConf(path: string): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][\w]*)\s*=\s*"([^"]*)"\s*(#.*)?$/.exec(line);
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

function sessionBase(env: Env): { config: string; state: string; log: string; cache: string } {
  const home = env.HOME ?? homedir();
  const config = join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'tsvirt', 'qemu');
  const runtime = env.XDG_RUNTIME_DIR ?? join(home, '.cache');
  const cache = join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'tsvirt', 'qemu');
  return { config, state: join(runtime, 'tsvirt', 'qemu', 'run'), log: join(cache, 'log'), cache: join(cache, 'capabilities') };
}
