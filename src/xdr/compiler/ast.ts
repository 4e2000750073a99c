import type { SourcePos } from './diagnostics.js';
import type { DocComment } from './lexer.js';

/** Built-in XDR types (char/short are rpcgen extensions that still travel as whole words). */
export type PrimitiveName =
  | 'int'
  | 'uint'
  | 'hyper'
  | 'uhyper'
  | 'bool'
  | 'float'
  | 'double'
  | 'char'
  | 'uchar'
  | 'short'
  | 'ushort';

export type TypeSpec =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName; readonly pos: SourcePos }
  | { readonly kind: 'string'; readonly pos: SourcePos }
  | { readonly kind: 'opaque'; readonly pos: SourcePos }
  /** A named enum/struct/union/typedef; `tag` is set when written as `struct foo` etc. */
  | { readonly kind: 'ref'; readonly name: string; readonly tag: 'struct' | 'union' | 'enum' | null; readonly pos: SourcePos };

/** An integer written in the source: a literal or the name of a constant / enum member. */
export type Value =
  | { readonly kind: 'literal'; readonly value: number; readonly raw: string; readonly pos: SourcePos }
  | { readonly kind: 'name'; readonly name: string; readonly pos: SourcePos };

/**
 * One declaration (struct field, union arm, typedef body). `size` is the bound of `[N]` / `<N>`;
 * null for `<>` (unbounded, i.e. 0xffffffff).
 */
export type Declaration =
  | { readonly shape: 'void'; readonly pos: SourcePos }
  | {
      readonly shape: 'scalar' | 'optional' | 'fixed' | 'var';
      readonly name: string;
      readonly type: TypeSpec;
      readonly size: Value | null;
      readonly pos: SourcePos;
    };

export type NamedDeclaration = Exclude<Declaration, { shape: 'void' }>;

export interface ConstDef {
  readonly kind: 'const';
  readonly name: string;
  readonly value: Value;
  readonly pos: SourcePos;
}

export interface EnumMember {
  readonly name: string;
  /** Null when omitted: one more than the previous member, as in C. */
  readonly value: Value | null;
  readonly pos: SourcePos;
}

export interface EnumDef {
  readonly kind: 'enum';
  readonly name: string;
  readonly members: readonly EnumMember[];
  readonly pos: SourcePos;
}

export interface StructDef {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: readonly NamedDeclaration[];
  readonly pos: SourcePos;
}

export interface UnionArm {
  /** Case labels; empty for the default arm. */
  readonly labels: readonly Value[];
  readonly decl: Declaration;
  readonly pos: SourcePos;
}

export interface UnionDef {
  readonly kind: 'union';
  readonly name: string;
  readonly discriminant: NamedDeclaration;
  readonly arms: readonly UnionArm[];
  readonly defaultArm: UnionArm | null;
  readonly pos: SourcePos;
}

export interface TypedefDef {
  readonly kind: 'typedef';
  readonly name: string;
  readonly decl: NamedDeclaration;
  readonly pos: SourcePos;
}

/** A procedure's argument or result: a type, or null for `void`. */
export type ProcType = TypeSpec | null;

export interface ProcedureDef {
  readonly name: string;
  readonly ret: ProcType;
  readonly arg: ProcType;
  readonly number: Value;
  readonly doc: DocComment | null;
  readonly pos: SourcePos;
}

export interface VersionDef {
  readonly name: string;
  readonly number: Value;
  readonly procedures: readonly ProcedureDef[];
  readonly pos: SourcePos;
}

export interface ProgramDef {
  readonly kind: 'program';
  readonly name: string;
  readonly number: Value;
  readonly versions: readonly VersionDef[];
  readonly pos: SourcePos;
}

export type TypeDef = EnumDef | StructDef | UnionDef | TypedefDef;
export type Definition = ConstDef | TypeDef | ProgramDef;

export interface Specification {
  readonly file: string;
  readonly definitions: readonly Definition[];
}
