/**
 * Failures of the XDR codec. A decoding error names the byte offset where it happened and the
 * path of fields leading to it ("DomainGetInfoRet.maxMem"), so a bad peer message can be
 * reported precisely without a stack trace.
 */
export class XdrError extends Error {
  override readonly name = 'XdrError';
  /** Field names from the outermost type inwards; filled in while the error propagates. */
  readonly path: string[] = [];

  constructor(
    /** What went wrong, without the location. */
    readonly reason: string,
    /** Byte offset into the buffer being decoded or encoded. */
    readonly offset: number,
  ) {
    super(reason);
    // Error's constructor stores `message` as an own property, which would hide the getter below.
    delete (this as { message?: string }).message;
  }

  override get message(): string {
    const where = this.path.length ? ` in ${this.path.join('.')}` : '';
    return `${this.reason}${where} at byte ${this.offset}`;
  }

  override set message(_v: string) {
    // Assignments are ignored: the message is always computed from reason, path and offset.
  }
}

/**
 * Adds one path element to an XdrError as it passes through a generated decoder or encoder.
 * Generated code wraps each struct body in one try/catch, so the cost is paid only on failure.
 */
export function withField(err: unknown, field: string): unknown {
  if (err instanceof XdrError) err.path.unshift(field);
  return err;
}
