// Stock virsh against tsvirtd and against a private real libvirtd, side by side: every command's
// stdout, stderr and exit code must be identical, normalised only for UUIDs made up at define time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { holdDefault } from '../harness/holder.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh, type RunResult } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { repoRoot } from '../harness/golden.js';

const skip = libvirtdSkipReason();
const files = mkdtempSync(join(tmpdir(), 'tsvirt-interop-'));
const file = (name: string, text: string) => {
  const p = join(files, name);
  writeFileSync(p, text);
  return p;
};

const SMALL = file('small.xml', `<domain type='test'><name>small</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n`);
const SMALL2 = file('small2.xml', `<domain type='test'><name>small2</name><uuid>d6b7a1c4-9c2e-4f0a-8e53-1d2f3a4b5c6d</uuid><memory unit='MiB'>128</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>\n`);
const BAD = file('bad.xml', `<domain type='test'><name>bad</name>\n`);
const NONAME = file('noname.xml', `<domain type='test'><memory>65536</memory><os><type>hvm</type></os></domain>\n`);
const NET = file('net.xml', `<network><name>n2</name><uuid>0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a</uuid><bridge name='virbr9'/><ip address='192.168.150.1' netmask='255.255.255.0'/></network>\n`);
const SAVE = join(files, 'test.save');

/** A step: virsh arguments, optionally read-only (-r). */
type Step = string[] | { args: string[]; ro?: boolean };

const SCENARIOS: Record<string, Step[]> = {
  basics: [
    ['version'], ['version', '--daemon'], ['uri'], ['hostname'], ['nodeinfo'], ['capabilities'],
    ['list'], ['list', '--all'], ['list', '--inactive'], ['list', '--name'], ['list', '--uuid'], ['list', '--all', '--table'],
    ['list', '--persistent'], ['list', '--transient'], ['list', '--autostart'], ['list', '--no-autostart'],
    ['list', '--with-snapshot'], ['list', '--without-snapshot'], ['list', '--state-running'], ['list', '--state-paused'],
    ['list', '--state-shutoff'], ['list', '--state-other'], ['list', '--managed-save'], ['list', '--title'], ['list', '--all', '--id'],
    ['dominfo', 'test'], ['domstate', 'test'], ['domstate', 'test', '--reason'], ['domid', 'test'], ['domname', '1'],
    ['domuuid', 'test'], ['domname', '6695eb01-f6a4-8304-79aa-97f2502e193f'],
    ['dumpxml', 'test'], ['dumpxml', 'test', '--inactive'], ['dumpxml', 'test', '--security-info'],
    ['vcpucount', 'test'], ['vcpuinfo', 'test'], ['dommemstat', 'test'], ['domblklist', 'test'], ['domiflist', 'test'],
    ['domifstat', 'test', 'vnet0'], ['schedinfo', 'test'], ['domblkstat', 'test', 'vda'],
  ],
  lifecycle: [
    ['suspend', 'test'], ['domstate', 'test', '--reason'], ['list', '--all'], ['resume', 'test'], ['domstate', 'test', '--reason'],
    ['shutdown', 'test'], ['domstate', 'test', '--reason'], ['start', 'test'], ['domid', 'test'], ['reboot', 'test'],
    ['domstate', 'test', '--reason'], ['destroy', 'test'], ['domstate', 'test', '--reason'], ['start', 'test'], ['domid', 'test'],
    ['autostart', 'test'], ['dominfo', 'test'], ['list', '--autostart'], ['autostart', '--disable', 'test'],
    ['setmem', 'test', '1048576'], ['dominfo', 'test'], ['setmaxmem', 'test', '4194304', '--config'], ['dominfo', 'test'],
    ['setvcpus', 'test', '1', '--live'], ['vcpucount', 'test'], ['setvcpus', 'test', '2', '--config'], ['vcpucount', 'test'],
    ['managedsave', 'test'], ['list', '--all', '--managed-save'], ['dominfo', 'test'], ['domstate', 'test', '--reason'],
    ['start', 'test'], ['domstate', 'test', '--reason'], ['save', 'test', SAVE], ['domstate', 'test', '--reason'],
    ['restore', SAVE], ['domstate', 'test', '--reason'], ['reset', 'test'], ['domstate', 'test', '--reason'],
  ],
  define: [
    ['define', SMALL], ['list', '--all'], ['dominfo', 'small'], ['start', 'small'], ['list'], ['create', SMALL2],
    ['list', '--all'], ['dumpxml', 'small2'], ['dominfo', 'small2'], ['destroy', 'small2'], ['list', '--all'],
    ['undefine', 'small'], ['list', '--all'], ['destroy', 'small'], ['list', '--all'], ['define', SMALL2], ['undefine', 'small2'],
  ],
  snapshots: [
    ['snapshot-create-as', 'test', 's1'], ['snapshot-list', 'test'], ['snapshot-current', 'test', '--name'],
    ['snapshot-create-as', 'test', 's2', 'second one'], ['snapshot-list', 'test', '--tree'], ['snapshot-list', 'test', '--parent'],
    ['snapshot-info', 'test', 's2'], ['snapshot-revert', 'test', 's1'], ['snapshot-current', 'test', '--name'],
    ['snapshot-delete', 'test', 's1'], ['snapshot-list', 'test'], ['list', '--with-snapshot'],
  ],
  networks: [
    ['net-list'], ['net-list', '--all'], ['net-info', 'default'], ['net-dumpxml', 'default'], ['net-uuid', 'default'],
    ['net-define', NET], ['net-list', '--all'], ['net-info', 'n2'], ['net-start', 'n2'], ['net-list'], ['net-destroy', 'n2'],
    ['net-undefine', 'n2'], ['net-list', '--all'], ['net-autostart', 'default'], ['net-list', '--autostart'], ['net-name', '0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a'],
  ],
  storage: [
    ['pool-list'], ['pool-list', '--all', '--details'], ['pool-info', 'default-pool'], ['pool-dumpxml', 'default-pool'],
    ['vol-list', 'default-pool'], ['vol-list', 'default-pool', '--details'], ['vol-create-as', 'default-pool', 't1.img', '1M'],
    ['vol-list', 'default-pool'], ['vol-info', 't1.img', '--pool', 'default-pool'], ['vol-dumpxml', 't1.img', '--pool', 'default-pool'],
    ['vol-path', 't1.img', '--pool', 'default-pool'], ['pool-info', 'default-pool'], ['vol-delete', 't1.img', '--pool', 'default-pool'],
    ['vol-list', 'default-pool'],
  ],
  interfaces: [['iface-list'], ['iface-list', '--all'], ['iface-dumpxml', 'eth1'], ['iface-mac', 'eth1'], ['iface-name', 'aa:bb:cc:dd:ee:ff']],
  errors: [
    ['dominfo', 'nosuch'], ['domstate', 'nosuch'], ['define', BAD], ['define', NONAME], ['start', 'test'], ['resume', 'test'],
    ['domname', '99'], ['net-info', 'nosuch'], ['pool-info', 'nosuch'], ['undefine', 'nosuch'],
    { args: ['suspend', 'test'], ro: true }, { args: ['net-destroy', 'default'], ro: true }, { args: ['define', SMALL], ro: true },
    { args: ['dumpxml', 'test', '--security-info'], ro: true }, { args: ['dominfo', 'test'], ro: true },
    ['console', 'test'],
  ],
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** UUIDs that a define made up differ run to run; number them in order of appearance instead. */
function normaliser(fixed: Set<string>) {
  const seen = new Map<string, string>();
  return (text: string) =>
    text.replace(UUID, (u) => {
      if (fixed.has(u)) return u;
      if (!seen.has(u)) seen.set(u, `<uuid-${seen.size + 1}>`);
      return seen.get(u)!;
    });
}

const FIXED_UUIDS = new Set([
  '6695eb01-f6a4-8304-79aa-97f2502e193f', // domain test
  'd6b7a1c4-9c2e-4f0a-8e53-1d2f3a4b5c6d',
  '0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a',
]);

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
