// QEMU capability probing and its on-disk cache (src/drivers/qemu/caps.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheFileFor, loadQemuCaps, machineAliases, probeQemuCaps, QemuProbeError } from '../../../src/drivers/qemu/caps.js';

const REAL_QEMU = '/usr/bin/qemu-system-x86_64';

/** A stand-in emulator: answers QMP on stdio with canned replies and counts its runs. */
function fakeQemu(dir: string, opts: { failQuery?: string; exitAtOnce?: boolean } = {}): { bin: string; runs: () => number } {
  const bin = join(dir, 'fake-qemu');
  const counter = join(dir, 'runs');
  const replies = {
    'query-version': { qemu: { major: 7, minor: 2, micro: 22 }, package: 'fake' },
    'query-machines': [
      { name: 'pc-i440fx-7.2', alias: 'pc', 'is-default': true, 'cpu-max': 255, deprecated: false },
      { name: 'pc-q35-7.2', alias: 'q35', 'cpu-max': 288, deprecated: false },
    ],
    'query-cpu-definitions': [{ name: 'qemu64', 'unavailable-features': [] }, { name: 'Haswell', 'unavailable-features': ['avx2'] }],
    'query-commands': [{ name: 'query-status' }, { name: 'cont' }],
    'query-kvm': { enabled: false, present: true },
  };
  writeFileSync(bin, `#!${process.execPath}
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(counter)}, 'x');
if (${JSON.stringify(opts.exitAtOnce === true)}) { process.stderr.write('bad option'); process.exit(1); }
const replies = ${JSON.stringify(replies)};
const fail = ${JSON.stringify(opts.failQuery ?? '')};
process.stdout.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\\n');
let buf = '';
process.stdin.on('data', (b) => {
  buf += b;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, nl)); buf = buf.slice(nl + 1);
    if (m.execute === 'quit') process.exit(0);
    if (m.execute === fail) process.stdout.write(JSON.stringify({ error: { class: 'GenericError', desc: 'nope' }, id: m.id }) + '\\n');
    else process.stdout.write(JSON.stringify({ return: replies[m.execute] ?? {}, id: m.id }) + '\\n');
  }
});
`, { mode: 0o755 });
  return { bin, runs: () => (existsSync(counter) ? readFileSync(counter, 'utf8').length : 0) };
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tsvirt-caps-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('probe reads version, machines, CPU models, commands and KVM presence', async (t) => {
  const dir = tempDir(t);
  const { bin } = fakeQemu(dir);
  const caps = await probeQemuCaps(bin);
  assert.equal(caps.version, 7_002_022);
  assert.equal(caps.package, 'fake');
  assert.deepEqual(machineAliases(caps), new Map([['pc', 'pc-i440fx-7.2'], ['q35', 'pc-q35-7.2']]));
  assert.deepEqual(caps.cpuModels.map((c) => [c.name, c.unavailableFeatures]), [['Haswell', ['avx2']], ['qemu64', []]]);
  assert.deepEqual(caps.commands, ['cont', 'query-status']);
  assert.equal(caps.kvmPresent, true);
});

test('cache: probed once, reused while path+mtime+size match, re-probed when the binary changes', async (t) => {
  const dir = tempDir(t);
  const cacheDir = join(dir, 'cache');
  const { bin, runs } = fakeQemu(dir);
  const first = await loadQemuCaps(bin, { cacheDir });
  assert.equal(runs(), 1);
  assert.deepEqual(await loadQemuCaps(bin, { cacheDir }), first);
  assert.equal(runs(), 1, 'second load must come from the cache');
  assert.deepEqual(readdirSync(cacheDir), [cacheFileFor(cacheDir, bin).slice(cacheDir.length + 1)], 'no temp files left behind');
  // A new mtime (an upgraded binary) invalidates the entry.
  const later = new Date(Date.now() + 5_000);
  utimesSync(bin, later, later);
  await loadQemuCaps(bin, { cacheDir });
  assert.equal(runs(), 2);
  // A damaged cache file is ignored and rewritten.
  writeFileSync(cacheFileFor(cacheDir, bin), '{"format":1,"caps":');
  await loadQemuCaps(bin, { cacheDir });
  assert.equal(runs(), 3);
  await loadQemuCaps(bin, { cacheDir });
  assert.equal(runs(), 3);
});

test('probe failures are reported, not cached', async (t) => {
  const dir = tempDir(t);
  const cacheDir = join(dir, 'cache');
  const broken = fakeQemu(dir, { failQuery: 'query-machines' });
  await assert.rejects(loadQemuCaps(broken.bin, { cacheDir }), (e: unknown) => e instanceof QemuProbeError && /query-machines failed: nope/.test(e.message));
  assert.equal(existsSync(cacheFileFor(cacheDir, broken.bin)), false);
  const dir2 = tempDir(t);
  const dead = fakeQemu(dir2, { exitAtOnce: true });
  await assert.rejects(probeQemuCaps(dead.bin), (e: unknown) => e instanceof QemuProbeError && /exited \(1\).*bad option/.test(e.message));
});

test('real QEMU 7.2 probe', { skip: existsSync(REAL_QEMU) ? undefined : `${REAL_QEMU} not installed` }, async () => {
  const caps = await probeQemuCaps(REAL_QEMU);
  assert.ok(caps.version >= 7_000_000, `version ${caps.version}`);
  assert.match(machineAliases(caps).get('pc') ?? '', /^pc-i440fx-\d+\.\d+$/);
  assert.ok(caps.cpuModels.some((c) => c.name === 'qemu64'));
  for (const cmd of ['qmp_capabilities', 'query-status', 'cont', 'blockdev-add']) assert.ok(caps.commands.includes(cmd), cmd);
});
