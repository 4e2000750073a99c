// Stock virsh against tsvirtd and against a private real libvirtd, side by side, for the test
// driver's less common procedures (guest agent fakes, tuning, core dumps, save images...).
// Every step's stdout, stderr and exit code must match, normalised only for clock-derived values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  for (const [name, steps] of Object.entries(SCENARIOS)) {
    test(name, async () => {
      const want = await runScenario(real, steps);
      const got = await runScenario(ours, steps);
      const diffs = want.flatMap((w, i) => (got[i] === w ? [] : [`--- libvirtd\n${w}\n+++ tsvirtd\n${got[i]}`]));
      assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} steps differ:\n${diffs.join('\n')}`);
    });
  }
});
