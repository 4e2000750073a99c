/** Small helpers for benchmark statistics and printing. */

export function percentile(sortedUs: number[], p: number): number {
  if (sortedUs.length === 0) return NaN;
  const i = Math.min(sortedUs.length - 1, Math.floor((p / 100) * sortedUs.length));
  return sortedUs[i]!;
}

export interface LatencyResult {
  callsPerSec: number;
  p50us: number;
  p99us: number;
}

/** Runs `once` sequentially for `durationMs` after a warm-up, timing each call. */
export async function measureSequential(once: () => Promise<unknown>, durationMs: number, warmup = 300): Promise<LatencyResult> {
  for (let i = 0; i < warmup; i++) await once();
  const lat: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(durationMs) * 1_000_000n;
  let now = start;
  while (now < end) {
    const t = process.hrtime.bigint();
    await once();
    now = process.hrtime.bigint();
    lat.push(Number(now - t) / 1000);
  }
  lat.sort((a, b) => a - b);
  const secs = Number(now - start) / 1e9;
  return { callsPerSec: lat.length / secs, p50us: percentile(lat, 50), p99us: percentile(lat, 99) };
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** Prints rows as an aligned table. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}
