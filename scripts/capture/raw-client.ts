// A hand-built libvirt client: sends frames byte by byte as we write them, to provoke the daemon's
// answers to things no real client sends (an unknown procedure, an unknown program).
import { connect, type Socket } from 'node:net';

const REMOTE = 0x20008086;

function frame(prog: number, proc: number, serial: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(28);
  // length, prog, vers, proc, type CALL, serial, status OK
  [28 + payload.length, prog, 1, proc, 0, serial, 0].forEach((v, i) => h.writeUInt32BE(v >>> 0, i * 4));
  return Buffer.concat([h, payload]);
}

/** remote_connect_open_args: optional string (present) + flags. */
function connectOpenArgs(name: string, flags: number): Buffer {
  const s = Buffer.from(name, 'utf8');
  const padded = Buffer.alloc((s.length + 3) & ~3);
  s.copy(padded);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(1, 0);
  head.writeUInt32BE(s.length, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(flags, 0);
  return Buffer.concat([head, padded, tail]);
}

/** Reads whole frames off a socket, one at a time. */
class FrameReader {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  constructor(sock: Socket) {
    sock.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      this.waiter?.();
    });
  }
  async next(timeoutMs = 5_000): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    while (this.buf.length < 4 || this.buf.length < this.buf.readUInt32BE(0)) {
      if (Date.now() > end) throw new Error('no reply from libvirtd');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
    const len = this.buf.readUInt32BE(0);
    const f = this.buf.subarray(0, len);
    this.buf = this.buf.subarray(len);
    return f;
  }
}

/**
 * AUTH_LIST, CONNECT_OPEN test:///default, then REMOTE proc 9999 and program 0x12345678 proc 1,
 * then CONNECT_CLOSE; each call waits for its reply so the wire order is fixed.
 */
export async function unknownProcSession(port: number): Promise<Buffer[]> {
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const reader = new FrameReader(sock);
  const calls = [
    frame(REMOTE, 66, 0),
    frame(REMOTE, 1, 1, connectOpenArgs('test:///default', 0)),
    frame(REMOTE, 9999, 2),
    frame(0x12345678, 1, 3),
    frame(REMOTE, 2, 4),
  ];
  const replies: Buffer[] = [];
  for (const c of calls) {
    sock.write(c);
    replies.push(await reader.next());
  }
  sock.end();
  await new Promise((r) => sock.once('close', r));
  return replies;
}
