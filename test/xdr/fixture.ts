// Compiles test/fixtures/xdr/every.x in-process into a temporary module and loads it, so the
// compiler tests exercise the current compiler, not a stale committed output.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { compile } from '../../src/xdr/compiler/index.js';
import type { XdrCodec } from '../../src/xdr/index.js';
import type { ProcedureSpec, ProgramSpec } from '../../src/rpc/program.js';
import { repoRoot } from '../harness/golden.js';

/** The repository root (the folder with package.json), whether tests run from dist/ or through tsx. */
export const ROOT = repoRoot();

export const FIXTURE_PATH = join(ROOT, 'test/fixtures/xdr/every.x');

/** Sibling runtime modules, as seen from this (compiled or source) file. */
export const XDR_MODULE = fileURLToPath(new URL('../../src/xdr/index.js', import.meta.url));
export const PROGRAM_MODULE = fileURLToPath(new URL('../../src/rpc/program.js', import.meta.url));

export function compileSource(text: string, source = 'test.x'): string {
  return compile([{ source, text, output: join(tmpdir(), 'unused.ts') }], {
    xdrModule: XDR_MODULE,
    programModule: PROGRAM_MODULE,
  })[0]!.code;
}

/** Loosely typed view of the generated module (its real types are checked by `typecheckFixture`). */
export type FixtureModule = Record<string, unknown> & {
  TestProcedures: Record<string, ProcedureSpec>;
  testProgram: ProgramSpec;
};

export function codec(m: FixtureModule, name: string): XdrCodec<unknown> {
  const c = m[name] as XdrCodec<unknown> | undefined;
  if (!c || typeof c.decode !== 'function') throw new Error(`fixture module has no codec ${name}`);
  return c;
}

let dir: string | null = null;
let cached: Promise<FixtureModule> | null = null;

/** Writes the generated TS (and its transpiled JS) into a temp dir once per process. */
function writeFixture(): string {
  if (dir) return dir;
  dir = mkdtempSync(join(tmpdir(), 'xdr-compiler-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const out = join(dir, 'every.ts');
  const [unit] = compile([{ source: 'test/fixtures/xdr/every.x', text: readFileSync(FIXTURE_PATH, 'utf8'), output: out }], {
    xdrModule: XDR_MODULE,
    programModule: PROGRAM_MODULE,
  });
  writeFileSync(out, unit!.code);
  const js = ts.transpileModule(unit!.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
  writeFileSync(join(dir, 'every.js'), js);
  return dir;
}

export function loadFixture(): Promise<FixtureModule> {
  cached ??= import(pathToFileURL(join(writeFixture(), 'every.js')).href) as Promise<FixtureModule>;
  return cached;
}

/** Type-checks the generated fixture module with the project's strict settings; returns tsc's messages. */
export function typecheckFixture(): string[] {
  const file = join(writeFixture(), 'every.ts');
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')],
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noFallthroughCasesInSwitch: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file || !d.file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}
