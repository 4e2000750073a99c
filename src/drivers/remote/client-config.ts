/**
 * The client side libvirt.conf (root: /etc/libvirt/libvirt.conf, others: $XDG_CONFIG_HOME/libvirt/libvirt.conf
 * or ~/.config/libvirt/libvirt.conf): uri_default, uri_aliases, remote_mode, remote_proxy, tls_priority.
 * A missing file is an empty configuration, as for libvirt.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export type ClientConfValue = string | number | ClientConfValue[];

export interface ClientConfig {
  /** Where it was read from; null when there was no file. */
  readonly file: string | null;
  readonly values: ReadonlyMap<string, ClientConfValue>;
}

/** The file libvirt would read for this uid and environment. */
export function clientConfigPath(uid: number, env: Record<string, string | undefined>): string {
  if (uid === 0) return '/etc/libvirt/libvirt.conf';
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'libvirt', 'libvirt.conf');
}

export function loadClientConfig(file: string | null): ClientConfig {
  if (file === null || !existsSync(file)) return { file: null, values: new Map() };
  return { file, values: parseClientConfig(readFileSync(file, 'utf8'), file) };
}

function confError(file: string, line: number, what: string): VirError {
  const message = `configuration file syntax error: ${file}:${line}: ${what}`;
  return new VirError({ code: VirErrorNumber.CONF_SYNTAX, domain: VirErrorDomain.CONF, message, str1: '%s', str2: message });
}

/** virconf's syntax: `name = value` (';' or newline separated), # comments, "strings", 'strings', ints, [lists]. */
export function parseClientConfig(text: string, file = 'libvirt.conf'): Map<string, ClientConfValue> {
  const values = new Map<string, ClientConfValue>();
  let i = 0;
  let line = 1;
  const peek = () => text[i];
  const skipBlanks = (newlines: boolean) => {
    for (;;) {
      const c = peek();
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) {
        if (c === '\n') line++;
        i++;
      } else if (c === '#' ) {
        while (i < text.length && text[i] !== '\n') i++;
      } else {
        return;
      }
    }
  };
  const value = (): ClientConfValue => {
    const c = peek();
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0 || text.slice(i + 1, end).includes('\n')) throw confError(file, line, 'unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '[') {
      i++;
      const items: ClientConfValue[] = [];
      for (;;) {
        skipBlanks(true);
        if (peek() === ']') {
          i++;
          return items;
        }
        items.push(value());
        skipBlanks(true);
        if (peek() === ',') i++;
        else if (peek() !== ']') throw confError(file, line, 'expecting a separator in list');
      }
    }
    const m = /^[+-]?[0-9]+/.exec(text.slice(i));
    if (!m) throw confError(file, line, 'expecting a value');
    i += m[0].length;
    return Number(m[0]);
  };
  for (;;) {
    skipBlanks(true);
    if (i >= text.length) return values;
    if (peek() === ';') {
      i++;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (!m) throw confError(file, line, 'expecting a name');
    i += m[0].length;
    skipBlanks(false);
    if (peek() !== '=') throw confError(file, line, 'expecting an assignment');
    i++;
    skipBlanks(false);
    values.set(m[0], value());
    skipBlanks(false);
    const c = peek();
    if (c !== undefined && c !== '\n' && c !== '\r' && c !== ';') throw confError(file, line, 'expecting a separator');
  }
}

/** A string setting; libvirt refuses other types with "must be a string". */
export function confString(conf: ClientConfig, key: string): string | undefined {
  const v = conf.values.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    const message = `internal error: ${conf.file ?? 'libvirt.conf'}: ${key}: expected a string`;
    throw new VirError({ code: VirErrorNumber.INTERNAL_ERROR, domain: VirErrorDomain.CONF, message });
  }
  return v;
}

const ALIAS_NAME = /^[A-Za-z0-9_-]*$/;

/** virURIResolveAlias: `uri_aliases = ["name=uri", ...]`; undefined when `alias` names none. */
export function resolveAlias(conf: ClientConfig, alias: string): string | undefined {
  const list = conf.values.get('uri_aliases');
  if (list === undefined) return undefined;
  const entries = typeof list === 'string' ? [list] : Array.isArray(list) ? list : null;
  if (entries === null) throw confSyntax(`${conf.file ?? 'libvirt.conf'}: uri_aliases: expected a string list`);
  for (const e of entries) {
    if (typeof e !== 'string') throw confSyntax(`${conf.file ?? 'libvirt.conf'}: uri_aliases: expected a string list`);
    const eq = e.indexOf('=');
    if (eq < 0) throw confSyntax(`Malformed 'uri_aliases' config entry '${e}', expected 'alias=uri://host/path'`);
    if (!ALIAS_NAME.test(e.slice(0, eq))) {
      throw confSyntax(`Malformed 'uri_aliases' config entry '${e}', aliases may only contain 'a-Z, 0-9, _, -'`);
    }
    if (e.slice(0, eq) === alias) return e.slice(eq + 1);
  }
  return undefined;
}

function confSyntax(what: string): VirError {
  const message = `configuration file syntax error: ${what}`;
  return new VirError({ code: VirErrorNumber.CONF_SYNTAX, domain: VirErrorDomain.URI, message, str1: '%s', str2: what });
}
