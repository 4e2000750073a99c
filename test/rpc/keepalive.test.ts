import assert from 'node:assert/strict';
import { createServer, connect as netConnect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FrameDecoder, KeepaliveTimeoutError, RpcClient, decodeMessage, handle } from '../../src/rpc/index.js';
import { connectUnix } from '../../src/transport/index.js';
import { sleep, startPair } from './helpers.js';
import { P, testProgram } from './program.js';

const KEEP = 0x6b656570;

test('a peer that stops answering is detected: pings every interval, closed after the count is spent', async () => {
  // A "server" that accepts and reads but never answers, and records what it gets.
  const path = join(mkdtempSync(join(tmpdir(), 'tsvirt-ka-')), 's');
  const pings: number[] = [];
  const t0 = Date.now();
  const srv = createServer((sock) => {
    const dec = new FrameDecoder();
    sock.on('data', (c) => {
      for (const f of dec.feed(c)) {
        const m = decodeMessage(f);
        if (m.header.prog === KEEP && m.header.proc === 1) pings.push(Date.now() - t0);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(path, r));
  try {
    const client = new RpcClient(await connectUnix(path));
    client.startKeepalive({ intervalMs: 60, count: 3 });
    const err = await client.closed;
    const elapsed = Date.now() - t0;
    assert.ok(err instanceof KeepaliveTimeoutError);
    assert.equal(err.message, 'connection closed due to keepalive timeout');
    assert.equal(pings.length, 3);
    // libvirt closes after interval x (count + 1) of silence: 240 ms here.
    assert.ok(elapsed >= 230 && elapsed < 1000, `closed after ${elapsed} ms`);
  } finally {
    srv.close();
  }
});

test('a live peer answers pings and the connection stays up; any traffic counts', async () => {
  const pair = await startPair((s) => s.register(testProgram, new Map([handle(P.getType, () => ({ type: 'TEST' }))])));
  try {
    pair.client.startKeepalive({ intervalMs: 30, count: 1 });
    await sleep(300);
    assert.equal(pair.client.status.state, 'open');
    assert.deepEqual(await pair.client.call(P.getType, undefined), { type: 'TEST' });
  } finally {
    await pair.close();
  }
});

test('the server answers PING with PONG at any time and drops a silent client it pings', async () => {
  const pair = await startPair((s) => s.register(testProgram, new Map()));
  try {
    pair.server.on('client', (c) => c.startKeepalive({ intervalMs: 40, count: 2 }));
    const sock = netConnect({ path: pair.path });
    const dec = new FrameDecoder();
    const seen: string[] = [];
    sock.on('data', (c) => {
      for (const f of dec.feed(c)) {
        const m = decodeMessage(f);
        seen.push(`${m.header.prog === KEEP ? 'keep' : m.header.prog}/${m.header.proc}/${m.header.type}/${m.header.serial}`);
      }
    });
    const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now())));
    await new Promise<void>((r) => sock.on('connect', () => r()));
    const t0 = Date.now();
    // Our PING gets a PONG (proc 2, type MESSAGE, serial 0).
    const ping = Buffer.from('0000001c6b656570000000010000000100000002000000000000000000', 'hex').subarray(0, 28);
    sock.write(ping);
    const end = await closed;
    assert.equal(seen[0], 'keep/2/2/0');
    assert.ok(seen.filter((s) => s === 'keep/1/2/0').length === 2, `server pings: ${seen.join(' ')}`);
    assert.ok(end - t0 >= 100, 'closed only after interval x (count + 1)');
  } finally {
    await pair.close();
  }
});
