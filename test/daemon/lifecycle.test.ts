// tsvirtd as a process: sockets with libvirtd's permissions, clean shutdown on signals (sockets
// and pid file removed), --timeout, and one-line errors for bad start-up input.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { probeLibvirtSocket } from '../harness/probe.js';

const here = fileURLToPath(import.meta.url);
const main = join(dirname(here), '..', '..', 'src', 'daemon', here.endsWith('.ts') ? 'main.ts' : 'main.js');
const nodeArgs = here.endsWith('.ts') ? ['--import', 'tsx'] : [];

function setup(extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-life-'));
  const conf = join(dir, 'd.conf');
  writeFileSync(conf, `unix_sock_dir = "${join(dir, 'sock')}"\n${extra}`);
  return { dir, conf, pid: join(dir, 'd.pid'), sock: join(dir, 'sock', 'libvirt-sock'), ro: join(dir, 'sock', 'libvirt-sock-ro') };
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`${sig}: sockets and pid file removed, exit 0`, async () => {
    const s = setup();
    try {
      const child = spawn(process.execPath, [...nodeArgs, main, '-f', s.conf, '-p', s.pid], { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await waitFor(() => probeLibvirtSocket({ path: s.sock }));
      assert.equal(readFileSync(s.pid, 'utf8').trim(), String(child.pid));
      assert.equal(statSync(s.sock).mode & 0o777, 0o700, 'rw socket: owner only');
      assert.equal(statSync(s.ro).mode & 0o777, 0o777, 'ro socket: everyone');
      child.kill(sig);
      assert.equal(await exited, 0);
      assert.ok(!existsSync(s.sock) && !existsSync(s.ro) && !existsSync(s.pid));
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

test('--timeout: exits by itself once idle', async () => {
  const s = setup();
  try {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [...nodeArgs, main, '-f', s.conf, '-p', s.pid, '-t', '1'], { timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(Date.now() - t0 < 15_000);
    assert.ok(!existsSync(s.sock));
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('bad start-up input: one line on stderr, exit 1, nothing left behind', () => {
  const cases: Array<[string[], string, RegExp]> = [
    [[], 'tcp_port = "x"\n', /^tsvirtd: error: Can't load config file: .*d\.conf:2: tcp_port: /],
    [['--bogus'], '', /^tsvirtd: error: .*bogus/],
    [['-t', 'abc'], '', /^tsvirtd: error: .*/],
    [['--listen'], 'listen_tcp = 1\nlisten_tls = 0\n', /^tsvirtd: error: auth_tcp = "sasl" is not supported yet/],
  ];
  for (const [args, extra, want] of cases) {
    const s = setup(extra);
    try {
      const r = spawnSync(process.execPath, [...nodeArgs, main, '-f', s.conf, '-p', s.pid, ...args], { timeout: 20_000 });
      const err = r.stderr.toString();
      assert.equal(r.status, 1, err);
      assert.match(err, want);
      assert.equal(err.trim().split('\n').length, 1, `one line: ${err}`);
      assert.ok(!existsSync(s.pid) && !existsSync(s.sock));
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
});

test('--version and --help answer like libvirtd (usage on stderr)', () => {
  const v = spawnSync(process.execPath, [...nodeArgs, main, '--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout.toString(), /^tsvirtd \(tsvirt\) 9\.0\.0\n$/);
  const h = spawnSync(process.execPath, [...nodeArgs, main, '--help']);
  assert.equal(h.status, 0);
  assert.equal(h.stdout.toString(), '');
  assert.match(h.stderr.toString(), /--listen/);
});
