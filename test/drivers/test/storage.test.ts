import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoragePoolStore } from '../../../src/drivers/test/storage.js';
import { ROOT, TESTNODE, call, callFails, loadConfig, realLibvirt, recorder } from './node-helpers.js';

const P2 = "<pool type='dir'><name>p2</name><uuid>11111111-2222-3333-4444-555555555555</uuid><target><path>/p2</path></target></pool>";
const T1 = "<volume><name>t1.img</name><capacity unit='M'>1</capacity></volume>";

function fresh(path?: string) {
  const ev = recorder();
  const m = new StoragePoolStore(loadConfig(path).pools, ev.emit).methods();
  return { m, ev };
}

async function defaultPool(m: ReturnType<typeof fresh>['m']) {
  return (await call(m, 'STORAGE_POOL_LOOKUP_BY_NAME', { name: 'default-pool' })).pool;
}

test('default-pool dumps like virsh pool-dumpxml and reports 100 GiB', async () => {
  const { m } = fresh();
  const pool = await defaultPool(m);
  const { xml } = await call(m, 'STORAGE_POOL_GET_XML_DESC', { pool, flags: 0 });
  assert.equal(xml, readFileSync(join(ROOT, 'test/fixtures/xml/default/pool-default-pool.xml'), 'utf8'));
  assert.deepEqual(await call(m, 'STORAGE_POOL_GET_INFO', { pool }), {
    state: 2, capacity: 107374182400n, allocation: 0n, available: 107374182400n,
  });
});

test('volume accounting and lookups match real libvirt (vol-create-as, vol-info, pool-info)', async () => {
  const real = realLibvirt(`
c = libvirt.open("test:///default")
p = c.storagePoolLookupByName("default-pool")
out = []
v = p.createXML(${JSON.stringify(T1)}, 0)
out.append([v.key(), v.XMLDesc(0), v.info(), p.info()])
v2 = p.createXML("<volume><name>t2.img</name><capacity>1000</capacity><allocation>10</allocation><target><path>/x/y</path><format type='qcow2'/></target></volume>", 0)
v4 = p.createXMLFrom("<volume><name>t4.img</name><capacity>5</capacity></volume>", v2, 0)
out.append([v2.XMLDesc(0), v4.XMLDesc(0), p.info(), sorted(p.listVolumes()), p.numOfVolumes()])
out.append([c.storageVolLookupByPath("/default-pool/t2.img").name(), c.storageVolLookupByKey("/default-pool/t4.img").name(), v.path()])
v.delete(0)
out.append(p.info())
print(json.dumps(out))
`) as unknown[];
  const { m } = fresh();
  const pool = await defaultPool(m);
  const info = async () => Object.values(await call(m, 'STORAGE_POOL_GET_INFO', { pool })).map(Number);
  const ours: unknown[] = [];
  const { vol } = await call(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: T1, flags: 0 });
  const vi = await call(m, 'STORAGE_VOL_GET_INFO', { vol });
  ours.push([vol.key, (await call(m, 'STORAGE_VOL_GET_XML_DESC', { vol, flags: 0 })).xml, [vi.type, Number(vi.capacity), Number(vi.allocation)], await info()]);
  const v2 = (await call(m, 'STORAGE_VOL_CREATE_XML', {
    pool, flags: 0,
    xml: "<volume><name>t2.img</name><capacity>1000</capacity><allocation>10</allocation><target><path>/x/y</path><format type='qcow2'/></target></volume>",
  })).vol;
  const v4 = (await call(m, 'STORAGE_VOL_CREATE_XML_FROM', { pool, xml: '<volume><name>t4.img</name><capacity>5</capacity></volume>', clonevol: v2, flags: 0 })).vol;
  ours.push([
    (await call(m, 'STORAGE_VOL_GET_XML_DESC', { vol: v2, flags: 0 })).xml,
    (await call(m, 'STORAGE_VOL_GET_XML_DESC', { vol: v4, flags: 0 })).xml,
    await info(),
    (await call(m, 'STORAGE_POOL_LIST_VOLUMES', { pool, maxnames: 100 })).names.sort(),
    (await call(m, 'STORAGE_POOL_NUM_OF_VOLUMES', { pool })).num,
  ]);
  ours.push([
    (await call(m, 'STORAGE_VOL_LOOKUP_BY_PATH', { path: '/default-pool/t2.img' })).vol.name,
    (await call(m, 'STORAGE_VOL_LOOKUP_BY_KEY', { key: '/default-pool/t4.img' })).vol.name,
    (await call(m, 'STORAGE_VOL_GET_PATH', { vol })).name,
  ]);
  await call(m, 'STORAGE_VOL_DELETE', { vol, flags: 0 });
  ours.push(await info());
  assert.deepEqual(ours, real);
});

test('volume and pool errors carry libvirt codes and texts', async () => {
  const { m } = fresh();
  const pool = await defaultPool(m);
  await call(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: T1, flags: 0 });
  await callFails(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: T1, flags: 0 }, 9, 12, 'operation failed: storage vol already exists');
  await callFails(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: "<volume><name>big</name><capacity unit='T'>1</capacity></volume>", flags: 0 },
    1, 12, "internal error: Not enough free space in pool for volume 'big'");
  await callFails(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: T1, flags: 1 }, 8, 12, 'unsupported flags (0x1) in function testStorageVolCreateXML');
  await callFails(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: '<volume><capacity>1</capacity></volume>', flags: 0 }, 27, 18, 'XML error: missing volume name element');
  await callFails(m, 'STORAGE_VOL_LOOKUP_BY_KEY', { key: '/nope' }, 50, 12, "Storage volume not found: no storage vol with matching key '/nope'");
  await callFails(m, 'STORAGE_VOL_LOOKUP_BY_NAME', { pool, name: 'nope' }, 50, 12, "Storage volume not found: no storage vol with matching name 'nope'");
  await callFails(m, 'STORAGE_POOL_BUILD', { pool, flags: 0 }, 55, 12, "Requested operation is not valid: storage pool 'default-pool' is active");
  await callFails(m, 'STORAGE_POOL_LOOKUP_BY_NAME', { name: 'nope' }, 49, 12, "Storage pool not found: no storage pool with matching name 'nope'");
  await callFails(m, 'STORAGE_POOL_GET_XML_DESC', { pool, flags: 1 }, 8, 12, 'unsupported flags (0x1) in function testStoragePoolGetXMLDesc');
  await callFails(m, 'STORAGE_POOL_LIST_ALL_VOLUMES', { pool, needResults: 1, flags: 1 }, 8, 12, 'unsupported flags (0x1) in function testStoragePoolListAllVolumes');
  // Not in libvirt's test driver: left to the daemon's "not supported".
  for (const p of ['STORAGE_VOL_WIPE', 'STORAGE_VOL_RESIZE', 'STORAGE_VOL_GET_INFO_FLAGS', 'STORAGE_POOL_LOOKUP_BY_TARGET_PATH'] as const) {
    assert.equal(m[p], undefined, p);
  }
});

test('pool lifecycle raises the test driver events and keeps volumes across restarts', async () => {
  const { m, ev } = fresh();
  const pool = await defaultPool(m);
  await call(m, 'STORAGE_VOL_CREATE_XML', { pool, xml: T1, flags: 0 });
  await call(m, 'STORAGE_POOL_REFRESH', { pool, flags: 0 });
  await call(m, 'STORAGE_POOL_DESTROY', { pool });
  await callFails(m, 'STORAGE_POOL_DESTROY', { pool }, 55, 12, "Requested operation is not valid: storage pool 'default-pool' is not active");
  await callFails(m, 'STORAGE_POOL_LIST_ALL_VOLUMES', { pool, needResults: 1, flags: 0 }, 55, 12, 'Requested operation is not valid: storage pool is not active');
  await callFails(m, 'STORAGE_VOL_LOOKUP_BY_KEY', { key: '/default-pool/t1.img' }, 50, 12, "Storage volume not found: no storage vol with matching key '/default-pool/t1.img'");
  await call(m, 'STORAGE_POOL_BUILD', { pool, flags: 0 });
  await call(m, 'STORAGE_POOL_DELETE', { pool, flags: 0 });
  await call(m, 'STORAGE_POOL_CREATE', { pool, flags: 0 });
  assert.deepEqual((await call(m, 'STORAGE_POOL_LIST_ALL_VOLUMES', { pool, needResults: 1, flags: 0 })).vols.map((v) => v.name), ['t1.img']);
  assert.deepEqual(ev.take(), [
    ['storage_pool', 1, 'STORAGE_POOL_EVENT_REFRESH', 'default-pool', undefined, undefined],
    ['storage_pool', 0, 'STORAGE_POOL_EVENT_LIFECYCLE', 'default-pool', 3, 0],
    ['storage_pool', 0, 'STORAGE_POOL_EVENT_LIFECYCLE', 'default-pool', 4, 0],
    ['storage_pool', 0, 'STORAGE_POOL_EVENT_LIFECYCLE', 'default-pool', 5, 0],
    ['storage_pool', 0, 'STORAGE_POOL_EVENT_LIFECYCLE', 'default-pool', 2, 0],
  ]);
});

test('define, duplicates, transient pools and list filters match real libvirt', async () => {
  const real = realLibvirt(`
c = libvirt.open("test:///default")
out = []
def t(f):
    try:
        r = f()
        out.append(["ok", r if isinstance(r, (int, str, list)) else r.name()])
    except libvirt.libvirtError as e:
        out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
px = ${JSON.stringify(P2)}
t(lambda: c.storagePoolDefineXML(px, 0))
t(lambda: c.storagePoolLookupByName("p2").info())
t(lambda: c.storagePoolDefineXML(px.replace("<name>p2", "<name>p3"), 0))
t(lambda: c.storagePoolDefineXML(px.replace("1111111", "2222222"), 0))
t(lambda: c.storagePoolDefineXML(px.replace("1111111", "2222222").replace("<name>p2", "<name>p9"), 0))
t(lambda: c.storagePoolDefineXML("<pool type='foo'><name>x</name></pool>", 0))
t(lambda: c.storagePoolCreateXML(px, 0))
t(lambda: c.storagePoolCreateXML(px, 0))
t(lambda: c.storagePoolLookupByName("p2").isPersistent())
t(lambda: c.storagePoolLookupByName("p2").setAutostart(1))
t(lambda: sorted(x.name() for x in c.listAllStoragePools(8)))
t(lambda: sorted(x.name() for x in c.listAllStoragePools(1 << 6)))
t(lambda: sorted(x.name() for x in c.listAllStoragePools(1 << 9)))
t(lambda: c.listAllStoragePools(1 << 30))
t(lambda: c.storagePoolLookupByName("p2").destroy())
t(lambda: c.storagePoolLookupByName("p2"))
t(lambda: c.findStoragePoolSources("netfs", "<source><host name='foo'/></source>", 0))
t(lambda: c.findStoragePoolSources("netfs", None, 0))
t(lambda: c.findStoragePoolSources("dir", None, 0))
t(lambda: c.findStoragePoolSources("fs", None, 0))
t(lambda: c.findStoragePoolSources("logical", None, 0))
print(json.dumps(out))
`);
  const { m } = fresh();
  const ours: unknown[] = [];
  const t = async (f: () => Promise<unknown>) => {
    try {
      ours.push(['ok', await f()]);
    } catch (e) {
      const v = e as { code: number; domain: number; message: string };
      ours.push([v.code, v.domain, v.message]);
    }
  };
  const pool = async () => (await call(m, 'STORAGE_POOL_LOOKUP_BY_NAME', { name: 'p2' })).pool;
  const list = async (flags: number) => (await call(m, 'CONNECT_LIST_ALL_STORAGE_POOLS', { needResults: 1, flags })).pools.map((p) => p.name).sort();
  await t(async () => (await call(m, 'STORAGE_POOL_DEFINE_XML', { xml: P2, flags: 0 })).pool.name);
  await t(async () => Object.values(await call(m, 'STORAGE_POOL_GET_INFO', { pool: await pool() })).map(Number));
  await t(async () => (await call(m, 'STORAGE_POOL_DEFINE_XML', { xml: P2.replace('<name>p2', '<name>p3'), flags: 0 })).pool.name);
  await t(async () => (await call(m, 'STORAGE_POOL_DEFINE_XML', { xml: P2.replace('1111111', '2222222'), flags: 0 })).pool.name);
  await t(async () => (await call(m, 'STORAGE_POOL_DEFINE_XML', { xml: P2.replace('1111111', '2222222').replace('<name>p2', '<name>p9'), flags: 0 })).pool.name);
  await t(async () => (await call(m, 'STORAGE_POOL_DEFINE_XML', { xml: "<pool type='foo'><name>x</name></pool>", flags: 0 })).pool.name);
  await t(async () => (await call(m, 'STORAGE_POOL_CREATE_XML', { xml: P2, flags: 0 })).pool.name);
  await t(async () => (await call(m, 'STORAGE_POOL_CREATE_XML', { xml: P2, flags: 0 })).pool.name);
  await t(async () => (await call(m, 'STORAGE_POOL_IS_PERSISTENT', { pool: await pool() })).persistent);
  await t(async () => {
    await call(m, 'STORAGE_POOL_SET_AUTOSTART', { pool: await pool(), autostart: 1 });
    return 0;
  });
  await t(() => list(8));
  await t(() => list(1 << 6));
  await t(() => list(1 << 9));
  await t(() => list(1 << 30));
  await t(async () => {
    await call(m, 'STORAGE_POOL_DESTROY', { pool: await pool() });
    return 0;
  });
  await t(async () => (await pool()).name);
  const find = async (type: string, srcSpec: string | null) => (await call(m, 'CONNECT_FIND_STORAGE_POOL_SOURCES', { type, srcSpec, flags: 0 })).xml;
  await t(() => find('netfs', "<source><host name='foo'/></source>"));
  await t(() => find('netfs', null));
  await t(() => find('dir', null));
  await t(() => find('fs', null));
  await t(() => find('logical', null));
  assert.deepEqual(ours, real);
});

test('pools and volumes from a custom config (testnode.xml)', async () => {
  const real = realLibvirt(`
c = libvirt.open("test://${TESTNODE}")
out = []
for p in sorted(c.listAllStoragePools(0), key=lambda p: p.name()):
    out.append([p.name(), p.info(), p.XMLDesc(0), sorted([v.name(), v.info(), v.XMLDesc(0)] for v in p.listAllVolumes(0))])
print(json.dumps(out))
`);
  const { m } = fresh(TESTNODE);
  const ours: unknown[] = [];
  const pools = (await call(m, 'CONNECT_LIST_ALL_STORAGE_POOLS', { needResults: 1, flags: 0 })).pools.sort((a, b) => a.name.localeCompare(b.name));
  for (const pool of pools) {
    const vols: unknown[][] = [];
    for (const vol of (await call(m, 'STORAGE_POOL_LIST_ALL_VOLUMES', { pool, needResults: 1, flags: 0 })).vols) {
      vols.push([vol.name, Object.values(await call(m, 'STORAGE_VOL_GET_INFO', { vol })).map(Number), (await call(m, 'STORAGE_VOL_GET_XML_DESC', { vol, flags: 0 })).xml]);
    }
    ours.push([
      pool.name,
      Object.values(await call(m, 'STORAGE_POOL_GET_INFO', { pool })).map(Number),
      (await call(m, 'STORAGE_POOL_GET_XML_DESC', { pool, flags: 0 })).xml,
      vols.sort(),
    ]);
  }
  assert.deepEqual(ours, real);
});
