/**
 * JSON re-printing as virsh 9.0 does it (through its yajl generator): numbers keep their text,
 * strings are re-escaped (control characters as \u00XX, non-ASCII raw, '/' as is), and the
 * pretty form indents by two spaces with yajl's quirk of printing empty containers as "{\n\n}".
 */

export type JsonNode =
  | { readonly t: 'obj'; readonly entries: ReadonlyArray<readonly [string, JsonNode]> }
  | { readonly t: 'arr'; readonly items: readonly JsonNode[] }
  | { readonly t: 'str'; readonly v: string }
  /** A number, true, false or null, with its text kept as written. */
  | { readonly t: 'raw'; readonly v: string };

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

const WS = /[ \t\r\n]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// Raw control characters are not allowed inside JSON strings.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Parses JSON text, keeping number literals verbatim and object keys in order. */
export function parseJson(text: string): JsonNode {
  let pos = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at offset ${pos}`);
  };
  const skip = () => {
    WS.lastIndex = pos;
    WS.exec(text);
    pos = WS.lastIndex;
  };
  const match = (re: RegExp): string | null => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    pos = re.lastIndex;
    return m[0];
  };
  const str = (): string => {
    const lit = match(STRING);
    if (lit === null) return fail('bad string');
    return JSON.parse(lit) as string;
  };
  const value = (depth: number): JsonNode => {
    if (depth > 1000) fail('nesting too deep');
    skip();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const entries: Array<[string, JsonNode]> = [];
      skip();
      if (text[pos] === '}') {
        pos++;
        return { t: 'obj', entries };
      }
      for (;;) {
        skip();
        const k = str();
        skip();
        if (text[pos++] !== ':') fail("expected ':'");
        entries.push([k, value(depth + 1)]);
        skip();
        const sep = text[pos++];
        if (sep === '}') return { t: 'obj', entries };
        if (sep !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonNode[] = [];
      skip();
      if (text[pos] === ']') {
        pos++;
        return { t: 'arr', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        const sep = text[pos++];
        if (sep === ']') return { t: 'arr', items };
        if (sep !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { t: 'str', v: str() };
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, pos)) {
        pos += lit.length;
        return { t: 'raw', v: lit };
      }
    }
    const n = match(NUMBER);
    if (n === null) return fail('unexpected input');
    return { t: 'raw', v: n };
  };
  const root = value(0);
  skip();
  if (pos !== text.length) fail('trailing input');
  return root;
}

/** A string literal escaped the way yajl escapes it. */
export function quoteJson(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20) out += `\\u00${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** virsh's printing of a JSON value: compact, or pretty (no final newline either way). */
export function formatJson(node: JsonNode, pretty: boolean): string {
  const nl = pretty ? '\n' : '';
  const colon = pretty ? ': ' : ':';
  const pad = (depth: number) => (pretty ? '  '.repeat(depth) : '');
  const fmt = (n: JsonNode, depth: number): string => {
    switch (n.t) {
      case 'str':
        return quoteJson(n.v);
      case 'raw':
        return n.v;
      case 'arr':
        return `[${nl}${n.items.map((i) => pad(depth + 1) + fmt(i, depth + 1)).join(`,${nl}`)}${nl}${pad(depth)}]`;
      case 'obj':
        return `{${nl}${n.entries.map(([k, v]) => `${pad(depth + 1)}${quoteJson(k)}${colon}${fmt(v, depth + 1)}`).join(`,${nl}`)}${nl}${pad(depth)}}`;
    }
  };
  return fmt(node, 0);
}

/** The member `key` of an object node, if it has one. */
export function member(node: JsonNode, key: string): JsonNode | undefined {
  return node.t === 'obj' ? node.entries.find(([k]) => k === key)?.[1] : undefined;
}

/** Pretty form of JSON text, or null when the text is not JSON. */
export function reformatJson(text: string): string | null {
  try {
    return formatJson(parseJson(text), true);
  } catch (e) {
    if (e instanceof JsonSyntaxError || e instanceof SyntaxError) return null;
    throw e;
  }
}
