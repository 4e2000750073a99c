import type { Diagnostic } from './diagnostics.js';
import type { DocComment } from './lexer.js';

/** What a procedure's doc comment says, already validated (mirrors ProcedureSpec in src/rpc/program.ts). */
export interface Annotations {
  generate: 'both' | 'client' | 'server' | 'none';
  priority: 'high' | 'low';
  acl: string[];
  aclFilter: string[];
  stream: 'read' | 'write' | null;
  sparseFlag: string | null;
  /** `@readonly` when given; otherwise computed from the ACL by `isReadonly`. */
  readonlyOverride: boolean | null;
  kind: 'call' | 'message' | null;
}

const ACL_ENTRY = /^[A-Za-z0-9_]+:[A-Za-z0-9_]+(:\S+)?$/;
const READ_PERMS = new Set(['getattr', 'read']);

/**
 * Parses the `@key: value` lines of a procedure doc comment. Free text is ignored, but an unknown
 * key is an error, so a typo such as `@prority` cannot silently drop a setting.
 */
export function parseAnnotations(doc: DocComment | null, problems: Diagnostic[]): Annotations {
  const a: Annotations = {
    generate: 'both',
    priority: 'low',
    acl: [],
    aclFilter: [],
    stream: null,
    sparseFlag: null,
    readonlyOverride: null,
    kind: null,
  };
  if (!doc) return a;
  const seen = new Set<string>();
  const lines = doc.text.split('\n');
  lines.forEach((raw, idx) => {
    const m = /^(\s*\*?\s*)@([A-Za-z_]+)\s*(:?)\s*(.*?)\s*$/.exec(raw);
    if (!m) return;
    const [, lead, key, colon, value] = m as unknown as [string, string, string, string, string];
    const line = doc.pos.line + idx;
    // The first line of the comment starts after `/**`.
    const col = (idx === 0 ? doc.pos.col + 3 : 1) + lead.length;
    const problem = (message: string): void => {
      problems.push({ file: doc.pos.file, line, col, message });
    };
    if (!colon) return problem(`annotation @${key} needs a ':' and a value`);
    const single = (): boolean => {
      if (seen.has(key)) {
        problem(`annotation @${key} given twice`);
        return false;
      }
      seen.add(key);
      return true;
    };
    const oneOf = <T extends string>(allowed: readonly T[]): T | null => {
      if ((allowed as readonly string[]).includes(value)) return value as T;
      problem(`@${key} must be one of ${allowed.join(', ')}, got '${value}'`);
      return null;
    };
    switch (key) {
      case 'generate': {
        const v = single() && oneOf(['both', 'client', 'server', 'none'] as const);
        if (v) a.generate = v;
        break;
      }
      case 'priority': {
        const v = single() && oneOf(['high', 'low'] as const);
        if (v) a.priority = v;
        break;
      }
      case 'acl':
      case 'aclfilter': {
        for (const entry of value.split(/[\s,]+/).filter((e) => e.length > 0)) {
          // `@acl: none` documents that a procedure needs no permission (the auth calls).
          if (key === 'acl' && entry === 'none') continue;
          if (!ACL_ENTRY.test(entry)) {
            problem(`@${key} entry must look like object:permission[:FLAG], got '${entry}'`);
            continue;
          }
          (key === 'acl' ? a.acl : a.aclFilter).push(entry);
        }
        if (!value) problem(`@${key} needs a value`);
        break;
      }
      case 'readstream':
      case 'writestream': {
        if (a.stream) {
          problem('a procedure can have only one @readstream/@writestream');
          break;
        }
        if (!/^[0-9]+$/.test(value)) problem(`@${key} must be an argument position (a number), got '${value}'`);
        else a.stream = key === 'readstream' ? 'read' : 'write';
        break;
      }
      case 'sparseflag':
        if (!single()) break;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) problem(`@sparseflag must be a flag name, got '${value}'`);
        else a.sparseFlag = value;
        break;
      case 'readonly': {
        const v = single() && oneOf(['yes', 'no'] as const);
        if (v) a.readonlyOverride = v === 'yes';
        break;
      }
      case 'kind': {
        const v = single() && oneOf(['call', 'message'] as const);
        if (v) a.kind = v;
        break;
      }
      default:
        problem(`unknown annotation @${key}`);
    }
  });
  if (a.sparseFlag && !a.stream) {
    problems.push({ ...doc.pos, message: '@sparseflag needs @readstream or @writestream' });
  }
  return a;
}

/**
 * Whether a procedure may run on a read-only connection: every ACL entry without a flag part
 * (flagged entries only apply when the caller sets that flag) must be a read permission.
 */
export function isReadonly(acl: readonly string[]): boolean {
  return acl.every((entry) => {
    const parts = entry.split(':');
    if (parts.length > 2) return true;
    const perm = parts[1]!;
    return READ_PERMS.has(perm) || perm.startsWith('search_');
  });
}
