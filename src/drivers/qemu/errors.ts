// Errors of the QEMU driver, numbered and worded as libvirt's QEMU driver reports them.
import { VirError, VirErrorDomain as D, VirErrorNumber as N } from '../../rpc/errors.js';
import { XmlModelError } from '../../api/xml/errors.js';

const Q = D.QEMU;

export const internalError = (msg: string, dom: D = Q): VirError => VirError.format(N.INTERNAL_ERROR, dom, 'internal error: %s', msg);
export const operationInvalid = (msg: string, dom: D = Q): VirError =>
  VirError.format(N.OPERATION_INVALID, dom, 'Requested operation is not valid: %s', msg);
export const operationFailed = (msg: string, dom: D = D.DOMAIN): VirError => VirError.format(N.OPERATION_FAILED, dom, 'operation failed: %s', msg);
export const invalidArg = (msg: string, dom: D = Q): VirError => VirError.format(N.INVALID_ARG, dom, 'invalid argument: %s', msg);
export const operationTimeout = (msg: string): VirError => VirError.format(N.OPERATION_TIMEOUT, Q, 'Timed out during operation: %s', msg);
export const operationDenied = (msg: string): VirError => VirError.format(N.OPERATION_DENIED, D.DOMAIN, 'operation forbidden: %s', msg);
export const operationUnsupported = (msg: string): VirError =>
  VirError.format(N.OPERATION_UNSUPPORTED, Q, 'Operation not supported: %s', msg);
export const noDomain = (msg: string): VirError => VirError.format(N.NO_DOMAIN, Q, 'Domain not found: %s', msg);
export const noDomainUuid = (uuid: string, name: string): VirError => noDomain(`no domain with matching uuid '${uuid}' (${name})`);
/** virDomainObjCheckActive. */
export const notRunning = (): VirError => operationInvalid('domain is not running', D.DOMAIN);

/** Errors carrying strerror's text, as virReportSystemError. */
export function systemError(msg: string, err: unknown): VirError {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const text = typeof e?.code === 'string' ? (ERRNO[e.code] ?? e.code) : String(e?.message ?? err);
  return VirError.format(N.SYSTEM_ERROR, Q, '%s', `${msg}: ${text}`);
}

const ERRNO: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  ESRCH: 'No such process',
};

/** virCheckFlags' refusal of unknown bits. */
export function checkFlags(fn: string, flags: number, allowed: number): void {
  const extra = (flags >>> 0) & ~allowed;
  if (extra === 0) return;
  throw new VirError({ code: N.INVALID_ARG, domain: Q, message: `unsupported flags (0x${(extra >>> 0).toString(16)}) in function ${fn}`, str1: fn, str2: 'flags' });
}

const PREFIXES = ['XML error: ', 'internal error: ', 'unsupported configuration: ', 'invalid argument: ', 'operation failed: '];

/** Runs an XML parse, turning model errors into VirError with libvirt's template split. */
export function xmlParse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof XmlModelError)) throw e;
    const p = PREFIXES.find((x) => e.message.startsWith(x));
    throw new VirError({
      code: e.code, domain: e.domain, message: e.message,
      str1: p === undefined ? '%s' : `${p}%s`, str2: p === undefined ? e.message : e.message.slice(p.length),
    });
  }
}
