import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient, RpcServer, type RpcClientOptions, type RpcServerOptions } from '../../src/rpc/index.js';
import { connectUnix, listenUnix, type Listener } from '../../src/transport/index.js';

export interface Pair {
  server: RpcServer;
  client: RpcClient;
  listener: Listener;
  path: string;
  /** Another client on the same server. */
  connect(opts?: RpcClientOptions): Promise<RpcClient>;
  close(): Promise<void>;
}

/** A server on a fresh unix socket and one client connected to it. `setup` registers programs. */
export async function startPair(
  setup: (server: RpcServer) => void,
  serverOpts: RpcServerOptions = {},
  clientOpts: RpcClientOptions = {},
): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-rpc-'));
  const path = join(dir, 'sock');
  const server = new RpcServer(serverOpts);
  setup(server);
  const listener = await listenUnix(path, { mode: 0o600 }, (sock, peer) => server.addClient(sock, peer));
  const clients: RpcClient[] = [];
  const connect = async (opts: RpcClientOptions = clientOpts) => {
    const c = new RpcClient(await connectUnix(path), opts);
    clients.push(c);
    return c;
  };
  const client = await connect();
  return {
    server,
    client,
    listener,
    path,
    connect,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      await listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Builds a frame by hand: header words then body words, length word computed. */
export function frame(words: number[], tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(4 + words.length * 4 + tail.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, out.length);
  words.forEach((w, i) => dv.setUint32(4 + i * 4, w >>> 0));
  out.set(tail, 4 + words.length * 4);
  return out;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
