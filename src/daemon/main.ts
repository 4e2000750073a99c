#!/usr/bin/env node
/**
 * tsvirtd: a drop-in for libvirtd. Same options, same libvirtd.conf, same sockets; drivers
 * chosen by the URI each client opens. Errors at start print one line and exit 1.
 */
import { ConfigError, configFileToLoad, loadConfig, type DaemonConfig } from './config.js';
import { Daemon, type DaemonSettings } from './daemon.js';
import { lazyDriver } from './lazy-driver.js';
import { qemuDriverEntry } from '../drivers/qemu/entry.js';
import { createLogger, type DaemonLogger } from './log.js';
import { ipListeners, parseOptions, usageText, versionText, type DaemonOptions } from './options.js';
import { defaultPidFile, DAEMON_NAME } from './paths.js';
import {
  createIdleTimeout,
  daemonize,
  installSignalHandlers,
  removePidFile,
  startupReporter,
  writePidFile,
} from './process.js';

/** A start-up failure: printed as one line, exit status 1. */
class StartError extends Error {}

function settingsFrom(cfg: DaemonConfig, opts: DaemonOptions, log: DaemonLogger): DaemonSettings {
  const ip = ipListeners(opts, cfg);
  if (ip.tls) log.warn('TLS listener requested (listen_tls = 1) but not supported yet: not listening on TLS');
  if (ip.tcp && cfg.authTcp !== 'none') {
    throw new StartError(
      `auth_tcp = "${cfg.authTcp}" is not supported yet; TCP is served only when auth_tcp = "none" is set explicitly`,
    );
  }
  for (const [key, kind] of [['auth_unix_rw', cfg.authUnixRw], ['auth_unix_ro', cfg.authUnixRo]] as const) {
    if (kind !== 'none') throw new StartError(`${key} = "${kind}" is not supported yet; use "none"`);
  }
  return {
    unixSockDir: cfg.unixSockDir,
    unixSockGroup: cfg.unixSockGroup,
    unixSockRwPerms: cfg.unixSockRwPerms,
    unixSockRoPerms: cfg.unixSockRoPerms,
    tcp: ip.tcp ? { address: cfg.listenAddr, port: cfg.tcpPort } : null,
    maxClients: cfg.maxClients,
    maxClientRequests: cfg.maxClientRequests,
    maxWorkers: cfg.maxWorkers,
    prioWorkers: cfg.prioWorkers,
    keepalive: cfg.keepaliveInterval > 0 ? { intervalMs: cfg.keepaliveInterval * 1000, count: cfg.keepaliveCount } : null,
    drivers: [lazyDriver('Test', ['test'], async () => (await import('../drivers/test/index.js')).testDriver), qemuDriverEntry()],
    defaultUri: 'test:///default',
    log,
  };
}

function readConfig(opts: DaemonOptions, privileged: boolean) {
  try {
    return loadConfig(configFileToLoad(opts.configFile, privileged), privileged);
  } catch (err) {
    // libvirtd's words for any failure to read or parse its config.
    if (err instanceof ConfigError) throw new StartError(`Can't load config file: ${err.message}`);
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const opts = parseOptions(argv);
  const privileged = process.getuid?.() === 0;
  if (opts.help) {
    // libvirtd prints its usage on stderr.
    process.stderr.write(usageText(privileged));
    return 0;
  }
  if (opts.version) {
    process.stdout.write(versionText());
    return 0;
  }
  if (opts.daemon) await daemonize(argv);

  const reporter = startupReporter();
  const { config, warnings } = readConfig(opts, privileged);
  const log = createLogger(config, opts.verbose, { daemon: reporter !== null, privileged });
  for (const w of warnings) log.warn(w);

  const pidFile = opts.pidFile ?? defaultPidFile(privileged);
  const daemon = new Daemon(settingsFrom(config, opts, log));
  writePidFile(pidFile);
  try {
    await daemon.start();
  } catch (err) {
    removePidFile(pidFile);
    throw err;
  }

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down (${why})`);
    await daemon.stop();
    removePidFile(pidFile);
    log.close();
    process.exit(0);
  };
  installSignalHandlers({
    shutdown: (sig) => void shutdown(sig),
    reload: () => {
      // Driver state is in memory and config changes that move sockets need a restart, as with
      // libvirtd; what a reload can change is logging.
      try {
        readConfig(opts, privileged);
        log.reopen();
        log.info('configuration reloaded');
      } catch (err) {
        log.error(`reload failed: ${(err as Error).message}`);
      }
    },
  });
  if (opts.timeout > 0) {
    const idle = createIdleTimeout(opts.timeout, () => void shutdown(`idle for ${opts.timeout} s`));
    const holds = new Map<unknown, () => void>();
    daemon.server.on('client', (c) => holds.set(c, idle.hold()));
    daemon.server.on('clientClosed', (c) => {
      holds.get(c)?.();
      holds.delete(c);
    });
  }
  reporter?.ready();
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    // Usage, config, pid-file, socket and start errors all carry a one-line message; no stack traces.
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${DAEMON_NAME}: error: ${msg}\n`);
    startupReporter()?.failed(msg);
    process.exit(1);
  },
);
