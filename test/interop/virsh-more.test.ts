// Stock virsh against tsvirtd and against a private real libvirtd, side by side, for the test
// driver's less common procedures (guest agent fakes, tuning, core dumps, save images...).
// Every step's stdout, stderr and exit code must match, normalised only for clock-derived values.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { holdDefault } from '../harness/holder.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';

const skip = libvirtdSkipReason();
const files = mkdtempSync(join(tmpdir(), 'tsvirt-interop-more-'));
const CORE = join(files, 'test.core');
const SAVE = join(files, 'test.save');
const SMALL = join(files, 'small.xml');
writeFileSync(SMALL, `<domain type='test'><name>small</name><uuid>2f6c1d1e-7a0b-4c3d-9e8f-0a1b2c3d4e5f</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n`);

const SCENARIOS: Record<string, string[][]> = {
  agent: [
    ['domcontrol', 'test'], ['domtime', 'test'], ['domtime', 'test', '--time', '12345'], ['domtime', 'test'], ['domcontrol', 'test'],
    ['domtime', 'test', '--time', '40002'], ['domcontrol', 'test'], ['domtime', 'test', '--sync'], ['domtime', 'test'],
    ['domfsinfo', 'test'], ['domfsfreeze', 'test', '--mountpoint', '/boot'], ['domfsfreeze', 'test'], ['domfsthaw', 'test', '--mountpoint', '/'],
    ['domfsthaw', 'test'], ['domfsfreeze', 'test', '--mountpoint', '/nosuch'], ['domfstrim', 'test'], ['domfstrim', 'test', '--mountpoint', '/x'],
    ['domblkerror', 'test'], ['domifaddr', 'test'], ['domifaddr', 'test', '--source', 'lease'], ['domifaddr', 'test', '--full'],
    ['cpu-stats', 'test'], ['cpu-stats', 'test', '--total'], ['cpu-stats', 'test', '--start', '1', '--count', '1'], ['cpu-stats', 'test', '--start', '9'],
    ['send-key', 'test', 'KEY_A'], ['send-key', 'test', '--codeset', 'xt', '30'], ['send-key', 'test', '99999'], ['inject-nmi', 'test'],
    ['send-process-signal', 'test', '1', 'SIGTERM'], ['send-process-signal', 'test', '2', '15'],
    ['set-user-password', 'test', 'root', 'secret'], ['domlaunchsecinfo', 'test'], ['domhostname', 'test'],
  ],
  tuning: [
    ['dommemstat', 'test', '--period', '5'], ['dumpxml', 'test'], ['dommemstat', 'test', '--period', '0', '--live'],
    ['perf', 'test'], ['perf', 'test', '--enable', 'cmt,cpu_cycles'], ['perf', 'test'], ['perf', 'test', '--disable', 'cmt', '--config'],
    ['perf', 'test', '--config'], ['dumpxml', 'test', '--inactive'],
    ['set-lifecycle-action', 'test', 'poweroff', 'restart'], ['set-lifecycle-action', 'test', 'reboot', 'coredump-destroy'],
    ['set-lifecycle-action', 'test', 'crash', 'coredump-restart', '--config'], ['dumpxml', 'test'], ['dumpxml', 'test', '--inactive'],
  ],
  metadata: [
    ['desc', 'test'], ['desc', 'test', '--title'], ['desc', 'test', 'hello & <world>'], ['desc', 'test'], ['desc', 'test', '--config'],
    ['desc', 'test', '--title', 'My title'], ['desc', 'test', '--title'], ['list', '--title'], ['desc', 'test', '--title', 'a\nb'],
    ['metadata', 'test', 'http://example.org/x'], ['metadata', 'test', 'http://example.org/x', '--key', 'ex', '--set', '<foo a="1"><bar>t</bar></foo>'],
    ['metadata', 'test', 'http://example.org/x'], ['dumpxml', 'test'], ['metadata', 'test', 'http://example.org/x', '--remove'],
    ['metadata', 'test', 'http://example.org/x', '--key', 'ex', '--set', '<foo'], ['dumpxml', 'test'], ['desc', 'test', ''], ['desc', 'test'],
    ['domrename', 'test', 'other'], ['destroy', 'test'], ['domrename', 'test', 'test'], ['domrename', 'test', 'a/b'],
    ['domrename', 'test', 'renamed'], ['list', '--all'], ['dominfo', 'renamed'], ['domrename', 'renamed', 'test'], ['start', 'test'],
  ],
  dumps: [
    ['dump', 'test', CORE], ['domstate', 'test', '--reason'], ['dump', 'test', CORE, '--format', 'kdump-zlib'],
    ['dump', 'test', CORE, '--crash'], ['domstate', 'test', '--reason'], ['dump', 'test', CORE], ['domcontrol', 'test'], ['domtime', 'test'],
    ['start', 'test'], ['save', 'test', SAVE], ['save-image-dumpxml', SAVE], ['save-image-dumpxml', '/nonexistent'],
    ['define', SMALL], ['save-image-define', SAVE, SMALL], ['save-image-dumpxml', SAVE], ['undefine', 'small'],
  ],
  pinning: [
    ['vcpupin', 'test'], ['vcpupin', 'test', '0', '1'], ['vcpupin', 'test'], ['vcpupin', 'test', '--config'], ['vcpupin', 'test', '1', '0-1', '--config'],
    ['vcpupin', 'test', '5', '1'], ['vcpuinfo', 'test'], ['emulatorpin', 'test'], ['emulatorpin', 'test', '0'], ['emulatorpin', 'test'],
    ['emulatorpin', 'test', '2-3', '--config'], ['emulatorpin', 'test', '--config'], ['iothreadinfo', 'test'], ['iothreadadd', 'test', '3'],
    ['iothreadadd', 'test', '3'], ['iothreadadd', 'test', '5', '--config'], ['iothreadinfo', 'test'], ['iothreadinfo', 'test', '--config'],
    ['iothreadpin', 'test', '3', '1,3-4'], ['iothreadpin', 'test', '9', '1'], ['iothreadinfo', 'test'], ['iothreadset', 'test', '3', '--poll-max-ns', '100'],
    ['iothreadset', 'test', '5', '--poll-max-ns', '1'], ['iothreadset', 'test', '3', '--thread-pool-max', '1'], ['dumpxml', 'test'],
    ['dumpxml', 'test', '--inactive'], ['iothreaddel', 'test', '3'], ['iothreaddel', 'test', '7'], ['iothreadinfo', 'test'], ['destroy', 'test'],
    ['iothreadinfo', 'test'], ['iothreadpin', 'test', '5', '1'], ['vcpupin', 'test', '0', '1'], ['setvcpus', 'test', '1', '--config'],
    ['iothreadadd', 'test', '2'], ['iothreadinfo', 'test'], ['dumpxml', 'test'], ['start', 'test'], ['vcpupin', 'test'], ['vcpupin', 'test', '1', '0'],
    ['iothreaddel', 'test', '5', '--config'], ['dumpxml', 'test', '--inactive'], ['setvcpus', 'test', '2', '--config'], ['iothreaddel', 'test', '2', '--config'],
    ['destroy', 'test'], ['start', 'test'],
  ],
  params: [
    ['blkiotune', 'test'], ['blkiotune', 'test', '--weight', '500'], ['blkiotune', 'test', '--device-weights', '/dev/sda,300,/dev/sdb,20', '--device-read-iops-sec', '/dev/sda,10'],
    ['blkiotune', 'test'], ['blkiotune', 'test', '--device-weights', '/dev/sda,0'], ['blkiotune', 'test'], ['blkiotune', 'test', '--device-weights', '/dev/sda'],
    ['blkiotune', 'test', '--device-weights', '/dev/sda,x'], ['blkiotune', 'test', '--config'], ['blkiotune', 'test', '--weight', '50', '--config'],
    ['memtune', 'test'], ['memtune', 'test', '--hard-limit', '1000', '--soft-limit', '500'], ['memtune', 'test', '--swap-hard-limit', '100'],
    ['memtune', 'test', '--swap-hard-limit', '2000'], ['memtune', 'test'], ['memtune', 'test', '--config', '--hard-limit', '2000'], ['memtune', 'test', '--config'],
    ['numatune', 'test'], ['numatune', 'test', '--mode', 'interleave'], ['numatune', 'test', '--nodeset', '0-1'], ['numatune', 'test', '--mode', 'preferred'],
    ['numatune', 'test', '--nodeset', 'abc'], ['numatune', 'test', '--nodeset', '^0'], ['numatune', 'test', '--config', '--mode', 'preferred', '--nodeset', '0,1,3'],
    ['numatune', 'test'], ['numatune', 'test', '--config'],
    ['domiftune', 'test', 'testnet0'], ['domiftune', 'test', 'testnet0', '--inbound', '100,200,300,400', '--outbound', '50,60,70'], ['domiftune', 'test', 'testnet0'],
    ['domiftune', 'test', 'aa:bb:cc:dd:ee:ff', '--config'], ['domiftune', 'test', 'nosuch'], ['dumpxml', 'test'], ['domiftune', 'test', 'testnet0', '--inbound', '0'],
    ['dumpxml', 'test'], ['domiftune', 'test', 'testnet0', '--outbound', '0'], ['dumpxml', 'test'],
    ['blkdeviotune', 'test', 'vda'], ['blkdeviotune', 'test', 'vda', '--total-bytes-sec', '1000', '--read-iops-sec', '5', '--group-name', 'g1'],
    ['blkdeviotune', 'test', 'vda', '--total-bytes-sec', '1000', '--total-bytes-sec-max', '2000', '--group-name', 'g1'], ['blkdeviotune', 'test', 'vda'],
    ['blkdeviotune', 'test', 'vdb'], ['blkdeviotune', 'test', 'vda', '--read-bytes-sec', '5'], ['blkdeviotune', 'test', '/guest/diskimage1', '--total-iops-sec-max', '1'],
    ['blkdeviotune', 'test', 'vda', '--total-bytes-sec', '2000000000000000'], ['blkdeviotune', 'test', 'vda', '--read-bytes-sec-max', '10', '--config'],
    ['dumpxml', 'test'], ['dumpxml', 'test', '--inactive'], ['destroy', 'test'], ['start', 'test'],
  ],
  stats: [
    ['domstats'], ['domstats', '--raw', 'test', '--list-inactive'], ['iothreadadd', 'test', '2'], ['domstats', 'test', '--iothread'],
    ['iothreadset', 'test', '2', '--poll-max-ns', '100', '--poll-grow', '3'], ['domstats'], ['domstats', '--cpu-total', 'test'],
    ['domstats', '--enforce', '--cpu-total', 'test'], ['destroy', 'test'], ['domstats', '--iothread', '--state'], ['domstats', '--list-active'],
    ['domstats', '--list-shutoff', '--state', 'test'], ['start', 'test'], ['domstats', '--list-running', '--list-persistent', '--state'],
  ],
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const FIXED = new Set(['6695eb01-f6a4-8304-79aa-97f2502e193f', '2f6c1d1e-7a0b-4c3d-9e8f-0a1b2c3d4e5f']);

function normaliser(d: Libvirtd) {
  const seen = new Map<string, string>();
  return (text: string) =>
    text
      .replace(UUID, (u) => (FIXED.has(u) ? u : (seen.get(u) ?? (seen.set(u, `<uuid-${seen.size + 1}>`), seen.get(u)!))))
      .split(d.dir)
      .join('<daemon-dir>')
      .replace(/^(CPU time:\s+)[0-9.]+s$/gm, '$1<cpu-time>');
}

async function runScenario(d: Libvirtd, steps: string[][]): Promise<string[]> {
  const holder = await holdDefault(d.unixSocket);
  const norm = normaliser(d);
  const out: string[] = [];
  try {
    for (const args of steps) {
      const r = await runVirsh(d.uri('test'), args, { timeoutMs: 15_000 });
      out.push(`$ virsh ${args.join(' ')}\n[rc=${r.code}]\n${norm(r.stdout)}${r.stderr ? `[stderr]\n${norm(r.stderr)}` : ''}`);
    }
  } finally {
    await holder.release();
  }
  return out;
}

describe('more virsh commands against tsvirtd and libvirtd', { skip }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
    rmSync(files, { recursive: true, force: true });
  });

  test('screenshot streams the same PNG', async () => {
    const shots: Buffer[] = [];
    for (const d of [real, ours]) {
      const file = join(files, `shot-${shots.length}.png`);
      for (const args of [['screenshot', 'test', file], ['screenshot', 'test', file, '--screen', '1']]) {
        const r = await runVirsh(d.uri('test'), args, { timeoutMs: 15_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `Screenshot saved to ${file}, with type of image/png\n`);
      }
      shots.push(readFileSync(file));
    }
    assert.ok((shots[0]?.length ?? 0) > 1000);
    assert.deepEqual(shots[1], shots[0]);
  });

  for (const [name, steps] of Object.entries(SCENARIOS)) {
    test(name, async () => {
      const want = await runScenario(real, steps);
      const got = await runScenario(ours, steps);
      const diffs = want.flatMap((w, i) => (got[i] === w ? [] : [`--- libvirtd\n${w}\n+++ tsvirtd\n${got[i]}`]));
      assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} steps differ:\n${diffs.join('\n')}`);
    });
  }
});
