// libvirt's errors as the test driver raises them: code, domain, message text, and the
// str1/str2 split (template, argument) that libvirtd puts on the wire.
import { VirError, VirErrorDomain as D, VirErrorNumber as N } from '../../rpc/errors.js';
import { XmlModelError } from '../../api/xml/errors.js';

export const TEST = D.TEST;
export const DOMAIN = D.DOMAIN;

export const internalError = (msg: string, dom: D = TEST): VirError => VirError.format(N.INTERNAL_ERROR, dom, 'internal error: %s', msg);
export const invalidArg = (msg: string, dom: D = TEST): VirError => VirError.format(N.INVALID_ARG, dom, 'invalid argument: %s', msg);
export const operationInvalid = (msg: string, dom: D = TEST): VirError =>
  VirError.format(N.OPERATION_INVALID, dom, 'Requested operation is not valid: %s', msg);
export const operationFailed = (msg: string, dom: D = DOMAIN): VirError => VirError.format(N.OPERATION_FAILED, dom, 'operation failed: %s', msg);
export const operationUnsupported = (msg: string): VirError => VirError.format(N.OPERATION_UNSUPPORTED, TEST, 'Operation not supported: %s', msg);
export const argumentUnsupported = (msg: string): VirError => VirError.format(N.ARGUMENT_UNSUPPORTED, TEST, 'argument unsupported: %s', msg);
export const operationDenied = (msg: string): VirError => VirError.format(N.OPERATION_DENIED, DOMAIN, 'operation forbidden: %s', msg);
export const noDomain = (): VirError => VirError.format(N.NO_DOMAIN, TEST, 'Domain not found');
export const noDomainUuid = (uuid: string, name: string): VirError =>
  VirError.format(N.NO_DOMAIN, TEST, 'Domain not found: %s', `no domain with matching uuid '${uuid}' (${name})`);
export const noSnapshot = (msg: string): VirError => VirError.format(N.NO_DOMAIN_SNAPSHOT, TEST, 'Domain snapshot not found: %s', msg);
export const revertRisky = (msg: string): VirError => VirError.format(N.SNAPSHOT_REVERT_RISKY, TEST, 'revert requires force: %s', msg);
/** virDomainObjCheckActive's error (reported from the domain config code). */
export const notRunning = (): VirError => operationInvalid('domain is not running', DOMAIN);

/** Errors reported with errno: the message ends with strerror's text. */
export function systemError(msg: string, err?: unknown): VirError {
  return VirError.format(N.SYSTEM_ERROR, TEST, '%s', `${msg}: ${strerror(err)}`);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
};

/** strerror() of a Node fs error; no error (a short read) is errno 0, "Success". */
export function strerror(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return 'Success';
  return ERRNO_TEXT[code] ?? code;
}

/** virCheckFlags: unknown bits name the driver function that refused them. */
export function checkFlags(fn: string, flags: number, allowed: number): void {
  const extra = (flags >>> 0) & ~allowed;
  if (extra === 0) return;
  throw new VirError({
    code: N.INVALID_ARG,
    domain: TEST,
    message: `unsupported flags (0x${(extra >>> 0).toString(16)}) in function ${fn}`,
    str1: fn,
    str2: 'flags',
  });
}

/** The public API's own argument checks (virReportInvalidArg), reported from the domain code. */
export function apiInvalidArg(fn: string, arg: string, message: string): VirError {
  return new VirError({ code: N.INVALID_ARG, domain: DOMAIN, message, str1: fn, str2: arg });
}

const PREFIXES = ['XML error: ', 'internal error: ', 'unsupported configuration: ', 'invalid argument: ', 'operation failed: '];

/** XML model failures carry libvirt's code/domain already; split the message like libvirt's template. */
export function fromXmlError(e: unknown): unknown {
  if (!(e instanceof XmlModelError)) return e;
  const p = PREFIXES.find((x) => e.message.startsWith(x));
  const template = p === undefined ? '%s' : `${p}%s`;
  const arg = p === undefined ? e.message : e.message.slice(p.length);
  return new VirError({ code: e.code, domain: e.domain, message: e.message, str1: template, str2: arg });
}

/** Runs an XML parse, converting model errors to VirError. */
export function xmlParse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromXmlError(e);
  }
}
