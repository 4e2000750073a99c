// What libvirt's test driver does to pools and volumes when it loads them: every pool
// starts at 100 GiB capacity with nothing allocated, each volume's allocation is charged
// to its pool, and volumes without a path/key get "<pool target>/<name>".
import type { PoolDef } from '../../../api/xml/storage-pool.js';
import type { VolDef } from '../../../api/xml/storage-vol.js';

export const DEFAULT_POOL_CAPACITY = 100n * 1024n ** 3n;
const U64 = 1n << 64n;

export function applyPoolDefaults(pool: PoolDef): void {
  pool.capacity = DEFAULT_POOL_CAPACITY;
  pool.allocation = 0n;
  pool.available = DEFAULT_POOL_CAPACITY;
}

/** Fills a volume's path/key and charges it to the pool (available wraps like a C uint64). */
export function addVolumeToPool(pool: PoolDef, vol: VolDef): void {
  if (vol.path === undefined) vol.path = `${pool.targetPath ?? ''}/${vol.name}`;
  if (vol.key === undefined) vol.key = vol.path;
  pool.allocation += vol.allocation;
  pool.available = (((pool.capacity - pool.allocation) % U64) + U64) % U64;
}
