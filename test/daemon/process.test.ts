import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPidFile } from '../../src/daemon/paths.js';
import {
  backgroundArgs, createIdleTimeout, portableExecArgv, PidFileError, readPidFile, removePidFile, spawnDaemon, startupReporter, writePidFile,
} from '../../src/daemon/process.js';

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvirt-proc-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A pid that is certainly not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

test('default pid files: libvirtd locations, our name', () => {
  assert.equal(defaultPidFile(true), '/run/tsvirtd.pid');
  assert.equal(defaultPidFile(false, { XDG_RUNTIME_DIR: '/run/user/7' }), '/run/user/7/libvirt/tsvirtd.pid');
});

test('writePidFile writes "PID\\n" and leaves no temp file behind', withDir((dir) => {
  const path = join(dir, 'd.pid');
  writePidFile(path, 12345);
  assert.equal(readFileSync(path, 'utf8'), '12345\n');
  assert.deepEqual(readdirSync(dir), ['d.pid']);
  // Rewriting our own file is fine.
  writePidFile(path, 12345);
  assert.equal(readPidFile(path), 12345);
}));

test('a pid file held by a live process is refused, like libvirtd', withDir((dir) => {
  const path = join(dir, 'd.pid');
  writeFileSync(path, `${process.pid}\n`);
  assert.throws(
    () => writePidFile(path, 999999),
    (e: unknown) => e instanceof PidFileError && e.message.startsWith(`Failed to acquire pid file '${path}'`) && e.message.includes(`pid ${process.pid}`),
  );
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  assert.deepEqual(readdirSync(dir), ['d.pid']);
}));

test('a stale or garbage pid file is replaced', withDir(async (dir) => {
  const path = join(dir, 'd.pid');
  writeFileSync(path, `${await deadPid()}\n`);
  writePidFile(path, 4321);
  assert.equal(readPidFile(path), 4321);
  writeFileSync(path, 'not a pid');
  writePidFile(path, 4322);
  assert.equal(readPidFile(path), 4322);
}));

test('a pid file in a missing directory fails with libvirtd\'s message', withDir((dir) => {
  assert.throws(() => writePidFile(join(dir, 'nope', 'd.pid'), 1), /^PidFileError: Failed to acquire pid file '.*nope\/d\.pid': /);
}));

test('removePidFile removes only a file that still names us', withDir((dir) => {
  const path = join(dir, 'd.pid');
  writePidFile(path, 111);
  removePidFile(path, 222);
  assert.ok(existsSync(path));
  removePidFile(path, 111);
  assert.ok(!existsSync(path));
  removePidFile(path, 111);
}));

test('backgroundArgs drops -d in every form and makes -f/-p paths absolute', () => {
  const cases: Array<[string[], string[]]> = [
    [['-d'], []],
    [['--daemon', '-l'], ['-l']],
    [['-ldv', '-t', '5'], ['-lv', '--timeout=5']],
    [['-dfx.conf'], ['-f/w/x.conf']],
    [['-df', 'x.conf', '--pid-file', 'run/p'], ['--config=/w/x.conf', '--pid-file=/w/run/p']],
    [['--dae', '--config=/abs.conf', '-p/abs.pid'], ['--config=/abs.conf', '-p/abs.pid']],
    [['-f', '-dash.conf'], ['--config=/w/-dash.conf']],
  ];
  for (const [argv, want] of cases) assert.deepEqual(backgroundArgs(argv, '/w'), want, argv.join(' '));
});

test('spawnDaemon: ready and failure reports reach the parent', withDir(async (dir) => {
  const script = join(dir, 'child.mjs');
  // Stands in for tsvirtd: reports on the status fd the way startupReporter() does.
  writeFileSync(
    script,
    `import { writeSync, writeFileSync } from 'node:fs';
     writeFileSync(${JSON.stringify(join(dir, 'args'))}, JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd() }));
     const fd = Number(process.env.TSVIRTD_STATUS_FD);
     if (process.argv.includes('--fail')) writeSync(fd, 'error Unable to bind\\n');
     else if (process.argv.includes('--silent')) process.exit(3);
     else writeSync(fd, 'ok\\n');`,
  );
  const ok = await spawnDaemon(['-d', '-f', 'x.conf'], { script, execArgv: [] });
  assert.equal(ok.ok, true);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'args'), 'utf8')), { args: ['--config=' + join(process.cwd(), 'x.conf')], cwd: '/' });
  assert.deepEqual(await spawnDaemon(['--daemon', '--fail'], { script, execArgv: [] }), { ok: false, message: 'Unable to bind' });
  const silent = await spawnDaemon(['--silent'], { script, execArgv: [] });
  assert.equal(silent.ok, false);
  assert.match((silent as { message: string }).message, /unable to determine if daemon is running/);
}));

test('startupReporter writes one status line and only once', withDir((dir) => {
  assert.equal(startupReporter({}), null);
  const file = join(dir, 'status');
  const fd = openSync(file, 'w');
  const env: NodeJS.ProcessEnv = { TSVIRTD_STATUS_FD: String(fd) };
  const r = startupReporter(env)!;
  assert.equal(env.TSVIRTD_STATUS_FD, undefined, 'not inherited by grandchildren');
  assert.equal(startupReporter(env), r, 'a second call (e.g. in an error handler) gets the same reporter');
  r.failed('Failed to acquire pid file\n/x');
  r.ready();
  assert.equal(readFileSync(file, 'utf8'), 'error Failed to acquire pid file /x\n');
}));

test('idle timeout fires only after SECS with nothing held', async () => {
  let fired = 0;
  const t = createIdleTimeout(0.05, () => fired++);
  const release = t.hold();
  await new Promise((r) => setTimeout(r, 90));
  assert.equal(fired, 0, 'held: no expiry');
  release();
  release();
  assert.equal(t.active, 0);
  await new Promise((r) => setTimeout(r, 90));
  assert.equal(fired, 1);
  const off = createIdleTimeout(0, () => fired++);
  await new Promise((r) => setTimeout(r, 20));
  off.stop();
  assert.equal(fired, 1, 'timeout 0 never fires');
});

test('portableExecArgv: loaders still resolve from "/" (a bare --import tsx would not)', () => {
  const out = portableExecArgv(['--import', 'tsx', '--import=./x.mjs', '--require', '/abs.cjs', '--no-warnings'], '/w');
  assert.match(out[1]!, /^file:\/\/.*\/node_modules\/tsx\//);
  assert.deepEqual(out.slice(2), ['--import=file:///w/x.mjs', '--require', '/abs.cjs', '--no-warnings']);
  assert.deepEqual(portableExecArgv(['--import', 'no-such-package-tsvirt']), ['--import', 'no-such-package-tsvirt']);
});
