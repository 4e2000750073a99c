// Test PKI made with the openssl CLI: a CA, server and client certificates in libvirt's layout, and the
// bad cases (a server certificate from another CA, one for another host name, an expired one).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  /** The CA's certificate (and key, to sign more). */
  readonly ca: CertPair;
  /** CN 127.0.0.1, SAN IP:127.0.0.1 and DNS:localhost. */
  readonly server: CertPair;
  /** CN tsvirt-client, clientAuth. */
  readonly client: CertPair;
  /** A server certificate (same names) signed by an unrelated CA, and that CA. */
  readonly wrongCaServer: CertPair;
  readonly wrongCa: CertPair;
  /** Signed by the CA, but for wrong.example.com only. */
  readonly wrongHostServer: CertPair;
  /** Signed by the CA, valid only during 2020-01-01. */
  readonly expiredServer: CertPair;
  /** A directory laid out for ?pkipath=: cacert.pem, clientcert.pem, clientkey.pem. */
  readonly clientPkiPath: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const SERVER_EXT = (names: string) =>
  `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`;
const CLIENT_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

function makeCa(dir: string, name: string): CertPair {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { cert, key };
}

function makeLeaf(dir: string, name: string, ca: CertPair, cn: string, ext: string, validity?: { start: string; end: string }): CertPair {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], dir);
  if (!validity) {
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '30', '-extfile', extFile, '-out', cert], dir);
    return { cert, key };
  }
  // `openssl x509` cannot back-date; `openssl ca` can, given a throwaway database.
  const db = join(dir, `${name}-db`);
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '1000\n');
  const conf = join(dir, `${name}-ca.cnf`);
  writeFileSync(conf, `[ca]\ndefault_ca=c\n[c]\ndatabase=${db}/index.txt\nserial=${db}/serial\nnew_certs_dir=${db}\n` +
    `default_md=sha256\npolicy=p\ncopy_extensions=none\n[p]\ncommonName=supplied\n`);
  openssl(['ca', '-batch', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert, '-notext',
    '-startdate', validity.start, '-enddate', validity.end, '-extfile', extFile], dir);
  return { cert, key };
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-pki-'));
  const ca = makeCa(dir, 'ca');
  const wrongCa = makeCa(dir, 'wrong-ca');
  const sans = 'IP:127.0.0.1,DNS:localhost';
  const server = makeLeaf(dir, 'server', ca, '127.0.0.1', SERVER_EXT(sans));
  const client = makeLeaf(dir, 'client', ca, 'tsvirt-client', CLIENT_EXT);
  const wrongCaServer = makeLeaf(dir, 'wrongca-server', wrongCa, '127.0.0.1', SERVER_EXT(sans));
  const wrongHostServer = makeLeaf(dir, 'wronghost-server', ca, 'wrong.example.com', SERVER_EXT('DNS:wrong.example.com'));
  const expiredServer = makeLeaf(dir, 'expired-server', ca, '127.0.0.1', SERVER_EXT(sans), { start: '20200101000000Z', end: '20200102000000Z' });
  const clientPkiPath = join(dir, 'client-pki');
  mkdirSync(clientPkiPath);
  copyFileSync(ca.cert, join(clientPkiPath, 'cacert.pem'));
  copyFileSync(client.cert, join(clientPkiPath, 'clientcert.pem'));
  copyFileSync(client.key, join(clientPkiPath, 'clientkey.pem'));
  return {
    dir, ca, server, client, wrongCaServer, wrongCa, wrongHostServer, expiredServer, clientPkiPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
