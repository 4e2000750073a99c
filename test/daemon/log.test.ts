import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, formatTimestamp, parseLogFilters, parseLogOutputs, type CreateLoggerOptions, type LogSettings } from '../../src/daemon/log.js';

const NOW = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
const STAMP = '2024-01-02 03:04:05.006+0000';

function capture(cfg: Partial<LogSettings>, verbose = false, opts: CreateLoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({ logLevel: 3, logOutputs: null, logFilters: null, ...cfg }, verbose, {
    env: {},
    pid: 4242,
    now: () => NOW,
    writeStderr: (t) => lines.push(t),
    ...opts,
  });
  const all = () => {
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
  };
  return { logger, lines, all };
}

test('line format follows libvirt: UTC time stamp with milliseconds, pid, level name', () => {
  assert.equal(formatTimestamp(NOW), STAMP);
  const { logger, lines } = capture({});
  logger.error('Invalid value for timeout');
  assert.deepEqual(lines, [`${STAMP}: 4242: error : Invalid value for timeout\n`]);
});

test('log_level selects the lowest level written; the default is warnings', () => {
  const cases: Array<[number, string[]]> = [
    [1, ['debug : d', 'info : i', 'warning : w', 'error : e']],
    [2, ['info : i', 'warning : w', 'error : e']],
    [3, ['warning : w', 'error : e']],
    [4, ['error : e']],
  ];
  for (const [level, want] of cases) {
    const { lines, all } = capture({ logLevel: level });
    all();
    assert.deepEqual(lines.map((l) => l.slice(STAMP.length + 8).trimEnd()), want, `log_level ${level}`);
  }
});

test('--verbose lowers the level to info, but never raises it', () => {
  const v = capture({ logLevel: 4 }, true);
  v.all();
  assert.equal(v.logger.priority, 2);
  assert.equal(v.lines.length, 3);
  const d = capture({ logLevel: 1 }, true);
  assert.equal(d.logger.priority, 1);
});

test('each output has its own minimum level on top of the global one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-log-'));
  try {
    const file = join(dir, 'd.log');
    const { logger, lines, all } = capture({ logLevel: 1, logOutputs: `4:stderr 1:file:${file} 2:syslog:libvirtd 3:journald` });
    all();
    const written = [...lines];
    logger.close();
    logger.warn('after close');
    assert.equal(readFileSync(file, 'utf8'), ['debug : d', 'info : i', 'warning : w', 'error : e'].map((m) => `${STAMP}: 4242: ${m}\n`).join(''));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // syslog and journald have no socket in Node: they go to stderr under their name, without a time stamp.
    assert.deepEqual(written, [
      'libvirtd: 4242: info : i\n',
      'libvirtd: 4242: warning : w\n',
      'tsvirtd: 4242: warning : w\n',
      `${STAMP}: 4242: error : e\n`,
      'libvirtd: 4242: error : e\n',
      'tsvirtd: 4242: error : e\n',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reopen() starts a new file after rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-log-'));
  try {
    const file = join(dir, 'd.log');
    const { logger } = capture({ logOutputs: `3:file:${file}` });
    logger.warn('one');
    renameSync(file, `${file}.1`);
    logger.reopen();
    logger.warn('two');
    logger.close();
    assert.match(readFileSync(`${file}.1`, 'utf8'), /warning : one\n$/);
    assert.match(readFileSync(file, 'utf8'), /^[^\n]*warning : two\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LIBVIRT_DEBUG and LIBVIRT_LOG_OUTPUTS override the config, as for libvirtd', () => {
  const { logger, lines, all } = capture({ logLevel: 4, logOutputs: '4:stderr' }, false, {
    env: { LIBVIRT_DEBUG: 'info', LIBVIRT_LOG_OUTPUTS: '2:syslog:x' },
  });
  all();
  assert.equal(logger.priority, 2);
  assert.deepEqual(lines, ['x: 4242: info : i\n', 'x: 4242: warning : w\n', 'x: 4242: error : e\n']);
});

test('with --daemon and no outputs, logs go to a file instead of stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-log-'));
  try {
    const { logger, lines } = capture({}, false, { daemon: true, privileged: false, env: { XDG_CACHE_HOME: dir } });
    logger.error('boom');
    logger.close();
    assert.deepEqual(lines, []);
    assert.equal(readFileSync(join(dir, 'libvirt', 'log', 'tsvirtd.log'), 'utf8'), `${STAMP}: 4242: error : boom\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log_outputs syntax: libvirt rules and errors', () => {
  assert.deepEqual(parseLogOutputs('  1:stderr   3:file:/var/log/x.log 2:syslog:id 4:journald '), [
    { priority: 1, dest: { kind: 'stderr' } },
    { priority: 3, dest: { kind: 'file', path: '/var/log/x.log' } },
    { priority: 2, dest: { kind: 'syslog', ident: 'id' } },
    { priority: 4, dest: { kind: 'journald' } },
  ]);
  // A repeated destination: the last one wins.
  assert.deepEqual(parseLogOutputs('1:stderr 3:stderr'), [{ priority: 3, dest: { kind: 'stderr' } }]);
  assert.equal((parseLogOutputs('1:file:rel.log')[0]!.dest as { path: string }).path, join(process.cwd(), 'rel.log'));
  const bad: Array<[string, RegExp]> = [
    ['stderr', /malformed log output 'stderr'/],
    ['0:stderr', /invalid log priority '0'/],
    ['x:stderr', /invalid log priority 'x'/],
    ['1:printer', /invalid log destination 'printer'/],
    ['1:stderr:x', /does not meet the format requirements for destination type 'stderr'/],
    ['1:file', /does not meet the format requirements for destination type 'file'/],
    ['1:file:/a:b', /does not meet the format requirements/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseLogOutputs(text), re, text);
  assert.throws(() => createLogger({ logLevel: 3, logOutputs: '1:bad', logFilters: null }, false, { env: {} }), /invalid log destination/);
});

test('log_filters syntax is checked', () => {
  assert.deepEqual(parseLogFilters('1:qemu 4:+object'), [
    { priority: 1, match: 'qemu' },
    { priority: 4, match: 'object' },
  ]);
  assert.throws(() => parseLogFilters('1:+'), /invalid match string/);
  assert.throws(() => parseLogFilters('5:qemu'), /invalid log priority '5'/);
});
