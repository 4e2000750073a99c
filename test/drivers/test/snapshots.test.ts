// Snapshots: dumpxml of the testdriver.xml snapshots byte for byte against virsh's output,
// tree/current bookkeeping, and revert's events as libvirt 9.0 raises them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../harness/golden.js';
import { call, errOf, lifecycleLog, open, TESTDRIVER_XML } from './helpers.js';

interface SnapFixture { xml: string; parent: string | null; current: number; children: string[] }

test('testdriver.xml snapshots match snapshot-dumpxml', async () => {
  const want = JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', 'drivers', 'test', 'testdriver-state.json'), 'utf8')) as {
    snapshots: Record<string, SnapFixture>;
  };
  const c = await open(`test://${TESTDRIVER_XML}`);
  try {
    const dom = call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'test-snapshots' }).dom;
    const all = call(c, 'DOMAIN_LIST_ALL_SNAPSHOTS', { dom, needResults: 1, flags: 0 });
    assert.deepEqual(all.snapshots.map((s) => s.name).sort(), Object.keys(want.snapshots).sort());
    for (const [name, w] of Object.entries(want.snapshots)) {
      const snap = { name, dom };
      assert.equal(call(c, 'DOMAIN_SNAPSHOT_GET_XML_DESC', { snap, flags: 0 }).xml, w.xml, name);
      assert.equal(call(c, 'DOMAIN_SNAPSHOT_IS_CURRENT', { snap, flags: 0 }).current, w.current, name);
      const kids = call(c, 'DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN', { snapshot: snap, needResults: 1, flags: 0 });
      assert.deepEqual(kids.snapshots.map((s) => s.name).sort(), w.children, name);
      if (w.parent === null) {
        assert.deepEqual(errOf(() => call(c, 'DOMAIN_SNAPSHOT_GET_PARENT', { snap, flags: 0 })), [
          72, 12, `Domain snapshot not found: snapshot '${name}' does not have a parent`,
        ]);
      } else assert.equal(call(c, 'DOMAIN_SNAPSHOT_GET_PARENT', { snap, flags: 0 }).snap.name, w.parent);
    }
  } finally {
    c.close();
  }
});

test('create, revert and delete on test:///default', async () => {
  const c = await open('test:///default');
  try {
    const log = lifecycleLog(c);
    const dom = call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'test' }).dom;
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SNAPSHOT_CURRENT', { dom, flags: 0 })), [
      72, 12, 'Domain snapshot not found: the domain does not have a current snapshot',
    ]);
    const create = (name: string, flags = 0) =>
      call(c, 'DOMAIN_SNAPSHOT_CREATE_XML', { dom, xmlDesc: `<domainsnapshot><name>${name}</name></domainsnapshot>`, flags }).snap;
    const s1 = create('s1');
    const x1 = call(c, 'DOMAIN_SNAPSHOT_GET_XML_DESC', { snap: s1, flags: 0 }).xml;
    assert.match(x1, /^<domainsnapshot>\n {2}<name>s1<\/name>\n {2}<state>running<\/state>\n {2}<creationTime>\d+<\/creationTime>\n {2}<memory snapshot='internal'\/>\n {2}<disks>\n {4}<disk name='vda' snapshot='internal'\/>\n {2}<\/disks>\n {2}<domain type='test'>\n {4}<name>test<\/name>/);
    assert.deepEqual(errOf(() => create('s1')), [9, 20, 'operation failed: domain moment s1 already exists']);
    call(c, 'DOMAIN_SUSPEND', { dom });
    const s2 = create('s2');
    assert.equal(call(c, 'DOMAIN_SNAPSHOT_GET_PARENT', { snap: s2, flags: 0 }).snap.name, 's1');
    assert.equal(call(c, 'DOMAIN_SNAPSHOT_NUM_CHILDREN', { snap: s1, flags: 0 }).num, 1);
    log.length = 0;
    call(c, 'DOMAIN_REVERT_TO_SNAPSHOT', { snap: s1, flags: 0 });
    assert.deepEqual(log, ['5/6', '2/3']);
    assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 1, reason: 4 });
    log.length = 0;
    call(c, 'DOMAIN_REVERT_TO_SNAPSHOT', { snap: s2, flags: 0 });
    assert.deepEqual(log, ['5/6', '2/3', '3/5']);
    assert.deepEqual(call(c, 'DOMAIN_GET_STATE', { dom, flags: 0 }), { state: 3, reason: 7 });
    call(c, 'DOMAIN_DESTROY', { dom });
    const s4 = create('s4');
    assert.match(call(c, 'DOMAIN_SNAPSHOT_GET_XML_DESC', { snap: s4, flags: 0 }).xml, /<state>shutoff<\/state>[\s\S]*<memory snapshot='no'\/>/);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_UNDEFINE', { dom })), [55, 12, 'Requested operation is not valid: cannot delete inactive domain with 3 snapshots']);
    const names = (flags: number): string[] => call(c, 'DOMAIN_LIST_ALL_SNAPSHOTS', { dom, needResults: 1, flags }).snapshots.map((s) => s.name).sort();
    assert.deepEqual(names(1), ['s1']);
    assert.deepEqual(names(4), ['s4']);
    assert.deepEqual(names(32), ['s4']);
    call(c, 'DOMAIN_SNAPSHOT_DELETE', { snap: s1, flags: 0 });
    assert.deepEqual(names(1), ['s2']);
    assert.equal(call(c, 'DOMAIN_SNAPSHOT_CURRENT', { dom, flags: 0 }).snap.name, 's4');
    call(c, 'DOMAIN_SNAPSHOT_DELETE', { snap: s4, flags: 0 });
    assert.equal(call(c, 'DOMAIN_SNAPSHOT_CURRENT', { dom, flags: 0 }).snap.name, 's2');
    call(c, 'DOMAIN_SNAPSHOT_DELETE', { snap: s2, flags: 1 });
    assert.equal(call(c, 'DOMAIN_HAS_CURRENT_SNAPSHOT', { dom, flags: 0 }).result, 0);
  } finally {
    c.close();
  }
});
