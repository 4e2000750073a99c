import { isReadonly, parseAnnotations } from './annotations.js';
import type {
  ConstDef,
  Declaration,
  EnumDef,
  NamedDeclaration,
  PrimitiveName,
  ProcType,
  ProgramDef,
  StructDef,
  TypeDef,
  TypeSpec,
  TypedefDef,
  UnionArm,
  UnionDef,
  Value,
} from './ast.js';
import type { SourcePos } from './diagnostics.js';
import type { TypeSym, Unit } from './model.js';
import { camelCase, pascalCase, programBase, stripCommonPrefix } from './names.js';

/** How generated code spells one declaration: its TS type and its decode/encode code. */
interface Code {
  readonly ts: string;
  /** A decoding expression, or null when statements are needed (arrays): see `decodeInto`. */
  readonly dec: string | null;
  /** Statements that declare `const <target>` holding the decoded value. */
  decodeInto(target: string, count: string): string[];
  /** Statements encoding the value of the expression `x` (evaluated more than once). */
  enc(x: string): string[];
}

/** Bare primitives: TS type, decode expression, encode statement. */
const PRIMS: Record<PrimitiveName, { ts: string; dec: string; enc: (x: string) => string; size: number }> = {
  int: { ts: 'number', dec: 'r.int()', enc: (x) => `w.int(${x});`, size: 4 },
  uint: { ts: 'number', dec: 'r.uint()', enc: (x) => `w.uint(${x});`, size: 4 },
  hyper: { ts: 'bigint', dec: 'r.hyper()', enc: (x) => `w.hyper(${x});`, size: 8 },
  uhyper: { ts: 'bigint', dec: 'r.uhyper()', enc: (x) => `w.uhyper(${x});`, size: 8 },
  bool: { ts: 'boolean', dec: 'r.bool()', enc: (x) => `w.bool(${x});`, size: 4 },
  float: { ts: 'number', dec: 'r.float()', enc: (x) => `w.float(${x});`, size: 4 },
  double: { ts: 'number', dec: 'r.double()', enc: (x) => `w.double(${x});`, size: 8 },
  // rpcgen sends these as whole words and C truncates on receipt; we truncate the same way and
  // refuse to send what the C type could not hold.
  char: { ts: 'number', dec: '(r.int() << 24) >> 24', enc: (x) => `smallInt(w, ${x}, -128, 127);`, size: 4 },
  uchar: { ts: 'number', dec: '(r.uint() & 0xff)', enc: (x) => `smallInt(w, ${x}, 0, 255);`, size: 4 },
  short: { ts: 'number', dec: '(r.int() << 16) >> 16', enc: (x) => `smallInt(w, ${x}, -32768, 32767);`, size: 4 },
  ushort: { ts: 'number', dec: '(r.uint() & 0xffff)', enc: (x) => `smallInt(w, ${x}, 0, 65535);`, size: 4 },
};

/** Primitives a procedure may take or return directly; each gets a small private codec. */
const PROC_PRIMS = new Set<PrimitiveName>(['int', 'uint', 'hyper', 'uhyper', 'bool', 'float', 'double']);

const UNBOUNDED = 0xffffffff;

const indent = (lines: string[], by = '  '): string[] => lines.map((l) => (l ? by + l : l));
const paren = (ts: string): string => (ts.includes(' ') ? `(${ts})` : ts);

function literalText(v: number, raw: string | null): string {
  if (raw && /^-?0[xX]/.test(raw)) return raw;
  return String(v);
}

/** Base of a type after following plain typedefs: decides char arrays and union discriminants. */
type Base = { kind: 'prim'; name: PrimitiveName } | { kind: 'enum'; sym: TypeSym } | { kind: 'other' };

export interface ModuleSpecifiers {
  readonly xdr: string;
  readonly program: string;
  unit(u: Unit): string;
}

/** Emits the TypeScript module for one unit. Problems go to `unit.problems`. */
export class Generator {
  private readonly body: string[] = [];
  private readonly tail: string[] = [];
  private readonly imports = new Map<Unit, Set<string>>();
  private readonly xdrImports = new Set<string>();
  private readonly programImports = new Set<string>();
  private readonly helpers = new Set<string>();
  private readonly inlining = new Set<TypeDef>();
  private readonly minMemo = new Map<TypeDef, number>();

  constructor(
    private readonly unit: Unit,
    private readonly source: string,
  ) {}

  private problem(pos: SourcePos, message: string): void {
    this.unit.problem(pos, message);
  }

  private use(owner: Unit, ident: string): string {
    if (owner !== this.unit) {
      let set = this.imports.get(owner);
      if (!set) this.imports.set(owner, (set = new Set()));
      set.add(ident);
    }
    return ident;
  }

  private xdr(ident: string): string {
    this.xdrImports.add(ident);
    return ident;
  }

  private typeIdent(sym: TypeSym): string {
    return this.use(sym.unit, pascalCase(sym.def.name));
  }

  private codecIdent(sym: TypeSym): string {
    const base = pascalCase(sym.def.name);
    return this.use(sym.unit, sym.def.kind === 'enum' ? base + 'Codec' : base);
  }

  // ---- names and numbers -------------------------------------------------------------------

  private refOf(scope: Unit, t: TypeSpec): TypeSym | undefined {
    return t.kind === 'ref' ? scope.typeRefs.get(t) : undefined;
  }

  /** A bound `[N]`/`<N>` as code plus its value; constants stay named for readability. */
  private size(scope: Unit, v: Value | null): { expr: string; value: number } {
    if (!v) return { expr: '0xffffffff', value: UNBOUNDED };
    const value = scope.valueOf(v);
    if (!Number.isInteger(value) || value < 0 || value > UNBOUNDED) {
      this.problem(v.pos, `size ${value} is not between 0 and 0xffffffff`);
    }
    if (v.kind === 'literal') return { expr: literalText(v.value, v.raw), value };
    const sym = scope.valueRefs.get(v);
    if (sym?.kind === 'const') return { expr: this.use(sym.unit, sym.name), value };
    return { expr: String(value), value };
  }

  private baseOf(scope: Unit, t: TypeSpec): Base {
    if (t.kind === 'primitive') return { kind: 'prim', name: t.name };
    const sym = this.refOf(scope, t);
    if (!sym) return { kind: 'other' };
    if (sym.def.kind === 'enum') return { kind: 'enum', sym };
    if (sym.def.kind === 'typedef' && sym.def.decl.shape === 'scalar') {
      if (this.inlining.has(sym.def)) return { kind: 'other' };
      this.inlining.add(sym.def);
      try {
        return this.baseOf(sym.unit, sym.def.decl.type);
      } finally {
        this.inlining.delete(sym.def);
      }
    }
    return { kind: 'other' };
  }

  // ---- minimum encoded sizes (pure: no imports recorded) -------------------------------------

  private minOfType(scope: Unit, t: TypeSpec): number {
    if (t.kind === 'primitive') return PRIMS[t.name].size;
    const sym = this.refOf(scope, t);
    return sym ? this.minOfDef(sym) : 0;
  }

  private minOfDecl(scope: Unit, d: Declaration): number {
    if (d.shape === 'void') return 0;
    if (d.shape === 'optional' || d.shape === 'var') return 4;
    if (d.shape === 'scalar') return this.minOfType(scope, d.type);
    const n = d.size ? scope.valueOf(d.size) : 0;
    if (d.type.kind === 'opaque') return (n + 3) & ~3;
    const base = this.baseOf(scope, d.type);
    if (base.kind === 'prim' && (base.name === 'char' || base.name === 'uchar')) return 4 * n;
    return n * this.minOfType(scope, d.type);
  }

  /** Smallest encoding of a named type; a type reached again while computing counts as 0 (safe lower bound). */
  private minOfDef(sym: TypeSym): number {
    const hit = this.minMemo.get(sym.def);
    if (hit !== undefined) return hit;
    this.minMemo.set(sym.def, 0);
    const def = sym.def;
    let n: number;
    switch (def.kind) {
      case 'enum':
        n = 4;
        break;
      case 'struct':
        n = def.fields.reduce((s, f) => s + this.minOfDecl(sym.unit, f), 0);
        break;
      case 'union': {
        const arms = [...def.arms, ...(def.defaultArm ? [def.defaultArm] : [])];
        n = 4 + Math.min(...arms.map((a) => this.minOfDecl(sym.unit, a.decl)));
        break;
      }
      case 'typedef':
        n = this.minOfDecl(sym.unit, def.decl);
        break;
    }
    this.minMemo.set(sym.def, n);
    return n;
  }

  // ---- code for types and declarations -------------------------------------------------------

  /** A single (non-array) value of type t. */
  private scalar(scope: Unit, t: TypeSpec): Code {
    if (t.kind === 'primitive') {
      const p = PRIMS[t.name];
      if (t.name === 'char' || t.name === 'uchar' || t.name === 'short' || t.name === 'ushort') {
        this.helpers.add('smallInt');
        this.xdr('XdrWriter');
      }
      return simple(p.ts, p.dec, (x) => [p.enc(x)]);
    }
    if (t.kind !== 'ref') {
      this.problem(t.pos, `${t.kind} needs a size`);
      return simple('never', 'r.int()', () => []);
    }
    const sym = this.refOf(scope, t);
    if (!sym) return simple('never', 'r.int()', () => []);
    const def = sym.def;
    if (def.kind === 'enum') {
      const name = this.typeIdent(sym);
      return simple(name, `r.int() as ${name}`, (x) => [`w.int(${x});`]);
    }
    if (def.kind === 'typedef' && !this.inlining.has(def)) {
      // Plain typedefs (strings, opaque, optional, scalars) are inlined as the code they stand for.
      this.inlining.add(def);
      try {
        const inner = this.declCode(sym.unit, def.decl, true);
        if (inner) return inner;
      } finally {
        this.inlining.delete(def);
      }
    } else if (def.kind === 'typedef') {
      this.problem(t.pos, `typedef ${def.name} refers to itself`);
    }
    const name = this.codecIdent(sym);
    return simple(this.typeIdent(sym), `${name}.decode(r)`, (x) => [`${name}.encode(w, ${x});`]);
  }

  /**
   * Code for a declaration. With `inlineOnly`, returns null for shapes that need statements
   * (arrays of non-char types), so a typedef of one is called through its codec instead.
   */
  private declCode(scope: Unit, d: NamedDeclaration, inlineOnly: true): Code | null;
  private declCode(scope: Unit, d: NamedDeclaration, inlineOnly: false): Code;
  private declCode(scope: Unit, d: NamedDeclaration, inlineOnly: boolean): Code | null {
    const t = d.type;
    if (d.shape === 'scalar') return this.scalar(scope, t);
    if (d.shape === 'optional') {
      const s = this.scalar(scope, t);
      return simple(`${s.ts} | null`, `r.optional() ? ${s.dec} : null`, (x) => [
        `if (${x} === null || ${x} === undefined) w.optional(false);`,
        'else {',
        '  w.optional(true);',
        ...indent(s.enc(x)),
        '}',
      ]);
    }
    if (t.kind === 'string') {
      const n = this.size(scope, d.size);
      return simple('string', `r.string(${n.expr})`, (x) => [`w.string(${x}, ${n.expr});`]);
    }
    if (t.kind === 'opaque') {
      const n = this.size(scope, d.size);
      return d.shape === 'fixed'
        ? simple('Uint8Array', `r.fixedOpaque(${n.expr})`, (x) => [`w.fixedOpaque(${x}, ${n.expr});`])
        : simple('Uint8Array', `r.varOpaque(${n.expr})`, (x) => [`w.varOpaque(${x}, ${n.expr});`]);
    }
    const base = this.baseOf(scope, t);
    if (base.kind === 'prim' && (base.name === 'char' || base.name === 'uchar')) {
      // One 4-byte word per character, not packed bytes: libvirt's rpcgen does it this way.
      const n = this.size(scope, d.size);
      // char is signed in C: rpcgen sign-extends each byte into its word; unsigned char does not.
      const sign = base.name === 'uchar' ? ', false' : '';
      return d.shape === 'fixed'
        ? simple('Uint8Array', `r.fixedCharArray(${n.expr})`, (x) => [`w.fixedCharArray(${x}, ${n.expr}${sign});`])
        : simple('Uint8Array', `r.varCharArray(${n.expr})`, (x) => [`w.varCharArray(${x}, ${n.expr}${sign});`]);
    }
    if (inlineOnly) return null;
    const el = this.scalar(scope, t);
    const n = this.size(scope, d.size);
    const ts = `${paren(el.ts)}[]`;
    if (d.shape === 'var') {
      const min = this.minOfType(scope, t);
      return {
        ts,
        dec: null,
        decodeInto: (target, count) => [
          `const ${count} = r.arrayLength(${n.expr}, ${min});`,
          `const ${target}: ${ts} = [];`,
          `for (let i = 0; i < ${count}; i++) ${target}.push(${el.dec});`,
        ],
        enc: (x) => [`w.arrayLength(${x}.length, ${n.expr});`, `for (const item of ${x}) {`, ...indent(el.enc('item')), '}'],
      };
    }
    return {
      ts,
      dec: null,
      decodeInto: (target) => [
        `const ${target}: ${ts} = [];`,
        `for (let i = 0; i < ${n.expr}; i++) ${target}.push(${el.dec});`,
      ],
      enc: (x) => [
        `if (${x}.length !== ${n.expr}) w.fail(\`fixed array needs ${n.value} elements, got \${${x}.length}\`);`,
        `for (const item of ${x}) {`,
        ...indent(el.enc('item')),
        '}',
      ],
    };
  }

  // ---- definitions ---------------------------------------------------------------------------

  generate(): void {
    const programs: ProgramDef[] = [];
    for (const def of this.unit.spec.definitions) {
      switch (def.kind) {
        case 'const':
          this.emitConst(def);
          break;
        case 'enum':
          this.emitEnum(def);
          break;
        case 'struct':
          this.emitStruct(def);
          break;
        case 'union':
          this.emitUnion(def);
          break;
        case 'typedef':
          this.emitTypedef(def);
          break;
        case 'program':
          programs.push(def);
          break;
      }
    }
    // Procedure tables refer to codec objects at module load, so they come after all of them.
    for (const p of programs) this.emitProgram(p);
  }

  private emit(...lines: string[]): void {
    this.body.push(...lines);
  }

  private emitConst(def: ConstDef): void {
    const v = this.unit.valueOf(def.value);
    this.emit(`export const ${def.name} = ${literalText(v, def.value.kind === 'literal' ? def.value.raw : null)};`, '');
  }

  private emitEnum(def: EnumDef): void {
    const name = pascalCase(def.name);
    const members = this.unit.memberNames.get(def) ?? [];
    this.emit(`export enum ${name} {`);
    const seen = new Set<number>();
    def.members.forEach((m, i) => {
      const v = this.unit.symValue(this.unit.values.get(m.name)!, m.pos);
      if (seen.has(v)) this.emit('  // eslint-disable-next-line @typescript-eslint/no-duplicate-enum-values');
      seen.add(v);
      this.emit(`  ${members[i]} = ${v},`);
    });
    this.emit('}', '');
    this.xdr('XdrCodec');
    this.xdr('XdrReader');
    this.xdr('XdrWriter');
    this.emit(
      `export const ${name}Codec: XdrCodec<${name}> = {`,
      `  encode(w: XdrWriter, v: ${name}): void {`,
      '    w.int(v);',
      '  },',
      `  decode(r: XdrReader): ${name} {`,
      '    return r.int();',
      '  },',
      '};',
      '',
    );
  }

  /** The try/catch that names the failing field; `f` holds `Type.field` of the step under way. */
  private guarded(steps: { path: string; lines: string[] }[], tail: string[]): string[] {
    this.xdr('withField');
    const moving = steps.length > 1;
    const out: string[] = [];
    if (moving) out.push(`let f = '${steps[0]!.path}';`);
    out.push('try {');
    steps.forEach((s, i) => {
      if (moving && i > 0) out.push(`  f = '${s.path}';`);
      out.push(...indent(s.lines));
    });
    out.push(...indent(tail), '} catch (e) {', `  throw withField(e, ${moving ? 'f' : `'${steps[0]!.path}'`});`, '}');
    return out;
  }

  private codecHeader(name: string, ts: string): void {
    this.xdr('XdrCodec');
    this.xdr('XdrReader');
    this.xdr('XdrWriter');
    this.emit(`export const ${name}: XdrCodec<${ts}> = {`);
  }

  private emitStruct(def: StructDef): void {
    const name = pascalCase(def.name);
    const seen = new Map<string, string>();
    const fields = def.fields.map((f, i) => {
      const key = camelCase(f.name);
      const prev = seen.get(key);
      if (prev !== undefined) this.problem(f.pos, `field '${f.name}' of ${def.name} clashes with '${prev}' (both become '${key}')`);
      seen.set(key, f.name);
      return { key, code: this.declCode(this.unit, f, false), local: `v${i}`, count: `n${i}` };
    });
    this.emit(`export interface ${name} {`, ...fields.map((f) => `  ${f.key}: ${f.code.ts};`), '}', '');
    this.codecHeader(name, name);
    const encSteps = fields.map((f) => ({ path: `${name}.${f.key}`, lines: f.code.enc(`v.${f.key}`) }));
    const decSteps = fields.map((f) => ({
      path: `${name}.${f.key}`,
      lines: f.code.dec !== null ? [`const ${f.local} = ${f.code.dec};`] : f.code.decodeInto(f.local, f.count),
    }));
    const ret =
      fields.length <= 3
        ? [`return { ${fields.map((f) => `${f.key}: ${f.local}`).join(', ')} };`]
        : ['return {', ...fields.map((f) => `  ${f.key}: ${f.local},`), '};'];
    this.emit(
      `  encode(w: XdrWriter, v: ${name}): void {`,
      ...indent(this.guarded(encSteps, []), '    '),
      '  },',
      `  decode(r: XdrReader): ${name} {`,
      ...indent(this.guarded(decSteps, ret), '    '),
      '  },',
      '};',
      '',
    );
  }

  private emitTypedef(def: TypedefDef): void {
    const name = pascalCase(def.name);
    this.inlining.add(def);
    const code = this.declCode(this.unit, def.decl, false);
    this.inlining.delete(def);
    this.emit(`export type ${name} = ${code.ts};`, '');
    this.codecHeader(name, name);
    const dec = code.dec !== null ? [`return ${code.dec};`] : [...code.decodeInto('v0', 'n0'), 'return v0;'];
    this.emit(
      `  encode(w: XdrWriter, v: ${name}): void {`,
      ...indent(code.enc('v'), '    '),
      '  },',
      `  decode(r: XdrReader): ${name} {`,
      ...indent(dec, '    '),
      '  },',
      '};',
      '',
    );
  }

  private emitUnion(def: UnionDef): void {
    const name = pascalCase(def.name);
    const disc = def.discriminant;
    const discKey = camelCase(disc.name);
    const base = this.baseOf(this.unit, disc.type);
    const discCode = this.scalar(this.unit, disc.type);
    if (!(base.kind === 'enum' || (base.kind === 'prim' && ['int', 'uint', 'bool'].includes(base.name)))) {
      this.problem(disc.pos, 'a union discriminant must be int, unsigned int, bool or an enum');
    }
    const isBool = base.kind === 'prim' && base.name === 'bool';
    const memberNames = base.kind === 'enum' ? (base.sym.unit.memberNames.get(base.sym.def as EnumDef) ?? []) : [];
    const enumValues =
      base.kind === 'enum'
        ? (base.sym.def as EnumDef).members.map((m) => base.sym.unit.symValue(base.sym.unit.values.get(m.name)!, m.pos))
        : [];
    const enumIdent = base.kind === 'enum' ? this.typeIdent(base.sym) : '';
    const seen = new Map<string, number>();
    /** Each label as the code that is both its TS literal type and its switch-case value. */
    const labelCode = (l: Value): string => {
      if (isBool) {
        const v = l.kind === 'name' ? (l.name === 'TRUE' ? 1 : l.name === 'FALSE' ? 0 : this.unit.valueOf(l)) : l.value;
        if (v !== 0 && v !== 1) this.problem(l.pos, 'a bool case must be TRUE, FALSE, 1 or 0');
        return v ? 'true' : 'false';
      }
      const v = this.unit.valueOf(l);
      if (base.kind === 'enum') {
        const byName = l.kind === 'name' ? (base.sym.def as EnumDef).members.findIndex((m) => m.name === l.name) : -1;
        const idx = byName >= 0 ? byName : enumValues.indexOf(v);
        if (idx < 0) {
          this.problem(l.pos, `case ${v} is not a member of enum ${base.sym.def.name}`);
          return String(v);
        }
        return `${enumIdent}.${memberNames[idx]}`;
      }
      if (base.kind === 'prim' && base.name === 'uint' && v < 0) this.problem(l.pos, 'negative case for an unsigned discriminant');
      return String(v);
    };
    interface Arm {
      labels: string[];
      key: string | null;
      code: Code | null;
      arm: UnionArm;
    }
    const toArm = (arm: UnionArm): Arm => {
      const labels = arm.labels.map((l) => {
        const c = labelCode(l);
        if (seen.has(c)) this.problem(l.pos, `duplicate case ${c} in union ${def.name}`);
        seen.set(c, 1);
        return c;
      });
      if (arm.decl.shape === 'void') return { labels, key: null, code: null, arm };
      const key = camelCase(arm.decl.name);
      if (key === discKey) this.problem(arm.decl.pos, `arm '${arm.decl.name}' has the discriminant's name`);
      return { labels, key, code: this.declCode(this.unit, arm.decl, false), arm };
    };
    const arms = def.arms.map(toArm);
    const dflt = def.defaultArm ? toArm(def.defaultArm) : null;
    const armType = (a: Arm, discTs: string): string =>
      a.key && a.code ? `{ ${discKey}: ${discTs}; ${a.key}: ${a.code.ts} }` : `{ ${discKey}: ${discTs} }`;
    const variants = arms.map((a) => armType(a, a.labels.join(' | ')));
    if (dflt) variants.push(armType(dflt, discCode.ts));
    this.emit(`export type ${name} =`, ...variants.map((v, i) => `  | ${v}${i === variants.length - 1 ? ';' : ''}`), '');

    const discPath = `${name}.${discKey}`;
    const path = (a: Arm): string => `${name}.${a.key}`;
    // Decoding.
    const dec: string[] = [];
    const decArm = (a: Arm, discValue: string): string[] => {
      if (!a.key || !a.code) return [`return { ${discKey}: ${discValue} };`];
      const lines = [`f = '${path(a)}';`];
      if (a.code.dec !== null) lines.push(`return { ${discKey}: ${discValue}, ${a.key}: ${a.code.dec} };`);
      else lines.push(...a.code.decodeInto('v0', 'n0'), `return { ${discKey}: ${discValue}, ${a.key}: v0 };`);
      return lines;
    };
    for (const a of arms) {
      const value = a.labels.length === 1 ? a.labels[0]! : `d as ${a.labels.join(' | ')}`;
      dec.push(...caseBlock(a.labels.map((l) => `case ${l}:`), a.key !== null, decArm(a, value)));
    }
    if (dflt) dec.push(...caseBlock(['default:'], dflt.key !== null, decArm(dflt, 'd')));
    else dec.push('default:', `  return r.fail(\`no arm of ${name} for ${discKey} \${d}\`, at);`);
    const anyValue = [...arms, ...(dflt ? [dflt] : [])].some((a) => a.key);
    const decBody = this.unionGuard(discPath, anyValue, [`const d = ${discCode.dec};`, 'switch (d) {', ...indent(dec), '}']);

    // Encoding.
    const enc: string[] = [];
    const encArm = (a: Arm): string[] => {
      if (!a.key || !a.code) return ['break;'];
      return [
        `f = '${path(a)}';`,
        `const a = (v as { ${a.key}: ${a.code.ts} }).${a.key};`,
        ...a.code.enc('a'),
        'break;',
      ];
    };
    for (const a of arms) enc.push(...caseBlock(a.labels.map((l) => `case ${l}:`), a.key !== null, encArm(a)));
    if (dflt) {
      if (dflt.key) enc.push(...caseBlock(['default:'], true, encArm(dflt)));
    } else {
      enc.push('default:', `  w.fail(\`no arm of ${name} for ${discKey} \${d}\`);`);
    }
    const encBody = this.unionGuard(discPath, anyValue, [...discCode.enc('d'), 'switch (d) {', ...indent(enc), '}']);

    this.codecHeader(name, name);
    this.emit(
      `  encode(w: XdrWriter, v: ${name}): void {`,
      `    const d = v.${discKey};`,
      ...indent(encBody, '    '),
      '  },',
      `  decode(r: XdrReader): ${name} {`,
      ...(dflt ? [] : ['    const at = r.pos;']),
      ...indent(decBody, '    '),
      '  },',
      '};',
      '',
    );
  }

  private unionGuard(discPath: string, moving: boolean, lines: string[]): string[] {
    this.xdr('withField');
    // Without value arms `f` would never change, so the path is a constant.
    const body = moving ? lines : lines.filter((l) => !/^\s*f = /.test(l));
    return [
      ...(moving ? [`let f = '${discPath}';`] : []),
      'try {',
      ...indent(body),
      '} catch (e) {',
      `  throw withField(e, ${moving ? 'f' : `'${discPath}'`});`,
      '}',
    ];
  }

  // ---- programs ----------------------------------------------------------------------------

  /** Codec and TS type of a procedure's argument or result. */
  private procCodec(t: ProcType): { codec: string; ts: string; typeName: string | null } {
    if (!t) return { codec: this.xdr('voidCodec'), ts: 'void', typeName: null };
    if (t.kind === 'primitive') {
      if (!PROC_PRIMS.has(t.name)) this.problem(t.pos, `a procedure cannot take or return a bare ${t.name}`);
      this.helpers.add(`prim:${t.name}`);
      this.xdr('XdrCodec');
      this.xdr('XdrReader');
      this.xdr('XdrWriter');
      return { codec: `${t.name}Codec`, ts: PRIMS[t.name].ts, typeName: t.name };
    }
    const sym = this.refOf(this.unit, t);
    if (!sym) return { codec: this.xdr('voidCodec'), ts: 'void', typeName: null };
    return { codec: this.codecIdent(sym), ts: this.typeIdent(sym), typeName: sym.def.name };
  }

  private emitProgram(def: ProgramDef): void {
    const base = programBase(def.name);
    const pascal = pascalCase(base.toLowerCase());
    const camel = pascal[0]!.toLowerCase() + pascal.slice(1);
    const progNum = this.unit.valueOf(def.number);
    this.programImports.add('ProcedureSpec');
    this.programImports.add('ProgramSpec');
    const consts = (name: string, v: Value): void => {
      // An identical `const` in the .x already provides it.
      const sym = this.unit.values.get(name);
      if (sym?.kind === 'const' && sym.expr === v) {
        this.tail.push(`export const ${name} = ${literalText(this.unit.valueOf(v), v.kind === 'literal' ? v.raw : null)};`);
      }
    };
    consts(def.name, def.number);
    for (const v of def.versions) consts(v.name, v.number);
    this.tail.push('');
    const multi = def.versions.length > 1;
    const versionNums = new Set<number>();
    for (const ver of def.versions) {
      const vnum = this.unit.valueOf(ver.number);
      if (versionNums.has(vnum)) this.problem(ver.pos, `duplicate version number ${vnum} in ${def.name}`);
      versionNums.add(vnum);
      const suffix = multi ? `V${vnum}` : '';
      const enumName = `${pascal}Procedure${suffix}`;
      const tableName = `${pascal}Procedures${suffix}`;
      const progName = `${camel}Program${suffix}`;
      for (const ident of [enumName, tableName, progName]) {
        const prev = this.unit.exported.get(ident);
        if (prev) this.problem(ver.pos, `generated name '${ident}' clashes with a definition at line ${prev.line}`);
        this.unit.exported.set(ident, ver.pos);
      }
      const names = stripCommonPrefix(
        ver.procedures.map((p) => p.name),
        `${base}_PROC_`,
      );
      const nums = new Map<number, string>();
      const seenNames = new Set<string>();
      const procs = ver.procedures.map((p, i) => {
        const num = this.unit.valueOf(p.number);
        if (nums.has(num)) this.problem(p.number.pos, `procedure number ${num} already used by ${nums.get(num)}`);
        nums.set(num, p.name);
        if (seenNames.has(p.name)) this.problem(p.pos, `duplicate procedure name ${p.name}`);
        seenNames.add(p.name);
        const ann = parseAnnotations(p.doc, this.unit.problems);
        const args = this.procCodec(p.arg);
        const ret = this.procCodec(p.ret);
        const kind = ann.kind ?? (args.typeName?.endsWith('_msg') ? 'message' : 'call');
        const readonly = ann.readonlyOverride ?? isReadonly(ann.acl);
        return { p, num, name: names[i]!, ann, args, ret, kind, readonly };
      });
      const vn = this.unit.values.get(ver.name);
      const versExpr = vn ? ver.name : String(vnum);
      const progExpr = this.unit.values.get(def.name) ? def.name : String(progNum);
      const strList = (xs: string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
      const q = (s: string | null): string => (s === null ? 'null' : `'${s}'`);
      this.tail.push(
        `/** Procedure numbers of ${def.name} version ${vnum}. */`,
        `export enum ${enumName} {`,
        ...procs.map((x) => `  ${x.name} = ${x.num},`),
        '}',
        '',
        `export interface ${tableName} {`,
        ...procs.map((x) => `  readonly ${x.name}: ProcedureSpec<${x.args.ts}, ${x.ret.ts}>;`),
        '}',
        '',
        `export const ${tableName}: ${tableName} = {`,
        ...procs.flatMap((x) => [
          `  ${x.name}: {`,
          `    prog: ${progExpr},`,
          `    vers: ${versExpr},`,
          `    proc: ${enumName}.${x.name},`,
          `    name: '${x.name}',`,
          `    kind: '${x.kind}',`,
          `    args: ${x.args.codec},`,
          `    ret: ${x.ret.codec},`,
          `    priority: '${x.ann.priority}',`,
          `    generate: '${x.ann.generate}',`,
          `    acl: ${strList(x.ann.acl)},`,
          `    aclFilter: ${strList(x.ann.aclFilter)},`,
          `    readonly: ${x.readonly},`,
          `    stream: ${q(x.ann.stream)},`,
          `    sparseFlag: ${q(x.ann.sparseFlag)},`,
          '  },',
        ]),
        '};',
        '',
        `export const ${progName}: ProgramSpec = {`,
        `  name: '${def.name}',`,
        `  prog: ${progExpr},`,
        `  vers: ${versExpr},`,
        `  procedures: new Map(`,
        `    (Object.values(${tableName}) as ProcedureSpec[]).map((p): [number, ProcedureSpec] => [p.proc, p]),`,
        '  ),',
        '};',
        '',
      );
    }
  }

  // ---- module assembly ---------------------------------------------------------------------

  private helperCode(): string[] {
    const out: string[] = [];
    for (const h of [...this.helpers].sort()) {
      if (h === 'smallInt') {
        out.push(
          '/** char and short travel as whole words; refuse values their C type cannot hold. */',
          'function smallInt(w: XdrWriter, v: number, min: number, max: number): void {',
          '  if (v < min || v > max) w.fail(`value ${v} is outside ${min}..${max}`);',
          '  w.int(v);',
          '}',
          '',
        );
      } else {
        const name = h.slice('prim:'.length) as PrimitiveName;
        const p = PRIMS[name];
        out.push(
          `const ${name}Codec: XdrCodec<${p.ts}> = {`,
          `  encode(w: XdrWriter, v: ${p.ts}): void {`,
          `    ${p.enc('v')}`,
          '  },',
          `  decode(r: XdrReader): ${p.ts} {`,
          `    return ${p.dec};`,
          '  },',
          '};',
          '',
        );
      }
    }
    return out;
  }

  /** The whole module text; call after `generate()`. */
  render(spec: ModuleSpecifiers): string {
    const importLine = (names: string[], from: string, typeOnly = false): string => {
      const one = `import ${typeOnly ? 'type ' : ''}{ ${names.join(', ')} } from '${from}';`;
      if (one.length <= 120) return one;
      return [`import ${typeOnly ? 'type ' : ''}{`, ...names.map((n) => `  ${n},`), `} from '${from}';`].join('\n');
    };
    const sorted = (s: Iterable<string>): string[] => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const TYPE_ONLY = new Set(['XdrCodec', 'XdrReader', 'XdrWriter']);
    const lines = [`// Generated by scripts/gen.ts from ${this.source}. Do not edit.`];
    if (this.xdrImports.size) {
      lines.push(importLine(sorted(this.xdrImports).map((n) => (TYPE_ONLY.has(n) ? `type ${n}` : n)), spec.xdr));
    }
    if (this.programImports.size) lines.push(importLine(sorted(this.programImports), spec.program, true));
    const order = (u: Unit): number => this.unit.earlier.indexOf(u);
    for (const unit of [...this.imports.keys()].sort((a, b) => order(a) - order(b))) {
      lines.push(importLine(sorted(this.imports.get(unit)!), spec.unit(unit)));
    }
    lines.push('');
    lines.push(...this.helperCode(), ...this.body, ...this.tail);
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n') + '\n';
  }
}

/** `case X:` lines and a body; bodies that declare locals get a block, as `no-case-declarations` wants. */
function caseBlock(labels: string[], block: boolean, body: string[]): string[] {
  if (!block) return [...labels, ...indent(body)];
  return [...labels.slice(0, -1), `${labels[labels.length - 1]} {`, ...indent(body), '}'];
}

function simple(ts: string, dec: string, enc: (x: string) => string[]): Code {
  return { ts, dec, decodeInto: (target) => [`const ${target} = ${dec};`], enc };
}
