// The remote driver against tsvirtd (and libvirtd where it matters): libvirt's handshake order,
// connection loss, a silent peer, aborted calls, deadlines, reconnect, and a process that exits
// by itself after close.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/connect.js';
import { DomainEventType } from '../../src/api/events.js';
import { DomainState } from '../../src/api/info.js';
import { RemoteProcedures as R } from '../../src/protocol/gen/remote.js';
import { CallAbortedError, CallTimeoutError, ConnectionClosedError, KeepaliveTimeoutError } from '../../src/rpc/errors.js';
import { MessageType } from '../../src/rpc/message.js';
import { XdrReader } from '../../src/xdr/index.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { recordingRelay, statusWhere } from './driver-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('remote driver against tsvirtd', () => {
  let d: Libvirtd;
  let dir: string;
  before(async () => {
    d = await startTsvirtd();
    dir = mkdtempSync(join(tmpdir(), 'tsvirt-remote-'));
  });
  after(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const uriFor = (sock: string) => `test+unix:///default?socket=${sock}`;

  test("sends libvirt's handshake, registers only what is asked, closes with CONNECT_CLOSE", async () => {
    const relay = await recordingRelay(join(dir, 'relay.sock'), d.unixSocket);
    try {
      const c = await connect(uriFor(relay.path));
      const events = await c.domainEvents();
      await events.close();
      await c.close();
      const calls = relay.sent.filter((m) => m.header.type === MessageType.CALL);
      const describe = calls.map((m) => {
        if (m.header.proc === R.CONNECT_SUPPORTS_FEATURE.proc) return `FEATURE(${R.CONNECT_SUPPORTS_FEATURE.args.decode(new XdrReader(m.body)).feature})`;
        if (m.header.proc === R.CONNECT_OPEN.proc) return `OPEN(${JSON.stringify(R.CONNECT_OPEN.args.decode(new XdrReader(m.body)))})`;
        if (m.header.proc === R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY.proc) {
          const a = R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY.args.decode(new XdrReader(m.body));
          return `REGISTER(${a.eventID},${a.dom === null ? 'all' : a.dom.name})`;
        }
        return [...Object.values(R)].find((s) => s.proc === m.header.proc)?.name ?? String(m.header.proc);
      });
      assert.deepEqual(describe, [
        'AUTH_LIST',
        'FEATURE(10)',
        'OPEN({"name":"test:///default","flags":0})',
        'FEATURE(14)',
        'FEATURE(15)',
        'CONNECT_REGISTER_CLOSE_CALLBACK',
        'REGISTER(0,all)',
        'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY',
        'CONNECT_CLOSE',
      ]);
      assert.deepEqual(calls.map((m) => m.header.serial), calls.map((_, i) => i));
      // keepalive off: no PROGRAM_KEEPALIVE probe; read-only: flag 1.
      relay.sent.length = 0;
      const ro = await connect(uriFor(relay.path), { keepalive: false, readonly: true });
      await ro.close();
      const procs = relay.sent.map((m) => m.header.proc);
      assert.deepEqual(procs.slice(0, 2), [R.AUTH_LIST.proc, R.CONNECT_OPEN.proc]);
      assert.equal(R.CONNECT_OPEN.args.decode(new XdrReader(relay.sent[1]!.body)).flags, 1);
    } finally {
      await relay.close();
    }
  });

  test('an aborted call and a missed deadline fail alone; the connection stays usable', async () => {
    const c = await connect(d.uri('test'), { keepalive: false });
    try {
      process.kill(d.pid, 'SIGSTOP');
      try {
        const ac = new AbortController();
        const p = c.hostname({ signal: ac.signal });
        setTimeout(() => ac.abort(), 50);
        await assert.rejects(p, CallAbortedError);
        await assert.rejects(c.hostname({ timeoutMs: 100 }), CallTimeoutError);
        const pre = new AbortController();
        pre.abort();
        await assert.rejects(c.type({ signal: pre.signal }), CallAbortedError);
      } finally {
        process.kill(d.pid, 'SIGCONT');
      }
      assert.equal(await c.type(), 'TEST');
      assert.equal(c.isAlive(), true);
    } finally {
      await c.close();
    }
  });

  test('connect honours its deadline and an abort against a stopped daemon', async () => {
    process.kill(d.pid, 'SIGSTOP');
    try {
      await assert.rejects(connect(d.uri('test'), { timeoutMs: 200 }), CallTimeoutError);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(connect(d.uri('test'), { signal: ac.signal }), CallAbortedError);
    } finally {
      process.kill(d.pid, 'SIGCONT');
    }
  });

  test('a silent peer is declared dead by keepalive: pending calls fail, status says keepalive', async () => {
    const c = await connect(d.uri('test'), { keepalive: { intervalMs: 100, count: 2 } });
    process.kill(d.pid, 'SIGSTOP');
    try {
      const pending = c.hostname();
      await assert.rejects(pending, KeepaliveTimeoutError);
      const s = await statusWhere(c, (x) => x.state === 'closed');
      assert.equal(s.state === 'closed' && s.reason, 'keepalive');
      assert.equal(c.isAlive(), false);
      await assert.rejects(c.type(), ConnectionClosedError);
    } finally {
      process.kill(d.pid, 'SIGCONT');
      await c.close();
    }
  });

  test('the process exits by itself after close (no leaked handles)', async () => {
    // Compiled (dist/) or run through tsx: import the entry point of the same flavour.
    const ts = import.meta.url.endsWith('.ts');
    const entry = fileURLToPath(new URL(`../../src/connect.${ts ? 'ts' : 'js'}`, import.meta.url));
    const script = `
      import { connect } from ${JSON.stringify(entry)};
      const c = await connect(process.argv[1]);
      await c.type();
      await (await c.domainLookupByName('test')).info();
      const w = await c.watchDomains();
      const ev = await c.domainEvents();
      await ev.close();
      await w.close();
      await c.close();
      process.stdout.write('closed ' + Date.now() + '\\n');
    `;
    const child = spawn(process.execPath, [...(ts ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script, d.uri('test')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const exitedAt = Date.now();
    clearTimeout(killer);
    assert.equal(code, 0, err);
    const closedAt = Number(/closed (\d+)/.exec(out)?.[1]);
    assert.ok(exitedAt - closedAt < 1000, `exited ${exitedAt - closedAt} ms after close`);
  });
});

describe('remote driver: connection loss', () => {
  test('tsvirtd killed: pending calls fail with ConnectionClosedError, status closed with reason', async () => {
    const d = await startTsvirtd();
    const c = await connect(d.uri('test'), { keepalive: false });
    const updates: string[] = [];
    const watching = (async () => {
      for await (const s of c.statusUpdates()) updates.push(s.state);
    })();
    const events = await c.domainEvents();
    process.kill(d.pid, 'SIGSTOP');
    const pending = c.hostname();
    process.kill(d.pid, 'SIGKILL');
    await assert.rejects(pending, ConnectionClosedError);
    const s = await statusWhere(c, (x) => x.state === 'closed');
    // EOF or a reset, depending on what the kernel had queued when the daemon died.
    assert.ok(s.state === 'closed' && ['eof', 'error'].includes(s.reason), JSON.stringify(s));
    assert.ok(s.state === 'closed' && s.error instanceof ConnectionClosedError);
    await watching;
    assert.deepEqual(updates, ['closed']);
    await assert.rejects(events[Symbol.asyncIterator]().next(), ConnectionClosedError);
    await assert.rejects(c.type(), ConnectionClosedError);
    await c.close();
    await d.stop();
  });

  test('libvirtd stopped: later calls fail with ConnectionClosedError', { skip: libvirtdSkipReason() }, async () => {
    const d: Libvirtd = await startLibvirtd();
    const c = await connect(d.uri('test'), { keepalive: false });
    assert.equal(await c.type(), 'TEST');
    await d.stop();
    await statusWhere(c, (x) => x.state === 'closed');
    await assert.rejects(c.type(), ConnectionClosedError);
    await c.close();
  });
});

describe('remote driver: reconnect', () => {
  test('reconnects with backoff, replays event subscriptions and re-synchronises the watch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvirt-reconnect-'));
    const link = join(dir, 'sock');
    const a = await startTsvirtd();
    symlinkSync(a.unixSocket, link);
    let b: Libvirtd | undefined;
    const c = await connect(`test+unix:///default?socket=${link}`, { keepalive: false, reconnect: { initialDelayMs: 50, maxDelayMs: 200, attempts: 100 } });
    try {
      const events = await c.domainEvents();
      const w = await c.watchDomains();
      await (await c.domainLookupByName('test')).suspend();
      assert.equal(w.get('test')?.state, DomainState.PAUSED);
      const it = events[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.kind, 'lifecycle');
      const lost = statusWhere(c, (s) => s.state === 'reconnecting');
      await a.stop();
      await lost;
      b = await startTsvirtd();
      unlinkSync(link);
      symlinkSync(b.unixSocket, link);
      const s = await statusWhere(c, (x) => x.state === 'open');
      assert.equal(s.state === 'open' && s.reconnects, 1);
      // A fresh daemon: the watch was re-listed (test runs again) and events flow again.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(w.get('test')?.active, true);
      await (await c.domainLookupByName('test')).suspend();
      const ev = (await it.next()).value;
      assert.equal(ev?.kind === 'lifecycle' && ev.event, DomainEventType.SUSPENDED);
      await sleep(20);
      assert.equal(w.get('test')?.state, DomainState.PAUSED);
      await w.close();
      await events.close();
    } finally {
      await c.close();
      await a.stop();
      await b?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
