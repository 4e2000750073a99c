// Hostile clients one at a time against tsvirtd: malformed input, hanging up mid-call, never
// reading. Each case checks what the daemon does to that client and that it still serves others.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RemoteProcedures as R } from '../../src/protocol/gen/remote.js';
import type { RpcClient } from '../../src/rpc/index.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import type { Libvirtd } from '../harness/libvirtd.js';
import { GARBAGE, domainXml, dropMidCall, openClient, openWithSocket, randomGarbage, sendGarbage, type Target } from './clients.js';

describe('tsvirtd and hostile clients', () => {
  let daemon: Libvirtd;
  let targets: Array<[string, Target]>;
  let holder: RpcClient;

  before(async () => {
    daemon = await startTsvirtd({ tcp: true });
    targets = [['unix', { path: daemon.unixSocket }], ['tcp', { port: daemon.tcpPort! }]];
    holder = await openClient(targets[0]![1]);
  });
  after(async () => {
    await holder?.close();
    await daemon?.stop();
  });

  async function stillServes(): Promise<void> {
    for (const [, t] of targets) {
      const c = await openClient(t);
      assert.equal((await c.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'test' })).dom.name, 'test');
      await c.close();
    }
  }

  for (const g of GARBAGE) {
    test(`garbage: ${g.name} -> ${g.expect}`, async () => {
      for (const [name, t] of targets) assert.equal(await sendGarbage(t, g.bytes()), g.expect, name);
      await stillServes();
    });
  }

  test('random bytes never take the daemon down', async () => {
    for (let i = 0; i < 40; i++) await sendGarbage(targets[i % 2]![1], randomGarbage(1000 + i), 100);
    await stillServes();
  });

  test('hanging up right after writing calls, or half a call', async () => {
    for (let i = 0; i < 20; i++) await dropMidCall(targets[i % 2]![1], i);
    await stillServes();
    const all = await holder.call(R.CONNECT_LIST_ALL_DOMAINS, { needResults: 1, flags: 0 });
    assert.deepEqual(all.domains.map((d) => d.name), ['test']);
  });

  test('a define whose caller hung up is either complete or absent', async () => {
    const { client, sock } = await openWithSocket(targets[0]![1]);
    const p = client.call(R.DOMAIN_DEFINE_XML, { xml: domainXml('dropped', '0d0d0d0d-0000-4000-8000-000000000001') }).catch(() => undefined);
    sock.destroy();
    await p;
    await new Promise((r) => setTimeout(r, 100));
    try {
      const d = (await holder.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'dropped' })).dom;
      assert.equal((await holder.call(R.DOMAIN_GET_STATE, { dom: d, flags: 0 })).state, 5);
      await holder.call(R.DOMAIN_UNDEFINE, { dom: d });
    } catch (e) {
      assert.match(String(e), /Domain not found/);
    }
    await stillServes();
  });

  test('a client that never reads its events does not hold up others', async () => {
    const stalled = await openWithSocket(targets[1]![1]);
    await stalled.client.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null });
    stalled.sock.pause();
    const d = (await holder.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'test' })).dom;
    let slowest = 0;
    // 2,000 events (~200 KB) for the stalled client, more than the socket buffers hold.
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      await holder.call(R.DOMAIN_SUSPEND, { dom: d });
      await holder.call(R.DOMAIN_RESUME, { dom: d });
      slowest = Math.max(slowest, performance.now() - t0);
    }
    assert.ok(slowest < 1000, `a suspend/resume pair took ${slowest.toFixed(0)} ms`);
    assert.equal((await holder.call(R.DOMAIN_GET_STATE, { dom: d, flags: 0 })).state, 1);
    // Its backlog is far under the limit: it is still connected, and reads everything once resumed.
    let events = 0;
    stalled.client.on('message', () => events++);
    stalled.sock.resume();
    const end = Date.now() + 5000;
    while (events < 2000 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(events, 2000);
    assert.ok(stalled.client.isOpen);
    await stalled.client.close();
    await stillServes();
  });
});
