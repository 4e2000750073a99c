// Enforces the layer order: a file may import only from its own layer or from layers below it.
// xdr -> rpc -> transport -> protocol -> api -> drivers -> index (src/*.ts) -> daemon, cli; qmp stands alone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const SRC = resolve('src');
// The files directly in src/ (the package entry and connect()) form the "index" layer: they wire
// drivers together for library users, so they sit above drivers and below the daemon and CLI.
const rank = { xdr: 0, rpc: 1, transport: 2, protocol: 3, api: 4, drivers: 5, index: 5.5, daemon: 6, cli: 6 };
// qmp stands alone: it imports no other layer, and api and above may use it.
const allowed = (from, to) => {
  if (from === to) return true;
  if (from === 'qmp') return false;
  if (to === 'qmp') return rank[from] >= rank.api;
  if (!(from in rank) || !(to in rank)) return false;
  return rank[to] < rank[from];
};

function layerOf(file) {
  const rel = relative(SRC, file).split(/[\\/]/);
  return rel.length === 1 ? 'index' : rel[0];
}

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const problems = [];
for (const file of walk(SRC)) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:import|export)[^'"`;]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]);
    if (!target.startsWith(SRC)) continue;
    const a = layerOf(file);
    const b = layerOf(target);
    // drivers/* may not import each other: each driver stands on api and below.
    if (a === 'drivers' && b === 'drivers') {
      const da = relative(SRC, file).split(/[\\/]/)[1];
      const db = relative(SRC, target).split(/[\\/]/)[1];
      if (da !== db) problems.push(`${relative('.', file)}: driver ${da} imports driver ${db} (${m[1]})`);
      continue;
    }
    if (!allowed(a, b)) problems.push(`${relative('.', file)}: layer ${a} may not import ${b} (${m[1]})`);
  }
}
if (problems.length) {
  console.error('Layer violations:\n' + problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
