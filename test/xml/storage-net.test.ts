// Networks, pools, volumes and host interfaces: parse each source definition from the
// three test-driver configs and compare our formatted XML with real virsh output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIGS, dumpDiff, fixture, loadConfig, manifest } from './fixtures.js';
import { parseNetwork, formatNetwork } from '../../src/api/xml/network.js';
import { parsePool, formatPool } from '../../src/api/xml/storage-pool.js';
import { parseVol, formatVol } from '../../src/api/xml/storage-vol.js';
import { parseIface, formatIface } from '../../src/api/xml/interface.js';
import { childText, attr } from '../../src/api/xml/tree.js';
import { applyPoolDefaults, addVolumeToPool } from '../../src/drivers/test/xml/storage-defaults.js';

for (const set of Object.keys(CONFIGS)) {
  test(`${set}: networks, pools, volumes, interfaces match virsh byte for byte`, () => {
    const cfg = loadConfig(CONFIGS[set]);
    const ours = new Map<string, string>();
    for (const n of cfg.networks) {
      const d = parseNetwork(n);
      ours.set(`network-${d.name}`, formatNetwork(d));
      if (childText(n, 'uuid') !== undefined) ours.set(`network-${d.name}#uuid`, '');
    }
    for (const { pool, volumes } of cfg.pools) {
      const p = parsePool(pool);
      applyPoolDefaults(p);
      for (const v of volumes) {
        const vol = parseVol(v);
        addVolumeToPool(p, vol);
        ours.set(`volume-${p.name}/${vol.name}`, formatVol(vol, p.type));
      }
      ours.set(`pool-${p.name}`, formatPool(p));
      if (childText(pool, 'uuid') !== undefined) ours.set(`pool-${p.name}#uuid`, '');
    }
    for (const i of cfg.interfaces) ours.set(`interface-${attr(i, 'name') ?? childText(i, 'name')}`, formatIface(parseIface(i)));
    const failed: string[] = [];
    let total = 0;
    for (const row of manifest(set)) {
      if (row.kind === 'domain') continue;
      total++;
      const key = row.kind === 'volume' ? `volume-${row.pool}/${row.name}` : `${row.kind}-${row.name}`;
      const want = fixture(set, `${row.file}.xml`);
      let got = ours.get(key);
      // Objects defined without a UUID get a random one from both libvirt and us.
      if (got && !ours.has(`${key}#uuid`)) got = got.replace(/<uuid>[^<]*</, want.match(/<uuid>[^<]*</)?.[0] ?? '');
      if (got !== want) failed.push(key);
      if (got !== want) dumpDiff(set, row.file, got ?? '', want);
    }
    console.log(`${set}: ${total - failed.length}/${total} non-domain fixtures match`);
    assert.deepEqual(failed, []);
  });
}
