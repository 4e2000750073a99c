// SSH transport through a private sshd to a private libvirtd: the remote command in netcat mode (?socket=)
// and in virt-ssh-helper mode (auto proxy, the daemon's sockets bound over /run/libvirt for sshd's sessions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { openRemoteChannel, RemoteOpenError } from '../../src/drivers/remote/channel.js';
import { resolveUri } from '../../src/drivers/remote/uri.js';
import { RemoteProcedures } from '../../src/protocol/gen/remote.js';
import { RpcClient } from '../../src/rpc/index.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { sshdSkipReason, startSshd, type Sshd } from '../harness/sshd.js';
import { openAndGetType } from './remote-session.js';

const skip = libvirtdSkipReason() ?? sshdSkipReason();
let d: Libvirtd | undefined;
let sshd: Sshd | undefined;

test.before(async () => {
  if (skip) return;
  d = await startLibvirtd();
  sshd = await startSshd({ libvirtRunDir: dirname(d.unixSocket) });
});
test.after(async () => {
  await sshd?.stop();
  await d?.stop();
});

const base = () => `test+ssh://${sshd!.user}@127.0.0.1:${sshd!.port}/default`;

test('netcat mode (?socket=): CONNECT_GET_TYPE over ssh', { skip }, async () => {
  const r = await openAndGetType(`${base()}?socket=${d!.unixSocket}&${sshd!.uriParams}`);
  assert.equal(r.type, 'TEST');
  assert.equal(r.secure, true);
  assert.equal(r.encrypted, false);
});

test('virt-ssh-helper mode (default auto proxy): CONNECT_GET_TYPE over ssh', { skip }, async () => {
  const target = resolveUri(`${base()}?${sshd!.uriParams}`, { configFile: null });
  assert.match(target.command!.at(-1)!, /virt-ssh-helper 'test:\/\/\/default'/);
  const r = await openAndGetType(`${base()}?${sshd!.uriParams}`);
  assert.equal(r.type, 'TEST');
});

test('native proxy, read-only: virt-ssh-helper -r reaches libvirt-sock-ro', { skip }, async () => {
  const r = await openAndGetType(`${base()}?proxy=native&${sshd!.uriParams}`, { readonly: true });
  assert.equal(r.type, 'TEST');
});

/** Opens the channel and makes the first call; returns the error that ended it. */
async function firstCallError(uri: string): Promise<Error> {
  const target = resolveUri(uri, { configFile: null });
  let ch;
  try {
    ch = await openRemoteChannel(target, { timeoutMs: 15_000 });
  } catch (e) {
    return e as Error;
  }
  const client = new RpcClient(ch.channel, { defaultTimeoutMs: 15_000 });
  try {
    await client.call(RemoteProcedures.AUTH_LIST, undefined);
    return new Error('unexpectedly worked');
  } catch (e) {
    return e as Error;
  } finally {
    ch.channel.destroy();
  }
}

test('a far side without the netcat program: the error names it', { skip }, async () => {
  const e = await firstCallError(`${base()}?socket=${d!.unixSocket}&netcat=/nonexistent/nc&${sshd!.uriParams}`);
  assert.match(e.message, /^Cannot recv data: .*\/nonexistent\/nc: not found.*neither virt-ssh-helper nor nc/);
  assert.match(e.message, /ssh to '127\.0\.0\.1'/);
});

test('a far socket nobody listens on: the error says so', { skip }, async () => {
  const e = await firstCallError(`${base()}?socket=/nonexistent.sock&${sshd!.uriParams}`);
  assert.match(e.message, /nonexistent\.sock.*No such file or directory.*no libvirt daemon listens on the remote socket/);
});

test('ssh itself failing (nothing listens on the port) gives ssh\'s words and exit status', { skip }, async () => {
  const e = await firstCallError(`test+ssh://127.0.0.1:1/default?${sshd!.uriParams}`);
  assert.match(e.message, /Connection refused.*exit status 255.*ssh itself failed/);
});

test('a missing ssh binary fails at open, naming the program and the URI', async () => {
  const e = await firstCallError('test+ssh://h/default?command=/nonexistent/ssh');
  assert.ok(e instanceof RemoteOpenError);
  assert.match(e.message, /^Cannot run program '\/nonexistent\/ssh': No such file or directory/);
  assert.match(e.message, /URI 'test\+ssh:\/\/h\/default\?command=\/nonexistent\/ssh', transport ssh/);
});
