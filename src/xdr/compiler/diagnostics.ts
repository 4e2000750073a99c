/** A place in a `.x` file, 1-based, as editors count. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic extends SourcePos {
  readonly message: string;
}

/**
 * Everything wrong with the input, in `file:line:col: message` form. The compiler collects all
 * semantic problems of a file before throwing, so one run shows every typo in a large `.x`.
 */
export class CompileError extends Error {
  override readonly name = 'CompileError';

  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Throws a CompileError for a single problem (syntax errors stop the parse at once). */
export function fail(pos: SourcePos, message: string): never {
  throw new CompileError([{ file: pos.file, line: pos.line, col: pos.col, message }]);
}
