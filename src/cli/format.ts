// Output helpers with virsh's layouts: tables, pretty capacities, key/value lines.

/** virsh's table: left-aligned columns three spaces apart, a leading space, a dashed rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], quiet = false): string {
  // Quiet mode (-q) drops the header, and with it the header's share of the column widths.
  const widths = header.map((h, i) => Math.max(quiet ? 0 : h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => ' ' + cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c)).join('   ') + '\n';
  const total = 1 + widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1) + 2;
  return (quiet ? '' : line(header) + '-'.repeat(total) + '\n') + rows.map(line).join('');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** A byte count in the largest unit below 1024 of it, as [value, unit]. */
export function prettyCapacity(bytes: bigint): [number, string] {
  let limit = 1024n;
  for (let i = 0; i < UNITS.length - 1; i++) {
    if (bytes < limit) return [i === 0 ? Number(bytes) : Number(bytes) / Number(limit / 1024n), UNITS[i]!];
    limit *= 1024n;
  }
  return [Number(bytes) / Number(limit / 1024n), UNITS[UNITS.length - 1]!];
}

/** "%.2lf %s". */
export function pretty(bytes: bigint): string {
  const [v, u] = prettyCapacity(bytes);
  return `${v.toFixed(2)} ${u}`;
}

/** "%-15s %s\n" style line. */
export function kv(key: string, value: string | number | bigint, width = 15): string {
  return `${key.padEnd(width)} ${value}\n`;
}
