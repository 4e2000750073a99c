// tsvirsh against stock virsh: the same commands, byte for byte (stdout, stderr, exit code), in
// process on test:///default, through a private libvirtd and through tsvirtd, and in the
// interactive shell fed through a pipe. Normalised only for made-up UUIDs and clock-derived values.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runCommand, type RunOptions, type RunResult } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { COMMAND_DEFS, commandHelp } from '../../src/cli/defs.js';
import { parseCommands, tokenize } from '../../src/cli/parse.js';

const haveVirsh = ['/usr/bin/virsh', '/usr/local/bin/virsh'].some((p) => existsSync(p));
const files = mkdtempSync(join(tmpdir(), 'tsvirsh-'));
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

/** The scenarios of test/interop/virsh.test.ts (copied: importing it would run its suite), plus parser cases. */
const SCENARIOS: Record<string, string[][]> = {
  basics: [
    ['version'], ['version', '--daemon'], ['hostname'], ['nodeinfo'], ['capabilities'],
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
    ['managedsave', 'test'], ['managedsave-remove', 'test'], ['managedsave-remove', 'test'],
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
    ['snapshot-dumpxml', 'test', 's2'], ['snapshot-list', 'test', '--name'],
    ['snapshot-delete', 'test', 's1'], ['snapshot-list', 'test'], ['list', '--with-snapshot'], ['snapshot-info', 'test', '--current'],
    ['snapshot-revert', 'test'],
  ],
  networks: [
    ['net-list'], ['net-list', '--all'], ['net-info', 'default'], ['net-dumpxml', 'default'], ['net-uuid', 'default'],
    ['net-define', NET], ['net-list', '--all'], ['net-info', 'n2'], ['net-start', 'n2'], ['net-list'], ['net-destroy', 'n2'],
    ['net-undefine', 'n2'], ['net-list', '--all'], ['net-autostart', 'default'], ['net-list', '--autostart'], ['net-name', '0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a'],
    ['net-autostart', '--disable', 'default'], ['net-name', 'nosuch'],
    ['net-list', '--all', '--name'], ['net-list', '--uuid'], ['net-list', '--name', '--uuid'], ['net-list', '--table', '--name'],
  ],
  storage: [
    ['pool-list'], ['pool-list', '--all', '--details'], ['pool-info', 'default-pool'], ['pool-dumpxml', 'default-pool'],
    ['vol-list', 'default-pool'], ['vol-list', 'default-pool', '--details'], ['vol-create-as', 'default-pool', 't1.img', '1M'],
    ['vol-list', 'default-pool'], ['vol-info', 't1.img', '--pool', 'default-pool'], ['vol-dumpxml', 't1.img', '--pool', 'default-pool'],
    ['vol-path', 't1.img', '--pool', 'default-pool'], ['pool-info', 'default-pool'], ['vol-delete', 't1.img', '--pool', 'default-pool'],
    ['vol-list', 'default-pool'], ['vol-info', 'x', '--pool', 'default-pool'], ['pool-destroy', 'default-pool'], ['pool-list', '--all', '--details'],
    ['pool-start', 'default-pool'], ['pool-autostart', 'default-pool'],
    ['pool-list', '--all', '--name'], ['pool-list', '--uuid', '--name'], ['pool-list', '--uuid'], ['pool-list', '--name', '--details'],
  ],
  interfaces: [['iface-list'], ['iface-list', '--all'], ['iface-dumpxml', 'eth1'], ['iface-mac', 'eth1'], ['iface-name', 'aa:bb:cc:dd:ee:ff'], ['iface-name', '00:11:22:33:44:55']],
  errors: [
    ['dominfo', 'nosuch'], ['domstate', 'nosuch'], ['define', BAD], ['define', NONAME], ['start', 'test'], ['resume', 'test'],
    ['domname', '99'], ['net-info', 'nosuch'], ['pool-info', 'nosuch'], ['undefine', 'nosuch'], ['console', 'test'],
    ['qemu-monitor-command', 'test', '{}'], ['qemu-attach', '1'], ['event'], ['event', '--list'], ['event', '--all', '--timeout', '1'],
  ],
  parsing: [
    ['list', '--foo'], ['dominfo'], ['nosuchcmd'], ['dominfo', 'test', 'extra'], ['setmem', 'test', 'abc'], ['setmem', 'test'],
    ['list', '--all', '--all'], ['list', '--all=x'], ['dominfo', '--domain=test'], ['dominfo', '--', 'test'], ['help', 'nosuch'],
    ['help', 'dominfo'], ['help', 'domain'], ['dominfo', 'test', '--help'], ['vol-create-as'], ['echo', 'a b', 'c'],
  ],
};

const READONLY: string[][] = [['suspend', 'test'], ['net-destroy', 'default'], ['define', SMALL], ['dumpxml', 'test', '--security-info'], ['dominfo', 'test']];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const FIXED_UUIDS = new Set(['6695eb01-f6a4-8304-79aa-97f2502e193f', 'd6b7a1c4-9c2e-4f0a-8e53-1d2f3a4b5c6d', '0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a']);

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

/** How to start tsvirsh: compiled JS under dist/, or the TypeScript source through tsx. */
function tsvirshCommand(): { cmd: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { cmd: process.execPath, args: ['--import', 'tsx', join(dirname(here), '..', '..', 'src', 'cli', 'main.ts')] };
  return { cmd: process.execPath, args: [join(dirname(here), '..', '..', 'src', 'cli', 'main.js')] };
}

function run(which: 'virsh' | 'tsvirsh', args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const t = tsvirshCommand();
  const o = { timeoutMs: 30_000, ...opts, input: opts.input ?? '' };
  return which === 'virsh' ? runCommand('virsh', args, o) : runCommand(t.cmd, [...t.args, ...args], o);
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
    rmSync(files, { recursive: true, force: true });
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
