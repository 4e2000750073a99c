// Domains: parse each source definition of the three test-driver configs, apply the test
// driver's define-time defaults, and compare live / --inactive / --security-info output
// with real virsh byte for byte. The pass count is printed; the floor is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIGS, dumpDiff, fixture, loadConfig, manifest } from './fixtures.js';
import { parseDomain, parseDomainXml } from '../../src/api/xml/domain/parse.js';
import { formatDomain } from '../../src/api/xml/domain/format.js';
import { childText, child, textOf } from '../../src/api/xml/tree.js';
import { applyTestDomainDefaults } from '../../src/drivers/test/xml/domain-defaults.js';

/** Fixtures we must match; raise as coverage grows. */
const FLOOR: Record<string, number> = { default: 3, testnode: 6, testdriver: 39 };

for (const set of Object.keys(CONFIGS)) {
  test(`${set}: domains match virsh dumpxml byte for byte`, () => {
    const cfg = loadConfig(CONFIGS[set]);
    const rows = manifest(set).filter((r) => r.kind === 'domain');
    let pass = 0;
    const failed: string[] = [];
    let nextId = 1;
    for (const el of cfg.domains) {
      const name = childText(el, 'name') ?? '';
      const row = rows.find((r) => r.name === name);
      // The test driver starts domains unless told otherwise (test:runstate 5 = shut off).
      const runstate = textOf(child(el, 'test:runstate'));
      const running = runstate === undefined || runstate.trim() !== '5';
      const transient = child(el, 'test:transient') !== undefined;
      const id = running ? nextId++ : undefined;
      if (!row) continue;
      let live;
      try {
        live = parseDomain(el);
      } catch (e) {
        failed.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      applyTestDomainDefaults(live);
      const want = (suffix: string) => fixture(set, `${row.file}${suffix}.xml`);
      if (childText(el, 'uuid') === undefined) live.uuid = /<uuid>([^<]*)</.exec(want(''))?.[1] ?? live.uuid;
      // A started persistent domain keeps a re-parsed copy as its inactive definition.
      let inactive = live;
      if (running && !transient) {
        inactive = parseDomainXml(formatDomain(live, { inactive: true, secure: true }));
        applyTestDomainDefaults(inactive);
        inactive.uuid = /<uuid>([^<]*)</.exec(want('.inactive'))?.[1] ?? inactive.uuid;
      }
      const outs: [string, string][] = [
        ['', formatDomain(live, { id })],
        ['.inactive', formatDomain(inactive, { inactive: true })],
        ['.secure', formatDomain(live, { id, secure: true })],
      ];
      for (const [suffix, got] of outs) {
        const w = want(suffix);
        {
          // libvirt picks a fresh random UUID per connection for UUID-less domains.
          const u = /<uuid>([^<]*)</.exec(w)?.[1];
          if (childText(el, 'uuid') === undefined && u) {
            if (got.replace(/<uuid>[^<]*</, `<uuid>${u}<`) === w) { pass++; continue; }
          }
        }
        if (got === w) pass++;
        else {
          failed.push(`${name}${suffix}`);
          dumpDiff(set, `${row.file}${suffix}.xml`, got, w);
        }
      }
    }
    console.log(`${set}: ${pass}/${rows.length * 3} domain fixtures match; failing: ${failed.join(', ')}`);
    assert.ok(pass >= FLOOR[set], `only ${pass} domain fixtures match`);
  });
}
