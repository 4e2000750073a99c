// Bad definitions fail with libvirt's exact error code, domain and message
// (recorded from real libvirt 9.0 in test/fixtures/xml/errors.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureDir } from './fixtures.js';
import { XmlModelError } from '../../src/api/xml/errors.js';
import { parseDomainXml } from '../../src/api/xml/domain/parse.js';
import { parseNetworkXml } from '../../src/api/xml/network.js';
import { parsePoolXml } from '../../src/api/xml/storage-pool.js';
import { parseVolXml } from '../../src/api/xml/storage-vol.js';
import { parseIfaceXml } from '../../src/api/xml/interface.js';

interface ErrCase { case: string; kind: string; xml: string; code: number; domain: number; message: string }
const cases = JSON.parse(readFileSync(join(fixtureDir, 'errors.json'), 'utf8')) as ErrCase[];
const parsers: Record<string, (x: string) => unknown> = {
  domain: parseDomainXml, network: parseNetworkXml, pool: parsePoolXml, volume: parseVolXml, interface: parseIfaceXml,
};

for (const c of cases) {
  test(`${c.kind} ${c.case}: ${c.code}/${c.domain}`, () => {
    let err: unknown;
    try {
      parsers[c.kind](c.xml);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof XmlModelError, `expected XmlModelError, got ${String(err)}`);
    assert.deepEqual({ code: err.code, domain: err.domain, message: err.message }, { code: c.code, domain: c.domain, message: c.message });
  });
}

test('valid XML parses without error', () => {
  assert.doesNotThrow(() => parseDomainXml("<domain type='test'><name>x</name><memory>1024</memory><os><type>hvm</type></os></domain>"));
});
