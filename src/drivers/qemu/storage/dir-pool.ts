// Directory storage pools for the QEMU driver's connections: pool configs persisted as XML in
// a config dir, volumes as plain files (raw, qcow2) in the pool's target directory, sizes from
// statfs and qemu-img. The QEMU connection merges methods() into its own, like the test
// driver's stores.
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statfsSync, writeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { DriverMethods, DriverStream } from '../../../api/driver.js';
import { parsePoolXml } from '../../../api/xml/storage-pool.js';
import { parseVolXml } from '../../../api/xml/storage-vol.js';
import { newUuid } from '../../../api/xml/uuid.js';
import type { RemoteNonnullStoragePool, RemoteNonnullStorageVol } from '../../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../../rpc/errors.js';
import { writeFileAtomic, xmlNamesIn } from '../files.js';
import { uuidBytes, uuidText } from '../uuid.js';
import { createVolumeFile, resizeVolumeFile, volumeFacts } from './volume-files.js';
import { formatDirPool, formatDirVolume, type DirPoolConfig, type PoolSizes } from './xml.js';

const S = VirErrorDomain.STORAGE;
const err = (code: VirErrorNumber, template: string, detail: string) => VirError.format(code, S, template, detail);
const invalid = (msg: string) => err(VirErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: %s', msg);
const poolNotFound = (msg: string) => err(VirErrorNumber.NO_STORAGE_POOL, 'Storage pool not found: %s', msg);
const volNotFound = (msg: string) => err(VirErrorNumber.NO_STORAGE_VOL, 'Storage volume not found: %s', msg);
const xmlError = (msg: string) => err(VirErrorNumber.XML_ERROR, 'XML error: %s', msg);

function checkFlags(flags: number, supported: number, fn: string): void {
  const bad = (flags >>> 0) & ~supported;
  if (bad) throw new VirError({ code: VirErrorNumber.INVALID_ARG, domain: S, message: `unsupported flags (0x${bad.toString(16)}) in function ${fn}` });
}

/** virStoragePoolState: inactive 0, running 2. */
const POOL_RUNNING = 2;
/** VIR_STORAGE_VOL_RESIZE_* */
const RESIZE_DELTA = 2;
const RESIZE_SHRINK = 4;
const CHUNK = 256 * 1024;

interface Pool {
  cfg: DirPoolConfig;
  active: boolean;
}

export class StorageDirStore {
  private readonly pools = new Map<string, Pool>();

  /** `configDir` holds one NAME.xml per defined pool (created on first define). */
  constructor(private readonly configDir: string) {
    for (const name of xmlNamesIn(configDir)) {
      try {
        const cfg = this.parse(readFileSync(join(configDir, `${name}.xml`), 'utf8'));
        this.pools.set(cfg.name, { cfg, active: false });
      } catch {
        // A broken config is skipped, as libvirt does with a warning.
      }
    }
  }

  private parse(xml: string): DirPoolConfig {
    let def;
    try {
      def = parsePoolXml(xml);
    } catch (e) {
      if (e instanceof VirError) throw e;
      throw xmlError(e instanceof Error ? e.message : String(e));
    }
    if (def.type !== 'dir') {
      throw err(VirErrorNumber.NO_SUPPORT, 'this function is not supported by the connection driver: %s', `storage pool type '${def.type}'`);
    }
    if (!def.targetPath) throw xmlError('missing storage pool target path');
    return { name: def.name, uuid: def.uuid || newUuid(), path: def.targetPath };
  }

  private handle(p: Pool): RemoteNonnullStoragePool {
    return { name: p.cfg.name, uuid: uuidBytes(p.cfg.uuid) };
  }

  private byName(name: string): Pool {
    const p = this.pools.get(name);
    if (!p) throw poolNotFound(`no storage pool with matching name '${name}'`);
    return p;
  }

  private byUuid(uuid: Uint8Array): Pool {
    const text = uuidText(uuid);
    for (const p of this.pools.values()) if (p.cfg.uuid === text) return p;
    throw poolNotFound(`no storage pool with matching uuid '${text}'`);
  }

  private active(name: string): Pool {
    const p = this.byName(name);
    if (!p.active) throw invalid(`storage pool '${name}' is not active`);
    return p;
  }

  private sizes(p: Pool): PoolSizes {
    if (!p.active) return { capacity: 0n, allocation: 0n, available: 0n };
    const st = statfsSync(p.cfg.path, { bigint: true });
    return { capacity: st.blocks * st.bsize, allocation: (st.blocks - st.bfree) * st.bsize, available: st.bavail * st.bsize };
  }

  private volNames(p: Pool): string[] {
    return readdirSync(p.cfg.path, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }

  private volHandle(p: Pool, name: string): RemoteNonnullStorageVol {
    const key = join(p.cfg.path, name);
    return { pool: p.cfg.name, name, key };
  }

  private vol(poolName: string, name: string): { pool: Pool; path: string } {
    const pool = this.active(poolName);
    const path = join(pool.cfg.path, name);
    if (name.includes('/') || !existsSync(path)) throw volNotFound(`no storage vol with matching name '${name}'`);
    return { pool, path };
  }

  /** Finds a volume of any running pool by its path (= key for dir pools). */
  private volByPath(path: string): RemoteNonnullStorageVol | null {
    for (const p of this.pools.values()) {
      if (!p.active) continue;
      const prefix = p.cfg.path.endsWith('/') ? p.cfg.path : p.cfg.path + '/';
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/') && existsSync(path)) return this.volHandle(p, path.slice(prefix.length));
    }
    return null;
  }

  private save(p: Pool): void {
    writeFileAtomic(join(this.configDir, `${p.cfg.name}.xml`), formatDirPool(p.cfg, { capacity: 0n, allocation: 0n, available: 0n }));
  }

  methods(): DriverMethods {
    return {
      CONNECT_NUM_OF_STORAGE_POOLS: () => ({ num: [...this.pools.values()].filter((p) => p.active).length }),
      CONNECT_NUM_OF_DEFINED_STORAGE_POOLS: () => ({ num: [...this.pools.values()].filter((p) => !p.active).length }),
      CONNECT_LIST_STORAGE_POOLS: ({ maxnames }) => ({ names: [...this.pools.values()].filter((p) => p.active).map((p) => p.cfg.name).slice(0, maxnames) }),
      CONNECT_LIST_DEFINED_STORAGE_POOLS: ({ maxnames }) => ({
        names: [...this.pools.values()].filter((p) => !p.active).map((p) => p.cfg.name).slice(0, maxnames),
      }),
      CONNECT_LIST_ALL_STORAGE_POOLS: ({ needResults, flags }) => {
        // VIR_CONNECT_LIST_STORAGE_POOLS_*: 1/2 active/inactive, 4/8 persistent/transient,
        // 16/32 autostart/no-autostart, then one bit per pool type from 1 << 6 (dir first).
        const TYPE_BITS = 0xfffc0;
        const all = [...this.pools.values()].filter((p) => {
          if (flags & 3 && !((flags & 1 && p.active) || (flags & 2 && !p.active))) return false;
          if (flags & 12 && !(flags & 4)) return false;
          if (flags & 48 && !(flags & 32)) return false;
          return !(flags & TYPE_BITS) || (flags & 64) !== 0;
        });
        const pools = all.map((p) => this.handle(p));
        return { pools: needResults ? pools : [], ret: pools.length };
      },
      STORAGE_POOL_LOOKUP_BY_NAME: ({ name }) => ({ pool: this.handle(this.byName(name)) }),
      STORAGE_POOL_LOOKUP_BY_UUID: ({ uuid }) => ({ pool: this.handle(this.byUuid(uuid)) }),
      STORAGE_POOL_LOOKUP_BY_VOLUME: ({ vol }) => ({ pool: this.handle(this.byName(vol.pool)) }),
      STORAGE_POOL_DEFINE_XML: ({ xml, flags }) => {
        checkFlags(flags, 1, 'storagePoolDefineXML');
        const cfg = this.parse(xml);
        const old = this.pools.get(cfg.name);
        if (old && old.cfg.uuid !== cfg.uuid && cfg.uuid) {
          throw err(VirErrorNumber.OPERATION_FAILED, 'operation failed: %s', `pool '${cfg.name}' is already defined with uuid ${old.cfg.uuid}`);
        }
        const p: Pool = { cfg: { ...cfg, uuid: old?.cfg.uuid ?? cfg.uuid }, active: old?.active ?? false };
        this.save(p);
        this.pools.set(cfg.name, p);
        return { pool: this.handle(p) };
      },
      STORAGE_POOL_CREATE: ({ pool, flags }) => {
        checkFlags(flags, 0, 'storagePoolCreate');
        const p = this.byName(pool.name);
        if (p.active) throw invalid(`storage pool '${pool.name}' is already active`);
        if (!existsSync(p.cfg.path)) {
          throw err(VirErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: %s', `cannot open directory '${p.cfg.path}': No such file or directory`);
        }
        p.active = true;
      },
      STORAGE_POOL_BUILD: ({ pool, flags }) => {
        checkFlags(flags, 0, 'storagePoolBuild');
        const p = this.byName(pool.name);
        if (p.active) throw invalid(`storage pool '${pool.name}' is already active`);
        mkdirSync(p.cfg.path, { recursive: true, mode: 0o755 });
      },
      STORAGE_POOL_DESTROY: ({ pool }) => {
        this.active(pool.name).active = false;
      },
      STORAGE_POOL_UNDEFINE: ({ pool }) => {
        const p = this.byName(pool.name);
        if (p.active) throw invalid(`storage pool '${pool.name}' is still active`);
        rmSync(join(this.configDir, `${pool.name}.xml`), { force: true });
        this.pools.delete(pool.name);
      },
      STORAGE_POOL_REFRESH: ({ pool, flags }) => {
        checkFlags(flags, 0, 'storagePoolRefresh');
        // Volumes are read from the directory on every call; refresh only checks it is running.
        this.active(pool.name);
      },
      STORAGE_POOL_GET_INFO: ({ pool }) => {
        const p = this.byName(pool.name);
        return { state: p.active ? POOL_RUNNING : 0, ...this.sizes(p) };
      },
      STORAGE_POOL_GET_XML_DESC: ({ pool, flags }) => {
        checkFlags(flags, 1, 'storagePoolGetXMLDesc');
        const p = this.byName(pool.name);
        return { xml: formatDirPool(p.cfg, (flags & 1) !== 0 ? { capacity: 0n, allocation: 0n, available: 0n } : this.sizes(p)) };
      },
      STORAGE_POOL_GET_AUTOSTART: ({ pool }) => (this.byName(pool.name), { autostart: 0 }),
      STORAGE_POOL_IS_ACTIVE: ({ pool }) => ({ active: this.byUuid(pool.uuid).active ? 1 : 0 }),
      STORAGE_POOL_IS_PERSISTENT: ({ pool }) => (this.byUuid(pool.uuid), { persistent: 1 }),
      STORAGE_POOL_NUM_OF_VOLUMES: ({ pool }) => ({ num: this.volNames(this.active(pool.name)).length }),
      STORAGE_POOL_LIST_VOLUMES: ({ pool, maxnames }) => ({ names: this.volNames(this.active(pool.name)).slice(0, maxnames) }),
      STORAGE_POOL_LIST_ALL_VOLUMES: ({ pool, needResults, flags }) => {
        checkFlags(flags, 0, 'storagePoolListAllVolumes');
        const p = this.active(pool.name);
        const vols = this.volNames(p).map((n) => this.volHandle(p, n));
        return { vols: needResults ? vols : [], ret: vols.length };
      },
      STORAGE_VOL_LOOKUP_BY_NAME: ({ pool, name }) => {
        const v = this.vol(pool.name, name);
        return { vol: this.volHandle(v.pool, name) };
      },
      STORAGE_VOL_LOOKUP_BY_KEY: ({ key }) => {
        const vol = this.volByPath(key);
        if (!vol) throw volNotFound(`no storage vol with matching key ${key}`);
        return { vol };
      },
      STORAGE_VOL_LOOKUP_BY_PATH: ({ path }) => {
        const vol = this.volByPath(path);
        if (!vol) throw volNotFound(`no storage vol with matching path '${path}'`);
        return { vol };
      },
      STORAGE_VOL_CREATE_XML: async ({ pool, xml, flags }) => {
        checkFlags(flags, 0, 'storageVolCreateXML');
        const p = this.active(pool.name);
        let def;
        try {
          def = parseVolXml(xml);
        } catch (e) {
          if (e instanceof VirError) throw e;
          throw xmlError(e instanceof Error ? e.message : String(e));
        }
        if (def.name.includes('/')) throw err(VirErrorNumber.INVALID_ARG, 'invalid argument: %s', `volume name '${def.name}' cannot contain '/'`);
        const path = join(p.cfg.path, def.name);
        if (existsSync(path)) throw err(VirErrorNumber.STORAGE_VOL_EXIST, '%s', `storage volume '${def.name}' exists already`);
        const format = def.format ?? 'raw';
        if (format !== 'raw' && format !== 'qcow2') {
          throw err(VirErrorNumber.NO_SUPPORT, 'this function is not supported by the connection driver: %s', `volume format '${format}'`);
        }
        await createVolumeFile(path, format, def.capacity, def.allocation);
        return { vol: this.volHandle(p, def.name) };
      },
      STORAGE_VOL_DELETE: ({ vol, flags }) => {
        checkFlags(flags, 0, 'storageVolDelete');
        rmSync(this.vol(vol.pool, vol.name).path);
      },
      STORAGE_VOL_GET_INFO: async ({ vol }) => {
        const f = await volumeFacts(this.vol(vol.pool, vol.name).path);
        return { type: 0, capacity: f.capacity, allocation: f.allocation };
      },
      STORAGE_VOL_GET_INFO_FLAGS: async ({ vol, flags }) => {
        checkFlags(flags, 1, 'storageVolGetInfoFlags');
        const f = await volumeFacts(this.vol(vol.pool, vol.name).path);
        // VIR_STORAGE_VOL_GET_PHYSICAL reports the file size in the allocation field.
        return { type: 0, capacity: f.capacity, allocation: flags & 1 ? f.physical : f.allocation };
      },
      STORAGE_VOL_GET_XML_DESC: async ({ vol, flags }) => {
        checkFlags(flags, 0, 'storageVolGetXMLDesc');
        const { path } = this.vol(vol.pool, vol.name);
        return { xml: formatDirVolume(vol.name, path, await volumeFacts(path)) };
      },
      STORAGE_VOL_GET_PATH: ({ vol }) => ({ name: this.vol(vol.pool, vol.name).path }),
      STORAGE_VOL_RESIZE: async ({ vol, capacity, flags }) => {
        checkFlags(flags, 1 | RESIZE_DELTA | RESIZE_SHRINK, 'storageVolResize');
        const { path } = this.vol(vol.pool, vol.name);
        const f = await volumeFacts(path);
        const want = flags & RESIZE_DELTA ? (flags & RESIZE_SHRINK ? f.capacity - capacity : f.capacity + capacity) : capacity;
        if (want < f.capacity && !(flags & RESIZE_SHRINK)) {
          throw invalid(`Can't shrink capacity below current capacity unless shrink flag explicitly specified`);
        }
        await resizeVolumeFile(path, f.format, want);
      },
      STORAGE_VOL_DOWNLOAD: ({ vol, offset, length, flags }, ctx) => {
        checkFlags(flags, 0, 'storageVolDownload');
        const { path } = this.vol(vol.pool, vol.name);
        const stream = requireStream(ctx.stream);
        setImmediate(() => void download(path, offset, length, stream));
      },
      STORAGE_VOL_UPLOAD: ({ vol, offset, length, flags }, ctx) => {
        checkFlags(flags, 0, 'storageVolUpload');
        const { path } = this.vol(vol.pool, vol.name);
        const stream = requireStream(ctx.stream);
        setImmediate(() => void upload(path, offset, length, stream));
      },
    };
  }
}

function requireStream(s: DriverStream | null): DriverStream {
  if (!s) throw err(VirErrorNumber.INTERNAL_ERROR, 'internal error: %s', 'stream procedure called without a stream');
  return s;
}

/** Sends [offset, offset + length) of the file (to its end when length is 0), then end-of-data. */
async function download(path: string, offset: bigint, length: bigint, stream: DriverStream): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    let pos = offset;
    const end = length > 0n ? offset + length : null;
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const want = end === null ? CHUNK : Number(end - pos < BigInt(CHUNK) ? end - pos : BigInt(CHUNK));
      if (want <= 0) break;
      const n = readSync(fd, buf, 0, want, pos);
      if (n === 0) break;
      await stream.write(Uint8Array.prototype.slice.call(buf, 0, n));
      pos += BigInt(n);
    }
    await stream.end();
  } catch {
    // The client aborted or went away: nothing more to send.
  } finally {
    closeSync(fd);
  }
}

/** Writes what the client sends at `offset`, at most `length` bytes when length > 0. */
async function upload(path: string, offset: bigint, length: bigint, stream: DriverStream): Promise<void> {
  const fd = openSync(path, 'r+');
  try {
    let pos = offset;
    const limit = length > 0n ? offset + length : null;
    for await (const chunk of stream) {
      if (chunk.kind === 'hole') {
        pos += chunk.length;
        continue;
      }
      let data = chunk.data;
      if (limit !== null && pos + BigInt(data.length) > limit) data = data.subarray(0, Number(limit - pos));
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, Number(pos) + done);
      pos += BigInt(data.length);
    }
    stream.confirm();
  } catch {
    // Aborted by the client: the part written stays, as with libvirt.
  } finally {
    closeSync(fd);
  }
}
