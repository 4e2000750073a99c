import { XdrReader, XdrWriter } from '../xdr/index.js';
import {
  VIR_NET_MESSAGE_NUM_FDS_MAX,
  VirNetMessageHeader,
  VirNetMessageType,
} from './gen/virnet.js';
import { FrameError, MAX_FRAME } from './framer.js';

export { VirNetMessageType as MessageType, VirNetMessageStatus as MessageStatus } from './gen/virnet.js';

/** The six header words: program, version, procedure, type, serial, status. */
export type Header = VirNetMessageHeader;

/** One decoded frame: its header, the FD count word (types 4/5 only) and the undecoded body. */
export interface Message {
  readonly header: Header;
  readonly nfds: number;
  /** The payload after the header (and after the FD count word), a view into the frame. */
  readonly body: Uint8Array;
}

/** Whether a message type carries the FD count word between header and payload. */
export function hasFds(type: number): boolean {
  return type === VirNetMessageType.CALL_WITH_FDS || type === VirNetMessageType.REPLY_WITH_FDS;
}

/**
 * Splits a complete frame (as returned by FrameDecoder) into header and body. Throws XdrError if
 * the FD count word is missing or over libvirt's limit.
 */
export function decodeMessage(frame: Uint8Array): Message {
  const r = new XdrReader(frame, 4);
  const header = VirNetMessageHeader.decode(r);
  let nfds = 0;
  if (hasFds(header.type)) {
    nfds = r.uint();
    if (nfds > VIR_NET_MESSAGE_NUM_FDS_MAX) r.fail(`${nfds} file descriptors exceed the maximum of ${VIR_NET_MESSAGE_NUM_FDS_MAX}`);
  }
  return { header, nfds, body: frame.subarray(r.pos) };
}

// One scratch writer: encoding is synchronous, and each result is copied out at its exact size.
const scratch = new XdrWriter(64 * 1024);
const SCRATCH_KEEP = 1024 * 1024;

/**
 * Encodes a whole frame: length word, header, optional FD count word, then whatever `body`
 * writes. Throws FrameError when the result would exceed libvirt's message maximum.
 */
export function encodeMessage(header: Header, body?: (w: XdrWriter) => void, nfds = 0): Uint8Array {
  const w = scratch;
  w.reset();
  w.uint(0);
  VirNetMessageHeader.encode(w, header);
  if (hasFds(header.type)) w.uint(nfds);
  try {
    body?.(w);
    return finish(w);
  } finally {
    // A huge message grows the scratch buffer; drop it afterwards rather than pin the memory.
    if (w.buf.length > SCRATCH_KEEP) shrinkScratch();
  }
}

/** Encodes a frame whose payload is raw bytes (stream data: no XDR length word, no padding). */
export function encodeRawMessage(header: Header, data: Uint8Array): Uint8Array {
  return encodeMessage(header, (w) => w.raw(data));
}

function finish(w: XdrWriter): Uint8Array {
  if (w.pos > MAX_FRAME) {
    throw new FrameError(`message of ${w.pos} bytes exceeds the maximum of ${MAX_FRAME}`);
  }
  w.patchUint(0, w.pos);
  return w.buf.slice(0, w.pos);
}

function shrinkScratch(): void {
  scratch.buf = new Uint8Array(64 * 1024);
  scratch.view = new DataView(scratch.buf.buffer);
  scratch.pos = 0;
}
