/**
 * The ssh command line libvirt 9.0 runs for `+ssh` URIs, byte for byte, including the remote
 * `sh -c '...'` that starts virt-ssh-helper or falls back to netcat.
 */
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export type SshProxy = 'auto' | 'netcat' | 'native';

const SHELL_META = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

/** virBufferEscapeShell: left alone unless it holds a shell metacharacter; then single-quoted. */
export function escapeShell(s: string): string {
  if (s === '') return "''";
  if (!SHELL_META.test(s)) return s;
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** ssh runs the command through the remote shell, which runs `sh -c` again: two levels of quoting. */
const escapeTwice = (s: string) => escapeShell(escapeShell(s));

export interface SshHelperInput {
  proxy: SshProxy;
  /** ?netcat=; forces netcat mode under `auto`. */
  netcat?: string;
  /** The far side's socket (not quoted, as libvirt does not quote it). */
  socketPath: string;
  /** What virt-ssh-helper opens: the CONNECT_OPEN name. */
  driverUri: string;
  readonly: boolean;
}

/** The remote command (the last ssh argument). */
export function sshRemoteCommand(i: SshHelperInput): string {
  const nc = escapeTwice(i.netcat ?? 'nc');
  const ncCmd =
    `if '${nc}' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;` +
    `'${nc}' $ARG -U ${i.socketPath}`;
  const helperCmd = `virt-ssh-helper${i.readonly ? ' -r ' : ' '}'${escapeTwice(i.driverUri)}'`;
  const proxy = i.proxy === 'auto' && i.netcat !== undefined ? 'netcat' : i.proxy;
  switch (proxy) {
    case 'auto':
      return `sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     ${helperCmd}; else    ${ncCmd}; fi'`;
    case 'netcat':
      return `sh -c '${ncCmd}'`;
    case 'native':
      if (i.netcat !== undefined) {
        throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.RPC, 'invalid argument: %s', 'netcat path not valid with native proxy mode');
      }
      return `sh -c '${helperCmd}'`;
  }
}

export interface SshArgvInput {
  /** ?command= (the ssh binary); "ssh" by default. */
  binary: string;
  host: string;
  port?: number;
  user?: string;
  keyfile?: string;
  noTty: boolean;
  noVerify: boolean;
  /** Not part of libvirt's OpenSSH command line; passed as UserKnownHostsFile when given. */
  knownHosts?: string;
  remoteCommand: string;
}

/** virNetSocketNewConnectSSH's argv. */
export function sshArgv(i: SshArgvInput): string[] {
  const argv = [i.binary];
  if (i.port !== undefined) argv.push('-p', String(i.port));
  if (i.user !== undefined) argv.push('-l', i.user);
  if (i.keyfile !== undefined) argv.push('-i', i.keyfile);
  argv.push('-T', '-e', 'none');
  if (i.noTty) argv.push('-o', 'BatchMode=yes');
  if (i.noVerify) argv.push('-o', 'StrictHostKeyChecking=no');
  if (i.knownHosts !== undefined) argv.push('-o', `UserKnownHostsFile=${i.knownHosts}`);
  argv.push('--', i.host, i.remoteCommand);
  return argv;
}
