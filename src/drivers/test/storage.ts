// The test driver's storage pools and their volumes, with libvirt 9.0's test-driver
// accounting: every pool claims 100 GiB, volume allocations are charged to the pool,
// and (re)defining or loading a pool resets its numbers.
import type { XmlEl } from '../../api/xml/tree.js';
import type { DriverEvent, DriverMethods } from '../../api/driver.js';
import type { PoolDef } from '../../api/xml/storage-pool.js';
import { formatPool, parsePool, parsePoolXml } from '../../api/xml/storage-pool.js';
import type { VolDef } from '../../api/xml/storage-vol.js';
import { formatVol, parseVol, parseVolXml } from '../../api/xml/storage-vol.js';
import { addVolumeToPool, applyPoolDefaults } from './xml/storage-defaults.js';
import type { RemoteNonnullStoragePool, RemoteNonnullStorageVol } from '../../protocol/gen/remote.js';
import { REMOTE_STORAGE_POOL_LIST_MAX, REMOTE_STORAGE_VOL_LIST_MAX } from '../../protocol/gen/remote.js';
import { VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import {
  checkFlags, internalError, invalidArg, limitNames, matchesStateFlags, operationFailed, operationInvalid,
  parsing, uuidBytes, uuidString, virErr,
} from './node-common.js';
import { findPoolSources } from './storage-sources.js';

/** virStoragePoolEventLifecycleType */
export const PoolEvent = { DEFINED: 0, UNDEFINED: 1, STARTED: 2, STOPPED: 3, CREATED: 4, DELETED: 5 } as const;

/** VIR_CONNECT_LIST_STORAGE_POOLS_<TYPE> bits, from 1 << 6 on. */
const TYPE_FLAGS: Record<string, number> = {
  dir: 1 << 6, fs: 1 << 7, netfs: 1 << 8, logical: 1 << 9, disk: 1 << 10, iscsi: 1 << 11, scsi: 1 << 12,
  mpath: 1 << 13, rbd: 1 << 14, sheepdog: 1 << 15, gluster: 1 << 16, zfs: 1 << 17, vstorage: 1 << 18,
  'iscsi-direct': 1 << 19,
};
const TYPE_FILTERS = Object.values(TYPE_FLAGS).reduce((a, b) => a | b, 0);
const LIST_FILTERS_ALL = 0x3f | TYPE_FILTERS;
const DEFINE_VALIDATE = 1;

/** virStorageVolType the test driver reports per pool type (testStorageVolumeTypeForPool). */
function volTypeForPool(poolType: string): number {
  if (['dir', 'fs', 'netfs', 'vstorage'].includes(poolType)) return 0;
  if (['sheepdog', 'iscsi-direct', 'gluster', 'rbd'].includes(poolType)) return 3;
  return 1;
}

interface PoolObj {
  def: PoolDef;
  newDef?: PoolDef;
  active: boolean;
  /** libvirt's "has a config file": persistent pools have one, createXML'd pools not. */
  persistent: boolean;
  autostart: boolean;
  vols: VolDef[];
}

const poolNotFound = (what: string) => virErr(VirErrorNumber.NO_STORAGE_POOL, 'Storage pool not found: %s', what);
const volNotFound = (what: string) => virErr(VirErrorNumber.NO_STORAGE_VOL, 'Storage volume not found: %s', what);
const U64 = 1n << 64n;

/** A second pool using the same storage (virStoragePoolObjSourceFindDuplicate, common pool types). */
function sameSource(a: PoolDef, b: PoolDef): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'dir':
      return a.targetPath === b.targetPath;
    case 'netfs':
      return a.source.dirPath === b.source.dirPath && a.source.hosts[0]?.name === b.source.hosts[0]?.name;
    case 'fs':
    case 'disk':
    case 'logical':
      return a.source.devices.length > 0 && a.source.devices[0]?.path === b.source.devices[0]?.path;
    default:
      return a.source.name !== undefined && a.source.name === b.source.name;
  }
}

export class StoragePoolStore {
  private readonly pools: PoolObj[] = [];

  constructor(entries: { pool: XmlEl; volumes: XmlEl[] }[], private readonly emit: (ev: DriverEvent) => void) {
    for (const e of entries) {
      const o = this.add(parsing(() => parsePool(e.pool)), false);
      applyPoolDefaults(o.def);
      o.persistent = true;
      o.active = true;
      for (const v of e.volumes) {
        const vol = parsing(() => parseVol(v));
        addVolumeToPool(o.def, vol);
        o.vols.push(vol);
      }
    }
  }

  private handle(d: { name: string; uuid: string }): RemoteNonnullStoragePool {
    return { name: d.name, uuid: uuidBytes(d.uuid) };
  }

  private volHandle(pool: PoolDef, v: VolDef): RemoteNonnullStorageVol {
    return { pool: pool.name, name: v.name, key: v.key ?? '' };
  }

  private lifecycle(pool: RemoteNonnullStoragePool, event: number): void {
    this.emit({
      family: 'storage_pool',
      eventID: 0,
      proc: 'STORAGE_POOL_EVENT_LIFECYCLE',
      target: pool.uuid,
      payload: { pool: { name: pool.name, uuid: pool.uuid }, event, detail: 0 },
    });
  }

  private byName(name: string): PoolObj {
    const o = this.pools.find((p) => p.def.name === name);
    if (!o) throw poolNotFound(`no storage pool with matching name '${name}'`);
    return o;
  }

  private activeByName(name: string): PoolObj {
    const o = this.byName(name);
    if (!o.active) throw operationInvalid(`storage pool '${name}' is not active`);
    return o;
  }

  private inactiveByName(name: string): PoolObj {
    const o = this.byName(name);
    if (o.active) throw operationInvalid(`storage pool '${name}' is active`);
    return o;
  }

  private byUuid(uuid: Uint8Array): PoolObj {
    const u = uuidString(uuid);
    const o = this.pools.find((p) => p.def.uuid === u);
    if (!o) throw poolNotFound(`no storage pool with matching uuid '${u}'`);
    return o;
  }

  private remove(o: PoolObj): void {
    const i = this.pools.indexOf(o);
    if (i >= 0) this.pools.splice(i, 1);
  }

  /** virStoragePoolObjListAdd: duplicate checks, then replace (or stage) or add. */
  private add(def: PoolDef, checkLive: boolean): PoolObj {
    const D = VirErrorDomain.STORAGE;
    // The source check runs first and skips only a pool of the same name.
    const clash = this.pools.find((p) => p.def.name !== def.name && sameSource(p.def, def));
    if (clash) throw operationFailed(`Storage source conflict with pool: '${clash.def.name}'`, D);
    const sameUuid = this.pools.find((p) => p.def.uuid === def.uuid);
    if (sameUuid) {
      if (sameUuid.def.name !== def.name) {
        throw operationFailed(`pool '${sameUuid.def.name}' is already defined with uuid ${sameUuid.def.uuid}`, D);
      }
      if (checkLive && sameUuid.active) throw operationInvalid(`pool is already active as '${sameUuid.def.name}'`, D);
    } else {
      const sameName = this.pools.find((p) => p.def.name === def.name);
      if (sameName) throw operationFailed(`pool '${def.name}' already exists with uuid ${sameName.def.uuid}`, D);
    }
    if (sameUuid) {
      if (sameUuid.active) sameUuid.newDef = def;
      else sameUuid.def = def;
      return sameUuid;
    }
    const o: PoolObj = { def, active: false, persistent: false, autostart: false, vols: [] };
    this.pools.push(o);
    return o;
  }

  private names(active: boolean): string[] {
    return this.pools.filter((p) => p.active === active).map((p) => p.def.name);
  }

  private findVol(o: PoolObj, name: string): VolDef {
    const v = o.vols.find((x) => x.name === name);
    if (!v) throw volNotFound(`no storage vol with matching name '${name}'`);
    return v;
  }

  /** Shared by CREATE_XML and CREATE_XML_FROM: parse, check, place under the pool target, charge. */
  private createVol(o: PoolObj, xml: string, cloneName?: string): RemoteNonnullStorageVol {
    const def = o.def;
    const vol = parsing(() => parseVolXml(xml));
    if (o.vols.some((v) => v.name === vol.name)) throw operationFailed('storage vol already exists', VirErrorDomain.TEST);
    // The clone source is looked up by name in the *target* pool, as libvirt does.
    if (cloneName !== undefined) this.findVol(o, cloneName);
    if (def.allocation + vol.allocation > def.capacity) {
      throw internalError(`Not enough free space in pool for volume '${vol.name}'`);
    }
    vol.path = `${def.targetPath ?? '(null)'}/${vol.name}`;
    vol.key = vol.path;
    o.vols.push(vol);
    def.allocation += vol.allocation;
    def.available = (((def.capacity - def.allocation) % U64) + U64) % U64;
    return this.volHandle(def, vol);
  }

  /** Volumes of active pools, searched in pool order (lookup by key or path). */
  private searchVol(match: (v: VolDef) => boolean): RemoteNonnullStorageVol | undefined {
    for (const p of this.pools) {
      if (!p.active) continue;
      const v = p.vols.find(match);
      if (v) return this.volHandle(p.def, v);
    }
    return undefined;
  }

  methods(): DriverMethods {
    return {
      CONNECT_NUM_OF_STORAGE_POOLS: () => ({ num: this.names(true).length }),
      CONNECT_NUM_OF_DEFINED_STORAGE_POOLS: () => ({ num: this.names(false).length }),
      CONNECT_LIST_STORAGE_POOLS: (a) => ({
        names: limitNames(this.names(true), a.maxnames, REMOTE_STORAGE_POOL_LIST_MAX, 'REMOTE_STORAGE_POOL_LIST_MAX'),
      }),
      CONNECT_LIST_DEFINED_STORAGE_POOLS: (a) => ({
        names: limitNames(this.names(false), a.maxnames, REMOTE_STORAGE_POOL_LIST_MAX, 'REMOTE_STORAGE_POOL_LIST_MAX'),
      }),
      CONNECT_LIST_ALL_STORAGE_POOLS: (a) => {
        checkFlags(a.flags, LIST_FILTERS_ALL, 'testConnectListAllStoragePools');
        const pools = this.pools
          .filter((p) => matchesStateFlags(p, a.flags))
          .filter((p) => !(a.flags & TYPE_FILTERS) || (a.flags & (TYPE_FLAGS[p.def.type] ?? 0)) !== 0)
          .map((p) => this.handle(p.def));
        return { pools: a.needResults ? pools : [], ret: pools.length };
      },
      CONNECT_FIND_STORAGE_POOL_SOURCES: (a) => {
        checkFlags(a.flags, 0, 'testConnectFindStoragePoolSources');
        return { xml: findPoolSources(a.type, a.srcSpec) };
      },
      STORAGE_POOL_LOOKUP_BY_NAME: (a) => ({ pool: this.handle(this.byName(a.name).def) }),
      STORAGE_POOL_LOOKUP_BY_UUID: (a) => ({ pool: this.handle(this.byUuid(a.uuid).def) }),
      STORAGE_POOL_LOOKUP_BY_VOLUME: (a) => ({ pool: this.handle(this.byName(a.vol.pool).def) }),
      STORAGE_POOL_CREATE_XML: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolCreateXML');
        const o = this.add(parsing(() => parsePoolXml(a.xml)), true);
        applyPoolDefaults(o.def);
        // A pool started from XML is transient, even one that replaced a defined pool.
        o.persistent = false;
        o.active = true;
        const h = this.handle(o.def);
        this.lifecycle(h, PoolEvent.STARTED);
        return { pool: h };
      },
      STORAGE_POOL_DEFINE_XML: (a) => {
        checkFlags(a.flags, DEFINE_VALIDATE, 'testStoragePoolDefineXML');
        const def = parsing(() => parsePoolXml(a.xml));
        applyPoolDefaults(def);
        const o = this.add(def, false);
        const h = this.handle(o.def);
        this.lifecycle(h, PoolEvent.DEFINED);
        // Resets the live numbers too, even with volumes in the pool.
        applyPoolDefaults(o.def);
        o.persistent = true;
        return { pool: h };
      },
      STORAGE_POOL_UNDEFINE: (a) => {
        const o = this.inactiveByName(a.pool.name);
        this.remove(o);
        this.lifecycle(a.pool, PoolEvent.UNDEFINED);
      },
      STORAGE_POOL_CREATE: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolCreate');
        this.inactiveByName(a.pool.name).active = true;
        this.lifecycle(a.pool, PoolEvent.STARTED);
      },
      STORAGE_POOL_BUILD: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolBuild');
        this.inactiveByName(a.pool.name);
        this.lifecycle(a.pool, PoolEvent.CREATED);
      },
      STORAGE_POOL_DESTROY: (a) => {
        const o = this.activeByName(a.pool.name);
        o.active = false;
        this.lifecycle(this.handle(o.def), PoolEvent.STOPPED);
        if (!o.persistent) this.remove(o);
      },
      STORAGE_POOL_DELETE: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolDelete');
        this.inactiveByName(a.pool.name);
        this.lifecycle(a.pool, PoolEvent.DELETED);
      },
      STORAGE_POOL_REFRESH: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolRefresh');
        this.activeByName(a.pool.name);
        this.emit({
          family: 'storage_pool',
          eventID: 1,
          proc: 'STORAGE_POOL_EVENT_REFRESH',
          target: a.pool.uuid,
          payload: { pool: { name: a.pool.name, uuid: a.pool.uuid } },
        });
      },
      STORAGE_POOL_GET_INFO: (a) => {
        const o = this.byName(a.pool.name);
        return { state: o.active ? 2 : 0, capacity: o.def.capacity, allocation: o.def.allocation, available: o.def.available };
      },
      STORAGE_POOL_GET_XML_DESC: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolGetXMLDesc');
        return { xml: formatPool(this.byName(a.pool.name).def) };
      },
      STORAGE_POOL_GET_AUTOSTART: (a) => {
        const o = this.byName(a.pool.name);
        return { autostart: o.persistent && o.autostart ? 1 : 0 };
      },
      STORAGE_POOL_SET_AUTOSTART: (a) => {
        const o = this.byName(a.pool.name);
        if (!o.persistent) throw invalidArg('pool has no config file');
        o.autostart = a.autostart !== 0;
      },
      STORAGE_POOL_IS_ACTIVE: (a) => ({ active: this.byUuid(a.pool.uuid).active ? 1 : 0 }),
      STORAGE_POOL_IS_PERSISTENT: (a) => ({ persistent: this.byUuid(a.pool.uuid).persistent ? 1 : 0 }),
      STORAGE_POOL_NUM_OF_VOLUMES: (a) => ({ num: this.activeByName(a.pool.name).vols.length }),
      STORAGE_POOL_LIST_VOLUMES: (a) => {
        const o = this.activeByName(a.pool.name);
        const names = o.vols.map((v) => v.name);
        return { names: limitNames(names, a.maxnames, REMOTE_STORAGE_VOL_LIST_MAX, 'REMOTE_STORAGE_VOL_LIST_MAX') };
      },
      STORAGE_POOL_LIST_ALL_VOLUMES: (a) => {
        checkFlags(a.flags, 0, 'testStoragePoolListAllVolumes');
        const o = this.byUuid(a.pool.uuid);
        if (!o.active) throw operationInvalid('storage pool is not active');
        const vols = o.vols.map((v) => this.volHandle(o.def, v));
        return { vols: a.needResults ? vols : [], ret: vols.length };
      },
      STORAGE_VOL_LOOKUP_BY_NAME: (a) => {
        const o = this.activeByName(a.pool.name);
        return { vol: this.volHandle(o.def, this.findVol(o, a.name)) };
      },
      STORAGE_VOL_LOOKUP_BY_KEY: (a) => {
        const vol = this.searchVol((v) => v.key === a.key);
        if (!vol) throw volNotFound(`no storage vol with matching key '${a.key}'`);
        return { vol };
      },
      STORAGE_VOL_LOOKUP_BY_PATH: (a) => {
        const vol = this.searchVol((v) => v.path === a.path);
        if (!vol) throw volNotFound(`no storage vol with matching path '${a.path}'`);
        return { vol };
      },
      STORAGE_VOL_CREATE_XML: (a) => {
        checkFlags(a.flags, 0, 'testStorageVolCreateXML');
        return { vol: this.createVol(this.activeByName(a.pool.name), a.xml) };
      },
      STORAGE_VOL_CREATE_XML_FROM: (a) => {
        checkFlags(a.flags, 0, 'testStorageVolCreateXMLFrom');
        return { vol: this.createVol(this.activeByName(a.pool.name), a.xml, a.clonevol.name) };
      },
      STORAGE_VOL_DELETE: (a) => {
        checkFlags(a.flags, 0, 'testStorageVolDelete');
        const o = this.activeByName(a.vol.pool);
        const v = this.findVol(o, a.vol.name);
        // Unsigned 64-bit in libvirt: a pool reset by a redefine wraps below zero.
        o.def.allocation = (((o.def.allocation - v.allocation) % U64) + U64) % U64;
        o.def.available = (((o.def.capacity - o.def.allocation) % U64) + U64) % U64;
        o.vols.splice(o.vols.indexOf(v), 1);
      },
      STORAGE_VOL_GET_INFO: (a) => {
        const o = this.activeByName(a.vol.pool);
        const v = this.findVol(o, a.vol.name);
        return { type: volTypeForPool(o.def.type), capacity: v.capacity, allocation: v.allocation };
      },
      STORAGE_VOL_GET_XML_DESC: (a) => {
        checkFlags(a.flags, 0, 'testStorageVolGetXMLDesc');
        const o = this.activeByName(a.vol.pool);
        return { xml: formatVol(this.findVol(o, a.vol.name), o.def.type) };
      },
      STORAGE_VOL_GET_PATH: (a) => {
        const o = this.activeByName(a.vol.pool);
        return { name: this.findVol(o, a.vol.name).path ?? '' };
      },
    };
  }
}
