// Storage pools and volumes: their handles and the storage APIs.
import { uuidToString, type ApiCore, type CallOptions } from './core.js';
import { StorageVolUploadFlags, type StorageVolCreateFlags } from './flags.js';
import type { StoragePoolInfo, StorageVolInfo } from './info.js';
import { Stream, type StreamOptions, type StreamSource, type TransferProgress } from './stream.js';
import type { RemoteNonnullStoragePool, RemoteNonnullStorageVol } from '../protocol/gen/remote.js';

const LIST_MAX = 16384;

/** Where and how a volume transfer goes (virStorageVolUpload / virStorageVolDownload). */
export interface VolTransferOptions extends CallOptions, StreamOptions {
  /** Byte offset into the volume; default 0. */
  readonly offset?: number | bigint;
  /** Bytes to transfer; default 0, meaning up to the end of the volume. */
  readonly length?: number | bigint;
  /** Holes travel as hole packets (the *_SPARSE_STREAM flag, value 1 for both directions). */
  readonly sparse?: boolean;
  /** Raw flags, or-ed with the sparse flag. */
  readonly flags?: number;
}

export class StoragePool {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullStoragePool,
  ) {}

  get handle(): RemoteNonnullStoragePool {
    return { ...this.h };
  }
  get name(): string {
    return this.h.name;
  }
  get uuid(): string {
    return uuidToString(this.h.uuid);
  }

  async info(o?: CallOptions): Promise<StoragePoolInfo> {
    const r = await this.core.call('STORAGE_POOL_GET_INFO', { pool: this.h }, o);
    return { state: r.state, capacity: r.capacity, allocation: r.allocation, available: r.available };
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('STORAGE_POOL_GET_XML_DESC', { pool: this.h, flags }, o)).xml;
  }

  async create(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_CREATE', { pool: this.h, flags }, o);
  }
  start(flags = 0, o?: CallOptions): Promise<void> {
    return this.create(flags, o);
  }

  async build(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_BUILD', { pool: this.h, flags }, o);
  }

  async destroy(o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_DESTROY', { pool: this.h }, o);
  }

  async delete(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_DELETE', { pool: this.h, flags }, o);
  }

  async undefine(o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_UNDEFINE', { pool: this.h }, o);
  }

  async refresh(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_REFRESH', { pool: this.h, flags }, o);
  }

  async autostart(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('STORAGE_POOL_GET_AUTOSTART', { pool: this.h }, o)).autostart !== 0;
  }

  async setAutostart(autostart: boolean, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_POOL_SET_AUTOSTART', { pool: this.h, autostart: autostart ? 1 : 0 }, o);
  }

  async isActive(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('STORAGE_POOL_IS_ACTIVE', { pool: this.h }, o)).active !== 0;
  }

  async isPersistent(o?: CallOptions): Promise<boolean> {
    return (await this.core.call('STORAGE_POOL_IS_PERSISTENT', { pool: this.h }, o)).persistent !== 0;
  }

  async numOfVolumes(o?: CallOptions): Promise<number> {
    return (await this.core.call('STORAGE_POOL_NUM_OF_VOLUMES', { pool: this.h }, o)).num;
  }

  async listVolumeNames(o?: CallOptions): Promise<string[]> {
    return (await this.core.call('STORAGE_POOL_LIST_VOLUMES', { pool: this.h, maxnames: LIST_MAX }, o)).names;
  }

  /** Every volume as an object, in one round trip. */
  async listAllVolumes(flags = 0, o?: CallOptions): Promise<StorageVol[]> {
    const r = await this.core.call('STORAGE_POOL_LIST_ALL_VOLUMES', { pool: this.h, needResults: 1, flags }, o);
    return r.vols.map((v) => new StorageVol(this.core, v));
  }

  async volumeLookupByName(name: string, o?: CallOptions): Promise<StorageVol> {
    return new StorageVol(this.core, (await this.core.call('STORAGE_VOL_LOOKUP_BY_NAME', { pool: this.h, name }, o)).vol);
  }

  async createVolume(xml: string, flags: StorageVolCreateFlags | number = 0, o?: CallOptions): Promise<StorageVol> {
    return new StorageVol(this.core, (await this.core.call('STORAGE_VOL_CREATE_XML', { pool: this.h, xml, flags }, o)).vol);
  }

  /** A new volume initialised from `clone`'s content (virStorageVolCreateXMLFrom). */
  async createVolumeFrom(xml: string, clone: StorageVol, flags = 0, o?: CallOptions): Promise<StorageVol> {
    const r = await this.core.call('STORAGE_VOL_CREATE_XML_FROM', { pool: this.h, xml, clonevol: clone.handle, flags }, o);
    return new StorageVol(this.core, r.vol);
  }
}

export class StorageVol {
  constructor(
    private readonly core: ApiCore,
    private readonly h: RemoteNonnullStorageVol,
  ) {}

  get handle(): RemoteNonnullStorageVol {
    return { ...this.h };
  }
  get name(): string {
    return this.h.name;
  }
  get key(): string {
    return this.h.key;
  }
  /** The pool's name, from the handle. */
  get poolName(): string {
    return this.h.pool;
  }

  async info(o?: CallOptions): Promise<StorageVolInfo> {
    const r = await this.core.call('STORAGE_VOL_GET_INFO', { vol: this.h }, o);
    return { type: r.type, capacity: r.capacity, allocation: r.allocation };
  }

  async xmlDesc(flags = 0, o?: CallOptions): Promise<string> {
    return (await this.core.call('STORAGE_VOL_GET_XML_DESC', { vol: this.h, flags }, o)).xml;
  }

  async path(o?: CallOptions): Promise<string> {
    return (await this.core.call('STORAGE_VOL_GET_PATH', { vol: this.h }, o)).name;
  }

  /** Opens a stream that writes into the volume; write, then finish() (virStorageVolUpload). */
  async openUpload(o: VolTransferOptions = {}): Promise<Stream> {
    const args = transferArgs(this.h, o);
    const { stream } = await this.core.openStream('STORAGE_VOL_UPLOAD', args, o);
    return new Stream(stream, 'virStorageVolUpload', isSparse(args.flags), o);
  }

  /** Uploads all of `source` and finishes; resolves with what was sent once the daemon confirms. */
  async upload(source: StreamSource, o: VolTransferOptions = {}): Promise<TransferProgress> {
    const s = await this.openUpload(o);
    await s.send(source);
    return s.progress;
  }

  /** Opens a stream reading the volume: iterate it, or readAll() (virStorageVolDownload). */
  async download(o: VolTransferOptions = {}): Promise<Stream> {
    const args = transferArgs(this.h, o);
    const { stream } = await this.core.openStream('STORAGE_VOL_DOWNLOAD', args, o);
    return new Stream(stream, 'virStorageVolDownload', isSparse(args.flags), o);
  }

  async delete(flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_VOL_DELETE', { vol: this.h, flags }, o);
  }

  /** Changes the capacity (virStorageVolResize); flags: ALLOCATE 1, DELTA 2, SHRINK 4. */
  async resize(capacity: bigint | number, flags = 0, o?: CallOptions): Promise<void> {
    await this.core.call('STORAGE_VOL_RESIZE', { vol: this.h, capacity: BigInt(capacity), flags }, o);
  }

  /** Overwrites the content (virStorageVolWipe, or virStorageVolWipePattern when an algorithm is given). */
  async wipe(algorithm?: number, flags = 0, o?: CallOptions): Promise<void> {
    if (algorithm === undefined) await this.core.call('STORAGE_VOL_WIPE', { vol: this.h, flags }, o);
    else await this.core.call('STORAGE_VOL_WIPE_PATTERN', { vol: this.h, algorithm, flags }, o);
  }

  async pool(o?: CallOptions): Promise<StoragePool> {
    return new StoragePool(this.core, (await this.core.call('STORAGE_POOL_LOOKUP_BY_VOLUME', { vol: this.h }, o)).pool);
  }
}

function transferArgs(vol: RemoteNonnullStorageVol, o: VolTransferOptions): { vol: RemoteNonnullStorageVol; offset: bigint; length: bigint; flags: number } {
  const flags = (o.flags ?? 0) | (o.sparse ? StorageVolUploadFlags.SPARSE_STREAM : 0);
  return { vol, offset: BigInt(o.offset ?? 0), length: BigInt(o.length ?? 0), flags };
}

function isSparse(flags: number): boolean {
  return (flags & StorageVolUploadFlags.SPARSE_STREAM) !== 0;
}
