/**
 * Running parsed commands, and the interactive shell. After every command virsh prints an empty
 * line (unless -q); a failed command prints its errors and the next one still runs.
 */
import { createInterface, type Interface as ReadlineInterface } from 'node:readline';
import { connect } from '../connect.js';
import { commandHelp, COMMAND_DEFS, findCommand, findGroup, fullHelp, groupHelp } from './defs.js';
import { asVirError, CliError, Opts, reportError, type Ctl } from './ctl.js';
import { ParseError, parseCommands, tokenize, type ParsedCommand } from './parse.js';
import { DOMAIN_CONTROL_COMMANDS } from './commands/domain-control.js';
import { CHECKPOINT_SECRET_COMMANDS } from './commands/checkpoints-secrets.js';
import { CONSOLE_COMMANDS } from './commands/console.js';
import { DEVICE_COMMANDS } from './commands/devices.js';
import { DOMAIN_COMMANDS } from './commands/domain.js';
import { DOMAIN_MORE_COMMANDS } from './commands/domain-more.js';
import { EDIT_COMMANDS } from './commands/edit.js';
import { HOST_MORE_COMMANDS } from './commands/host-more.js';
import { NET_IFACE_COMMANDS } from './commands/net-iface.js';
import { NODEDEV_COMMANDS } from './commands/nodedev.js';
import { TUNING_COMMANDS } from './commands/tuning.js';
import { HOST_COMMANDS } from './commands/host.js';
import { OBJECT_COMMANDS } from './commands/objects.js';
import { SNAPSHOT_COMMANDS } from './commands/snapshot.js';
import { VOLUME_COMMANDS } from './commands/volumes.js';
import type { CommandTable } from './commands/types.js';

/** Set by quit/exit. */
export class QuitSignal {}

async function help(ctl: Ctl, o: Opts): Promise<void> {
  const name = o.raw('command');
  if (name === undefined) {
    ctl.print(fullHelp());
    return;
  }
  const def = findCommand(name);
  if (def) {
    ctl.print(commandHelp(def));
    return;
  }
  const g = findGroup(name);
  if (g) {
    ctl.print(groupHelp(g));
    return;
  }
  throw new CliError(`command or command group '${name}' doesn't exist`);
}

/** Opens (or reopens) the connection the way virsh does, reporting failure as virsh does. */
export async function openConnection(ctl: Ctl, uri: string, readonly: boolean): Promise<void> {
  if (ctl.conn) {
    await ctl.conn.close().catch(() => undefined);
    ctl.conn = null;
  }
  const interval = ctl.keepaliveInterval ?? 5;
  const keepalive = interval === 0 ? false : { intervalMs: interval * 1000, count: ctl.keepaliveCount ?? 6 };
  try {
    ctl.conn = await connect(uri, { readonly, keepalive });
    ctl.uri = uri;
    ctl.readonly = readonly;
  } catch (e) {
    // Our remote driver appends where it tried ("[URI ..., transport ...]"); virsh shows libvirt's text only.
    const err = asVirError(e);
    throw new CliError('failed to connect to the hypervisor', null, err ? err.message.replace(/ \[URI '.*\]$/s, '') : String(e));
  }
}

const SHELL_COMMANDS: CommandTable = {
  help,
  connect: async (ctl, o) => {
    const name = o.raw('name') ?? ctl.uri;
    await openConnection(ctl, name, o.bool('readonly'));
  },
  echo: async (ctl, o) => {
    ctl.print(`${o.argv('string').join(' ')}\n`);
  },
  pwd: async (ctl) => {
    ctl.print(`${process.cwd()}\n`);
  },
  cd: async (_ctl, o) => {
    const dir = o.raw('dir') ?? process.env.HOME ?? '/';
    try {
      process.chdir(dir);
    } catch {
      throw new CliError(`cannot chdir to ${dir}`);
    }
  },
};

export const HANDLERS: CommandTable = { ...SHELL_COMMANDS, ...HOST_COMMANDS, ...DOMAIN_COMMANDS, ...SNAPSHOT_COMMANDS, ...OBJECT_COMMANDS, ...CONSOLE_COMMANDS, ...DEVICE_COMMANDS, ...VOLUME_COMMANDS,
  ...HOST_MORE_COMMANDS, ...DOMAIN_MORE_COMMANDS, ...TUNING_COMMANDS, ...NODEDEV_COMMANDS, ...NET_IFACE_COMMANDS,
  ...DOMAIN_CONTROL_COMMANDS, ...CHECKPOINT_SECRET_COMMANDS,
  // After DOMAIN_MORE_COMMANDS: its desc gains --edit here.
  ...EDIT_COMMANDS };

/** Runs one command; true when it succeeded. Throws QuitSignal for quit/exit. */
export async function runCommand(ctl: Ctl, cmd: ParsedCommand): Promise<boolean> {
  const name = cmd.def.name;
  if (name === 'quit' || name === 'exit') throw new QuitSignal();
  let ok = true;
  try {
    if (cmd.wantsHelp) ctl.print(commandHelp(cmd.def));
    else {
      const handler = HANDLERS[name];
      if (!handler) throw new CliError(`command '${name}' is not supported by tsvirsh yet`);
      await handler(ctl, new Opts(cmd));
    }
  } catch (e) {
    if (e instanceof QuitSignal) throw e;
    reportError(ctl, e);
    ok = false;
  }
  // virsh ends every command's output with an empty line, except echo's.
  if (name !== 'echo') ctl.printExtra('\n');
  return ok;
}

/** Runs every command of a line; the result is the last command's. */
export async function runLine(ctl: Ctl, cmds: readonly ParsedCommand[]): Promise<boolean> {
  let ok = true;
  for (const c of cmds) ok = await runCommand(ctl, c);
  return ok;
}

function prompt(ctl: Ctl): string {
  return process.geteuid?.() === 0 && !ctl.readonly ? 'virsh # ' : 'virsh > ';
}

/** Completes command names, then option names of the command being typed. */
function completer(line: string): [string[], string] {
  const words = line.split(/\s+/);
  const last = words.at(-1) ?? '';
  if (words.length <= 1) {
    const hits = [...COMMAND_DEFS.keys()].filter((n) => n.startsWith(last));
    return [hits, last];
  }
  const def = findCommand(words[0]!);
  if (!def) return [[], last];
  const opts = def.opts.map((o) => `--${o.name}`).filter((n) => n.startsWith(last) && !words.includes(n));
  return [opts, last];
}

/** The interactive shell: a terminal gets line editing and completion; a pipe gets virsh's echo. */
export async function interactive(ctl: Ctl): Promise<void> {
  ctl.interactive = true;
  if (!ctl.quiet) {
    ctl.print("Welcome to virsh, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n");
  }
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl: ReadlineInterface = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, completer: tty ? completer : undefined, historySize: 500 });
  const lines = rl[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (tty) {
        rl.setPrompt(prompt(ctl));
        rl.prompt();
      } else ctl.print(prompt(ctl));
      const r = await lines.next();
      if (r.done) break;
      const line = r.value;
      if (!tty) ctl.print(`${line}\n`);
      let cmds: ParsedCommand[];
      try {
        cmds = parseCommands(tokenize(line));
      } catch (e) {
        if (e instanceof ParseError) {
          for (const m of e.message.split('\n')) ctl.error(m);
          continue;
        }
        throw e;
      }
      try {
        await runLine(ctl, cmds);
      } catch (e) {
        if (e instanceof QuitSignal) break;
        throw e;
      }
    }
    // Leaving the shell (end of input or quit) ends the last line, as virsh does.
    ctl.print('\n');
  } finally {
    rl.close();
  }
}
