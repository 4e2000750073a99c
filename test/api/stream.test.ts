// Streams in the public API without a daemon: the in-process test driver's screenshot and console,
// and the Stream rules (end finishes, break aborts, signal, holes, backpressure, progress) over the
// in-memory stream pair.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/connect.js';
import type { StreamChunk } from '../../src/api/driver.js';
import { streamPair } from '../../src/api/stream-pair.js';
import { Stream, type TransferProgress } from '../../src/api/stream.js';
import { CallAbortedError, VirErrorNumber } from '../../src/rpc/errors.js';

const PNG = new Uint8Array(readFileSync(fileURLToPath(new URL('../../src/drivers/test/screenshot.png', import.meta.url))));

function collect(it: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  return (async () => {
    const out: StreamChunk[] = [];
    for await (const c of it) out.push(c);
    return out;
  })();
}

describe('in-process streams (test:///default)', () => {
  test('screenshot returns the PNG for any screen', async () => {
    const c = await connect('test:///default');
    try {
      const dom = await c.domainLookupByName('test');
      for (const screen of [0, 1]) {
        const shot = await dom.screenshot(screen);
        assert.equal(shot.mime, 'image/png');
        assert.deepEqual(shot.data, PNG);
      }
      await assert.rejects(dom.screenshot(0, 1), (e: { code: number }) => e.code === VirErrorNumber.INVALID_ARG);
    } finally {
      await c.close();
    }
  });

  test('console and channel: not supported, as in libvirt', async () => {
    const c = await connect('test:///default');
    try {
      const dom = await c.domainLookupByName('test');
      await assert.rejects(dom.openConsole(), { code: VirErrorNumber.NO_SUPPORT, message: 'this function is not supported by the connection driver: virDomainOpenConsole' });
      await assert.rejects(dom.openChannel('org.qemu.guest_agent.0'), { code: VirErrorNumber.NO_SUPPORT });
    } finally {
      await c.close();
    }
  });

  test('read-only connections refuse stream APIs without calling the driver', async () => {
    const c = await connect('test:///default', { readonly: true });
    try {
      const dom = await c.domainLookupByName('test');
      await assert.rejects(dom.screenshot(), { code: VirErrorNumber.OPERATION_DENIED });
    } finally {
      await c.close();
    }
  });
});

describe('Stream over the in-memory pair', () => {
  test('read to the end: data and holes in order, then finish waits for the confirmation', async () => {
    const { client, server } = streamPair('t');
    const served = (async () => {
      await server.write(Uint8Array.of(1, 2, 3));
      await server.sendHole(10n);
      await server.write(Uint8Array.of(4));
      await server.end(); // waits for the client's finish
      return 'confirmed';
    })();
    const progress: TransferProgress[] = [];
    const s = new Stream(client, 'test', true, { onProgress: (p) => progress.push(p) });
    const chunks = await collect(s);
    assert.deepEqual(chunks, [
      { kind: 'data', data: Uint8Array.of(1, 2, 3) },
      { kind: 'hole', length: 10n },
      { kind: 'data', data: Uint8Array.of(4) },
    ]);
    assert.equal(await served, 'confirmed');
    assert.ok(s.finished);
    assert.deepEqual(progress.at(-1), { bytes: 4, holeBytes: 10 });
  });

  test('readAll expands holes to zeros', async () => {
    const { client, server } = streamPair('t');
    void (async () => {
      await server.write(Uint8Array.of(9));
      await server.sendHole(3n);
      await server.end();
    })();
    assert.deepEqual(await new Stream(client, 'test', true).readAll(), Uint8Array.of(9, 0, 0, 0));
  });

  test('leaving the loop early aborts: the driver sees the abort', async () => {
    const { client, server } = streamPair('t');
    const served = (async () => {
      for (let i = 0; i < 100; i++) await server.write(new Uint8Array(1024 * 1024));
      await server.end();
    })();
    const s = new Stream(client, 'test', false);
    for await (const c of s) {
      assert.equal(c.kind, 'data');
      break;
    }
    assert.ok(s.finished);
    await assert.rejects(served, CallAbortedError);
  });

  test('write, send and finish: the driver reads everything, holes become zeros without the sparse flag', async () => {
    const { client, server } = streamPair('t');
    const received = (async () => {
      const got = await collect(server);
      server.confirm();
      return got;
    })();
    const s = new Stream(client, 'test', false);
    await assert.rejects(s.sendHole(5), { code: VirErrorNumber.INVALID_ARG });
    await s.send([Uint8Array.of(1), { kind: 'hole', length: 2n }, { kind: 'data', data: Uint8Array.of(3) }]);
    const got = await received;
    assert.deepEqual(got, [
      { kind: 'data', data: Uint8Array.of(1) },
      { kind: 'data', data: Uint8Array.of(0, 0) },
      { kind: 'data', data: Uint8Array.of(3) },
    ]);
    assert.deepEqual(s.progress, { bytes: 4, holeBytes: 0 });
  });

  test('a sparse stream sends holes as holes', async () => {
    const { client, server } = streamPair('t');
    const received = collect(server).then((g) => (server.confirm(), g));
    const s = new Stream(client, 'test', true);
    await s.send([Uint8Array.of(1), { kind: 'hole', length: 1n << 40n }]);
    assert.deepEqual(await received, [{ kind: 'data', data: Uint8Array.of(1) }, { kind: 'hole', length: 1n << 40n }]);
  });

  test('backpressure: a writer waits while the reader lags, and goes on when it reads', async () => {
    const { client, server } = streamPair('t');
    let written = 0;
    const writer = (async () => {
      for (let i = 0; i < 16; i++) {
        await server.write(new Uint8Array(1024 * 1024));
        written++;
      }
      await server.end();
    })();
    await new Promise((r) => setTimeout(r, 50));
    // The pair holds at most ~4 MiB unread before the writer has to wait.
    assert.ok(written <= 5, `writer got ${written} MiB ahead`);
    const all = await new Stream(client, 'test', false).readAll();
    await writer;
    assert.equal(all.length, 16 * 1024 * 1024);
  });

  test('the signal aborts a stream in use; a failing source aborts too', async () => {
    const { client, server } = streamPair('t');
    const ctl = new AbortController();
    const s = new Stream(client, 'test', false, { signal: ctl.signal });
    const reading = collect(s);
    await server.write(Uint8Array.of(1));
    ctl.abort();
    await assert.rejects(reading, CallAbortedError);
    await assert.rejects(server.write(Uint8Array.of(2)), CallAbortedError);
    await assert.rejects(s.write(Uint8Array.of(3)));

    const pair = streamPair('t2');
    const s2 = new Stream(pair.client, 'test', false);
    const source = (async function* () {
      yield Uint8Array.of(1);
      throw new Error('source broke');
    })();
    await assert.rejects(s2.send(source), /source broke/);
    assert.ok(s2.finished);
    await assert.rejects(collect(pair.server), CallAbortedError);
  });
});
