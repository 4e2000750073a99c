// Cross-checks resolveUri against the installed virsh (libvirt 9.0): the CONNECT_OPEN name and UNIX
// socket from LIBVIRT_DEBUG, and the exact ssh argv through a fake `ssh` that logs its arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUri } from '../../src/drivers/remote/uri.js';
import { runCommand } from '../harness/run.js';

const VIRSH = '/usr/bin/virsh';
const skip = !existsSync(VIRSH) && !process.env.CI ? 'virsh not installed' : false;
const uid = process.geteuid?.() ?? 0;
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-urilive-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// Writes one JSON array per run; exits without output so virsh gives up at once.
const FAKE_SSH = `#!/usr/bin/env python3
import json, sys
with open(sys.argv[0] + '.log', 'a') as f:
    f.write(json.dumps(sys.argv[1:]) + '\\n')
sys.exit(1)
`;

async function virshDebug(uri: string, env: Record<string, string> = {}, readonly = false): Promise<string> {
  const r = await runCommand(VIRSH, [...(readonly ? ['-r'] : []), '-c', uri, 'uri'], {
    env: { ...process.env, LIBVIRT_DEBUG: '1', LIBVIRT_LOG_OUTPUTS: '1:stderr', LIBVIRT_DEFAULT_URI: '', ...env },
    timeoutMs: 20_000,
  });
  return r.stderr;
}

const SSH_URIS = [
  'qemu+ssh://host/system',
  'qemu+ssh://bob@host:2222/system?keyfile=/k/id&no_tty=1&no_verify=1',
  'qemu+ssh://host/system?socket=/tmp/x.sock',
  'test+ssh://host/default?proxy=netcat&extra=a%20b',
  'qemu+ssh://host/system?proxy=native&foo=a%20b',
  'remote+ssh://host/',
  'qemu+ssh://[::1]:99/system?netcat=my-nc',
];

test('ssh argv is byte-identical to virsh\'s', { skip }, async () => {
  const fake = join(dir, 'ssh');
  writeFileSync(fake, FAKE_SSH);
  chmodSync(fake, 0o755);
  for (const [i, uri] of SSH_URIS.entries()) {
    const readonly = i === 0;
    await virshDebug(`${uri}${uri.includes('?') ? '&' : '?'}command=${fake}`, {}, readonly);
    const logged = readFileSync(`${fake}.log`, 'utf8').trim().split('\n');
    const got = JSON.parse(logged.at(-1)!) as string[];
    const ours = resolveUri(`${uri}${uri.includes('?') ? '&' : '?'}command=${fake}`, { readonly, configFile: null, env: {} }).command!;
    assert.equal(logged.length, i + 1, `virsh did not run ssh for ${uri}`);
    assert.deepEqual(ours.slice(1), got, uri);
  }
});

const NAME_URIS = [
  'test+tcp://127.0.0.1:1/default?foo=a/b&bar=x%20y;z=1&no_verify=1',
  "test+tcp://127.0.0.1:1/a:b@c;d,e~f(g)*h?q=-_.~!*'()%2B+@:/?#fr%20ag",
  'Test+TCP://127.0.0.1:1/x?Socket=/y&NAME=n',
  'qemu:///system?mode=direct',
  'qemu+unix:///session',
  'remote:///',
];

test('CONNECT_OPEN name and UNIX socket match virsh\'s choice', { skip }, async () => {
  for (const uri of NAME_URIS) {
    const log = await virshDebug(uri);
    const name = /proceeding with name = (.*)/.exec(log)?.[1];
    assert.ok(name !== undefined, `no name in debug output for ${uri}`);
    const t = resolveUri(uri, { uid, configFile: null, env: process.env });
    assert.equal(t.name, name, uri);
    const sock = /Chosen UNIX sockname=(\S+)/.exec(log)?.[1];
    if (sock !== undefined) assert.equal(t.socketPath, sock, uri);
  }
});
