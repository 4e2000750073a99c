// tsvirsh against stock virsh: the same commands, byte for byte (stdout, stderr, exit code), in
// process on test:///default, through a private libvirtd and through tsvirtd, and in the
// interactive shell fed through a pipe. Normalised only for made-up UUIDs and clock-derived values.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runCommand, type RunOptions, type RunResult } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { haveVirsh, runTool as run } from '../harness/tsvirsh.js';
import { FIXED_UUIDS, READONLY, removeScenarioFiles, SCENARIOS as SHARED, UUID } from '../harness/virsh-scenarios.js';
import { COMMAND_DEFS, commandHelp } from '../../src/cli/defs.js';
import { parseCommands, tokenize } from '../../src/cli/parse.js';

/** Steps tsvirsh runs beyond the shared scenarios (appended to them), plus parser cases. */
const EXTRA: Record<string, string[][]> = {
  lifecycle: [['managedsave', 'test'], ['managedsave-remove', 'test'], ['managedsave-remove', 'test']],
  snapshots: [['snapshot-dumpxml', 'test', 's2'], ['snapshot-list', 'test', '--name'], ['snapshot-info', 'test', '--current'], ['snapshot-revert', 'test']],
  networks: [
    ['net-autostart', '--disable', 'default'], ['net-name', 'nosuch'],
    ['net-list', '--all', '--name'], ['net-list', '--uuid'], ['net-list', '--name', '--uuid'], ['net-list', '--table', '--name'],
  ],
  storage: [
    ['vol-info', 'x', '--pool', 'default-pool'], ['pool-destroy', 'default-pool'], ['pool-list', '--all', '--details'],
    ['pool-start', 'default-pool'], ['pool-autostart', 'default-pool'],
    ['pool-list', '--all', '--name'], ['pool-list', '--uuid', '--name'], ['pool-list', '--uuid'], ['pool-list', '--name', '--details'],
  ],
  interfaces: [['iface-name', '00:11:22:33:44:55']],
  errors: [['qemu-monitor-command', 'test', '{}'], ['qemu-attach', '1'], ['event'], ['event', '--list'], ['event', '--all', '--timeout', '1']],
  parsing: [
    ['list', '--foo'], ['dominfo'], ['nosuchcmd'], ['dominfo', 'test', 'extra'], ['setmem', 'test', 'abc'], ['setmem', 'test'],
    ['list', '--all', '--all'], ['list', '--all=x'], ['dominfo', '--domain=test'], ['dominfo', '--', 'test'], ['help', 'nosuch'],
    ['help', 'dominfo'], ['help', 'domain'], ['dominfo', 'test', '--help'], ['vol-create-as'], ['echo', 'a b', 'c'],
  ],
};

/** Read-only steps run separately (with -r); everything else as plain argv. */
const SCENARIOS: Record<string, string[][]> = Object.fromEntries(
  [...new Set([...Object.keys(SHARED), ...Object.keys(EXTRA)])].map((k) => [
    k,
    [...(SHARED[k] ?? []).flatMap((s) => (Array.isArray(s) ? [s] : [])), ...(EXTRA[k] ?? [])],
  ]),
);

/** Made-up UUIDs numbered in order of appearance; CPU times, block counters and clock times masked. */
function normalise(text: string): string {
  const seen = new Map<string, string>();
  return text
    .replace(UUID, (u) => {
      if (FIXED_UUIDS.has(u)) return u;
      if (!seen.has(u)) seen.set(u, `<uuid-${seen.size + 1}>`);
      return seen.get(u)!;
    })
    .replace(/^(CPU time:\s+)[0-9.]+s$/gm, '$1<cpu-time>')
    .replace(/^(\S+ (?:rd_req|rd_bytes|wr_req|wr_bytes|errs)) \d+$/gm, '$1 <n>')
    .replace(/^(last_update) \d+$/gm, '$1 <n>')
    .replace(/<creationTime>\d+<\/creationTime>/g, '<creationTime/>')
    .replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}/g, '<time>');
}

/** Quotes a word for virsh's command-string grammar. */
const quote = (w: string) => (/^[A-Za-z0-9_./:=,@+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

function shown(r: RunResult): string {
  return `[rc=${r.code}]\n${normalise(r.stdout)}[stderr]\n${normalise(r.stderr)}`;
}

async function compare(args: string[], opts?: RunOptions): Promise<void> {
  const [want, got] = await Promise.all([run('virsh', args, opts), run('tsvirsh', args, opts)]);
  assert.equal(shown(got), shown(want), args.join(' '));
}

let passed = 0;

describe('tsvirsh parser and tables', () => {
  test('tokenizer follows virsh quoting', () => {
    assert.deepEqual(tokenize(`echo "a b" c\\ d 'e "f' ; uri # note\nx`), ['echo', 'a b', 'c d', 'e "f', { end: true }, 'uri', { end: true }, 'x']);
    assert.throws(() => tokenize('dominfo "test'), /missing "/);
  });
  test('options by name, by position, with =, after --', () => {
    const [a] = parseCommands(['vol-info', 't1', '--pool=p']);
    assert.deepEqual([...a!.values], [['vol', 't1'], ['pool', 'p']]);
    const [b] = parseCommands(['snapshot-create-as', 'test', 's2', 'desc']);
    assert.deepEqual([...b!.values], [['domain', 'test'], ['name', 's2'], ['description', 'desc']]);
    const [c] = parseCommands(['dominfo', '--', '--weird']);
    assert.equal(c!.values.get('domain'), '--weird');
    assert.throws(() => parseCommands(['dominfo', 'a', 'b']), /unexpected data 'b'/);
    assert.throws(() => parseCommands(['vol-create-as']), /requires <pool> option\ncommand 'vol-create-as' requires <name> option/);
  });
  test('help text of every command is rebuilt byte for byte', { skip: !haveVirsh && 'virsh not installed' }, async () => {
    const names = [...COMMAND_DEFS.keys()];
    const r = await runCommand('virsh', ['-q', names.map((n) => `help ${n}`).join(';')], { input: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(names.map((n) => commandHelp(COMMAND_DEFS.get(n)!)).join(''), r.stdout);
    passed += names.length;
  });
});

describe('tsvirsh vs virsh on test:///default in process', { skip: !haveVirsh && 'virsh not installed' }, () => {
  after(() => console.log(`# tsvirsh: ${passed} command outputs identical to virsh`));
  for (const [name, steps] of Object.entries(SCENARIOS)) {
    test(`${name}: one command string`, async () => {
      // virsh 9.0 in process can deadlock in managedsave and save on test:///default (seen in CI
      // runs: virsh itself never returns); the daemon scenarios cover those commands.
      const ok = steps.filter((s) => !s[0]!.startsWith('managedsave') && s[0] !== 'save' && s[0] !== 'restore');
      await compare(['-c', 'test:///default', ok.map((s) => s.map(quote).join(' ')).join(' ; ')]);
      passed += ok.length;
    });
  }
  test('argv words, -q and -r', async () => {
    for (const s of [...SCENARIOS.parsing!, ...SCENARIOS.errors!.slice(0, 4)]) await compare(['-c', 'test:///default', ...s]);
    for (const s of READONLY) await compare(['-c', 'test:///default', '-r', ...s]);
    await compare(['-q', '-c', 'test:///default', 'snapshot-create-as test s1; snapshot-current test --name; list']);
    passed += SCENARIOS.parsing!.length + 4 + READONLY.length + 1;
  });
  test('interactive shell through a pipe', async () => {
    const input = ['uri', 'list --all', 'dominfo nosuch', 'suspend test; domstate test --reason', 'bogus', 'echo "x y"', 'quit', 'uri'].join('\n') + '\n';
    await compare(['-c', 'test:///default'], { input });
    await compare(['-c', 'test:///default'], { input: 'hostname\n' });
    passed += 2;
  });
  test('a connection that fails', async () => {
    await compare(['-c', 'test+unix:///default?socket=/nonexistent/sock', 'uri']);
    passed += 1;
  });
});

const skipDaemons = libvirtdSkipReason() ?? (!haveVirsh ? 'virsh not installed' : undefined);

describe('tsvirsh vs virsh through libvirtd and tsvirtd', { skip: skipDaemons }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
    removeScenarioFiles();
  });
  for (const [label, daemon] of [['libvirtd', () => real], ['tsvirtd', () => ours]] as const) {
    for (const name of ['basics', 'lifecycle', 'snapshots', 'networks', 'storage', 'errors'] as const) {
      test(`${label}: ${name}`, async () => {
        const d = daemon();
        const uri = d.uri('test');
        const steps = SCENARIOS[name]!.filter((s) => s[0] !== 'event');
        // One connection per run: virsh's and tsvirsh's runs each see a fresh test:///default.
        const line = steps.map((s) => s.map(quote).join(' ')).join(' ; ');
        const [want, got] = [await run('virsh', ['-c', uri, line]), await run('tsvirsh', ['-c', uri, line])];
        const norm = (r: RunResult) => shown(r).split(d.dir).join('<dir>');
        assert.equal(norm(got), norm(want));
        passed += steps.length;
      });
    }
    test(`${label}: read-only`, async () => {
      const d = daemon();
      for (const s of READONLY) {
        const uri = d.uri('test', { readonly: true });
        const [want, got] = [await run('virsh', ['-c', uri, '-r', ...s]), await run('tsvirsh', ['-c', uri, '-r', ...s])];
        assert.equal(shown(got), shown(want), s.join(' '));
      }
      passed += READONLY.length;
    });
  }
});
