import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handle, STREAM_CHUNK_MAX, VirError, VirErrorDomain, VirErrorNumber, type RpcStream, type StreamChunk } from '../../src/rpc/index.js';
import { sleep, startPair } from './helpers.js';
import { P, testProgram } from './program.js';

const vol = { pool: 'default-pool', name: 'v.img', key: '/p/v.img' };

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

async function collect(s: RpcStream): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of s) out.push(c);
  return out;
}

test('download: data in libvirt-sized packets, a hole, end-of-data, then finish/confirm', async () => {
  const data = pattern(600_000);
  let serverSawFinish = false;
  const pair = await startPair((s) =>
    s.register(
      testProgram,
      new Map([
        handle(P.download, (_args, ctx) => {
          const st = ctx.stream!;
          void (async () => {
            await st.write(data);
            await st.sendHole(1_044_480n);
            await st.end();
            serverSawFinish = true;
          })();
        }),
      ]),
    ),
  );
  try {
    const { stream } = await pair.client.callStream(P.download, { vol, offset: 0n, length: 0n, flags: 1 });
    const chunks = await collect(stream);
    const dataChunks = chunks.filter((c) => c.kind === 'data');
    assert.ok(dataChunks.every((c) => c.data.length <= STREAM_CHUNK_MAX));
    assert.equal(STREAM_CHUNK_MAX, 262120);
    const got = Buffer.concat(dataChunks.map((c) => c.data));
    assert.ok(got.equals(data));
    assert.deepEqual(chunks.at(-1), { kind: 'hole', length: 1_044_480n });
    await stream.finish();
    await sleep(10);
    assert.ok(serverSawFinish);
    assert.ok(stream.finished);
  } finally {
    await pair.close();
  }
});

test('upload: the server reads until finish and confirms after storing', async () => {
  let stored: Uint8Array | null = null;
  const pair = await startPair((s) =>
    s.register(
      testProgram,
      new Map([
        handle(P.upload, (_args, ctx) => {
          const st = ctx.stream!;
          void (async () => {
            stored = await st.readAll();
            st.confirm();
          })();
        }),
      ]),
    ),
  );
  try {
    const data = pattern(1_000_000);
    const { stream } = await pair.client.callStream(P.upload, { vol, offset: 0n, length: 0n, flags: 0 });
    await stream.write(data);
    await stream.finish();
    assert.ok(Buffer.from(stored!).equals(data));
  } finally {
    await pair.close();
  }
});

test('client abort is acknowledged and the server sees it', async () => {
  let serverError: unknown = null;
  const pair = await startPair((s) =>
    s.register(
      testProgram,
      new Map([
        handle(P.upload, (_args, ctx) => {
          void ctx.stream!.readAll().catch((e: unknown) => (serverError = e));
        }),
      ]),
    ),
  );
  try {
    const { stream } = await pair.client.callStream(P.upload, { vol, offset: 0n, length: 0n, flags: 0 });
    await stream.write(pattern(1000));
    await stream.abort();
    await sleep(20);
    assert.ok(serverError instanceof VirError);
    assert.equal(serverError.code, VirErrorNumber.OPERATION_ABORTED);
    // The connection is still usable.
    assert.equal(pair.server.clients.size, 1);
  } finally {
    await pair.close();
  }
});

test('a server-side stream failure reaches the reading client as a VirError', async () => {
  const pair = await startPair((s) =>
    s.register(
      testProgram,
      new Map([
        handle(P.download, (_args, ctx) => {
          void (async () => {
            await ctx.stream!.write(pattern(10));
            ctx.stream!.fail(VirError.format(VirErrorNumber.STORAGE_PROBE_FAILED, VirErrorDomain.STORAGE, 'cannot read: %s', 'disk gone'));
          })();
        }),
      ]),
    ),
  );
  try {
    const { stream } = await pair.client.callStream(P.download, { vol, offset: 0n, length: 0n, flags: 0 });
    await assert.rejects(collect(stream), (e: unknown) => e instanceof VirError && e.message === 'cannot read: disk gone' && e.domain === VirErrorDomain.STORAGE);
  } finally {
    await pair.close();
  }
});

test('packets written before the reply are held until the reply is on the wire', async () => {
  const pair = await startPair((s) =>
    s.register(
      testProgram,
      new Map([
        handle(P.download, async (_args, ctx) => {
          // Written synchronously inside the handler, before it returns.
          void ctx.stream!.write(pattern(5));
          void ctx.stream!.end();
          await sleep(5);
        }),
      ]),
    ),
  );
  try {
    const { stream } = await pair.client.callStream(P.download, { vol, offset: 0n, length: 0n, flags: 0 });
    const chunks = await collect(stream);
    assert.equal(chunks.length, 1);
    await stream.finish();
  } finally {
    await pair.close();
  }
});
