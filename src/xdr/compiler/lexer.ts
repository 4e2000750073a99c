import { fail, type SourcePos } from './diagnostics.js';

export type TokenKind = 'ident' | 'number' | 'punct' | 'eof';

export interface DocComment {
  /** Body of the comment without the delimiters. */
  readonly text: string;
  /** Where the comment starts (`/**`), so annotation errors can point at the right line. */
  readonly pos: SourcePos;
}

export interface Token extends SourcePos {
  readonly kind: TokenKind;
  readonly text: string;
  /** The last `/** ... *\/` comment seen since the previous token, if any. */
  readonly doc: DocComment | null;
}

const PUNCT = '{}()[]<>;,=*:';

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}

/**
 * Splits `.x` source into tokens. Comments vanish except doc comments, which ride on the next
 * token (procedure annotations live there). Lines whose first non-blank character is `%` are
 * rpcgen pass-through text for C and are skipped.
 */
export function lex(file: string, src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let atLineStart = true;
  let doc: DocComment | null = null;
  const pos = (at: number): SourcePos => ({ file, line, col: at - lineStart + 1 });

  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '%' && atLineStart) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    atLineStart = false;
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const start = pos(i);
      const close = src.indexOf('*/', i + 2);
      if (close < 0) fail(start, 'unterminated comment');
      const body = src.slice(i + 2, close);
      // `/**/` is an empty plain comment, not a doc comment.
      if (body.startsWith('*') && body !== '*') doc = { text: body.slice(1), pos: start };
      for (let k = i; k < close; k++) {
        if (src[k] === '\n') {
          line++;
          lineStart = k + 1;
        }
      }
      i = close + 2;
      continue;
    }
    const start = i;
    const p = pos(i);
    if (isIdentStart(c)) {
      while (i < src.length && isIdentPart(src[i]!)) i++;
      tokens.push({ ...p, kind: 'ident', text: src.slice(start, i), doc });
    } else if ((c >= '0' && c <= '9') || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      i++;
      while (i < src.length && isIdentPart(src[i]!)) i++;
      tokens.push({ ...p, kind: 'number', text: src.slice(start, i), doc });
    } else if (PUNCT.includes(c)) {
      i++;
      tokens.push({ ...p, kind: 'punct', text: c, doc });
    } else {
      fail(p, `unexpected character '${c}'`);
    }
    doc = null;
  }
  tokens.push({ ...pos(i), kind: 'eof', text: '<end of file>', doc: null });
  return tokens;
}

/** The value of an integer literal: decimal, `0x` hex, or C-style octal with a leading 0; may be negative. */
export function parseIntLiteral(tok: Token): number {
  const m = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(tok.text);
  if (!m) fail(tok, `malformed number '${tok.text}'`);
  const body = m[2]!;
  let v: number;
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
  else if (body.length > 1 && body.startsWith('0')) v = parseInt(body.slice(1), 8);
  else v = parseInt(body, 10);
  if (m[1]) v = 0 - v || 0;
  if (!Number.isSafeInteger(v)) fail(tok, `number '${tok.text}' is too large`);
  return v;
}
