import type { XdrReader } from './reader.js';
import type { XdrWriter } from './writer.js';

/** A matched encoder/decoder pair for one XDR type. Generated code exports one per named type. */
export interface XdrCodec<T> {
  encode(w: XdrWriter, v: T): void;
  decode(r: XdrReader): T;
}

/** The `void` type: no bytes either way. */
export const voidCodec: XdrCodec<void> = {
  encode() {},
  decode() {},
};
