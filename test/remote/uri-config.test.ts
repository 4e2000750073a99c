// LIBVIRT_DEFAULT_URI, uri_default and uri_aliases from the client libvirt.conf, as virConnectOpen applies them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUri } from '../../src/drivers/remote/uri.js';
import { clientConfigPath, parseClientConfig } from '../../src/drivers/remote/client-config.js';
import { VirError, VirErrorNumber } from '../../src/rpc/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvirt-uricfg-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function conf(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(p, text);
  return p;
}

const ALIASES = `# aliases as in libvirt's documentation
uri_aliases = [
  "hail=qemu+ssh://root@hail.cloud.example.com/system",
  "sleet=qemu+ssh://root@sleet.cloud.example.com/system",
]
uri_default = "sleet"
`;
const base = { uid: 0, env: {}, exists: () => false };

test('an alias resolves to its URI (observed: Resolved alias hail)', () => {
  const t = resolveUri('hail', { ...base, configFile: conf(ALIASES) });
  assert.equal(t.transport, 'ssh');
  assert.equal(t.host, 'hail.cloud.example.com');
  assert.equal(t.user, 'root');
  assert.equal(t.name, 'qemu:///system');
  assert.equal(t.displayUri, 'qemu+ssh://root@hail.cloud.example.com/system');
});

test('no URI: uri_default, itself an alias', () => {
  const t = resolveUri(null, { ...base, configFile: conf(ALIASES) });
  assert.equal(t.host, 'sleet.cloud.example.com');
  assert.equal(t.probeUri, false);
});

test('LIBVIRT_DEFAULT_URI wins over uri_default; an empty one is ignored', () => {
  const file = conf(ALIASES);
  assert.equal(resolveUri(null, { ...base, configFile: file, env: { LIBVIRT_DEFAULT_URI: 'hail' } }).host, 'hail.cloud.example.com');
  assert.equal(resolveUri(null, { ...base, configFile: file, env: { LIBVIRT_DEFAULT_URI: '' } }).host, 'sleet.cloud.example.com');
});

test('NO_ALIASES keeps the name literal (and it then has no driver)', () => {
  assert.throws(() => resolveUri('hail', { ...base, configFile: conf(ALIASES), noAliases: true }), (e: unknown) =>
    e instanceof VirError && e.code === VirErrorNumber.NO_CONNECT);
});

test('remote_mode and remote_proxy come from the config when the URI says nothing', () => {
  const file = conf('remote_mode = "direct"\nremote_proxy = "netcat"\n');
  assert.equal(resolveUri('qemu:///system', { ...base, configFile: file }).socketPath, '/var/run/libvirt/virtqemud-sock');
  assert.equal(resolveUri('qemu:///system?mode=legacy', { ...base, configFile: file }).socketPath, '/var/run/libvirt/libvirt-sock');
  const ssh = resolveUri('qemu+ssh://h/system?mode=legacy', { ...base, configFile: file }).command!;
  assert.match(ssh.at(-1)!, /^sh -c 'if 'nc' -q/);
});

test('malformed aliases are refused with libvirt words', () => {
  const file = conf('uri_aliases = [ "bad alias=test:///default" ]\n');
  assert.throws(() => resolveUri('x', { ...base, configFile: file }), (e: unknown) =>
    e instanceof VirError && e.code === VirErrorNumber.CONF_SYNTAX && /aliases may only contain 'a-Z, 0-9, _, -'/.test(e.message));
  const noEq = conf('uri_aliases = [ "nothing" ]\n');
  assert.throws(() => resolveUri('x', { ...base, configFile: noEq }), /expected 'alias=uri:\/\/host\/path'/);
});

test('config syntax: comments, ; separators, numbers, nested lists; errors name file and line', () => {
  const m = parseClientConfig('a = 1 ; b = "x" # c\nl = [ "p", \n "q", ]\n');
  assert.deepEqual([...m], [['a', 1], ['b', 'x'], ['l', ['p', 'q']]]);
  assert.throws(() => parseClientConfig('a = 1\nb = "x', 'f.conf'), /f\.conf:2/);
});

test('config file location: /etc for root, XDG_CONFIG_HOME or ~/.config for users', () => {
  assert.equal(clientConfigPath(0, {}), '/etc/libvirt/libvirt.conf');
  assert.equal(clientConfigPath(1000, { XDG_CONFIG_HOME: '/x' }), '/x/libvirt/libvirt.conf');
  assert.equal(clientConfigPath(1000, { HOME: '/home/u' }), '/home/u/.config/libvirt/libvirt.conf');
});

test('a missing config file is an empty configuration', () => {
  assert.equal(resolveUri(null, { ...base, configFile: join(dir, 'absent.conf') }).probeUri, true);
});
