// Scaled integers (<memory unit='GiB'>, <capacity unit='bytes'>) as libvirt reads them.
import { XmlModelError, ErrCode, ErrDomain } from './errors.js';

const POWERS: Record<string, [number, number]> = {
  '': [1024, 0], b: [1, 0], byte: [1, 0], bytes: [1, 0],
  k: [1024, 1], kib: [1024, 1], kb: [1000, 1],
  m: [1024, 2], mib: [1024, 2], mb: [1000, 2],
  g: [1024, 3], gib: [1024, 3], gb: [1000, 3],
  t: [1024, 4], tib: [1024, 4], tb: [1000, 4],
  p: [1024, 5], pib: [1024, 5], pb: [1000, 5],
  e: [1024, 6], eib: [1024, 6], eb: [1000, 6],
};

/**
 * Converts `value` in `unit` to bytes. `defaultScale` is what a missing unit means
 * (1024 for memory in KiB, 1 for storage sizes in bytes).
 */
export function scaledToBytes(value: bigint, unit: string | undefined, defaultScale: number): bigint {
  if (unit === undefined || unit === '') return value * BigInt(defaultScale);
  const p = POWERS[unit.toLowerCase()];
  if (!p) throw new XmlModelError(ErrCode.invalidArg, ErrDomain.none, `invalid argument: unknown suffix '${unit}'`);
  return value * BigInt(p[0]) ** BigInt(p[1]);
}

/** Memory in KiB, rounding up as libvirt does for sizes below 1 KiB. */
export function toKiB(value: bigint, unit: string | undefined): bigint {
  const bytes = scaledToBytes(value, unit, 1024);
  return (bytes + 1023n) / 1024n;
}
