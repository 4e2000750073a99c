import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import { abortable } from './abortable.js';
import { describeSysError } from './errors.js';
import { connectTcp } from './tcp.js';

/** libvirtd's TLS port. */
export const DEFAULT_TLS_PORT = 16514;

/** libvirt's system-wide PKI layout for clients. */
export const SYSTEM_PKI = {
  cacert: '/etc/pki/CA/cacert.pem',
  cacrl: '/etc/pki/CA/cacrl.pem',
  cert: '/etc/pki/libvirt/clientcert.pem',
  key: '/etc/pki/libvirt/private/clientkey.pem',
} as const;

export interface ClientCredentialPaths {
  cacert: string;
  cacrl: string;
  cert: string;
  key: string;
}

/**
 * Where libvirt looks for the client's CA, CRL, certificate and key: all in `pkipath` when given
 * (existing or not); else, for non-root users, ~/.pki/libvirt file by file (cert and key as a pair),
 * falling back to the system paths for whatever is missing there.
 */
export function locateClientCredentials(pkipath: string | undefined, tryUserPki: boolean, home = homedir()): ClientCredentialPaths {
  if (pkipath !== undefined) {
    return {
      cacert: join(pkipath, 'cacert.pem'),
      cacrl: join(pkipath, 'cacrl.pem'),
      cert: join(pkipath, 'clientcert.pem'),
      key: join(pkipath, 'clientkey.pem'),
    };
  }
  const out: ClientCredentialPaths = { ...SYSTEM_PKI };
  if (tryUserPki) {
    const dir = join(home, '.pki', 'libvirt');
    const user = { cacert: join(dir, 'cacert.pem'), cacrl: join(dir, 'cacrl.pem'), cert: join(dir, 'clientcert.pem'), key: join(dir, 'clientkey.pem') };
    if (existsSync(user.cacert)) out.cacert = user.cacert;
    if (existsSync(user.cacrl)) out.cacrl = user.cacrl;
    if (existsSync(user.cert) && existsSync(user.key)) {
      out.cert = user.cert;
      out.key = user.key;
    }
  }
  return out;
}

export interface TlsConnectOptions {
  host: string;
  port: number;
  credentials: ClientCredentialPaths;
  /** ?no_verify=1: accept a server certificate that fails validation or names another host. */
  noVerify: boolean;
  signal?: AbortSignal;
}

const rpcErr = (code: VirErrorNumber, message: string, cause?: unknown) =>
  new VirError({ code, domain: VirErrorDomain.RPC, message, cause });

function readCredential(kind: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw rpcErr(VirErrorNumber.SYSTEM_ERROR, `Cannot read ${kind} '${path}': ${describeSysError(err)}`, err);
  }
}

/** Node's verification codes in GnuTLS/libvirt words. */
function verifyReason(code: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'The certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'The certificate is not yet activated';
    case 'CERT_REVOKED':
      return 'The certificate has been revoked.';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return "The certificate hasn't got a known issuer.";
    default:
      return 'The certificate is not trusted.';
  }
}

/** The server's certificate problem, or undefined when it is valid for `host`. */
function serverCertProblem(sock: TLSSocket, host: string): string | undefined {
  if (!sock.authorized) {
    const err = sock.authorizationError as (Error & { code?: string }) | string | null;
    const code = typeof err === 'string' ? err : (err?.code ?? err?.message ?? 'unknown');
    return `Certificate failed validation: ${verifyReason(code)} (${code})`;
  }
  const idErr = checkServerIdentity(host, sock.getPeerCertificate());
  if (idErr) return `Certificate [session] owner does not match the hostname ${host}`;
  return undefined;
}

/**
 * TCP, then a TLS handshake with libvirt's PKI files, verification of the server certificate and its
 * name (unless noVerify), then exactly one byte from the server: 1 means it accepted our certificate
 * and address; anything else, or EOF, is libvirt's "server verification ... failed".
 */
export async function connectTls(opts: TlsConnectOptions): Promise<TLSSocket> {
  const c = opts.credentials;
  const ca = readCredential('CA certificate', c.cacert);
  const crl = existsSync(c.cacrl) ? readCredential('CA revocation list', c.cacrl) : undefined;
  const haveCert = existsSync(c.cert) && existsSync(c.key);
  const cert = haveCert ? readCredential('client certificate', c.cert) : undefined;
  const key = haveCert ? readCredential('client key', c.key) : undefined;

  const raw = await connectTcp(opts.host, opts.port, opts.signal);
  const sock = await abortable<TLSSocket>((done) => {
    const s = tlsConnect({
      socket: raw,
      ca,
      ...(crl ? { crl } : {}),
      ...(cert && key ? { cert, key } : {}),
      ...(isIP(opts.host) ? {} : { servername: opts.host }),
      // We check ourselves to word failures like libvirt and to honour no_verify.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const onError = (err: Error) =>
      done(rpcErr(VirErrorNumber.AUTH_FAILED, `authentication failed: TLS handshake failed ${err.message}`, err));
    s.once('error', onError);
    s.once('secureConnect', () => {
      s.off('error', onError);
      const problem = serverCertProblem(s, opts.host);
      if (problem !== undefined && !opts.noVerify) {
        s.destroy();
        done(rpcErr(VirErrorNumber.AUTH_FAILED, `authentication failed: Failed to verify peer's certificate: ${problem}`));
        return;
      }
      done(null, s);
    });
    return () => s.destroy();
  }, opts.signal).catch((err: unknown) => {
    raw.destroy();
    throw err;
  });
  await readConfirmation(sock, opts.signal);
  return sock;
}

/** Reads the one status byte and leaves everything after it buffered for the RPC client. */
function readConfirmation(sock: TLSSocket, signal?: AbortSignal): Promise<void> {
  const refused = () =>
    rpcErr(VirErrorNumber.RPC, 'server verification (of our certificate or IP address) failed');
  return abortable<void>((done) => {
    const cleanup = () => {
      sock.off('readable', onReadable);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onError);
    };
    const finish = (err: VirError | null) => {
      cleanup();
      if (err) sock.destroy();
      done(err);
    };
    const onReadable = () => {
      const b = sock.read(1) as Buffer | null;
      if (b === null) return;
      finish(b[0] === 1 ? null : refused());
    };
    const onEnd = () => finish(refused());
    const onError = (err: Error) =>
      finish(rpcErr(VirErrorNumber.SYSTEM_ERROR, `Unable to read TLS confirmation: ${err.message}`, err));
    sock.on('readable', onReadable);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.once('error', onError);
    return () => {
      cleanup();
      sock.destroy();
    };
  }, signal);
}
