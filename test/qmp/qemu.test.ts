// QmpClient against real qemu-system-x86_64 (Debian's 7.2 here; CI installs it). Each test
// starts its own QEMU and kills it in finally.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionClosedError, ExecInterruptedError, QmpError, type QmpClient } from '../../src/qmp/index.js';
import { connectQemu, qemuAvailable, startQemu, type Qemu } from './qemu.js';

const opts = { skip: qemuAvailable() ? false : 'qemu-system-x86_64 is not installed', timeout: 20_000 };

async function withQemu(body: (q: Qemu, c: QmpClient) => Promise<void>, oob = false): Promise<void> {
  const q = await startQemu();
  let c: QmpClient | undefined;
  try {
    c = await connectQemu(q, { timeoutMs: 10_000, oob, defaultTimeoutMs: 10_000 });
    await body(q, c);
  } finally {
    await c?.close();
    await q.stop();
  }
}

test('greeting, query-version and query-status from real QEMU', opts, async () => {
  await withQemu(async (_q, c) => {
    const v = c.version;
    assert.ok(v && v.qemu.major >= 7, JSON.stringify(v));
    assert.deepEqual(await c.execute('query-version'), v);
    assert.ok(c.capabilities.includes('oob'));
    const status = await c.execute('query-status');
    assert.equal(status.status, 'running');
    assert.equal(status.running, true);
  });
});

test('stop and cont: STOP and RESUME arrive through filtered iterators', opts, async () => {
  await withQemu(async (_q, c) => {
    const stops = c.events({ names: ['STOP'] });
    const resumes = c.events({ names: ['RESUME'] });
    assert.deepEqual(await c.execute('stop'), {});
    const stop = await stops.next();
    assert.equal(stop.value?.event, 'STOP');
    assert.ok((stop.value?.timestamp.seconds ?? 0) > 1_600_000_000);
    assert.ok((stop.value?.timestamp.microseconds ?? -1) >= 0);
    assert.equal((await c.execute('query-status')).status, 'paused');
    assert.equal(resumes.size, 0, 'the name filter kept STOP out of the RESUME iterator');
    await c.execute('cont');
    let resumed = false;
    for await (const e of resumes) {
      assert.equal(e.event, 'RESUME');
      resumed = true;
      break;
    }
    assert.ok(resumed);
    assert.equal(resumes.closed, true);
    assert.equal((await c.execute('query-status')).status, 'running');
    assert.equal(stops.size, 0);
  });
});

test('an unknown command is CommandNotFound with QEMU\'s description; hmp works', opts, async () => {
  await withQemu(async (_q, c) => {
    const err = await c.execute('no-such-command', { a: 1 }).then(() => assert.fail('accepted'), (e: unknown) => e);
    assert.ok(err instanceof QmpError);
    assert.equal(err.class, 'CommandNotFound');
    assert.equal(err.desc, 'The command no-such-command has not been found');
    assert.equal(err.command, 'no-such-command');
    assert.deepEqual(err.args, { a: 1 });
    assert.equal(c.state, 'running');
    assert.equal(await c.hmp('info status'), 'VM status: running\r\n');
    await c.execute('stop');
    assert.equal(await c.hmp('info status'), 'VM status: paused\r\n');
  });
});

test('out-of-band execution where QEMU offers it', opts, async () => {
  await withQemu(async (_q, c) => {
    assert.equal(c.oobEnabled, true);
    // migrate-pause runs out of band and refuses outside postcopy: its own error proves dispatch.
    await assert.rejects(c.execute('migrate-pause', undefined, { oob: true }), (e: unknown) => e instanceof QmpError && /postcopy/.test(e.desc));
    await assert.rejects(
      c.execute('query-status', undefined, { oob: true }),
      (e: unknown) => e instanceof QmpError && e.class === 'GenericError' && /does not support OOB/.test(e.desc),
    );
    assert.equal((await c.execute('query-status')).running, true);
  }, true);
});

test('quit: QEMU answers, hangs up, and commands still pending fail as interrupted', opts, async () => {
  await withQemu(async (q, c) => {
    const shutdown = c.events({ names: ['SHUTDOWN'] });
    // Both written at once: QEMU runs quit and exits without answering the second one.
    const quit = c.execute('quit').then((r) => r, (e: unknown) => e);
    const after = c.execute('query-status').then(() => assert.fail('answered after quit'), (e: unknown) => e);
    const cause = await c.closed;
    assert.ok(cause instanceof ConnectionClosedError && cause.byPeer, String(cause));
    const err = await after;
    assert.ok(err instanceof ExecInterruptedError && err.cause === cause && err.command === 'query-status', String(err));
    // quit's {} usually arrives before the hang-up, but QEMU may exit before flushing it under
    // load: then quit is interrupted like the rest. Nothing else is acceptable.
    const q1 = await quit;
    if (q1 instanceof Error) assert.ok(q1 instanceof ExecInterruptedError && q1.cause === cause, String(q1));
    else assert.deepEqual(q1, {});
    assert.equal(c.state, 'idle');
    const ev = await shutdown.next();
    if (!ev.done) assert.equal(ev.value.data.reason, 'host-qmp-quit');
    await q.exited;
  });
});

test('QEMU dying under a pending command interrupts it with the hang-up as cause', opts, async () => {
  await withQemu(async (q, c) => {
    q.proc.kill('SIGSTOP');
    const pending = c.execute('query-status').then(() => assert.fail('answered'), (e: unknown) => e);
    q.proc.kill('SIGKILL');
    const err = await pending;
    assert.ok(err instanceof ExecInterruptedError);
    assert.ok(err.cause instanceof ConnectionClosedError && err.cause.byPeer);
    assert.equal(await c.closed, err.cause);
  });
});
