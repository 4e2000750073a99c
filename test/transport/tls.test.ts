// TLS transport: our client against a private libvirtd listening with TLS (real GnuTLS peer), and against
// small node:tls servers presenting bad certificates or a refusing status byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { openRemoteChannel, RemoteOpenError } from '../../src/drivers/remote/channel.js';
import { resolveUri } from '../../src/drivers/remote/uri.js';
import { VirErrorNumber } from '../../src/rpc/errors.js';
import { locateClientCredentials, SYSTEM_PKI } from '../../src/transport/tls.js';
import { libvirtdSkipReason, startLibvirtd } from '../harness/libvirtd.js';
import { makeTestPki, type CertPair } from '../harness/tls-certs.js';
import { openAndGetType } from './remote-session.js';

const pki = makeTestPki();
test.after(() => pki.remove());

test('a private libvirtd over TLS: AUTH_LIST, CONNECT_OPEN, CONNECT_GET_TYPE', { skip: libvirtdSkipReason() }, async () => {
  const d = await startLibvirtd({ tls: { caFile: pki.ca.cert, certFile: pki.server.cert, keyFile: pki.server.key } });
  try {
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await openAndGetType(`test+tls://${host}:${d.tlsPort}/default?pkipath=${pki.clientPkiPath}`);
      assert.deepEqual(r.authTypes, [0]);
      assert.equal(r.type, 'TEST');
      assert.equal(r.description, `tls:${host}:${d.tlsPort}`);
      assert.equal(r.secure, true);
      assert.equal(r.encrypted, true);
    }
    // No client certificate: libvirtd completes the handshake, then refuses with its status byte.
    const caOnly = join(pki.dir, 'ca-only');
    mkdirSync(caOnly, { recursive: true });
    copyFileSync(pki.ca.cert, join(caOnly, 'cacert.pem'));
    const target = resolveUri(`test+tls://127.0.0.1:${d.tlsPort}/default?pkipath=${caOnly}`, { configFile: null });
    await assert.rejects(openRemoteChannel(target, { timeoutMs: 10_000 }), (e: unknown) => {
      assert.ok(e instanceof RemoteOpenError);
      assert.equal(e.libvirtMessage, 'server verification (of our certificate or IP address) failed');
      return true;
    });
  } finally {
    await d.stop();
  }
});

/** A TLS server with `pair` that sends `status` (or nothing) after the handshake. */
async function fakeServer(pair: CertPair, status: number[] | null): Promise<{ port: number; server: Server }> {
  const server = createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (s: TLSSocket) => {
    s.on('error', () => undefined);
    if (status === null) s.end();
    else s.write(Buffer.from(status));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, server };
}

async function openFake(pair: CertPair, status: number[] | null, query = '', host = '127.0.0.1'): Promise<RemoteOpenError | 'ok'> {
  const { port, server } = await fakeServer(pair, status);
  try {
    const target = resolveUri(`test+tls://${host}:${port}/default?pkipath=${pki.clientPkiPath}${query}`, { configFile: null });
    const ch = await openRemoteChannel(target, { timeoutMs: 5000 });
    ch.channel.destroy();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof RemoteOpenError, String(e));
    return e;
  } finally {
    server.close();
  }
}

test('a good certificate and status byte 1: the channel opens, bytes after the status byte are kept', async () => {
  const { port, server } = await fakeServer(pki.server, [1, 0x41, 0x42]);
  try {
    const target = resolveUri(`test+tls://127.0.0.1:${port}/default?pkipath=${pki.clientPkiPath}`, { configFile: null });
    const ch = await openRemoteChannel(target, {});
    const [chunk] = (await once(ch.channel, 'data')) as [Buffer];
    assert.equal(chunk.toString('latin1'), 'AB');
    ch.channel.destroy();
  } finally {
    server.close();
  }
});

test('server certificate from an unknown CA is refused', async () => {
  const e = await openFake(pki.wrongCaServer, [1]);
  assert.ok(e !== 'ok');
  assert.equal(e.code, VirErrorNumber.AUTH_FAILED);
  assert.match(e.message, /^authentication failed: Failed to verify peer's certificate: .*hasn't got a known issuer/);
  assert.match(e.message, /URI 'test\+tls:\/\/127\.0\.0\.1:\d+\/default\?pkipath=.*', transport tls, tls:127\.0\.0\.1:\d+/);
});

test('server certificate for another host name is refused, and accepted with no_verify=1', async () => {
  const e = await openFake(pki.wrongHostServer, [1]);
  assert.ok(e !== 'ok');
  assert.equal(e.code, VirErrorNumber.AUTH_FAILED);
  assert.match(e.message, /owner does not match the hostname 127\.0\.0\.1/);
  assert.equal(await openFake(pki.wrongHostServer, [1], '&no_verify=1'), 'ok');
});

test('an expired server certificate is refused', async () => {
  const e = await openFake(pki.expiredServer, [1]);
  assert.ok(e !== 'ok');
  assert.equal(e.code, VirErrorNumber.AUTH_FAILED);
  assert.match(e.message, /expired/);
});

test('status byte 0, or EOF instead of it, is libvirt\'s "server verification" failure', async () => {
  for (const status of [[0], null]) {
    const e = await openFake(pki.server, status);
    assert.ok(e !== 'ok');
    assert.equal(e.code, VirErrorNumber.RPC);
    assert.equal(e.libvirtMessage, 'server verification (of our certificate or IP address) failed');
  }
});

test('a missing CA certificate is reported before connecting, with its path', async () => {
  const target = resolveUri('test+tls://127.0.0.1:1/default?pkipath=/nonexistent', { configFile: null });
  await assert.rejects(openRemoteChannel(target, {}), (e: unknown) => {
    assert.ok(e instanceof RemoteOpenError);
    assert.equal(e.libvirtMessage, "Cannot read CA certificate '/nonexistent/cacert.pem': No such file or directory");
    return true;
  });
});

test('PKI file locations follow libvirt: system paths for root, ~/.pki/libvirt for users when present', () => {
  assert.deepEqual(locateClientCredentials(undefined, false), SYSTEM_PKI);
  assert.equal(locateClientCredentials('/p', false).key, '/p/clientkey.pem');
  // A user without ~/.pki/libvirt falls back to the system files.
  assert.deepEqual(locateClientCredentials(undefined, true, '/nonexistent-home'), SYSTEM_PKI);
  assert.equal(SYSTEM_PKI.cacert, '/etc/pki/CA/cacert.pem');
  assert.equal(SYSTEM_PKI.cert, '/etc/pki/libvirt/clientcert.pem');
  assert.equal(SYSTEM_PKI.key, '/etc/pki/libvirt/private/clientkey.pem');
});
