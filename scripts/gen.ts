// Compiles our `.x` protocol files into TypeScript modules (types, codecs, procedure tables).
//   node --import tsx scripts/gen.ts           writes the modules
//   node --import tsx scripts/gen.ts --check   exits 1 if a committed module is missing or stale (CI)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, CompileError, type UnitInput } from '../src/xdr/compiler/index.js';

/** Order matters: a file may use the names of the files above it (qemu.x uses remote.x). */
const LIST: readonly (readonly [source: string, output: string])[] = [
  ['src/protocol/virnet.x', 'src/rpc/gen/virnet.ts'],
  ['src/protocol/virerror.x', 'src/rpc/gen/virerror.ts'],
  ['src/protocol/keepalive.x', 'src/rpc/gen/keepalive.ts'],
  ['src/protocol/remote.x', 'src/protocol/gen/remote.ts'],
  ['src/protocol/qemu.x', 'src/protocol/gen/qemu.ts'],
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const inputs: UnitInput[] = [];
for (const [source, output] of LIST) {
  const path = resolve(root, source);
  if (!existsSync(path)) {
    console.log(`note: ${source} does not exist yet; skipping it`);
    continue;
  }
  inputs.push({ source, output, text: readFileSync(path, 'utf8') });
}

let outputs;
try {
  outputs = compile(inputs, { xdrModule: 'src/xdr/index.ts', programModule: 'src/rpc/program.ts' });
} catch (e) {
  if (e instanceof CompileError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}

let stale = 0;
for (const { output, code } of outputs) {
  const path = resolve(root, output);
  const old = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (old === code) continue;
  if (check) {
    stale++;
    console.error(old === null ? `${output}: missing` : `${output}: differs from its .x (${describeDiff(old, code)})`);
    continue;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  console.log(`wrote ${output}`);
}
if (stale) {
  console.error(`${stale} generated file(s) out of date: run \`npm run gen\``);
  process.exit(1);
}
if (check) console.log(`generated files up to date (${outputs.length})`);

/** A one-line hint at where two versions part: first differing line and line counts. */
function describeDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return `first difference at line ${i + 1}; ${x.length} lines committed, ${y.length} generated`;
}
