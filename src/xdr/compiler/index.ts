/**
 * The `.x` compiler: XDR (RFC 4506) plus rpcgen's `program` blocks and libvirt's procedure
 * annotations, to TypeScript types, codecs and procedure tables. Pure string-in, string-out;
 * scripts/gen.ts does the file handling.
 */
import { CompileError } from './diagnostics.js';
import { Generator } from './generator.js';
import { Unit } from './model.js';
import { parse } from './parser.js';

export { CompileError, formatDiagnostic, type Diagnostic } from './diagnostics.js';
export { parse } from './parser.js';
export { lex } from './lexer.js';
export { parseAnnotations, isReadonly } from './annotations.js';
export { camelCase, pascalCase, stripCommonPrefix } from './names.js';

export interface UnitInput {
  /** Path of the `.x` file as shown in messages and in the generated header. */
  readonly source: string;
  readonly text: string;
  /** Path of the generated `.ts` module; relative imports are computed from it. */
  readonly output: string;
}

export interface CompileOptions {
  /** Path of the XDR runtime's index module (`src/xdr/index.ts`). */
  readonly xdrModule: string;
  /** Path of the module defining ProcedureSpec/ProgramSpec (`src/rpc/program.ts`). */
  readonly programModule: string;
}

export interface UnitOutput {
  readonly source: string;
  readonly output: string;
  readonly code: string;
}

/**
 * Compiles `.x` files in order; each may use the names of the ones before it. Throws a
 * CompileError listing every problem of the first file that has any.
 */
export function compile(inputs: readonly UnitInput[], options: CompileOptions): UnitOutput[] {
  const units: Unit[] = [];
  const results: UnitOutput[] = [];
  for (const input of inputs) {
    const unit = new Unit(parse(input.source, input.text), input.output, [...units]);
    const gen = new Generator(unit, input.source);
    gen.generate();
    if (unit.problems.length) throw new CompileError(sortProblems(unit.problems));
    const code = gen.render({
      xdr: moduleSpecifier(input.output, options.xdrModule),
      program: moduleSpecifier(input.output, options.programModule),
      unit: (u) => moduleSpecifier(input.output, u.output),
    });
    units.push(unit);
    results.push({ source: input.source, output: input.output, code });
  }
  return results;
}

function sortProblems<T extends { line: number; col: number }>(ps: T[]): T[] {
  const seen = new Set<string>();
  return [...ps]
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((p) => {
      const key = JSON.stringify(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** The relative ESM specifier (`../x/y.js`) from one `.ts` file to another, POSIX-style. */
export function moduleSpecifier(fromFile: string, toFile: string): string {
  const norm = (p: string): string[] => p.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  const from = norm(fromFile).slice(0, -1);
  const to = norm(toFile);
  let k = 0;
  while (k < from.length && k < to.length - 1 && from[k] === to[k]) k++;
  const up = from.length - k;
  const rest = to.slice(k).join('/').replace(/\.ts$/, '.js');
  return (up === 0 ? './' : '../'.repeat(up)) + rest;
}
