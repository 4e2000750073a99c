// Small helpers shared by the test driver's network, storage, interface and node stores:
// libvirt-shaped errors, UUID conversion and the list filters the wire's LIST_ALL calls use.
// Kept private to these stores until a shared errors module settles.
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { XmlModelError } from '../../api/xml/errors.js';

const D = VirErrorDomain.TEST;

/** virCheckFlags: the message names the C function libvirt's test driver reports. */
export function checkFlags(flags: number, supported: number, fn: string): void {
  const bad = (flags >>> 0) & ~supported;
  if (bad !== 0) {
    throw new VirError({
      code: VirErrorNumber.INVALID_ARG,
      domain: D,
      message: `unsupported flags (0x${(bad >>> 0).toString(16)}) in function ${fn}`,
      str1: fn,
      str2: 'flags',
      int1: 0,
      int2: 0,
    });
  }
}

/** An error whose text is libvirt's per-code prefix plus a detail ("Network not found: %s"). */
export const virErr = (code: VirErrorNumber, template: string, detail?: string, domain: VirErrorDomain = D): VirError =>
  VirError.format(code, domain, template, detail);

export const internalError = (detail: string): VirError => virErr(VirErrorNumber.INTERNAL_ERROR, 'internal error: %s', detail);
export const invalidArg = (detail: string): VirError => virErr(VirErrorNumber.INVALID_ARG, 'invalid argument: %s', detail);
export const operationInvalid = (detail?: string, domain: VirErrorDomain = D): VirError =>
  detail === undefined
    ? virErr(VirErrorNumber.OPERATION_INVALID, 'Requested operation is not valid', undefined, domain)
    : virErr(VirErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: %s', detail, domain);
export const operationFailed = (detail: string, domain: VirErrorDomain): VirError =>
  virErr(VirErrorNumber.OPERATION_FAILED, 'operation failed: %s', detail, domain);
export const noSupport = (detail: string, domain: VirErrorDomain = D): VirError =>
  virErr(VirErrorNumber.NO_SUPPORT, 'this function is not supported by the connection driver: %s', detail, domain);
/** The daemon's own argument checks (remote dispatch) report from the RPC domain. */
export const rpcLimit = (detail: string): VirError => virErr(VirErrorNumber.RPC, '%s', detail, VirErrorDomain.RPC);

const PREFIXES = ['XML error: ', 'internal error: ', 'unsupported configuration: ', 'invalid argument: ', 'operation failed: '];

/** Turns an XML model failure (or anything else thrown while parsing) into a VirError. */
export function fromXmlError(e: unknown): unknown {
  if (!(e instanceof XmlModelError)) return e;
  const p = PREFIXES.find((x) => e.message.startsWith(x));
  return new VirError({
    code: e.code,
    domain: e.domain,
    message: e.message,
    str1: p === undefined ? '%s' : `${p}%s`,
    str2: p === undefined ? e.message : e.message.slice(p.length),
  });
}

/** Runs a parser, rethrowing its model errors as VirErrors. */
export function parsing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromXmlError(e);
  }
}

export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function uuidString(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The state every persistent-object filter of virConnectListAll* looks at. */
export interface ListableState {
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

/** Flag pairs (e.g. ACTIVE|INACTIVE): an object passes when neither or the matching bit is set. */
export function matchesStateFlags(o: ListableState, flags: number): boolean {
  const pair = (yes: number, no: number, value: boolean) => !(flags & (yes | no)) || (value ? flags & yes : flags & no) !== 0;
  return pair(2, 1, o.active) && pair(4, 8, o.persistent) && pair(16, 32, o.autostart);
}

/** Applies `maxnames` the way the daemon does: refuse more than the wire allows, then truncate. */
export function limitNames(names: string[], maxnames: number, max: number, what: string): string[] {
  if (maxnames > max) throw rpcLimit(`maxnames > ${what}`);
  return names.slice(0, Math.max(0, maxnames));
}
