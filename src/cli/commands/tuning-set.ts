// Parsing the setter options of memtune, blkiotune and numatune into typed parameters, with
// virsh 9.0's checks and messages. Each returns null when the command only queries.
import type { TypedParameters } from '../../api/info.js';
import { CliError, type Opts } from '../ctl.js';

/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED (KiB). */
const UNLIMITED = 9007199254740991n;
const INT64_MAX = 2n ** 63n - 1n;
const UNITS = 'kmgtpe';

/** virScaleInteger's multiplier for a suffix; null when unknown. */
function suffixScale(suffix: string, dflt: bigint): bigint | null {
  if (suffix === '') return dflt;
  const s = suffix.toLowerCase();
  if (s === 'b' || s === 'byte' || s === 'bytes') return 1n;
  const power = UNITS.indexOf(s[0]!) + 1;
  if (power === 0) return null;
  const rest = s.slice(1);
  if (rest === '' || rest === 'ib') return 1024n ** BigInt(power);
  if (rest === 'b') return 1000n ** BigInt(power);
  return null;
}

/**
 * A memtune size in KiB: a negative number means unlimited; otherwise a scaled integer
 * (KiB by default), rounded up to whole KiB, at most VIR_DOMAIN_MEMORY_PARAM_UNLIMITED.
 */
function memtuneSize(text: string, opt: string): bigint {
  const fail = (why: string | null = null) => new CliError(`Unable to parse integer parameter ${opt}`, null, why);
  // strtoll: leading white space, a sign, digits; the rest is the suffix.
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)([\s\S]*)$/.exec(text);
  if (!m) throw fail();
  const n = m[1] === '-' ? -BigInt(m[2]!) : BigInt(m[2]!);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw fail();
  if (n < 0n) return UNLIMITED;
  const scale = suffixScale(m[3]!, 1024n);
  if (scale === null) throw fail(`invalid argument: unknown suffix '${m[3]}'`);
  if (n > (UNLIMITED * 1024n) / scale) throw fail(`numerical overflow: value too large: ${text}`);
  return (n * scale + 1023n) / 1024n;
}

const MEMTUNE = [['hard-limit', 'hard_limit'], ['soft-limit', 'soft_limit'], ['swap-hard-limit', 'swap_hard_limit'], ['min-guarantee', 'min_guarantee']] as const;

export function memtuneParams(o: Opts): TypedParameters | null {
  const out: Record<string, TypedParameters[string]> = {};
  for (const [opt, field] of MEMTUNE) {
    const v = o.raw(opt);
    if (v !== undefined) out[field] = { type: 'ullong', value: memtuneSize(v, opt) };
  }
  return Object.keys(out).length > 0 ? out : null;
}

const BLKIO_DEVICE = [
  ['device-weights', 'device_weight'], ['device-read-iops-sec', 'device_read_iops_sec'], ['device-write-iops-sec', 'device_write_iops_sec'],
  ['device-read-bytes-sec', 'device_read_bytes_sec'], ['device-write-bytes-sec', 'device_write_bytes_sec'],
] as const;

export function blkiotuneParams(o: Opts): TypedParameters | null {
  const out: Record<string, TypedParameters[string]> = {};
  const weight = o.int('weight');
  if (weight !== undefined) {
    if (weight <= 0) throw new CliError(`Invalid value of ${weight} for I/O weight`);
    out.weight = { type: 'uint', value: weight };
  }
  for (const [opt, field] of BLKIO_DEVICE) {
    const v = o.raw(opt);
    if (v === undefined) continue;
    if (v === '') throw new CliError('Unable to parse string parameter');
    out[field] = { type: 'string', value: v };
  }
  return Object.keys(out).length > 0 ? out : null;
}

const NUMA_MODES = ['strict', 'preferred', 'interleave', 'restrictive'];

export function numatuneParams(o: Opts): TypedParameters | null {
  const out: Record<string, TypedParameters[string]> = {};
  const mode = o.string('mode');
  if (mode !== undefined) {
    let value = NUMA_MODES.indexOf(mode);
    if (value < 0) {
      // Otherwise a number from virDomainNumatuneMemMode, as strtol reads it (whole string).
      const m = /^[ \t\n\v\f\r]*[+-]?\d+$/.exec(mode);
      const n = m ? Number(mode.trim()) : NaN;
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new CliError(`Invalid mode: ${mode}`);
      value = n;
    }
    out.numa_mode = { type: 'int', value };
  }
  const nodeset = o.string('nodeset');
  if (nodeset !== undefined) out.numa_nodeset = { type: 'string', value: nodeset };
  return Object.keys(out).length > 0 ? out : null;
}
