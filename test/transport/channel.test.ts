// openRemoteChannel's dispatch for unix, tcp and ext against a private libvirtd, and how failures read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRemoteChannel, RemoteOpenError } from '../../src/drivers/remote/channel.js';
import { resolveUri } from '../../src/drivers/remote/uri.js';
import { RemoteProcedures } from '../../src/protocol/gen/remote.js';
import { RpcClient, VirErrorNumber } from '../../src/rpc/index.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { openAndGetType } from './remote-session.js';

const skip = libvirtdSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-channel-'));
let d: Libvirtd | undefined;
test.before(async () => {
  if (!skip) d = await startLibvirtd({ tcp: true });
});
test.after(async () => {
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test('unix, read-write and read-only sockets', { skip }, async () => {
  const rw = await openAndGetType(d!.uri('test'));
  assert.deepEqual([rw.type, rw.description, rw.secure, rw.encrypted], ['TEST', `unix:${d!.unixSocket}`, true, false]);
  const ro = await openAndGetType(`test+unix:///default?socket=${d!.roSocket}`, { readonly: true });
  assert.equal(ro.type, 'TEST');
});

test('tcp', { skip }, async () => {
  const r = await openAndGetType(d!.uri('test', { transport: 'tcp' }));
  assert.deepEqual([r.type, r.description, r.secure, r.encrypted], ['TEST', `tcp:127.0.0.1:${d!.tcpPort}`, false, false]);
});

test('ext: the command\'s stdio is the channel', { skip }, async () => {
  const relay = script('relay', `exec nc -U ${d!.unixSocket}`);
  const r = await openAndGetType(`test+ext:///default?command=${relay}`);
  assert.deepEqual([r.type, r.secure, r.encrypted], ['TEST', false, false]);
});

test('ext: a command that fails explains itself through its stderr', async () => {
  const bad = script('bad', 'echo "relay: cannot reach the daemon" >&2; exit 3');
  const ch = await openRemoteChannel(resolveUri(`test+ext:///default?command=${bad}`, { configFile: null }), {});
  const client = new RpcClient(ch.channel, { defaultTimeoutMs: 5000 });
  await assert.rejects(client.call(RemoteProcedures.AUTH_LIST, undefined), (e: Error) => {
    assert.match(e.message, /^Cannot recv data: relay: cannot reach the daemon \[exit status 3\]: Connection reset by peer \(command '.*bad'\)/);
    return true;
  });
  ch.channel.destroy();
});

test('unix failure: libvirt\'s words, then the URI, transport and path', async () => {
  const target = resolveUri('qemu+unix:///system?socket=/nonexistent/sock', { configFile: null });
  await assert.rejects(openRemoteChannel(target, {}), (e: unknown) => {
    assert.ok(e instanceof RemoteOpenError);
    assert.equal(e.code, VirErrorNumber.SYSTEM_ERROR);
    assert.equal(e.libvirtMessage, "Failed to connect socket to '/nonexistent/sock': No such file or directory");
    assert.equal(e.message, "Failed to connect socket to '/nonexistent/sock': No such file or directory " +
      "[URI 'qemu+unix:///system?socket=/nonexistent/sock', transport unix, unix:/nonexistent/sock]");
    return true;
  });
});

test('tcp failure names host and port', async () => {
  const target = resolveUri('test+tcp://127.0.0.1:1/default', { configFile: null });
  await assert.rejects(openRemoteChannel(target, {}), (e: unknown) => {
    assert.ok(e instanceof RemoteOpenError);
    assert.equal(e.libvirtMessage, "unable to connect to server at '127.0.0.1:1': Connection refused");
    return true;
  });
});

test('timeoutMs bounds the whole set-up (here a TLS peer that never answers)', async () => {
  const silent = createServer(() => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const port = (silent.address() as { port: number }).port;
  const ca = script('cacert.pem', '');
  try {
    const target = resolveUri(`test+tls://127.0.0.1:${port}/default?pkipath=${dir}`, { configFile: null });
    assert.ok(ca.endsWith('cacert.pem'));
    const t0 = Date.now();
    await assert.rejects(openRemoteChannel(target, { timeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof RemoteOpenError);
      assert.equal(e.code, VirErrorNumber.OPERATION_TIMEOUT);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    silent.close();
  }
});
