/**
 * libvirt's URI model (viruri.c over libxml2's RFC 3986 parser): strict parsing, the query split into
 * parameters, and the two escapers whose output ends up on the wire in CONNECT_OPEN's name.
 */
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export interface UriParam {
  name: string;
  value: string;
}

export interface ParsedUri {
  scheme: string | null;
  /** Unescaped host without IPv6 brackets; null when the authority is absent or empty. */
  server: string | null;
  user: string | null;
  /** 0 when absent (or when there is no server), as libvirt keeps it. */
  port: number;
  /** Unescaped; "" when absent (virConnectOpen normalises NULL to ""). */
  path: string;
  /** The query exactly as written, without '?'. */
  query: string | null;
  fragment: string | null;
  params: UriParam[];
}

const ALNUM = /[A-Za-z0-9]/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const SUB_DELIMS = /[!$&'()*+,;=]/;
const HEX = /[0-9A-Fa-f]/;

function unparsable(uri: string): VirError {
  return VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.URI, 'internal error: Unable to parse URI %s', uri);
}

/** Length of the run at `i` made of allowed characters and %XX escapes; -1 on a broken escape. */
function scanRun(s: string, i: number, allowed: (c: string) => boolean): number {
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '%') {
      if (!HEX.test(s[j + 1] ?? '') || !HEX.test(s[j + 2] ?? '')) return -1;
      j += 3;
    } else if (allowed(c)) {
      j++;
    } else {
      break;
    }
  }
  return j - i;
}

const isPchar = (c: string) => UNRESERVED.test(c) || SUB_DELIMS.test(c) || c === ':' || c === '@';
const isPathChar = (c: string) => isPchar(c) || c === '/';
const isQueryChar = (c: string) => isPchar(c) || c === '/' || c === '?';
const isUserChar = (c: string) => UNRESERVED.test(c) || SUB_DELIMS.test(c) || c === ':';
const isRegNameChar = (c: string) => UNRESERVED.test(c) || SUB_DELIMS.test(c);

/** %XX decoding as libxml2's xmlURIUnescapeString does it (bytes, then UTF-8). */
export function unescapeUri(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && HEX.test(s[i + 1] ?? '') && HEX.test(s[i + 2] ?? '')) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses like virURIParse: anything outside RFC 3986 (spaces, non-ASCII, a bare ':' port) is refused. */
export function parseUri(uri: string): ParsedUri {
  const fail = () => unparsable(uri);
  const out: ParsedUri = { scheme: null, server: null, user: null, port: 0, path: '', query: null, fragment: null, params: [] };
  let i = 0;
  const schemeMatch = /^[A-Za-z][A-Za-z0-9+\-.]*:/.exec(uri);
  if (schemeMatch) {
    out.scheme = schemeMatch[0].slice(0, -1);
    i = schemeMatch[0].length;
  }
  if (uri.startsWith('//', i)) {
    i += 2;
    const authEnd = (() => {
      let j = i;
      while (j < uri.length && !'/?#'.includes(uri[j]!)) j++;
      return j;
    })();
    const auth = uri.slice(i, authEnd);
    let hostPart = auth;
    const at = auth.lastIndexOf('@');
    if (at >= 0) {
      const user = auth.slice(0, at);
      if (scanRun(user, 0, isUserChar) !== user.length) throw fail();
      out.user = unescapeUri(user);
      hostPart = auth.slice(at + 1);
    }
    let host: string;
    let portText: string | null = null;
    if (hostPart.startsWith('[')) {
      const close = hostPart.indexOf(']');
      if (close < 0 || !/^[0-9A-Fa-f:.]+$|^v[0-9A-Fa-f]+\..+$/.test(hostPart.slice(1, close))) throw fail();
      host = hostPart.slice(1, close);
      const rest = hostPart.slice(close + 1);
      if (rest !== '') {
        if (!rest.startsWith(':')) throw fail();
        portText = rest.slice(1);
      }
    } else {
      const colon = hostPart.indexOf(':');
      host = colon >= 0 ? hostPart.slice(0, colon) : hostPart;
      if (colon >= 0) portText = hostPart.slice(colon + 1);
      if (scanRun(host, 0, isRegNameChar) !== host.length) throw fail();
      host = unescapeUri(host);
    }
    if (portText !== null) {
      // libxml2 wants at least one digit and an int-sized value.
      if (!/^[0-9]+$/.test(portText) || Number(portText) > 0x7fffffff) throw fail();
    }
    out.server = host === '' ? null : host;
    out.port = out.server !== null && portText !== null ? Number(portText) : 0;
    i = authEnd;
  }
  const pathLen = scanRun(uri, i, isPathChar);
  if (pathLen < 0) throw fail();
  out.path = unescapeUri(uri.slice(i, i + pathLen));
  i += pathLen;
  if (uri[i] === '?') {
    const n = scanRun(uri, i + 1, isQueryChar);
    if (n < 0) throw fail();
    out.query = uri.slice(i + 1, i + 1 + n);
    i += 1 + n;
  }
  if (uri[i] === '#') {
    const n = scanRun(uri, i + 1, isQueryChar);
    if (n < 0) throw fail();
    out.fragment = unescapeUri(uri.slice(i + 1, i + 1 + n));
    i += 1 + n;
  }
  if (i !== uri.length) throw fail();
  out.params = parseQueryParams(out.query);
  return out;
}

/**
 * libvirt's split of the query: the next '&' ends a parameter, and only when there is none does ';'
 * count. "name" alone has the value "", "=value" is dropped, empty sections are skipped.
 */
export function parseQueryParams(query: string | null): UriParam[] {
  const params: UriParam[] = [];
  if (!query) return params;
  let rest = query;
  while (rest.length > 0) {
    let end = rest.indexOf('&');
    if (end < 0) end = rest.indexOf(';');
    if (end < 0) end = rest.length;
    const section = rest.slice(0, end);
    const eq = section.indexOf('=');
    if (section !== '' && eq !== 0) {
      params.push(
        eq < 0
          ? { name: unescapeUri(section), value: '' }
          : { name: unescapeUri(section.slice(0, eq)), value: unescapeUri(section.slice(eq + 1)) },
      );
    }
    rest = rest.slice(end + 1);
  }
  return params;
}

function percent(bytes: Buffer): string {
  let s = '';
  for (const b of bytes) s += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

function escapeWith(s: string, keep: (c: string) => boolean): string {
  let out = '';
  for (const c of s) out += c.length === 1 && c.charCodeAt(0) < 0x80 && keep(c) ? c : percent(Buffer.from(c, 'utf8'));
  return out;
}

/** virBufferURIEncodeString: only letters, digits and "-._~" stay as they are. */
export function encodeParamValue(v: string): string {
  return escapeWith(v, (c) => ALNUM.test(c) || '-._~'.includes(c));
}

/** virURIFormatParams: "name=value&..." (names as given, values encoded), null when nothing is left. */
export function formatParams(params: readonly UriParam[]): string | null {
  if (params.length === 0) return null;
  return params.map((p) => `${p.name}=${encodeParamValue(p.value)}`).join('&');
}

const PATH_KEEP = (c: string) => ALNUM.test(c) || "-_.!~*'()/;@&=+$,".includes(c);
const FRAGMENT_KEEP = (c: string) => ALNUM.test(c) || "-_.!~*'();/?:@&=+$,[]".includes(c);

/**
 * The driver URI the remote side is asked to open: `scheme://path?query#fragment` with no authority,
 * escaped the way libxml2's xmlSaveUri does it.
 */
export function formatLocalUri(scheme: string, path: string, query: string | null, fragment: string | null): string {
  let s = `${scheme}://${escapeWith(path, PATH_KEEP)}`;
  if (query !== null) s += `?${query}`;
  if (fragment !== null) s += `#${escapeWith(fragment, FRAGMENT_KEEP)}`;
  return s;
}
