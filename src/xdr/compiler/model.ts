import type {
  Declaration,
  EnumDef,
  ProgramDef,
  Specification,
  TypeDef,
  TypeSpec,
  Value,
  VersionDef,
} from './ast.js';
import type { Diagnostic, SourcePos } from './diagnostics.js';
import { pascalCase, stripCommonPrefix } from './names.js';

export interface TypeSym {
  readonly def: TypeDef;
  readonly unit: Unit;
}

/** A named integer: a `const`, an enum member, or a program/version number. */
export type ValueSym =
  | { readonly kind: 'const'; readonly name: string; readonly unit: Unit; readonly expr: Value }
  | { readonly kind: 'member'; readonly name: string; readonly unit: Unit; readonly def: EnumDef; readonly index: number };

/** Names generated code may not shadow: the codec functions' parameters and locals. */
const LOCALS = /^(r|w|v|d|e|f|i|a|at|item|[vn][0-9]+)$/;

/** Module-level names generated code relies on: imports, helpers and the globals it calls. */
const TAKEN = new Set([
  'XdrCodec', 'XdrReader', 'XdrWriter', 'withField', 'voidCodec', 'ProcedureSpec', 'ProgramSpec', 'smallInt',
  'Map', 'Object', 'Uint8Array', 'Number', 'String', 'Array',
]);

/**
 * One `.x` file and its symbol table. Names resolve in the file first and then in earlier files
 * of the generation list, nearest first, so a later protocol can build on an earlier one.
 */
export class Unit {
  readonly types = new Map<string, TypeSym>();
  readonly values = new Map<string, ValueSym>();
  /** TypeScript identifiers this module exports, for collision checks. */
  readonly exported = new Map<string, SourcePos>();
  /** Stripped TS member names per enum. */
  readonly memberNames = new Map<EnumDef, string[]>();
  /** Resolved type references and named values of this file. */
  readonly typeRefs = new Map<TypeSpec, TypeSym>();
  readonly valueRefs = new Map<Value, ValueSym>();
  readonly problems: Diagnostic[] = [];
  private readonly computing = new Set<ValueSym>();
  private readonly computed = new Map<ValueSym, number>();

  constructor(
    readonly spec: Specification,
    /** Path of the generated `.ts` module. */
    readonly output: string,
    readonly earlier: readonly Unit[],
  ) {
    this.declare();
    this.resolveRefs();
  }

  problem(pos: SourcePos, message: string): void {
    this.problems.push({ file: pos.file, line: pos.line, col: pos.col, message });
  }

  private claim(ident: string, pos: SourcePos, what: string): void {
    if (TAKEN.has(ident) || /^(int|uint|hyper|uhyper|bool|float|double)Codec$/.test(ident)) {
      this.problem(pos, `${what} becomes TypeScript name '${ident}', which generated code needs for itself`);
      return;
    }
    const prev = this.exported.get(ident);
    if (prev) this.problem(pos, `${what} becomes TypeScript name '${ident}', already used at line ${prev.line}`);
    else this.exported.set(ident, pos);
  }

  private declareValue(sym: ValueSym, pos: SourcePos): void {
    if (LOCALS.test(sym.name)) this.problem(pos, `name '${sym.name}' is reserved for generated code`);
    const prev = this.values.get(sym.name);
    if (prev) this.problem(pos, `duplicate name '${sym.name}'`);
    else this.values.set(sym.name, sym);
  }

  private declare(): void {
    for (const def of this.spec.definitions) {
      switch (def.kind) {
        case 'const':
          this.declareValue({ kind: 'const', name: def.name, unit: this, expr: def.value }, def.pos);
          this.claim(def.name, def.pos, `constant ${def.name}`);
          break;
        case 'program':
          this.declareProgram(def);
          break;
        default: {
          if (this.types.has(def.name)) {
            this.problem(def.pos, `duplicate type name '${def.name}'`);
            break;
          }
          this.types.set(def.name, { def, unit: this });
          this.claim(pascalCase(def.name), def.pos, `type ${def.name}`);
          if (def.kind === 'enum') {
            this.claim(pascalCase(def.name) + 'Codec', def.pos, `the codec of enum ${def.name}`);
            def.members.forEach((m, index) => {
              this.declareValue({ kind: 'member', name: m.name, unit: this, def, index }, m.pos);
            });
            const stripped = stripCommonPrefix(def.members.map((m) => m.name));
            this.memberNames.set(def, stripped);
            if (!def.members.length) this.problem(def.pos, `enum ${def.name} has no members`);
          }
        }
      }
    }
  }

  /** Program and version names become constants, unless an identical `const` already exists. */
  private declareProgram(def: ProgramDef): void {
    const named = (name: string, expr: Value, pos: SourcePos): void => {
      const prev = this.values.get(name);
      if (prev?.kind === 'const') {
        // Checked once values can be computed (resolveRefs).
        this.programConstDup.push({ name, expr, pos, prev });
        return;
      }
      this.declareValue({ kind: 'const', name, unit: this, expr }, pos);
      this.claim(name, pos, `program constant ${name}`);
    };
    named(def.name, def.number, def.pos);
    for (const v of def.versions) named(v.name, v.number, v.pos);
  }

  private readonly programConstDup: { name: string; expr: Value; pos: SourcePos; prev: ValueSym }[] = [];

  lookupType(name: string): TypeSym | undefined {
    return this.types.get(name) ?? this.fromEarlier((u) => u.types.get(name));
  }

  lookupValue(name: string): ValueSym | undefined {
    return this.values.get(name) ?? this.fromEarlier((u) => u.values.get(name));
  }

  private fromEarlier<T>(get: (u: Unit) => T | undefined): T | undefined {
    for (let k = this.earlier.length - 1; k >= 0; k--) {
      const hit = get(this.earlier[k]!);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  /** The number a symbol stands for; cycles and unknown names are reported and read as 0. */
  symValue(sym: ValueSym, at: SourcePos): number {
    const unit = sym.unit;
    if (unit !== this) return unit.symValue(sym, at);
    const hit = this.computed.get(sym);
    if (hit !== undefined) return hit;
    if (this.computing.has(sym)) {
      this.problem(at, `'${sym.name}' is defined in terms of itself`);
      return 0;
    }
    this.computing.add(sym);
    let v: number;
    if (sym.kind === 'const') v = this.valueOf(sym.expr);
    else {
      const m = sym.def.members[sym.index]!;
      if (m.value) v = this.valueOf(m.value);
      else if (sym.index === 0) v = 0;
      else v = this.symValue(this.values.get(sym.def.members[sym.index - 1]!.name) ?? sym, m.pos) + 1;
    }
    this.computing.delete(sym);
    this.computed.set(sym, v);
    return v;
  }

  /** The number a Value of this file stands for (0 after reporting an unknown name). */
  valueOf(v: Value): number {
    if (v.kind === 'literal') return v.value;
    const sym = this.valueRefs.get(v) ?? this.lookupValue(v.name);
    if (!sym) {
      this.problem(v.pos, `unknown constant '${v.name}'`);
      return 0;
    }
    return sym.unit.symValue(sym, v.pos);
  }

  private resolveValue(v: Value | null): void {
    if (!v || v.kind === 'literal') return;
    const sym = this.lookupValue(v.name);
    if (!sym) this.problem(v.pos, `unknown constant '${v.name}'`);
    else this.valueRefs.set(v, sym);
  }

  private resolveType(t: TypeSpec | null): void {
    if (!t || t.kind !== 'ref') return;
    const sym = this.lookupType(t.name);
    if (!sym) {
      this.problem(t.pos, `unknown type '${t.name}'`);
      return;
    }
    if (t.tag && t.tag !== sym.def.kind) {
      this.problem(t.pos, `'${t.name}' is a ${sym.def.kind}, not a ${t.tag}`);
      return;
    }
    this.typeRefs.set(t, sym);
  }

  private resolveDecl(d: Declaration): void {
    if (d.shape === 'void') return;
    this.resolveType(d.type);
    this.resolveValue(d.size);
  }

  private resolveRefs(): void {
    for (const def of this.spec.definitions) {
      switch (def.kind) {
        case 'const':
          this.resolveValue(def.value);
          break;
        case 'enum':
          for (const m of def.members) this.resolveValue(m.value);
          break;
        case 'struct':
          for (const f of def.fields) this.resolveDecl(f);
          break;
        case 'union':
          this.resolveDecl(def.discriminant);
          for (const arm of [...def.arms, ...(def.defaultArm ? [def.defaultArm] : [])]) {
            // TRUE/FALSE label a bool discriminant without being declared anywhere.
            for (const l of arm.labels) if (!(l.kind === 'name' && (l.name === 'TRUE' || l.name === 'FALSE'))) this.resolveValue(l);
            this.resolveDecl(arm.decl);
          }
          break;
        case 'typedef':
          this.resolveDecl(def.decl);
          break;
        case 'program':
          this.resolveValue(def.number);
          for (const v of def.versions) this.resolveVersion(v);
          break;
      }
    }
    for (const dup of this.programConstDup) {
      this.resolveValue(dup.expr);
      if (this.valueOf(dup.expr) !== dup.prev.unit.symValue(dup.prev, dup.pos)) {
        this.problem(dup.pos, `'${dup.name}' is already a constant with a different value`);
      }
    }
  }

  private resolveVersion(v: VersionDef): void {
    this.resolveValue(v.number);
    for (const p of v.procedures) {
      this.resolveType(p.arg);
      this.resolveType(p.ret);
      this.resolveValue(p.number);
    }
  }
}
