import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';

/** libvirt reports socket failures as SYSTEM_ERROR in the RPC domain, with the OS's words after a colon. */
export function socketError(template: string, target: string, cause: unknown): VirError {
  const reason = describeSysError(cause);
  const message = `${template.replace('%s', target)}: ${reason}`;
  return new VirError({
    code: VirErrorNumber.SYSTEM_ERROR,
    domain: VirErrorDomain.RPC,
    message,
    str1: template,
    str2: target,
    cause,
  });
}

const SYS_MESSAGES: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOTSOCK: 'Socket operation on non-socket',
  ENAMETOOLONG: 'File name too long',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

/** The strerror() text for a Node system error, as libvirt would print it. */
export function describeSysError(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in SYS_MESSAGES) return SYS_MESSAGES[code]!;
  return cause instanceof Error ? cause.message : String(cause);
}
