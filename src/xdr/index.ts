export { XdrError, withField } from './errors.js';
export { XdrReader, decodeUtf8 } from './reader.js';
export { XdrWriter } from './writer.js';
export { type XdrCodec, voidCodec } from './codec.js';
