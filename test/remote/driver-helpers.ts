// Helpers for remote-driver tests: a recording unix-socket relay in front of a daemon, and
// waiting for a connection status.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/rpc/framer.js';
import { decodeMessage, type Message } from '../../src/rpc/message.js';
import type { Connection, ConnectionStatus } from '../../src/api/connection.js';

export interface Relay {
  readonly path: string;
  /** Every message the client sent, in order. */
  readonly sent: Message[];
  close(): Promise<void>;
}

/** Listens on `path` and relays each connection to `target`, recording client-to-server messages. */
export async function recordingRelay(path: string, target: string): Promise<Relay> {
  const sent: Message[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ path: target });
    const dec = new FrameDecoder();
    sockets.add(client).add(upstream);
    client.on('data', (b: Buffer) => {
      for (const f of dec.feed(new Uint8Array(b))) sent.push(decodeMessage(f));
      upstream.write(b);
    });
    upstream.on('data', (b: Buffer) => client.write(b));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    sent,
    close: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => r());
      }),
  };
}

/** Resolves with the first status `pred` accepts (including the current one). */
export function statusWhere(c: Connection, pred: (s: ConnectionStatus) => boolean, ms = 10_000): Promise<ConnectionStatus> {
  if (pred(c.status)) return Promise.resolve(c.status);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`status still ${JSON.stringify(c.status)}`)), ms);
    const l = (s: ConnectionStatus) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      c.off('status', l);
      resolve(s);
    };
    c.on('status', l);
  });
}
