/**
 * Command and option tables as data (from defs-data.ts, captured from virsh 9.0), plus what the
 * help output cannot show: options that must be given by name (virsh's REQ_OPT) and hidden
 * aliases. Parsing, `help COMMAND` and completion all derive from these tables.
 */
import { COMMANDS, GROUPS } from './defs-data.js';

export type OptKind = 'bool' | 'string' | 'int' | 'data' | 'argv';

/** [name, kind, required (1/0), help]. */
export type OptData = readonly [string, OptKind, 0 | 1, string];
/** [name, group keyword, help, description, options]. */
export type CommandData = readonly [string, string, string, string, readonly OptData[]];
export interface GroupData {
  readonly name: string;
  readonly keyword: string;
}

export interface OptDef {
  readonly name: string;
  readonly kind: OptKind;
  readonly required: boolean;
  /** Only by name (`--pool x`), never filled from a bare word. */
  readonly namedOnly: boolean;
  readonly help: string;
}

export interface CommandDef {
  readonly name: string;
  readonly group: string;
  readonly help: string;
  readonly desc: string;
  readonly opts: readonly OptDef[];
  /** Hidden option aliases: alias -> target name, or target=value for a bool alias. */
  readonly aliases: ReadonlyMap<string, string>;
}

/** Options virsh 9.0 accepts only by name (found by probing: a bare word never lands in them). */
const NAMED_ONLY: Record<string, readonly string[]> = {
  'qemu-monitor-command': ['pass-fds'],
  'qemu-agent-command': ['timeout'],
  dommemstat: ['period'],
  'send-key': ['codeset', 'holdtime'],
  dompmsuspend: ['duration'],
};

/** Hidden option aliases of virsh 9.0 (not in its help output). */
const ALIASES: Record<string, Record<string, string>> = {
  setmem: { kilobytes: 'size' },
  setmaxmem: { kilobytes: 'size' },
  'vol-create-as': { allocation: 'allocation' },
  'snapshot-list': { 'no-leaves': 'no-leaves' },
  'attach-disk': { shareable: 'mode=shareable' },
};

function build(d: CommandData): CommandDef {
  const [name, group, help, desc, opts] = d;
  const named = new Set(NAMED_ONLY[name] ?? []);
  return {
    name,
    group,
    help,
    desc,
    opts: opts.map(([n, kind, req, h]) => ({ name: n, kind, required: req === 1, namedOnly: named.has(n), help: h })),
    aliases: new Map(Object.entries(ALIASES[name] ?? {}).filter(([a, t]) => a !== t)),
  };
}

export const COMMAND_DEFS: ReadonlyMap<string, CommandDef> = new Map(COMMANDS.map((c) => [c[0], build(c)]));
export const GROUP_DEFS: readonly GroupData[] = GROUPS;

export function findCommand(name: string): CommandDef | undefined {
  return COMMAND_DEFS.get(name);
}

export function findGroup(name: string): GroupData | undefined {
  return GROUPS.find((g) => g.name === name || g.keyword === name);
}

/** `help COMMAND` text, laid out as virsh does. */
export function commandHelp(def: CommandDef): string {
  let syn = `    ${def.name}`;
  let shortopt = false;
  for (const o of def.opts) {
    switch (o.kind) {
      case 'bool': syn += ` [--${o.name}]`; break;
      case 'int': syn += o.required ? ` <${o.name}>` : ` [--${o.name} <number>]`; if (!o.namedOnly) shortopt = true; break;
      case 'string': syn += ` [--${o.name} <string>]`; if (!o.namedOnly) shortopt = true; break;
      case 'data': syn += o.required ? ` <${o.name}>` : ` [<${o.name}>]`; if (!o.namedOnly) shortopt = true; break;
      case 'argv':
        if (shortopt) syn += o.required ? ` {[--${o.name}] <string>}...` : ` [[--${o.name}] <string>]...`;
        else syn += o.required ? ` <${o.name}>...` : ` [<${o.name}>]...`;
        break;
    }
  }
  let out = `  NAME\n    ${def.name} - ${def.help}\n\n  SYNOPSIS\n${syn}\n`;
  if (def.desc) out += `\n  DESCRIPTION\n    ${def.desc}\n`;
  if (def.opts.length) {
    out += '\n  OPTIONS\n';
    for (const o of def.opts) {
      let buf: string;
      switch (o.kind) {
        case 'bool': buf = `--${o.name}`; break;
        case 'int': buf = o.required ? `[--${o.name}] <number>` : `--${o.name} <number>`; break;
        case 'string': buf = `--${o.name} <string>`; break;
        case 'data': buf = `[--${o.name}] <string>`; break;
        case 'argv': buf = shortopt ? `[--${o.name}] <string>` : `<${o.name}>`; break;
      }
      out += `    ${buf.padEnd(15)}  ${o.help}\n`;
    }
  }
  return out + '\n';
}

/** `help GROUP` text. */
export function groupHelp(g: GroupData): string {
  let out = ` ${g.name} (help keyword '${g.keyword}'):\n`;
  for (const c of COMMAND_DEFS.values()) if (c.group === g.keyword) out += `    ${c.name.padEnd(30)} ${c.help}\n`;
  return out;
}

/** Plain `help`: every group. */
export function fullHelp(): string {
  let out = 'Grouped commands:\n\n';
  for (const g of GROUPS) out += groupHelp(g) + '\n';
  return out;
}
