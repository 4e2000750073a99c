// The QEMU driver's directory pool, called through its driver methods, on real files made with
// qemu-img. Expected words and numbers are what libvirtd 9.0's dir pool gave for the same virsh
// steps (pool-define-as/start, vol-create-as raw and qcow2, vol-info, vol-dumpxml, upload,
// download, resize, delete, destroy, undefine).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DriverCallContext, DriverMethod, DriverMethods, ProcName, ArgsOf, RetOf } from '../../../src/api/driver.js';
import { streamPair } from '../../../src/api/stream-pair.js';
import { StorageDirStore } from '../../../src/drivers/qemu/storage/dir-pool.js';
import { QEMU_IMG } from '../../../src/drivers/qemu/storage/volume-files.js';
import { VirError, VirErrorNumber } from '../../../src/rpc/errors.js';

const ctx: DriverCallContext = { readonly: false, stream: null };

function caller(m: DriverMethods) {
  return async <K extends ProcName>(name: K, args: ArgsOf<K>, c: DriverCallContext = ctx): Promise<RetOf<K>> => {
    const fn = m[name] as DriverMethod<K> | undefined;
    assert.ok(fn, `no method ${name}`);
    return await fn(args, c);
  };
}

async function rejectsCode(p: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VirError, String(e));
    assert.deepEqual([e.code, e.message], [code, message]);
    return true;
  });
}

const MiB = 1024n * 1024n;

test('dir pool: define, start, volumes raw and qcow2, info and XML, resize, delete, stop, undefine', { skip: existsSync(QEMU_IMG) ? undefined : 'qemu-img missing' }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'tsvirt-dirpool-'));
  const target = join(base, 'images');
  const configDir = join(base, 'config');
  try {
    const call = caller(new StorageDirStore(configDir).methods());
    const { pool } = await call('STORAGE_POOL_DEFINE_XML', { xml: `<pool type='dir'><name>p1</name><target><path>${target}</path></target></pool>`, flags: 0 });
    assert.equal(pool.name, 'p1');
    const inactiveXml = (await call('STORAGE_POOL_GET_XML_DESC', { pool, flags: 0 })).xml;
    assert.match(inactiveXml, /<capacity unit='bytes'>0<\/capacity>/);
    assert.match(inactiveXml, new RegExp(`<target>\\n    <path>${target}</path>`));
    await rejectsCode(call('STORAGE_POOL_CREATE', { pool, flags: 0 }), VirErrorNumber.OPERATION_INVALID, `Requested operation is not valid: cannot open directory '${target}': No such file or directory`);
    await call('STORAGE_POOL_BUILD', { pool, flags: 0 });
    await call('STORAGE_POOL_CREATE', { pool, flags: 0 });
    const info = await call('STORAGE_POOL_GET_INFO', { pool });
    assert.equal(info.state, 2);
    assert.ok(info.capacity > 0n && info.available <= info.capacity && info.allocation <= info.capacity);

    const { vol: raw } = await call('STORAGE_VOL_CREATE_XML', { pool, xml: `<volume><name>a.img</name><capacity>${10n * MiB}</capacity></volume>`, flags: 0 });
    const { vol: qcow } = await call('STORAGE_VOL_CREATE_XML', {
      pool,
      xml: `<volume><name>b.qcow2</name><capacity>${20n * MiB}</capacity><allocation>0</allocation><target><format type='qcow2'/></target></volume>`,
      flags: 0,
    });
    assert.deepEqual(raw, { pool: 'p1', name: 'a.img', key: join(target, 'a.img') });
    await rejectsCode(
      call('STORAGE_VOL_CREATE_XML', { pool, xml: `<volume><name>a.img</name><capacity>1</capacity></volume>`, flags: 0 }),
      VirErrorNumber.STORAGE_VOL_EXIST,
      "storage volume 'a.img' exists already",
    );
    // libvirt: a raw volume created with allocation = capacity is fully allocated; qcow2 is small.
    assert.deepEqual(await call('STORAGE_VOL_GET_INFO', { vol: raw }), { type: 0, capacity: 10n * MiB, allocation: 10n * MiB });
    const qinfo = await call('STORAGE_VOL_GET_INFO', { vol: qcow });
    assert.equal(qinfo.capacity, 20n * MiB);
    assert.ok(qinfo.allocation < MiB, `qcow2 allocation ${qinfo.allocation}`);
    const qxml = (await call('STORAGE_VOL_GET_XML_DESC', { vol: qcow, flags: 0 })).xml;
    assert.match(qxml, /^<volume type='file'>\n {2}<name>b\.qcow2<\/name>\n/);
    assert.match(qxml, /<capacity unit='bytes'>20971520<\/capacity>/);
    assert.match(qxml, /<format type='qcow2'\/>/);
    assert.match(qxml, /<mode>0[0-7]{3}<\/mode>/);
    assert.match(qxml, /<atime>\d+\.\d{9}<\/atime>/);

    const listed = await call('STORAGE_POOL_LIST_ALL_VOLUMES', { pool, needResults: 1, flags: 0 });
    assert.deepEqual(listed.vols.map((v) => v.name), ['a.img', 'b.qcow2']);
    assert.deepEqual((await call('STORAGE_VOL_LOOKUP_BY_PATH', { path: join(target, 'b.qcow2') })).vol, qcow);

    // Upload 4 KiB at offset 1 MiB, download it back.
    const up = streamPair('upload');
    await call('STORAGE_VOL_UPLOAD', { vol: raw, offset: MiB, length: 0n, flags: 0 }, { readonly: false, stream: up.server });
    await up.client.write(new Uint8Array(4096).fill(7));
    await up.client.finish();
    const down = streamPair('download');
    await call('STORAGE_VOL_DOWNLOAD', { vol: raw, offset: MiB - 2n, length: 4100n, flags: 0 }, { readonly: false, stream: down.server });
    const got: number[] = [];
    for await (const c of down.client) if (c.kind === 'data') got.push(...c.data);
    assert.equal(got.length, 4100);
    assert.deepEqual([got[0], got[1], got[2], got[4097], got[4098]], [0, 0, 7, 7, 0]);
    assert.equal(readFileSync(join(target, 'a.img')).subarray(Number(MiB), Number(MiB) + 4096).every((b) => b === 7), true);

    await call('STORAGE_VOL_RESIZE', { vol: raw, capacity: 20n * MiB, flags: 0 });
    const resized = await call('STORAGE_VOL_GET_INFO', { vol: raw });
    assert.equal(resized.capacity, 20n * MiB);
    assert.equal(resized.allocation, 10n * MiB);
    await rejectsCode(
      call('STORAGE_VOL_RESIZE', { vol: raw, capacity: MiB, flags: 0 }),
      VirErrorNumber.OPERATION_INVALID,
      "Requested operation is not valid: Can't shrink capacity below current capacity unless shrink flag explicitly specified",
    );

    await call('STORAGE_VOL_DELETE', { vol: raw, flags: 0 });
    assert.equal(existsSync(join(target, 'a.img')), false);
    await rejectsCode(call('STORAGE_VOL_GET_INFO', { vol: raw }), VirErrorNumber.NO_STORAGE_VOL, "Storage volume not found: no storage vol with matching name 'a.img'");

    await rejectsCode(call('STORAGE_POOL_UNDEFINE', { pool }), VirErrorNumber.OPERATION_INVALID, "Requested operation is not valid: storage pool 'p1' is still active");
    await call('STORAGE_POOL_DESTROY', { pool });
    await rejectsCode(call('STORAGE_POOL_DESTROY', { pool }), VirErrorNumber.OPERATION_INVALID, "Requested operation is not valid: storage pool 'p1' is not active");

    // The config survives a new store (daemon restart); the pool comes back inactive.
    const again = caller(new StorageDirStore(configDir).methods());
    assert.deepEqual((await again('STORAGE_POOL_LOOKUP_BY_NAME', { name: 'p1' })).pool, pool);
    assert.equal((await again('STORAGE_POOL_IS_ACTIVE', { pool })).active, 0);
    await again('STORAGE_POOL_UNDEFINE', { pool });
    assert.equal(existsSync(join(configDir, 'p1.xml')), false);
    await rejectsCode(again('STORAGE_POOL_LOOKUP_BY_NAME', { name: 'p1' }), VirErrorNumber.NO_STORAGE_POOL, "Storage pool not found: no storage pool with matching name 'p1'");
    assert.ok(statSync(join(target, 'b.qcow2')).isFile(), 'undefine leaves volumes alone');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('dir pool: only dir pools, target path required', async () => {
  const base = mkdtempSync(join(tmpdir(), 'tsvirt-dirpool-'));
  mkdirSync(join(base, 'x'));
  try {
    const call = caller(new StorageDirStore(join(base, 'config')).methods());
    await assert.rejects(call('STORAGE_POOL_DEFINE_XML', { xml: `<pool type='logical'><name>v</name><target><path>/dev/v</path></target></pool>`, flags: 0 }), VirError);
    await assert.rejects(call('STORAGE_POOL_DEFINE_XML', { xml: `<pool type='dir'><name>v</name></pool>`, flags: 0 }), VirError);
    await rejectsCode(call('STORAGE_POOL_DEFINE_XML', { xml: `<pool type='dir'><name>v</name><target><path>/x</path></target></pool>`, flags: 4 }), VirErrorNumber.INVALID_ARG, 'unsupported flags (0x4) in function storagePoolDefineXML');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
