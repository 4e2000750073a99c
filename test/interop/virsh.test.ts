// Stock virsh against tsvirtd and against a private real libvirtd, side by side: every command's
// stdout, stderr and exit code must be identical, normalised only for UUIDs made up at define time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { holdDefault } from '../harness/holder.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh, type RunResult } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { repoRoot } from '../harness/golden.js';
import { FIXED_UUIDS, normaliser, removeScenarioFiles, SCENARIOS, SMALL, type Step } from '../harness/virsh-scenarios.js';

const skip = libvirtdSkipReason();
/**
 * Also run-dependent: the daemon's socket path (in `uri`), and what the test driver derives from
 * the clock: CPU time, block statistics, snapshot creation times.
 */
function runNormaliser(d: Libvirtd) {
  const uuids = normaliser(FIXED_UUIDS);
  return (text: string) =>
    uuids(text)
      .split(d.dir)
      .join('<daemon-dir>')
      .split(`127.0.0.1:${d.tcpPort}`)
      .join('127.0.0.1:<port>')
      .replace(/^(CPU time:\s+)[0-9.]+s$/gm, '$1<cpu-time>')
      .replace(/^(\s*\d+\s+\d+\s+)[0-9.]+s$/gm, '$1<cpu-time>')
      .replace(/^(CPU time:\s+)[0-9.]+s/gm, '$1<cpu-time>')
      .replace(/^(\S+ (?:rd_req|rd_bytes|wr_req|wr_bytes|errs)) \d+$/gm, '$1 <n>')
      .replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}/g, '<time>');
}

async function runScenario(d: Libvirtd, steps: Step[], transport: 'unix' | 'tcp' = 'unix'): Promise<string[]> {
  const holder = await holdDefault(d.unixSocket);
  const norm = runNormaliser(d);
  const uri = d.uri('test', { transport });
  const out: string[] = [];
  try {
    for (const step of steps) {
      const { args, ro } = Array.isArray(step) ? { args: step, ro: false } : step;
      const r: RunResult = await runVirsh(uri, ro ? ['-r', ...args] : args, { timeoutMs: 15_000 });
      out.push(`$ virsh ${ro ? '-r ' : ''}${args.join(' ')}\n[rc=${r.code}]\n${norm(r.stdout)}${norm(r.stderr) ? `[stderr]\n${norm(r.stderr)}` : ''}`);
    }
  } finally {
    await holder.release();
  }
  return out;
}

describe('virsh against tsvirtd and libvirtd', { skip }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd({ tcp: true }), startTsvirtd({ tcp: true })]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
    removeScenarioFiles();
  });

  for (const [name, steps] of Object.entries(SCENARIOS)) {
    test(name, async () => {
      const want = await runScenario(real, steps);
      const got = await runScenario(ours, steps);
      const diffs = want.flatMap((w, i) => (got[i] === w ? [] : [`--- libvirtd\n${w}\n+++ tsvirtd\n${got[i]}`]));
      assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} steps differ:\n${diffs.join('\n')}`);
    });
  }

  test('over TCP: lifecycle and errors', async () => {
    const steps = [...SCENARIOS.lifecycle!.slice(0, 12), ...SCENARIOS.errors!];
    const want = await runScenario(real, steps, 'tcp');
    const got = await runScenario(ours, steps, 'tcp');
    const diffs = want.flatMap((w, i) => (got[i] === w ? [] : [`--- libvirtd\n${w}\n+++ tsvirtd\n${got[i]}`]));
    assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} steps differ:\n${diffs.join('\n')}`);
  });

  test('custom test-driver files load the same objects', async () => {
    const cfg = join(repoRoot(), 'test', 'fixtures', 'xml', 'sources', 'libvirt-testnode', 'testnode.xml');
    for (const cmd of [['list', '--all'], ['net-list', '--all'], ['pool-list', '--all'], ['iface-list', '--all'], ['dominfo', 'fc4'], ['nodeinfo']]) {
      const [a, b] = await Promise.all([real, ours].map((d) => runVirsh(d.uri('test', { path: cfg }), cmd)));
      const [na, nb] = [runNormaliser(real), runNormaliser(ours)];
      assert.deepEqual([b!.code, nb(b!.stdout), nb(b!.stderr)], [a!.code, na(a!.stdout), na(a!.stderr)], cmd.join(' '));
    }
  });

  test('event --loop sees what another client does', async () => {
    const results: string[] = [];
    for (const d of [real, ours]) {
      const holder = await holdDefault(d.unixSocket);
      try {
        const ev = spawn('virsh', ['-c', d.uri('test'), 'event', '--all', '--loop', '--timeout', '3']);
        let text = '';
        ev.stdout.on('data', (b: Buffer) => (text += b.toString()));
        const done = new Promise<void>((r) => ev.on('close', () => r()));
        await new Promise((r) => setTimeout(r, 800));
        for (const cmd of [['suspend', 'test'], ['resume', 'test'], ['destroy', 'test'], ['start', 'test'], ['define', SMALL], ['undefine', 'small'], ['net-destroy', 'default'], ['net-start', 'default']]) {
          await runVirsh(d.uri('test'), cmd);
        }
        await done;
        results.push(text);
      } finally {
        await holder.release();
      }
    }
    assert.ok(results[0]!.includes("event 'lifecycle' for domain 'test': Suspended Paused"), results[0]);
    assert.equal(results[1], results[0]);
  });
});
