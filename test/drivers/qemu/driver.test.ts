// The QEMU driver in-process with real QEMU (TCG, diskless 64 MiB guests): definitions on disk,
// lifecycle and events whoever causes them, reconnection by a fresh driver state, and bad input
// (malformed XML, missing disk, QEMU dying at start, a monitor that stops answering) ending in a
// clear libvirt error with no stuck domain and no QEMU left behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverCallContext, DriverConnection, DriverEvent, DriverMethods } from '../../../src/api/driver.js';
import type { RemoteNonnullDomain } from '../../../src/protocol/gen/remote.js';
import { VirError } from '../../../src/rpc/errors.js';
import { QemuDriverState, qemuDriver, qemuDriverState, qemuPaths } from '../../../src/drivers/qemu/index.js';
import { domainMethods } from '../../../src/drivers/qemu/domains.js';
import { timeoutsFromEnv } from '../../../src/drivers/qemu/state.js';
import { guestPidsIn, guestXml, killGuestsIn, qemuEnv, qemuSkipReason, QEMU_BIN } from './driver-guest.js';

const skip = qemuSkipReason();
const base = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-driver-'));
const ctx: DriverCallContext = { readonly: false, stream: null };
let conn: DriverConnection;
let m: DriverMethods;
let driverState: QemuDriverState;
const events: string[] = [];

before(async () => {
  if (skip) return;
  Object.assign(process.env, qemuEnv(base), {
    TSVIRT_QEMU_MONITOR_TIMEOUT_MS: '700',
    TSVIRT_QEMU_KILL_GRACE_MS: '500',
    TSVIRT_QEMU_CONNECT_TIMEOUT_MS: '10000',
  });
  const c = await qemuDriver.open(new URL('qemu:///system'), { readonly: false });
  assert.ok(c);
  conn = c;
  m = c.methods;
  driverState = (await qemuDriverState()).state;
  conn.onEvent((e: DriverEvent) => {
    const msg = (e.payload as { msg: { dom: RemoteNonnullDomain; event?: number; detail?: number } }).msg;
    events.push(e.eventID === 1 ? `${msg.dom.name} reboot` : `${msg.dom.name} ${msg.event}/${msg.detail}`);
  });
});

after(() => {
  conn?.close();
  killGuestsIn(base);
  rmSync(base, { recursive: true, force: true });
});

const call = async <T>(p: T | Promise<T> | undefined): Promise<T> => (await p) as T;

async function define(xml: string): Promise<RemoteNonnullDomain> {
  return (await call(m.DOMAIN_DEFINE_XML?.({ xml }, ctx))).dom;
}

async function stateOf(dom: RemoteNonnullDomain): Promise<[number, number]> {
  const s = await call(m.DOMAIN_GET_STATE?.({ dom, flags: 0 }, ctx));
  return [s.state, s.reason];
}

async function rejects(p: Promise<unknown> | unknown, code: number, message: RegExp): Promise<VirError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VirError, `VirError expected, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return e;
  }
  assert.fail('expected an error');
}

/** Waits (bounded) for `pred`, for events that follow a command asynchronously. */
async function until(pred: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

test('URI paths are checked as libvirt does', { skip }, async () => {
  await rejects(qemuDriver.open(new URL('qemu:///'), { readonly: false }), 1, /^internal error: unexpected qemu URI path '\/', try qemu:\/\/\/system$/);
  await rejects(qemuDriver.open(new URL('qemu:///foo'), { readonly: false }), 1, /unexpected qemu URI path '\/foo'/);
  assert.equal(await qemuDriver.open(new URL('test:///default'), { readonly: false }), null);
  assert.equal(await qemuDriver.open(new URL('qemu://host/system'), { readonly: false }), null);
});

test('definitions persist atomically and load into a fresh driver state', { skip }, async () => {
  const dom = await define(guestXml({ name: 'persist' }));
  const file = join(base, 'etc', 'persist.xml');
  assert.match(readFileSync(file, 'utf8'), /<type arch='x86_64' machine='pc-i440fx-[\d.]+'>hvm<\/type>/);
  await call(m.DOMAIN_SET_AUTOSTART?.({ dom, autostart: 1 }, ctx));
  const fresh = new QemuDriverState({ paths: qemuPaths(true), timeouts: timeoutsFromEnv(), autostart: false });
  await fresh.init();
  const d = fresh.list.findByName('persist');
  assert.ok(d && d.persistent && d.autostart && !d.active);
  const list = await call(m.CONNECT_LIST_ALL_DOMAINS?.({ needResults: 1, flags: 0x400 | 0x40 }, ctx));
  assert.deepEqual(list.domains.map((x) => x.name), ['persist']);
  await call(m.DOMAIN_UNDEFINE?.({ dom }, ctx));
  assert.ok(!existsSync(file));
  assert.ok(!existsSync(join(base, 'etc', 'autostart', 'persist.xml')));
  assert.deepEqual(events.splice(0), ['persist 0/0', 'persist 1/0']);
});

test('lifecycle and events follow QEMU, whoever acts', { skip, timeout: 20_000 }, async () => {
  const dom = await define(guestXml({ name: 'life' }));
  await call(m.DOMAIN_CREATE?.({ dom }, ctx));
  assert.deepEqual(await stateOf(dom), [1, 1]);
  assert.ok(existsSync(join(base, 'run', 'life.xml')), 'status file');
  const info = await call(m.DOMAIN_GET_INFO?.({ dom }, ctx));
  assert.equal(info.maxMem, 65536n);
  const d = [...(await freshList())].find((x) => x === 'life');
  assert.equal(d, 'life');

  // Commands reaching QEMU without the driver's API (as a raw monitor command would).
  const proc = stateFor('life').proc;
  assert.ok(proc);
  await proc.command('stop');
  await until(async () => (await stateOf(dom))[0] === 3);
  assert.deepEqual(await stateOf(dom), [3, 0], 'paused (unknown)');
  await proc.command('cont');
  await until(async () => (await stateOf(dom))[0] === 1);
  assert.deepEqual(await stateOf(dom), [1, 5], 'running (unpaused)');
  await proc.command('system_reset');
  await until(() => events.includes('life reboot'));
  await proc.command('quit').catch(() => undefined);
  await until(async () => (await stateOf(dom))[0] === 5);
  assert.deepEqual(await stateOf(dom), [5, 1], 'shut off (shutdown)');
  assert.ok(!existsSync(join(base, 'run', 'life.xml')), 'status removed');

  // QEMU killed behind our back: a crash.
  await call(m.DOMAIN_CREATE?.({ dom }, ctx));
  const [pid] = guestPidsIn(base);
  assert.ok(pid);
  process.kill(pid, 'SIGKILL');
  await until(async () => (await stateOf(dom))[0] === 5);
  assert.deepEqual(await stateOf(dom), [5, 3], 'shut off (crashed)');
  assert.deepEqual(events.splice(0), [
    'life 0/0', 'life 4/0', 'life 2/0', 'life 3/0', 'life 4/0', 'life reboot', 'life 6/2', 'life 5/0',
    'life 4/0', 'life 2/0', 'life 5/5',
  ]);
  await call(m.DOMAIN_UNDEFINE?.({ dom }, ctx));
  events.splice(0);
});

function stateFor(name: string) {
  const d = driverState.list.findByName(name);
  assert.ok(d);
  return d;
}

async function freshList(): Promise<string[]> {
  const r = await call(m.CONNECT_LIST_ALL_DOMAINS?.({ needResults: 1, flags: 1 }, ctx));
  return r.domains.map((x) => x.name);
}

test('a fresh driver state reconnects to a running guest and can destroy it', { skip, timeout: 20_000 }, async () => {
  const dom = await define(guestXml({ name: 'again' }));
  await call(m.DOMAIN_CREATE?.({ dom }, ctx));
  const fresh = new QemuDriverState({ paths: qemuPaths(true), timeouts: timeoutsFromEnv(), autostart: false });
  // The old state lets go of the monitor first, as a killed daemon would.
  const old = stateFor('again').proc;
  assert.ok(old);
  const oldPid = old.pid;
  stateFor('again').proc = null;
  await old.detach();
  await fresh.init();
  const d = fresh.list.findByName('again');
  assert.ok(d?.active && d.proc?.pid === oldPid);
  assert.equal(d.state, 1);
  const fm = domainMethods(fresh);
  await call(fm.DOMAIN_SUSPEND?.({ dom }, ctx));
  assert.equal(d.state, 3);
  await call(fm.DOMAIN_DESTROY?.({ dom }, ctx));
  assert.equal(d.state, 5);
  assert.equal(guestPidsIn(base).length, 0);
  stateFor('again').state = 5;
  events.splice(0);
});

test('malformed XML and unknown machine are refused with libvirt errors', { skip }, async () => {
  await rejects(define('<domain type="qemu"><name>x</name'), 35, /^\(domain_definition\):1: Premature end of data in tag name/);
  await rejects(define(guestXml({ name: 'badmachine' }).replace("machine='pc'", "machine='nonesuch'")), 67, /does not support machine type 'nonesuch'/);
  await rejects(define(guestXml({ name: 'xen' }).replace("type='qemu'", "type='xen'")), 67, /does not support virt type 'xen'/);
  assert.equal(driverState.list.findByName('badmachine'), undefined);
});

test('start failures: clear error, domain shut off, no QEMU left', { skip, timeout: 30_000 }, async () => {
  // A disk file that is not there.
  const disk = `\n    <disk type='file' device='disk'><source file='${join(base, 'missing.qcow2')}'/><target dev='vda' bus='virtio'/></disk>`;
  const d1 = await define(guestXml({ name: 'nodisk', devices: disk }));
  await rejects(m.DOMAIN_CREATE?.({ dom: d1 }, ctx), 38, /^Cannot access storage file '.*missing\.qcow2' \(as uid:\d+, gid:\d+\): No such file or directory$/);
  assert.deepEqual(await stateOf(d1), [5, 0]);

  // QEMU refusing its command line and exiting at once.
  const wrapper = join(base, 'qemu-bad');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${QEMU_BIN} "$@" -device no-such-device-model\n`);
  chmodSync(wrapper, 0o755);
  const d2 = await define(guestXml({ name: 'dies', emulator: wrapper }));
  const e = await rejects(m.DOMAIN_CREATE?.({ dom: d2 }, ctx), 1, /^internal error: (process exited while connecting to monitor|QEMU unexpectedly closed the monitor \(vm='dies'\)): /);
  assert.match(e.message, /no-such-device-model/);
  assert.deepEqual(await stateOf(d2), [5, 6], 'shut off (failed)');
  assert.equal(guestPidsIn(base).length, 0);
  assert.ok(!existsSync(join(base, 'run', 'dies.xml')));

  // A monitor that stops answering: commands time out, destroy still ends QEMU.
  const d3 = await define(guestXml({ name: 'hung' }));
  await call(m.DOMAIN_CREATE?.({ dom: d3 }, ctx));
  const [pid] = guestPidsIn(base);
  assert.ok(pid);
  process.kill(pid, 'SIGSTOP');
  await rejects(m.DOMAIN_SUSPEND?.({ dom: d3 }, ctx), 68, /^Timed out during operation: QEMU monitor of 'hung' did not answer 'stop'/);
  const t0 = Date.now();
  await call(m.DOMAIN_DESTROY?.({ dom: d3 }, ctx));
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(await stateOf(d3), [5, 2]);
  assert.equal(guestPidsIn(base).length, 0);
  for (const dom of [d1, d2, d3]) await call(m.DOMAIN_UNDEFINE?.({ dom }, ctx));
});
