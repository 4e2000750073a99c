/**
 * libvirt's configuration file syntax ("virconf", as in libvirtd.conf and qemu.conf):
 *   name = value          one setting per line, or several separated by ';'
 *   # comment             whole-line or after a value
 *   values: "string", 'string', """multi-line string""" (no escapes), integers with optional sign,
 *           lists [ v, v, ] that may span lines and end with a comma.
 * Names start with a letter and continue with letters, digits and '_'. This file knows nothing of keys.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    /** 1-based; 0 when the error is not about a line (file unreadable). */
    readonly line: number,
    readonly key: string | null,
  ) {
    super(message);
  }
}

export type ConfValue =
  | { kind: 'string'; value: string }
  /** `negative` keeps libvirt's distinction: "-0" is signed, so not a valid unsigned or bool. */
  | { kind: 'number'; value: bigint; negative: boolean }
  | { kind: 'list'; items: ConfValue[] };

export interface ConfEntry {
  key: string;
  value: ConfValue;
  line: number;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
const isEol = (c: string | undefined) => c === '\n' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);

class Scanner {
  pos = 0;
  line = 1;
  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  get cur(): string | undefined {
    return this.text[this.pos];
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  next(): void {
    if (this.text[this.pos] === '\n') this.line++;
    this.pos++;
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  slice(from: number): string {
    return this.text.slice(from, this.pos);
  }
  fail(reason: string, line = this.line): never {
    throw new ConfigError(`${this.file}:${line}: ${reason}`, this.file, line, null);
  }
  skipBlanks(): void {
    while (isBlank(this.cur)) this.next();
  }
  skipComment(): void {
    while (!this.done && !isEol(this.cur)) this.next();
  }
  /** Blanks, line ends and (unlike libvirt, which rejects them there) comments: used inside lists. */
  skipSpace(): void {
    for (;;) {
      if (isBlank(this.cur) || isEol(this.cur)) this.next();
      else if (this.cur === '#') this.skipComment();
      else return;
    }
  }
}

function parseString(s: Scanner): string {
  const startLine = s.line;
  if (s.startsWith('"""')) {
    for (let i = 0; i < 3; i++) s.next();
    const from = s.pos;
    while (!s.done && !s.startsWith('"""')) s.next();
    if (s.done) s.fail('unterminated string', startLine);
    const v = s.slice(from);
    for (let i = 0; i < 3; i++) s.next();
    return v;
  }
  const quote = s.cur;
  s.next();
  const from = s.pos;
  while (!s.done && s.cur !== quote && !isEol(s.cur)) s.next();
  if (s.cur !== quote) s.fail('unterminated string', startLine);
  const v = s.slice(from);
  s.next();
  return v;
}

function parseNumber(s: Scanner): ConfValue {
  const negative = s.cur === '-';
  if (s.cur === '-' || s.cur === '+') s.next();
  const from = s.pos;
  while (isDigit(s.cur)) s.next();
  if (s.pos === from) s.fail('unterminated number');
  const digits = BigInt(s.slice(from));
  return { kind: 'number', value: negative ? -digits : digits, negative };
}

function parseValue(s: Scanner): ConfValue {
  s.skipBlanks();
  const c = s.cur;
  if (c === '"' || c === "'") return { kind: 'string', value: parseString(s) };
  if (isDigit(c) || c === '-' || c === '+') return parseNumber(s);
  if (c !== '[') s.fail('expecting a value');
  const startLine = s.line;
  s.next();
  const items: ConfValue[] = [];
  s.skipSpace();
  while (s.cur !== ']') {
    if (s.done) s.fail('list is not closed with ]', startLine);
    items.push(parseValue(s));
    s.skipSpace();
    if (s.cur === ',') {
      s.next();
      s.skipSpace();
    } else if (s.cur !== ']') {
      if (s.done) s.fail('list is not closed with ]', startLine);
      s.fail('expecting a separator in list');
    }
  }
  s.next();
  return { kind: 'list', items };
}

/** Parses the whole text; throws ConfigError "FILE:LINE: reason" on a syntax error. */
export function parseConf(text: string, file: string): ConfEntry[] {
  const s = new Scanner(text, file);
  const entries: ConfEntry[] = [];
  for (;;) {
    // Between statements: blanks, empty lines, ';' separators and comment lines.
    for (;;) {
      if (isBlank(s.cur) || isEol(s.cur) || s.cur === ';') s.next();
      else if (s.cur === '#') s.skipComment();
      else break;
    }
    if (s.done) return entries;
    const line = s.line;
    if (!isAlpha(s.cur)) s.fail('expecting a name');
    const from = s.pos;
    while (isAlpha(s.cur) || isDigit(s.cur) || s.cur === '_') s.next();
    const key = s.slice(from);
    s.skipBlanks();
    if (s.cur !== '=') s.fail('expecting an assignment');
    s.next();
    s.skipBlanks();
    if (s.done || isEol(s.cur)) s.fail('expecting a value');
    const value = parseValue(s);
    entries.push({ key, value, line });
    s.skipBlanks();
    if (s.cur === '#') s.skipComment();
    if (!s.done && !isEol(s.cur) && s.cur !== ';') s.fail('expecting a separator');
  }
}
