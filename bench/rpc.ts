// Round trip of a trivial call over a unix socket: our client and server, beside a raw Node
// socket ping-pong of the same sizes (the floor) measured in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../src/rpc/index.js';
import { RemoteProcedures } from '../src/protocol/gen/remote.js';
import { connectUnix } from '../src/transport/index.js';
import { fmt, measureSequential, table, type LatencyResult } from './stats.js';
import { REPLY_BYTES, REQ_BYTES } from './rpc-peer.js';

const peerScript = fileURLToPath(new URL('./rpc-peer.js', import.meta.url));

async function startPeer(mode: string, path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [peerScript, mode, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${mode} peer exited with ${code}`)));
  });
  return child;
}

async function floor(path: string, ms: number): Promise<LatencyResult> {
  const sock = connect({ path });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const req = new Uint8Array(REQ_BYTES);
  let have = 0;
  let wake: (() => void) | null = null;
  sock.on('data', (c) => {
    have += c.length;
    if (have >= REPLY_BYTES && wake) {
      have -= REPLY_BYTES;
      const w = wake;
      wake = null;
      w();
    }
  });
  const once = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sock.write(req);
    });
  const r = await measureSequential(once, ms);
  sock.destroy();
  return r;
}

async function ours(path: string, ms: number): Promise<LatencyResult> {
  const client = new RpcClient(await connectUnix(path));
  const r = await measureSequential(() => client.call(RemoteProcedures.CONNECT_GET_TYPE, undefined), ms);
  await client.close();
  return r;
}

export async function benchRoundTrip(ms = 3000): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-bench-'));
  const children: ChildProcess[] = [];
  try {
    const fp = join(dir, 'floor');
    const rp = join(dir, 'rpc');
    children.push(await startPeer('floor', fp), await startPeer('rpc', rp));
    const f = await floor(fp, ms);
    const o = await ours(rp, ms);
    return [
      `Round trip of a trivial call (CONNECT_GET_TYPE, ${REQ_BYTES} B call, ${REPLY_BYTES} B reply) over a unix socket, server in a child process`,
      table([
        ['', 'calls/s', 'p50 us', 'p99 us', 'p50 vs floor'],
        ['raw socket ping-pong (floor)', fmt(f.callsPerSec, 0), fmt(f.p50us), fmt(f.p99us), '1.00x'],
        ['tsvirt RpcClient + RpcServer', fmt(o.callsPerSec, 0), fmt(o.p50us), fmt(o.p99us), `${fmt(o.p50us / f.p50us, 2)}x (target <= 3x)`],
      ]),
    ].join('\n');
  } finally {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
