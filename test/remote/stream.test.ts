// Client-side streams over the remote driver: screenshots from tsvirtd and a private libvirtd (the
// bytes virsh saves), consoles refused by the test driver, and volume upload/download against
// libvirtd's QEMU driver with a dir pool: plain, sparse, aborted, and a process that exits afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/connect.js';
import type { Connection } from '../../src/api/connection.js';
import type { StoragePool, StorageVol } from '../../src/api/storage.js';
import type { TransferProgress } from '../../src/api/stream.js';
import { CallAbortedError, VirErrorNumber } from '../../src/rpc/errors.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';

const skip = libvirtdSkipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

/** Bytes that differ at every position, so a misplaced chunk shows. */
function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed + (i >> 12)) & 0xff);
}

describe('streams against tsvirtd and libvirtd', { skip }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  let dir: string;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
    dir = mkdtempSync(join(tmpdir(), 'tsvirt-streams-'));
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('screenshot: the same PNG from tsvirtd, libvirtd and virsh', async () => {
    const file = join(dir, 'virsh.png');
    const r = await runVirsh(real.uri('test'), ['screenshot', 'test', file], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stderr);
    const fromVirsh = new Uint8Array(readFileSync(file));
    assert.ok(fromVirsh.length > 1000);
    for (const d of [real, ours]) {
      const c = await connect(d.uri('test'), { keepalive: false });
      try {
        const shot = await (await c.domainLookupByName('test')).screenshot();
        assert.equal(shot.mime, 'image/png');
        assert.deepEqual(shot.data, fromVirsh);
        // The stream is over and forgotten: the connection carries on.
        assert.equal((await c.listAllDomains()).length, 1);
      } finally {
        await c.close();
      }
    }
  });

  test("console on the test driver: libvirt's NO_SUPPORT from both daemons", async () => {
    const messages: string[] = [];
    for (const d of [real, ours]) {
      const c = await connect(d.uri('test'), { keepalive: false });
      try {
        const dom = await c.domainLookupByName('test');
        await assert.rejects(dom.openConsole(), (e: { code: number; message: string }) => {
          messages.push(e.message);
          return e.code === VirErrorNumber.NO_SUPPORT;
        });
        assert.equal((await dom.info()).nrVirtCpu, 2);
      } finally {
        await c.close();
      }
    }
    assert.equal(messages[0], messages[1]);
  });

  describe('volumes on the QEMU driver (dir pool)', () => {
    let c: Connection;
    let pool: StoragePool;
    let poolDir: string;
    let n = 0;
    const newVol = (capacity: number): Promise<StorageVol> =>
      pool.createVolume(
        `<volume><name>v${n++}.raw</name><capacity unit='bytes'>${capacity}</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`,
      );
    before(async () => {
      poolDir = join(dir, 'pool');
      c = await connect(real.uri('qemu'), { keepalive: false });
      pool = await c.createStoragePool(`<pool type='dir'><name>tsvirt-streams</name><target><path>${poolDir}</path></target></pool>`, 1 /* BUILD */);
    });
    after(async () => {
      await pool?.destroy().catch(() => undefined);
      await c?.close();
    });

    test('upload then download: the same bytes, packets of libvirt size, progress reported', async () => {
      const vol = await newVol(3 * MiB);
      const data = pattern(3 * MiB, 1);
      const up: TransferProgress[] = [];
      // A Node-style chunked source, in odd sizes.
      const source = (function* () {
        for (let off = 0; off < data.length; off += 700_001) yield data.subarray(off, Math.min(off + 700_001, data.length));
      })();
      assert.deepEqual(await vol.upload(source, { onProgress: (p) => up.push(p) }), { bytes: 3 * MiB, holeBytes: 0 });
      assert.ok(up.length >= 5);
      assert.deepEqual(new Uint8Array(readFileSync(await vol.path())), data);

      const down = await vol.download({ offset: MiB, length: MiB });
      const sizes: number[] = [];
      const parts: Uint8Array[] = [];
      for await (const chunk of down) {
        assert.equal(chunk.kind, 'data');
        if (chunk.kind === 'data') {
          sizes.push(chunk.data.length);
          parts.push(chunk.data);
        }
      }
      assert.ok(down.finished);
      assert.ok(Math.max(...sizes) <= 262120, `chunk sizes ${sizes.join(',')}`);
      assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data.subarray(MiB, 2 * MiB));
    });

    test('sparse: holes go up as hole packets and come back as holes', async () => {
      const vol = await newVol(2 * MiB);
      const a = pattern(4096, 2);
      const b = pattern(4096, 3);
      const sent = await vol.upload([a, { kind: 'hole', length: BigInt(2 * MiB - 8192) }, b], { sparse: true });
      assert.deepEqual(sent, { bytes: 8192, holeBytes: 2 * MiB - 8192 });
      const path = await vol.path();
      assert.equal(statSync(path).size, 2 * MiB);
      assert.ok(statSync(path).blocks * 512 < MiB, 'the hole was written as data');

      const chunks = [];
      for await (const ch of await vol.download({ sparse: true })) chunks.push(ch);
      assert.deepEqual(chunks, [
        { kind: 'data', data: a },
        { kind: 'hole', length: BigInt(2 * MiB - 8192) },
        { kind: 'data', data: b },
      ]);
      // Not sparse: the same content arrives as plain bytes.
      const whole = await (await vol.download()).readAll();
      assert.equal(whole.length, 2 * MiB);
      assert.deepEqual(whole.subarray(0, 4096), a);
      assert.ok(whole.subarray(4096, 2 * MiB - 4096).every((x) => x === 0));
    });

    test('abort mid-stream, both ways: the daemon acknowledges and the connection goes on', async () => {
      const vol = await newVol(16 * MiB);
      await vol.upload(pattern(16 * MiB, 4));

      const down = await vol.download();
      let got = 0;
      for await (const ch of down) {
        // Let more than the read-ahead limit pile up (the socket pauses), then leave: that aborts.
        if (got === 0) await sleep(300);
        got += ch.kind === 'data' ? ch.data.length : 0;
        if (got >= MiB) break;
      }
      assert.ok(down.finished);

      const ctl = new AbortController();
      const up = await vol.openUpload({ signal: ctl.signal });
      await up.write(pattern(MiB, 5));
      ctl.abort();
      await assert.rejects(up.write(pattern(MiB, 6)), CallAbortedError);
      await up.abort();
      assert.ok(up.finished);

      // Still usable, and a fresh transfer works.
      assert.equal((await vol.info()).capacity, BigInt(16 * MiB));
      assert.equal((await (await vol.download({ length: 4096 })).readAll()).length, 4096);
    });

    test('the process exits by itself after a transfer and close', async () => {
      const vol = await newVol(MiB);
      const ts = import.meta.url.endsWith('.ts');
      const entry = fileURLToPath(new URL(`../../src/connect.${ts ? 'ts' : 'js'}`, import.meta.url));
      const script = `
        import { connect } from ${JSON.stringify(entry)};
        const c = await connect(process.argv[1]);
        const pool = await c.storagePoolLookupByName('tsvirt-streams');
        const vol = await pool.volumeLookupByName(process.argv[2]);
        await vol.upload(new Uint8Array(300000).fill(1));
        const back = await (await vol.download({ length: 300000 })).readAll();
        const s = await vol.download();
        for await (const _ of s) break;
        await c.close();
        process.stdout.write('closed ' + back.length + ' ' + Date.now() + '\\n');
      `;
      const child = spawn(process.execPath, [...(ts ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script, real.uri('qemu'), vol.name], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((r) => child.once('exit', (x) => r(x)));
      const exitedAt = Date.now();
      clearTimeout(killer);
      assert.equal(code, 0, err);
      const m = /closed (\d+) (\d+)/.exec(out);
      assert.equal(m?.[1], '300000');
      assert.ok(exitedAt - Number(m?.[2]) < 1000, `exited ${exitedAt - Number(m?.[2])} ms after close`);
    });
  });
});
