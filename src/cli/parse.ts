/**
 * virsh's command grammar. A command line is split into words (shell-like quoting: '...' is
 * literal, "..." and bare words take \ escapes, `;` or a newline ends a command, `#` starts a
 * comment); words from the process's argv are taken as they are. Each command's words are then
 * matched against its option table: `--name value`, `--name=value`, bool `--flag`, bare words
 * filling the non-bool options in table order, `--` making every later word a bare word.
 * node:util parseArgs does not fit here: it knows no positional filling by table order, no
 * per-command "already seen" rules and no virsh error texts, so this is hand-written.
 */
import { findCommand, type CommandDef, type OptDef } from './defs.js';

export class ParseError extends Error {
  override name = 'ParseError';
}

/** One parsed command: its definition and option values (bools as true, argv as arrays). */
export interface ParsedCommand {
  readonly def: CommandDef;
  readonly values: ReadonlyMap<string, string | true | string[]>;
  /** `--help` was given: show the command's help instead. */
  readonly wantsHelp: boolean;
}

/** A word or a command separator. */
export type Token = string | { readonly end: true };

const END: Token = { end: true };

/** Splits a command string into words and separators, as virsh's string parser does. */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t' || (line[i] === '\\' && line[i + 1] === '\n')) i += line[i] === '\\' ? 2 : 1;
    if (i >= line.length) return out;
    const c = line[i];
    if (c === ';' || c === '\n') {
      out.push(END);
      i++;
      continue;
    }
    if (c === '#') {
      while (i < line.length && line[i] !== '\n') i++;
      if (i < line.length) i++;
      out.push(END);
      continue;
    }
    let word = '';
    let single = false;
    let double = false;
    while (i < line.length) {
      const ch = line[i]!;
      if (!single && !double && (ch === ' ' || ch === '\t' || ch === ';' || ch === '\n')) break;
      if (!double && ch === "'") {
        single = !single;
        i++;
        continue;
      }
      if (!single && ch === '\\') {
        i++;
        if (i >= line.length) throw new ParseError('dangling \\');
        if (line[i] === '\n') {
          i++;
          continue;
        }
      } else if (!single && ch === '"') {
        double = !double;
        i++;
        continue;
      }
      word += line[i]!;
      i++;
    }
    if (double) throw new ParseError('missing "');
    out.push(word);
  }
}

/** Tokens from argv words: no quoting, no separators. */
export function argvTokens(argv: readonly string[]): Token[] {
  return [...argv];
}

/** Parses every command of a token list; any syntax error rejects the whole line, as in virsh. */
export function parseCommands(tokens: readonly Token[]): ParsedCommand[] {
  const cmds: ParsedCommand[] = [];
  let words: string[] = [];
  for (const t of [...tokens, END]) {
    if (typeof t === 'string') words.push(t);
    else {
      if (words.length) cmds.push(parseOne(words));
      words = [];
    }
  }
  return cmds;
}

function parseOne(words: readonly string[]): ParsedCommand {
  const name = words[0]!;
  const def = findCommand(name);
  if (!def) throw new ParseError(`unknown command: '${name}'`);
  const values = new Map<string, string | true | string[]>();
  const seen = new Set<string>();
  // Options a bare word may still fill, in table order (argv ones stay once reached).
  const needArg = def.opts.filter((o) => o.kind !== 'bool' && !o.namedOnly);
  let dataOnly = false;
  let wantsHelp = false;
  const setValue = (o: OptDef, v: string | true) => {
    if (o.kind === 'argv') {
      const prev = values.get(o.name);
      values.set(o.name, [...(Array.isArray(prev) ? prev : []), v as string]);
    } else values.set(o.name, v);
  };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!dataOnly && w.startsWith('--') && /^[A-Za-z0-9]/.test(w.slice(2))) {
      const eq = w.indexOf('=');
      let optName = eq < 0 ? w.slice(2) : w.slice(2, eq);
      let inline: string | undefined = eq < 0 ? undefined : w.slice(eq + 1);
      if (optName === 'help') {
        wantsHelp = true;
        continue;
      }
      const alias = def.aliases.get(optName);
      if (alias !== undefined) {
        const [target, value] = alias.split('=');
        if (value !== undefined) {
          if (inline !== undefined) throw new ParseError(`invalid '=' after option --${optName}`);
          inline = value;
        }
        optName = target!;
      }
      const opt = def.opts.find((o) => o.name === optName);
      if (!opt) throw new ParseError(`command '${def.name}' doesn't support option --${optName}`);
      if (seen.has(opt.name) && opt.kind !== 'argv') throw new ParseError(`option --${opt.name} already seen`);
      seen.add(opt.name);
      if (opt.kind === 'bool') {
        if (inline !== undefined) throw new ParseError(`invalid '=' after option --${opt.name}`);
        setValue(opt, true);
        continue;
      }
      let v = inline;
      if (v === undefined) {
        if (i + 1 >= words.length) throw new ParseError(`expected syntax: --${opt.name} <${opt.kind === 'int' ? 'number' : 'string'}>`);
        v = words[++i]!;
      }
      if (opt.kind !== 'argv') {
        const k = needArg.indexOf(opt);
        if (k >= 0) needArg.splice(k, 1);
      }
      setValue(opt, v);
      continue;
    }
    if (!dataOnly && w === '--') {
      dataOnly = true;
      continue;
    }
    const opt = needArg[0];
    if (!opt) {
      if (def.name === 'help') continue;
      throw new ParseError(`unexpected data '${w}'`);
    }
    if (opt.kind !== 'argv') needArg.shift();
    seen.add(opt.name);
    setValue(opt, w);
  }
  if (!wantsHelp) {
    // Every missing required option is reported, one line each.
    const missing = def.opts
      .filter((o) => o.required && !seen.has(o.name))
      .map((o) => (o.kind === 'data' || o.kind === 'argv' ? `command '${def.name}' requires <${o.name}> option` : `command '${def.name}' requires --${o.name} option`));
    if (missing.length) throw new ParseError(missing.join('\n'));
  }
  return { def, values, wantsHelp };
}
