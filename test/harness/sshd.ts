// A private OpenSSH server (Debian's openssh-server) on a free loopback port: its own host key, one
// generated client key authorised for the current user, no PAM, StrictModes off. Optionally in its
// own mount namespace with a directory bound over /run/libvirt, so that virt-ssh-helper and `nc -U`
// run by ssh sessions find a private libvirtd's sockets at the standard paths.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './probe.js';

const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  readonly port: number;
  readonly user: string;
  /** Private key authorised for `user`. */
  readonly clientKey: string;
  /** known_hosts holding this server's host key for [127.0.0.1]:port. */
  readonly knownHosts: string;
  /** URI parameters that make our (or libvirt's) ssh use the key and known_hosts above, without prompts. */
  readonly uriParams: string;
  log(): string;
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** Bind this directory over /run/libvirt for the server and its sessions (needs root). */
  readonly libvirtRunDir?: string;
}

/** Why the private sshd cannot run here, or undefined. */
export function sshdUnavailableReason(): string | undefined {
  if (!existsSync(SSHD)) return 'sshd not found: install openssh-server (see .ci/run)';
  if (!existsSync('/usr/bin/ssh')) return 'ssh not found: install openssh-client';
  if (process.getuid?.() !== 0) return 'the private sshd harness needs root';
  return undefined;
}

export function sshdSkipReason(): string | undefined {
  return process.env.CI ? undefined : sshdUnavailableReason();
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<Sshd> {
  const reason = sshdUnavailableReason();
  if (reason) throw new Error(reason);
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-sshd-'));
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsvirt-test', '-f', file]);
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const port = await freeTcpPort();
  const user = userInfo().username;
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'StrictModes no', 'UsePAM no', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'PubkeyAuthentication yes', 'PermitRootLogin prohibit-password', `AllowUsers ${user}`,
    'LogLevel ERROR', 'PrintMotd no', 'Subsystem sftp internal-sftp', '',
  ].join('\n'));
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);

  const sshdArgs = [SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')];
  const [cmd, args] = opts.libvirtRunDir
    ? ['/usr/bin/unshare', ['-m', 'bash', '-c', 'set -e; mkdir -p /run/libvirt; mount --bind "$1" /run/libvirt; shift; exec "$@"', 'bash', opts.libvirtRunDir, ...sshdArgs]]
    : [SSHD, sshdArgs.slice(1)];
  const child = spawn(cmd, args as string[], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log += b.toString('utf8')));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  // Ready when a TCP connection gets the SSH banner.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`sshd exited at start:\n${log}`);
    if (await hasBanner(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const clientKey = join(dir, 'client_key');
  const knownHosts = join(dir, 'known_hosts');
  return {
    port, user, clientKey, knownHosts,
    uriParams: `keyfile=${clientKey}&known_hosts=${knownHosts}&no_tty=1`,
    log: () => log,
    async stop() {
      process.off('exit', killOnExit);
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function hasBanner(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('SSH-')));
  });
}
