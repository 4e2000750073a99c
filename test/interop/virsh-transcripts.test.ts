// libvirt's own virsh transcripts for the test driver (tests/virshtestdata/*.in): each file's
// commands go to one stock virsh session on stdin, once against the in-process test driver with
// the same config and once through tsvirtd; stdout, stderr and exit code must match.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { repoRoot } from '../harness/golden.js';
import { join } from 'node:path';

// Copies of libvirt's tests/virshtestdata (see test/fixtures/virshtest; LGPL-2.1-or-later).
const DIR = join(repoRoot(), 'test', 'fixtures', 'virshtest');
const TESTNODE = join(repoRoot(), 'test', 'fixtures', 'xml', 'sources', 'libvirt-testnode', 'testnode.xml');
const skip = libvirtdSkipReason();

/** Transcripts whose every command the test driver family behind it is implemented for. */
const TRANSCRIPTS = ['blkiotune', 'iothreads', 'vcpupin', 'checkpoint'];

function load(name: string): { path: string; input: string } {
  const text = readFileSync(`${DIR}/${name}.in`, 'utf8');
  const uri = /^# uri: (\S+)/m.exec(text)?.[1] ?? 'default';
  const input = text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  return { path: uri === 'testnode' ? TESTNODE : '/default', input };
}

describe('libvirt virsh transcripts through tsvirtd', { skip }, () => {
  let ours: Libvirtd;
  before(async () => {
    ours = await startTsvirtd();
  });
  after(async () => {
    await ours?.stop();
  });

  for (const name of TRANSCRIPTS) {
    test(name, async () => {
      const { path, input } = load(name);
      const want = await runVirsh(`test://${path}`, [], { input, timeoutMs: 20_000 });
      const got = await runVirsh(ours.uri('test', { path }), [], { input, timeoutMs: 20_000 });
      assert.ok(want.stdout.length > 0, 'the transcript printed something');
      // Checkpoint creation times come from each run's own clock.
      const clock = (t: string) => t.replace(/<creationTime>\d+<\/creationTime>/g, '<creationTime/>');
      assert.equal(clock(got.stdout), clock(want.stdout));
      assert.equal(got.stderr, want.stderr);
      assert.equal(got.code, want.code);
    });
  }
});
