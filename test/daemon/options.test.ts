import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ipListeners, parseOptions, UsageError, usageText, versionText, type DaemonOptions } from '../../src/daemon/options.js';

const none: DaemonOptions = {
  listen: false,
  configFile: null,
  pidFile: null,
  timeout: 0,
  verbose: false,
  daemon: false,
  version: false,
  help: false,
};

test('libvirtd option forms: short, long, bundles, attached values, prefixes', () => {
  const cases: Array<[string[], Partial<DaemonOptions>]> = [
    [[], {}],
    [['-l', '-v', '-d'], { listen: true, verbose: true, daemon: true }],
    [['-ldv'], { listen: true, verbose: true, daemon: true }],
    [['--listen', '--verbose', '--daemon', '--version', '--help'], { listen: true, verbose: true, daemon: true, version: true, help: true }],
    [['-V'], { version: true }],
    [['-h'], { help: true }],
    [['-f', '/etc/x.conf', '-p', '/run/x.pid', '-t', '30'], { configFile: '/etc/x.conf', pidFile: '/run/x.pid', timeout: 30 }],
    [['--config', 'a.conf', '--pid-file=b.pid', '--timeout=0'], { configFile: 'a.conf', pidFile: 'b.pid' }],
    [['-t5', '-fx.conf'], { timeout: 5, configFile: 'x.conf' }],
    [['-lt', '120'], { listen: true, timeout: 120 }],
    [['-vf', '-odd-name.conf'], { verbose: true, configFile: '-odd-name.conf' }],
    [['--conf', 'c', '--pid', 'p', '--time', '9', '--verb', '--lis'], { configFile: 'c', pidFile: 'p', timeout: 9, verbose: true, listen: true }],
    [['-f', 'first', '-f', 'second'], { configFile: 'second' }],
    [['-t', '2147483'], { timeout: 2147483 }],
  ];
  for (const [argv, want] of cases) assert.deepEqual(parseOptions(argv), { ...none, ...want }, argv.join(' '));
});

test('bad usage gives one clear line', () => {
  const cases: Array<[string[], string]> = [
    [['--bogus'], "unrecognized option '--bogus'"],
    [['-x'], "unrecognized option '-x'"],
    [['extra'], 'unexpected, non-option, command line arguments'],
    [['-v', '--', 'x'], 'unexpected, non-option, command line arguments'],
    [['-t', 'abc'], "invalid value for timeout 'abc'"],
    [['-t', '-1'], "invalid value for timeout '-1'"],
    [['-t', '2147484'], "invalid value for timeout '2147484'"],
    [['-f'], "option '--config' requires an argument"],
    [['--timeout'], "option '--timeout' requires an argument"],
    [['--listen=1'], "option '--listen' doesn't allow an argument"],
  ];
  for (const [argv, msg] of cases) {
    assert.throws(
      () => parseOptions(argv),
      (e: unknown) => e instanceof UsageError && e.message === msg && !e.message.includes('\n'),
      `${argv.join(' ')} -> ${msg}`,
    );
  }
});

test('ambiguous long prefixes are refused like getopt_long does', () => {
  // --v matches --verbose and --version.
  assert.throws(() => parseOptions(['--v']), /option '--v' is ambiguous; possibilities: '--verbose' '--version'/);
});

test('without --listen, TCP and TLS stay off whatever the config says', () => {
  assert.deepEqual(ipListeners({ listen: false }, { listenTcp: true, listenTls: true }), { tcp: false, tls: false });
  assert.deepEqual(ipListeners({ listen: true }, { listenTcp: true, listenTls: false }), { tcp: true, tls: false });
});

test('--version reads like libvirtd --version', () => {
  assert.equal(versionText(), 'tsvirtd (tsvirt) 9.0.0\n');
  if (existsSync('/usr/sbin/libvirtd')) {
    const real = spawnSync('/usr/sbin/libvirtd', ['--version'], { encoding: 'utf8' }).stdout;
    assert.equal(versionText('libvirtd').replace('tsvirt', 'libvirt'), real.replace(/^\/usr\/sbin\//, ''));
  }
});

test('--help has the shape of libvirtd --help, with our paths', () => {
  const ours = usageText(true);
  assert.match(ours, /\n {2}tsvirtd \[options\]\n/);
  assert.match(ours, /\n {6}\/etc\/libvirt\/tsvirtd\.conf\n/);
  assert.match(ours, /\n {6}\/run\/libvirt\/libvirt-sock-ro\n/);
  assert.match(ours, /\n {6}\/run\/tsvirtd\.pid\n/);
  if (existsSync('/usr/sbin/libvirtd')) {
    // The option table is identical, line for line.
    const real = spawnSync('/usr/sbin/libvirtd', ['--help'], { encoding: 'utf8' }).stderr;
    const table = (t: string) => t.split('\n').filter((l) => /^ {2}-/.test(l));
    assert.equal(table(real).length, 8);
    assert.deepEqual(table(ours), table(real));
  }
  const session = usageText(false, 'tsvirtd', { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1' });
  assert.match(session, /\$XDG_RUNTIME_DIR\/libvirt\/libvirt-sock\n/);
  assert.doesNotMatch(session, /libvirt-sock-ro/);
  assert.match(session, /CA certificate: \$HOME\/\.pki\/libvirt\/cacert\.pem/);
  assert.match(session, /\$XDG_RUNTIME_DIR\/libvirt\/tsvirtd\.pid/);
});
