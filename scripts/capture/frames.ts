// Turns captured TCP segments of one libvirt connection into whole RPC messages in wire order.

export type Direction = 'c2s' | 's2c';

export interface Segment {
  readonly frame: number;
  readonly time: number;
  readonly dir: Direction;
  /** Relative TCP sequence number of the first payload byte (1 = first byte after the SYN). */
  readonly seq: number;
  readonly payload: Buffer;
}

export interface WireMessage {
  readonly dir: Direction;
  readonly bytes: Buffer;
  /** Frame holding the message's first byte, and its time; used for cross-direction ordering. */
  readonly frame: number;
  readonly time: number;
}

interface Piece {
  readonly start: number;
  readonly frame: number;
  readonly time: number;
}

/** One direction's byte stream, with the frame each byte arrived in. Retransmitted bytes are dropped. */
function assemble(segments: readonly Segment[]): { data: Buffer; pieces: Piece[] } {
  const chunks: Buffer[] = [];
  const pieces: Piece[] = [];
  let next = 0;
  for (const s of segments) {
    const start = s.seq - 1;
    const end = start + s.payload.length;
    if (end <= next) continue;
    if (start > next) throw new Error(`capture lost ${start - next} bytes before frame ${s.frame} (${s.dir})`);
    pieces.push({ start: next, frame: s.frame, time: s.time });
    chunks.push(s.payload.subarray(next - start));
    next = end;
  }
  return { data: Buffer.concat(chunks), pieces };
}

function split(dir: Direction, segments: readonly Segment[]): WireMessage[] {
  const { data, pieces } = assemble(segments);
  const out: WireMessage[] = [];
  let p = 0;
  for (let off = 0; off < data.length; ) {
    if (off + 4 > data.length) throw new Error(`${dir}: ${data.length - off} trailing bytes, not a length word`);
    const len = data.readUInt32BE(off);
    if (len < 28 || off + len > data.length) throw new Error(`${dir}: bad or truncated frame (length word ${len}) at ${off}`);
    while (p + 1 < pieces.length && pieces[p + 1]!.start <= off) p++;
    const piece = pieces[p]!;
    out.push({ dir, bytes: Buffer.from(data.subarray(off, off + len)), frame: piece.frame, time: piece.time });
    off += len;
  }
  return out;
}

/** Splits both directions by length word and merges them in capture order. */
export function messagesFromSegments(segments: readonly Segment[]): WireMessage[] {
  const byFrame = [...segments].sort((a, b) => a.frame - b.frame);
  const all = [
    ...split('c2s', byFrame.filter((s) => s.dir === 'c2s')),
    ...split('s2c', byFrame.filter((s) => s.dir === 's2c')),
  ];
  // Stable sort: messages that start in the same frame keep their byte order.
  return all.sort((a, b) => a.time - b.time || a.frame - b.frame);
}

export interface Header {
  readonly len: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

export function parseHeader(b: Buffer): Header {
  return {
    len: b.readUInt32BE(0),
    prog: b.readUInt32BE(4),
    vers: b.readUInt32BE(8),
    proc: b.readInt32BE(12),
    type: b.readInt32BE(16),
    serial: b.readUInt32BE(20),
    status: b.readInt32BE(24),
  };
}
