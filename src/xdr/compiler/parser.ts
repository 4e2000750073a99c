import type {
  ConstDef,
  PrimitiveName,
  Declaration,
  Definition,
  EnumDef,
  EnumMember,
  NamedDeclaration,
  ProcType,
  ProcedureDef,
  ProgramDef,
  Specification,
  StructDef,
  TypeSpec,
  TypedefDef,
  UnionArm,
  UnionDef,
  Value,
  VersionDef,
} from './ast.js';
import { fail } from './diagnostics.js';
import { lex, parseIntLiteral, type Token } from './lexer.js';

/** Words that cannot name a type, field or constant. */
const RESERVED = new Set([
  'bool', 'case', 'char', 'const', 'default', 'double', 'enum', 'float', 'hyper', 'int', 'opaque', 'program',
  'short', 'string', 'struct', 'switch', 'typedef', 'union', 'unsigned', 'version', 'void', 'quadruple',
]);

/** Recursive-descent parser for RFC 4506 XDR plus rpcgen's `program` blocks. */
class Parser {
  private i = 0;

  constructor(private readonly toks: Token[]) {}

  private get tok(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    const t = this.tok;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private is(text: string): boolean {
    return this.tok.kind !== 'number' && this.tok.text === text;
  }

  private accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.next();
    return true;
  }

  private expect(text: string, what = `'${text}'`): Token {
    if (!this.is(text)) fail(this.tok, `expected ${what}, found '${this.tok.text}'`);
    return this.next();
  }

  private ident(what: string): Token {
    const t = this.tok;
    if (t.kind !== 'ident' || RESERVED.has(t.text)) fail(t, `expected ${what}, found '${t.text}'`);
    return this.next();
  }

  parseSpecification(file: string): Specification {
    const definitions: Definition[] = [];
    while (this.tok.kind !== 'eof') definitions.push(this.definition());
    return { file, definitions };
  }

  private definition(): Definition {
    const t = this.tok;
    switch (t.kind === 'ident' ? t.text : '') {
      case 'const':
        return this.constDef();
      case 'enum':
        return this.enumDef();
      case 'struct':
        return this.structDef();
      case 'union':
        return this.unionDef();
      case 'typedef':
        return this.typedefDef();
      case 'program':
        return this.programDef();
      default:
        return fail(t, `expected a definition (const, enum, struct, union, typedef or program), found '${t.text}'`);
    }
  }

  private constDef(): ConstDef {
    const pos = this.expect('const');
    const name = this.ident('a constant name').text;
    this.expect('=');
    const value = this.value();
    this.expect(';');
    return { kind: 'const', name, value, pos };
  }

  private value(): Value {
    const t = this.tok;
    if (t.kind === 'number') {
      this.next();
      return { kind: 'literal', value: parseIntLiteral(t), raw: t.text, pos: t };
    }
    if (t.kind === 'ident' && !RESERVED.has(t.text)) {
      this.next();
      return { kind: 'name', name: t.text, pos: t };
    }
    return fail(t, `expected a number or constant name, found '${t.text}'`);
  }

  private enumDef(): EnumDef {
    const pos = this.expect('enum');
    const name = this.ident('an enum name').text;
    const members = this.enumBody();
    this.expect(';');
    return { kind: 'enum', name, members, pos };
  }

  private enumBody(): EnumMember[] {
    this.expect('{');
    const members: EnumMember[] = [];
    do {
      if (this.is('}') && members.length) break; // trailing comma
      const t = this.ident('an enum member name');
      const value = this.accept('=') ? this.value() : null;
      members.push({ name: t.text, value, pos: t });
    } while (this.accept(','));
    this.expect('}', "',' or '}'");
    return members;
  }

  private structDef(): StructDef {
    const pos = this.expect('struct');
    const name = this.ident('a struct name').text;
    this.expect('{');
    const fields: NamedDeclaration[] = [];
    do {
      const d = this.declaration();
      if (d.shape === 'void') fail(d.pos, 'a struct field cannot be void');
      fields.push(d);
      this.expect(';');
    } while (!this.is('}'));
    this.expect('}');
    this.expect(';');
    return { kind: 'struct', name, fields, pos };
  }

  private unionDef(): UnionDef {
    const pos = this.expect('union');
    const name = this.ident('a union name').text;
    this.expect('switch');
    this.expect('(');
    const discriminant = this.declaration();
    if (discriminant.shape !== 'scalar') fail(discriminant.pos, 'a union discriminant must be a plain declaration like `int type`');
    this.expect(')');
    this.expect('{');
    const arms: UnionArm[] = [];
    let defaultArm: UnionArm | null = null;
    while (!this.is('}')) {
      const armPos = this.tok;
      if (this.accept('default')) {
        if (defaultArm) fail(armPos, 'union has more than one default arm');
        this.expect(':');
        defaultArm = { labels: [], decl: this.declaration(), pos: armPos };
        this.expect(';');
        continue;
      }
      const labels: Value[] = [];
      while (this.accept('case')) {
        labels.push(this.value());
        this.expect(':');
      }
      if (!labels.length) fail(this.tok, `expected 'case', 'default' or '}', found '${this.tok.text}'`);
      arms.push({ labels, decl: this.declaration(), pos: armPos });
      this.expect(';');
    }
    if (!arms.length) fail(this.tok, 'union needs at least one case');
    this.expect('}');
    this.expect(';');
    return { kind: 'union', name, discriminant, arms, defaultArm, pos };
  }

  private typedefDef(): TypedefDef {
    const pos = this.expect('typedef');
    const decl = this.declaration();
    if (decl.shape === 'void') fail(decl.pos, 'cannot typedef void');
    this.expect(';');
    return { kind: 'typedef', name: decl.name, decl, pos };
  }

  /** A type specifier (`unsigned` alone means `unsigned int`, as in C). */
  private typeSpec(): TypeSpec {
    const t = this.tok;
    if (t.kind !== 'ident') fail(t, `expected a type, found '${t.text}'`);
    const prim = (name: PrimitiveName): TypeSpec => ({ kind: 'primitive', name, pos: t });
    switch (t.text) {
      case 'unsigned': {
        this.next();
        if (this.accept('int')) return prim('uint');
        if (this.accept('hyper')) return prim('uhyper');
        if (this.accept('char')) return prim('uchar');
        if (this.accept('short')) return prim('ushort');
        return prim('uint');
      }
      case 'int':
      case 'hyper':
      case 'bool':
      case 'float':
      case 'double':
      case 'char':
      case 'short':
        this.next();
        return prim(t.text as PrimitiveName);
      case 'string':
        this.next();
        return { kind: 'string', pos: t };
      case 'opaque':
        this.next();
        return { kind: 'opaque', pos: t };
      case 'struct':
      case 'union':
      case 'enum': {
        this.next();
        if (this.is('{')) fail(this.tok, `anonymous ${t.text} types are not supported; declare a named ${t.text}`);
        const name = this.ident(`a ${t.text} name`).text;
        return { kind: 'ref', name, tag: t.text, pos: t };
      }
      case 'quadruple':
        return fail(t, 'quadruple is not supported');
      default:
        if (RESERVED.has(t.text)) fail(t, `expected a type, found '${t.text}'`);
        this.next();
        return { kind: 'ref', name: t.text, tag: null, pos: t };
    }
  }

  private declaration(): Declaration {
    const pos = this.tok;
    if (this.accept('void')) return { shape: 'void', pos };
    const type = this.typeSpec();
    if (this.accept('*')) {
      const name = this.ident('a field name').text;
      if (type.kind !== 'ref' && type.kind !== 'primitive') fail(type.pos, `optional ${type.kind} is not allowed`);
      return { shape: 'optional', name, type, size: null, pos };
    }
    const name = this.ident('a field name').text;
    if (this.accept('[')) {
      const size = this.value();
      this.expect(']');
      if (type.kind === 'string') fail(type.pos, 'string needs a variable bound: string name<N>');
      return { shape: 'fixed', name, type, size, pos };
    }
    if (this.accept('<')) {
      const size = this.is('>') ? null : this.value();
      this.expect('>');
      return { shape: 'var', name, type, size, pos };
    }
    if (type.kind === 'string') fail(type.pos, 'string needs a bound: string name<N> or name<>');
    if (type.kind === 'opaque') fail(type.pos, 'opaque needs a size: opaque name[N] or name<N>');
    return { shape: 'scalar', name, type, size: null, pos };
  }

  private programDef(): ProgramDef {
    const pos = this.expect('program');
    const name = this.ident('a program name').text;
    this.expect('{');
    const versions: VersionDef[] = [];
    do versions.push(this.versionDef());
    while (!this.is('}'));
    this.expect('}');
    this.expect('=');
    const number = this.value();
    this.expect(';');
    return { kind: 'program', name, number, versions, pos };
  }

  private versionDef(): VersionDef {
    const pos = this.expect('version');
    const name = this.ident('a version name').text;
    this.expect('{');
    const procedures: ProcedureDef[] = [];
    do procedures.push(this.procedureDef());
    while (!this.is('}'));
    this.expect('}');
    this.expect('=');
    const number = this.value();
    this.expect(';');
    return { name, number, procedures, pos };
  }

  private procType(): ProcType {
    if (this.accept('void')) return null;
    const t = this.typeSpec();
    if (t.kind === 'string' || t.kind === 'opaque') fail(t.pos, `a procedure cannot take or return a bare ${t.kind}; use a typedef`);
    return t;
  }

  private procedureDef(): ProcedureDef {
    const start = this.tok;
    const ret = this.procType();
    const name = this.ident('a procedure name').text;
    this.expect('(');
    const arg = this.procType();
    if (this.is(',')) fail(this.tok, 'procedures take a single argument (wrap several in a struct)');
    this.expect(')');
    this.expect('=');
    const number = this.value();
    this.expect(';');
    return { name, ret, arg, number, doc: start.doc, pos: start };
  }
}

/** Parses one `.x` file; throws CompileError at the first syntax error. */
export function parse(file: string, text: string): Specification {
  return new Parser(lex(file, text)).parseSpecification(file);
}
