import type { XdrCodec } from '../xdr/index.js';

/**
 * What the `.x` compiler knows about one procedure, from its signature and its doc-comment
 * annotations. Generated protocol modules export one `ProcedureSpec` per procedure; the client's
 * generic `call` and the server's dispatch table are both driven by these.
 */
export interface ProcedureSpec<Args = unknown, Ret = unknown> {
  /** Program number this procedure belongs to. */
  readonly prog: number;
  /** Program version. */
  readonly vers: number;
  /** Procedure number within the program. */
  readonly proc: number;
  /** Name without the program prefix, e.g. `DOMAIN_LOOKUP_BY_NAME`. */
  readonly name: string;
  /**
   * `call`: a CALL answered by a REPLY; `message`: a one-way MESSAGE (events, keepalive).
   */
  readonly kind: 'call' | 'message';
  /** Codec of the CALL (or MESSAGE) body. */
  readonly args: XdrCodec<Args>;
  /** Codec of the successful REPLY body. */
  readonly ret: XdrCodec<Ret>;
  /** `@priority`: high-priority calls never wait behind slow ones in the server. */
  readonly priority: 'high' | 'low';
  /** `@generate`: which side libvirt's generator would write stubs for (kept as data). */
  readonly generate: 'both' | 'client' | 'server' | 'none';
  /** `@acl` entries, e.g. `domain:read` or `domain:read_secure:VIR_DOMAIN_XML_SECURE`. */
  readonly acl: readonly string[];
  /** `@aclfilter` entries (list calls filter their results by these). */
  readonly aclFilter: readonly string[];
  /**
   * True when the procedure may run on a read-only connection: every unconditional ACL
   * permission is a read permission, or the `.x` says `@readonly: yes`.
   */
  readonly readonly: boolean;
  /** `@readstream`/`@writestream`: the call opens a stream in that direction (from the client's view). */
  readonly stream: 'read' | 'write' | null;
  /** `@sparseflag`: the flag bit that turns on hole packets for this stream, if any. */
  readonly sparseFlag: string | null;
}

/** A program: its number, version and procedures by number. */
export interface ProgramSpec {
  readonly name: string;
  readonly prog: number;
  readonly vers: number;
  readonly procedures: ReadonlyMap<number, ProcedureSpec>;
}
