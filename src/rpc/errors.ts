import { VirErrorDomain, VirErrorLevel, VirErrorNumber } from './gen/virerror.js';
import type { VirNetMessageError } from './gen/virnet.js';

export { VirErrorDomain, VirErrorLevel, VirErrorNumber } from './gen/virerror.js';

/** Everything libvirt's error carries; all but code, domain and message are optional. */
export interface VirErrorInit {
  code: VirErrorNumber;
  domain: VirErrorDomain;
  message: string;
  level?: VirErrorLevel;
  /** libvirt puts the message template in str1 ("internal error: %s") and its argument in str2. */
  str1?: string | null;
  str2?: string | null;
  str3?: string | null;
  int1?: number;
  int2?: number;
  cause?: unknown;
}

/**
 * A libvirt error: code and domain from virterror.h, the human-readable message, and the extra
 * fields the wire carries. Errors from a remote daemon arrive as VirError unchanged; local
 * failures (connection loss, deadlines) are VirError subclasses with libvirt's codes.
 */
export class VirError extends Error {
  override name = 'VirError';
  readonly code: VirErrorNumber;
  readonly domain: VirErrorDomain;
  readonly level: VirErrorLevel;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;

  constructor(init: VirErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.domain = init.domain;
    this.level = init.level ?? VirErrorLevel.ERROR;
    this.str1 = init.str1 ?? null;
    this.str2 = init.str2 ?? null;
    this.str3 = init.str3 ?? null;
    this.int1 = init.int1 ?? -1;
    this.int2 = init.int2 ?? -1;
  }

  /** The code's name as in virterror.h without its prefix, e.g. `NO_DOMAIN`. */
  get codeName(): string {
    return VirErrorNumber[this.code] ?? `UNKNOWN_${this.code}`;
  }

  /** The domain's name without its prefix, e.g. `TEST`. */
  get domainName(): string {
    return VirErrorDomain[this.domain] ?? `UNKNOWN_${this.domain}`;
  }

  /**
   * Builds an error the way libvirt's reporting does: the message is the template with its
   * argument substituted, and the template and argument travel as str1 and str2.
   */
  static format(code: VirErrorNumber, domain: VirErrorDomain, template: string, arg?: string): VirError {
    const message = arg === undefined ? template : template.replace('%s', arg);
    return new VirError({ code, domain, message, str1: template, str2: arg ?? null });
  }

  /** Decodes the wire struct. */
  static fromWire(e: VirNetMessageError): VirError {
    return new VirError({
      code: e.code,
      domain: e.domain,
      message: e.message ?? 'An error occurred, but the cause is unknown',
      level: e.level,
      str1: e.str1,
      str2: e.str2,
      str3: e.str3,
      int1: e.int1,
      int2: e.int2,
    });
  }

  /** The wire struct; the handle fields (dom, net) are unused by libvirt and always sent empty. */
  toWire(): VirNetMessageError {
    return {
      code: this.code,
      domain: this.domain,
      message: this.message,
      level: this.level,
      dom: null,
      str1: this.str1,
      str2: this.str2,
      str3: this.str3,
      int1: this.int1,
      int2: this.int2,
      net: null,
    };
  }
}

/** A protocol-level failure reported by the RPC layer itself (code RPC, domain RPC). */
export function rpcError(message: string, cause?: unknown): VirError {
  return new VirError({
    code: VirErrorNumber.RPC,
    domain: VirErrorDomain.RPC,
    message,
    str1: '%s',
    str2: message,
    cause,
  });
}

/** The connection ended (EOF, reset, local close) while the call was pending or was started. */
export class ConnectionClosedError extends VirError {
  override name = 'ConnectionClosedError';
  constructor(message: string, cause?: unknown) {
    super({ code: VirErrorNumber.SYSTEM_ERROR, domain: VirErrorDomain.RPC, message, cause });
  }
}

/** The peer stopped answering keepalive pings. */
export class KeepaliveTimeoutError extends ConnectionClosedError {
  override name = 'KeepaliveTimeoutError';
  constructor() {
    super('connection closed due to keepalive timeout');
  }
}

/** The caller's AbortSignal fired before the reply arrived. */
export class CallAbortedError extends VirError {
  override name = 'CallAbortedError';
  constructor(what: string, cause?: unknown) {
    super({
      code: VirErrorNumber.OPERATION_ABORTED,
      domain: VirErrorDomain.RPC,
      message: `operation aborted: ${what}`,
      cause,
    });
  }
}

/** The call's deadline passed before the reply arrived. */
export class CallTimeoutError extends VirError {
  override name = 'CallTimeoutError';
  constructor(what: string, ms: number) {
    super({
      code: VirErrorNumber.OPERATION_TIMEOUT,
      domain: VirErrorDomain.RPC,
      message: `operation timed out: ${what} got no reply within ${ms} ms`,
    });
  }
}
