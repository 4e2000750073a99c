import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFileToLoad, defaultConfig, loadConfig, parseConfig, type DaemonConfig } from '../../src/daemon/config.js';

const STOCK = '/etc/libvirt/libvirtd.conf';
const root = () => defaultConfig(true, {});
const parse = (text: string, base: DaemonConfig = root()) => parseConfig(text, 'test.conf', base);
const configError = (text: string): ConfigError => {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
};

test('libvirtd 9.0 defaults for the system daemon', () => {
  const c = root();
  assert.equal(c.unixSockDir, '/run/libvirt');
  assert.equal(c.unixSockRoPerms, 0o777);
  assert.equal(c.unixSockRwPerms, 0o700);
  assert.equal(c.unixSockAdminPerms, 0o700);
  assert.equal(c.unixSockGroup, null);
  assert.deepEqual([c.listenTcp, c.listenTls, c.tcpPort, c.tlsPort, c.listenAddr], [false, true, 16509, 16514, '']);
  assert.deepEqual([c.authUnixRo, c.authUnixRw, c.authTcp, c.authTls], ['none', 'none', 'sasl', 'none']);
  assert.deepEqual(
    [c.maxClients, c.maxQueuedClients, c.maxAnonymousClients, c.maxClientRequests, c.maxWorkers, c.minWorkers, c.prioWorkers],
    [5000, 1000, 20, 5, 20, 5, 5],
  );
  assert.deepEqual([c.adminMinWorkers, c.adminMaxWorkers, c.adminMaxClients, c.adminMaxQueuedClients, c.adminMaxClientRequests], [5, 20, 5000, 20, 5]);
  assert.deepEqual([c.keepaliveInterval, c.keepaliveCount, c.logLevel, c.logOutputs, c.logFilters], [5, 5, 3, null, null]);
});

test('session daemon sockets live in $XDG_RUNTIME_DIR/libvirt, else ~/.cache/libvirt', () => {
  assert.equal(defaultConfig(false, { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u' }).unixSockDir, '/run/user/1000/libvirt');
  assert.equal(defaultConfig(false, { HOME: '/home/u' }).unixSockDir, '/home/u/.cache/libvirt');
  assert.equal(defaultConfig(false, { HOME: '/home/u', XDG_CACHE_HOME: '/c' }).unixSockDir, '/c/libvirt');
});

test('the stock libvirtd.conf loads with no error and no warning, and changes nothing', { skip: !existsSync(STOCK) }, () => {
  const { config, warnings } = loadConfig(STOCK, true, {});
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, root());
});

test('every setting of the stock libvirtd.conf, uncommented, loads with no warning', { skip: !existsSync(STOCK) }, () => {
  // host_uuid's example is all zeros, which libvirtd itself rejects (the file says so).
  const text = readFileSync(STOCK, 'utf8')
    .split('\n')
    .map((l) => (/^#[a-z_]+\s*=/.test(l) && !l.startsWith('#host_uuid ') ? l.slice(1) : l))
    .join('\n');
  const { config: c, warnings } = parse(text);
  assert.deepEqual(warnings, []);
  assert.equal(c.listenTls, false);
  assert.equal(c.listenTcp, true);
  assert.equal(c.tlsPort, 16514);
  assert.equal(c.listenAddr, '192.168.0.1');
  assert.equal(c.unixSockGroup, 'libvirt');
  assert.equal(c.unixSockRwPerms, 0o770);
  assert.equal(c.authUnixRw, 'polkit');
  assert.deepEqual(c.accessDrivers, ['polkit']);
  assert.deepEqual(c.tlsAllowedDnList, ['DN1', 'DN2']);
  assert.deepEqual(c.saslAllowedUsernameList, ['joe@EXAMPLE.COM', 'fred@EXAMPLE.COM']);
  assert.equal(c.tcpMinSsf, 112);
  assert.equal(c.adminMaxClients, 5);
  assert.equal(c.logFilters, '1:qemu 1:libvirt 4:object 4:json 4:event 1:util');
  assert.equal(c.logOutputs, '3:syslog:libvirtd');
  assert.equal(c.auditLevel, 2);
  assert.equal(c.hostUuidSource, 'smbios');
});

test('virconf syntax: quotes, triple quotes, signs, lists over lines, separators, comments', () => {
  const text = [
    '# comment',
    'listen_addr = "0.0.0.0"   # trailing comment',
    "unix_sock_group = 'kvm'",
    'tls_priority = """NORMAL',
    ':-VERS-SSL3.0"""',
    'keepalive_interval = -1 ; keepalive_count = +7',
    '  max_workers=30',
    'access_drivers = [',
    '  "polkit",   # a comment inside a list',
    '  "nop",',
    ']',
    'sasl_allowed_username_list = []',
    'tls_port = 16600',
  ].join('\n');
  const { config: c, warnings } = parse(text);
  assert.deepEqual(warnings, []);
  assert.equal(c.listenAddr, '0.0.0.0');
  assert.equal(c.unixSockGroup, 'kvm');
  assert.equal(c.tlsPriority, 'NORMAL\n:-VERS-SSL3.0');
  assert.equal(c.keepaliveInterval, -1);
  assert.equal(c.keepaliveCount, 7);
  assert.equal(c.maxWorkers, 30);
  assert.deepEqual(c.accessDrivers, ['polkit', 'nop']);
  assert.deepEqual(c.saslAllowedUsernameList, []);
  assert.equal(c.tlsPort, 16600);
});

test('the test harness config (ports as strings) loads', () => {
  const { config: c } = parse(
    'unix_sock_dir = "/tmp/x/sock"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\nlisten_tls = 0\nlisten_tcp = 1\ntcp_port = "40123"\nlisten_addr = "127.0.0.1"\nauth_tcp = "none"\n',
  );
  assert.deepEqual([c.unixSockDir, c.listenTls, c.listenTcp, c.tcpPort, c.authTcp], ['/tmp/x/sock', false, true, 40123, 'none']);
});

test('a service name as port is looked up in /etc/services', { skip: !/^ssh\s+22\/tcp/m.test(existsSync('/etc/services') ? readFileSync('/etc/services', 'utf8') : '') }, () => {
  assert.equal(parse('tcp_port = "ssh"').config.tcpPort, 22);
});

test('syntax errors name the file and line', () => {
  const cases: Array<[string, RegExp]> = [
    ['listen_tcp = 1\nlisten_tls 0\n', /^test\.conf:2: expecting an assignment$/],
    ['a = "open\n', /^test\.conf:1: unterminated string$/],
    ['\n\nx = """never closed\n\n', /^test\.conf:3: unterminated string$/],
    ['x = [ "a", "b"\n\n', /^test\.conf:1: list is not closed with ]$/],
    ['x = [ "a" "b" ]', /^test\.conf:1: expecting a separator in list$/],
    ['x = 12abc', /^test\.conf:1: expecting a separator$/],
    ['x =\n', /^test\.conf:1: expecting a value$/],
    ['x = yes', /^test\.conf:1: expecting a value$/],
    ['1x = 2', /^test\.conf:1: expecting a name$/],
    ['x = -', /^test\.conf:1: unterminated number$/],
  ];
  for (const [text, re] of cases) assert.match(configError(text).message, re, JSON.stringify(text));
});

test('bad values: FILE:LINE: KEY: reason', () => {
  const cases: Array<[string, string]> = [
    ['listen_tcp = 2', 'listen_tcp: value must be 0 or 1'],
    ['listen_tcp = "1"', 'listen_tcp: expected a bool (0 or 1)'],
    ['max_clients = -1', 'max_clients: expected an unsigned integer'],
    ['max_clients = 4294967296', 'max_clients: value must be in range 0:4294967295'],
    ['max_clients = "10"', 'max_clients: expected an unsigned integer'],
    ['keepalive_interval = 2147483648', 'keepalive_interval: value must be in range -2147483648:2147483647'],
    ['unix_sock_rw_perms = 0770', 'unix_sock_rw_perms: expected a string holding an octal mode, such as "0770"'],
    ['unix_sock_ro_perms = "0778"', "unix_sock_ro_perms: failed to parse mode '0778' (expected octal, 0 to 07777)"],
    ['tcp_port = "65536"', 'tcp_port: port 65536 out of range 0:65535'],
    ['tls_port = -1', 'tls_port: port -1 out of range 0:65535'],
    ['tcp_port = "no-such-service-tsvirt"', "tcp_port: unknown service name 'no-such-service-tsvirt'"],
    ['auth_tcp = "kerberos"', 'auth_tcp: unsupported auth kerberos'],
    ['listen_addr = 1', 'listen_addr: expected a string'],
    ['access_drivers = "polkit"', 'access_drivers: expected a string list'],
    ['access_drivers = [ 1 ]', 'access_drivers: expected a string list'],
    ['max_workers = 0', "max_workers: 'max_workers' must be greater than 0"],
    ['tcp_min_ssf = 56', 'tcp_min_ssf: minimum SSF levels lower than 112 are not supported'],
    ['log_level = 5', 'log_level: log level must be 1 (debug) to 4 (error)'],
    ['log_outputs = "3:syslog"', "log_outputs: log output '3:syslog' does not meet the format requirements for destination type 'syslog'"],
    ['log_outputs = "9:stderr"', "log_outputs: invalid log priority '9' for log output '9:stderr' (expected 1 to 4)"],
    ['log_filters = "1"', "log_filters: malformed log filter '1'"],
    ['host_uuid = "00000000-0000-0000-0000-000000000000"', 'host_uuid: invalid host UUID: 00000000-0000-0000-0000-000000000000 (all digits are the same)'],
    ['host_uuid_source = "dmi"', 'host_uuid_source: invalid UUID source: dmi'],
  ];
  for (const [line, reason] of cases) {
    const err = configError(`# first line\n\n${line}\n`);
    assert.equal(err.message, `test.conf:3: ${reason}`);
    assert.equal(err.line, 3);
    assert.equal(err.key, line.split(' ')[0]);
  }
});

test('unknown keys warn with file, line and key; obsolete libvirtd keys are silent', () => {
  const { config, warnings } = parse('listen_tcp = 1\nno_such_key = 3\nkeepalive_required = 1\nmdns_adv = 0\nmax_requests = 20\n');
  assert.deepEqual(warnings, ['test.conf:2: no_such_key: unknown setting ignored']);
  assert.equal(config.listenTcp, true);
});

test('a repeated key keeps its first value, as libvirtd does, and warns', () => {
  const { config, warnings } = parse('max_clients = 10\nmax_clients = 20\n');
  assert.equal(config.maxClients, 10);
  assert.deepEqual(warnings, ['test.conf:2: max_clients: duplicate setting ignored (first set on line 1)']);
});

test('auth_unix_rw = "polkit" opens the rw socket to 0777 unless its mode is set', () => {
  assert.equal(parse('auth_unix_rw = "polkit"').config.unixSockRwPerms, 0o777);
  assert.equal(parse('unix_sock_rw_perms = "0770"\nauth_unix_rw = "polkit"').config.unixSockRwPerms, 0o770);
  assert.equal(parse('auth_unix_rw = "none"').config.unixSockRwPerms, 0o700);
});

test('log_level 0 means unset; the base config is not modified', () => {
  const base = root();
  base.logLevel = 1;
  const { config } = parse('log_level = 0\naccess_drivers = ["x"]', base);
  assert.equal(config.logLevel, 3);
  assert.deepEqual(base.accessDrivers, []);
  assert.equal(base.logLevel, 1);
});

test('loadConfig: null gives defaults, a named missing file is an error, a file is applied', () => {
  assert.deepEqual(loadConfig(null, true, {}).config, root());
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-conf-'));
  try {
    const missing = join(dir, 'nope.conf');
    assert.throws(() => loadConfig(missing, true, {}), (e: unknown) => e instanceof ConfigError && e.message === `Failed to open file '${missing}': No such file or directory`);
    const file = join(dir, 'tsvirtd.conf');
    writeFileSync(file, 'max_clients = 7\nbogus = 1\n');
    const r = loadConfig(file, false, { XDG_RUNTIME_DIR: '/r' });
    assert.equal(r.config.maxClients, 7);
    assert.equal(r.config.unixSockDir, '/r/libvirt');
    assert.deepEqual(r.warnings, [`${file}:2: bogus: unknown setting ignored`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configFileToLoad: -f always wins; the default file only when it exists', withTmp((dir) => {
  assert.equal(configFileToLoad('/missing.conf', true, {}), '/missing.conf');
  assert.equal(configFileToLoad(null, false, { XDG_CONFIG_HOME: dir }), null);
  mkdirSync(join(dir, 'libvirt'));
  writeFileSync(join(dir, 'libvirt', 'tsvirtd.conf'), '');
  assert.equal(configFileToLoad(null, false, { XDG_CONFIG_HOME: dir }), join(dir, 'libvirt', 'tsvirtd.conf'));
}));

function withTmp(fn: (dir: string) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvirt-conf-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
