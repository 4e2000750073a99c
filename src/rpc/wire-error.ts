import { XdrReader } from '../xdr/index.js';
import { VirError, VirErrorLevel, VirErrorNumber } from './errors.js';
import { VirNetMessageError } from './gen/virnet.js';
import type { XdrWriter } from '../xdr/index.js';

/**
 * Decodes an error body. Like libvirt's client, it turns the daemon's "unknown procedure"
 * RPC error into NO_SUPPORT, because callers probe newer procedures and fall back on exactly that.
 * Returns null when the body is not a valid error struct.
 */
export function decodeErrorBody(body: Uint8Array): VirError | null {
  let wire;
  try {
    wire = VirNetMessageError.decode(new XdrReader(body));
  } catch {
    return null;
  }
  const err = VirError.fromWire(wire);
  if (
    err.code === VirErrorNumber.RPC &&
    err.level === VirErrorLevel.ERROR &&
    err.message.startsWith('unknown procedure')
  ) {
    return new VirError({ ...fieldsOf(err), code: VirErrorNumber.NO_SUPPORT });
  }
  return err;
}

/** Writes an error body. */
export function encodeErrorBody(w: XdrWriter, err: VirError): void {
  VirNetMessageError.encode(w, err.toWire());
}

function fieldsOf(e: VirError) {
  return {
    domain: e.domain,
    message: e.message,
    level: e.level,
    str1: e.str1,
    str2: e.str2,
    str3: e.str3,
    int1: e.int1,
    int2: e.int2,
  };
}
