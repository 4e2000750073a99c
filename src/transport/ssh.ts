import { spawnChannel, type ChildChannel } from './child.js';

/**
 * Runs the system ssh with a ready argv (ssh's own config, agent and known_hosts apply as usual) and
 * talks RPC over its stdio. libvirt passes ssh only a few variables of its environment; we pass ours
 * whole so that ssh finds the agent and askpass helpers.
 */
export function connectSsh(argv: readonly string[], host: string, signal?: AbortSignal): Promise<ChildChannel> {
  const what = `ssh to '${host}'`;
  return spawnChannel(argv, { what, explain: explainSshFailure }, signal);
}

/** Turns the usual ways the far side fails into a sentence that says what is missing. */
export function explainSshFailure(stderr: string, exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  const text = stderr.trim().replace(/\s*\n\s*/g, '; ');
  const status = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code ?? '?'}`;
  let hint = '';
  if (/virt-ssh-helper: (command )?not found|virt-ssh-helper: No such file/.test(stderr)) {
    hint = ' (the remote host has no virt-ssh-helper: install libvirt-daemon there, or use ?proxy=netcat)';
  } else if (/\bnc: (command )?not found|'nc': No such file|nc: No such file/.test(stderr)) {
    hint = ' (the remote host has neither virt-ssh-helper nor nc: install libvirt-daemon or netcat-openbsd there)';
  } else if (/(nc|virt-ssh-helper).*(No such file or directory|Connection refused)/.test(stderr)) {
    hint = ' (no libvirt daemon listens on the remote socket)';
  } else if (exit.code === 255) {
    hint = ' (ssh itself failed: check host, port, user, key and known_hosts)';
  }
  return `${text || 'no output on stderr'} [${status}]${hint}`;
}
