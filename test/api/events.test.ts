// Events and the live domain view while another client (virsh) changes state, against tsvirtd
// and a private libvirtd; plus the bounded queue's overflow policies and unsubscription.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/connect.js';
import type { Connection, DomainEvent } from '../../src/api/connection.js';
import { DomainEventType, EventOverflowError, EventStream } from '../../src/api/events.js';
import { DomainState } from '../../src/api/info.js';
import type { DomainChange, DomainWatch } from '../../src/api/watch.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { describeRun, runVirsh } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';

const NEWDOM = "<domain type='test'><name>ev1</name><memory>1024</memory><os><type>hvm</type></os></domain>";

/** The next value of an iterator, or a failure after `ms`. */
async function next<T>(it: AsyncIterator<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    it.next(),
    new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no event within ${ms} ms`)), ms))),
  ]);
  clearTimeout(timer);
  assert.equal(r.done, false);
  return r.value;
}

/** Resolves with the first change `pred` accepts. */
function changeWhere(w: DomainWatch, pred: (c: DomainChange) => boolean, ms = 5000): Promise<DomainChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching change')), ms);
    const l = (c: DomainChange) => {
      if (!pred(c)) return;
      clearTimeout(timer);
      w.off('change', l);
      resolve(c);
    };
    w.on('change', l);
  });
}

async function virsh(uri: string, ...args: string[]): Promise<void> {
  const r = await runVirsh(uri, args);
  assert.equal(r.code, 0, describeRun(r));
}

function suite(name: string, start: () => Promise<Libvirtd>, skip?: string) {
  describe(`events while virsh acts, ${name}`, { skip }, () => {
    let d: Libvirtd;
    let c: Connection;
    let dir: string;
    before(async () => {
      d = await start();
      c = await connect(d.uri('test'));
      dir = mkdtempSync(join(tmpdir(), 'tsvirt-ev-'));
    });
    after(async () => {
      await c?.close();
      await d?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('domainEvents sees virsh suspend/resume, filtered by domain; break unsubscribes', async () => {
      const dom = await c.domainLookupByName('test');
      const events = await c.domainEvents({ domain: dom });
      const it = events[Symbol.asyncIterator]();
      await virsh(d.uri('test'), 'suspend', 'test');
      const e1 = (await next(it)) as Extract<DomainEvent, { kind: 'lifecycle' }>;
      assert.equal(e1.kind, 'lifecycle');
      assert.equal(e1.domain.name, 'test');
      assert.equal(e1.event, DomainEventType.SUSPENDED);
      await virsh(d.uri('test'), 'resume', 'test');
      const e2 = (await next(it)) as Extract<DomainEvent, { kind: 'lifecycle' }>;
      assert.equal(e2.event, DomainEventType.RESUMED);
      await it.return!();
      // After unsubscribing nothing more is queued.
      await virsh(d.uri('test'), 'suspend', 'test');
      await virsh(d.uri('test'), 'resume', 'test');
      assert.equal(events.pending, 0);
      assert.equal((await it.next()).done, true);
    });

    test('watchDomains follows define, start, pause, destroy and undefine by virsh', async () => {
      const w = await c.watchDomains();
      try {
        assert.equal(w.get('test')?.active, true);
        const file = join(dir, 'ev1.xml');
        writeFileSync(file, NEWDOM);
        const added = changeWhere(w, (ch) => ch.kind === 'added' && ch.domain.name === 'ev1');
        await virsh(d.uri('test'), 'define', file);
        assert.equal((await added).domain.state, DomainState.SHUTOFF);
        const started = changeWhere(w, (ch) => ch.domain.name === 'ev1' && ch.domain.state === DomainState.RUNNING);
        await virsh(d.uri('test'), 'start', 'ev1');
        assert.ok((await started).domain.id > 0);
        const paused = changeWhere(w, (ch) => ch.domain.name === 'ev1' && ch.domain.state === DomainState.PAUSED);
        await virsh(d.uri('test'), 'suspend', 'ev1');
        await paused;
        const stopped = changeWhere(w, (ch) => ch.domain.name === 'ev1' && ch.domain.state === DomainState.SHUTOFF);
        await virsh(d.uri('test'), 'destroy', 'ev1');
        assert.equal((await stopped).domain.id, -1);
        const removed = changeWhere(w, (ch) => ch.kind === 'removed' && ch.domain.name === 'ev1');
        await virsh(d.uri('test'), 'undefine', 'ev1');
        await removed;
        assert.equal(w.get('ev1'), undefined);
        assert.deepEqual([...w.domains.values()].map((x) => x.name), ['test']);
      } finally {
        await w.close();
      }
    });

    test('network and storage pool events', async () => {
      const nets = await c.networkEvents();
      const pools = await c.storagePoolEvents();
      try {
        await virsh(d.uri('test'), 'net-destroy', 'default');
        const n = await next(nets[Symbol.asyncIterator]());
        assert.equal(n.network.name, 'default');
        assert.equal(n.event, 3 /* STOPPED */);
        await virsh(d.uri('test'), 'net-start', 'default');
        assert.equal((await next(nets[Symbol.asyncIterator]())).event, 2 /* STARTED */);
        await virsh(d.uri('test'), 'pool-destroy', 'default-pool');
        const p = await next(pools[Symbol.asyncIterator]());
        assert.equal(p.kind, 'lifecycle');
        assert.equal(p.pool.name, 'default-pool');
        await virsh(d.uri('test'), 'pool-start', 'default-pool');
      } finally {
        await nets.close();
        await pools.close();
      }
    });
  });
}

suite('tsvirtd', () => startTsvirtd());
suite('libvirtd', () => startLibvirtd(), libvirtdSkipReason());

describe('event streams in-process (test:///default)', () => {
  test('lifecycle events of our own calls; watch state follows', async () => {
    const c = await connect('test:///default');
    try {
      const w = await c.watchDomains();
      const events = await c.domainEvents();
      const d = await c.domainLookupByName('test');
      await d.suspend();
      await d.resume();
      await d.destroy();
      const it = events[Symbol.asyncIterator]();
      assert.deepEqual(
        [(await next(it)) , await next(it), await next(it)].map((e) => (e.kind === 'lifecycle' ? e.event : -1)),
        [DomainEventType.SUSPENDED, DomainEventType.RESUMED, DomainEventType.STOPPED],
      );
      assert.equal(w.get('test')?.state, DomainState.SHUTOFF);
      await events.close();
      await w.close();
    } finally {
      await c.close();
    }
  });

  test('overflow: drop-oldest keeps the newest, drop-newest the oldest, fail ends with an error', async () => {
    const old = new EventStream<number>({ queueSize: 2 });
    [1, 2, 3, 4].forEach((n) => old.push(n));
    assert.equal(old.dropped, 2);
    assert.deepEqual([(await old.next()).value, (await old.next()).value], [3, 4]);
    const neu = new EventStream<number>({ queueSize: 2, overflow: 'drop-newest' });
    [1, 2, 3, 4].forEach((n) => neu.push(n));
    assert.deepEqual([(await neu.next()).value, (await neu.next()).value], [1, 2]);
    let unsubscribed = false;
    const fail = new EventStream<number>({ queueSize: 2, overflow: 'fail' });
    fail.onClose = async () => void (unsubscribed = true);
    [1, 2, 3].forEach((n) => fail.push(n));
    assert.equal((await fail.next()).value, 1);
    assert.equal((await fail.next()).value, 2);
    await assert.rejects(fail.next(), EventOverflowError);
    assert.equal(unsubscribed, true);
  });

  test('an AbortSignal ends the iteration and unsubscribes', async () => {
    const c = await connect('test:///default');
    try {
      const ac = new AbortController();
      const events = await c.domainEvents({ signal: ac.signal });
      const got: DomainEvent[] = [];
      const loop = (async () => {
        for await (const e of events) got.push(e);
      })();
      await (await c.domainLookupByName('test')).suspend();
      await new Promise((r) => setTimeout(r, 10));
      ac.abort();
      await loop;
      assert.equal(got.length, 1);
      await (await c.domainLookupByName('test')).resume();
      assert.equal(events.pending, 0);
    } finally {
      await c.close();
    }
  });
});
