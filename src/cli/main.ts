#!/usr/bin/env node
/**
 * tsvirsh: a virsh-compatible command line over tsvirt's typed API.
 * `tsvirsh [-c URI] [-r] [-q] [-k N] [-K N] [-d N] COMMAND [ARGS]`, or an interactive shell when
 * no command is given. One argument is parsed as a command string (quoting, `;`), several are
 * taken word for word, as virsh does.
 */
import { parseArgs } from 'node:util';
import { Ctl, reportError } from './ctl.js';
import { argvTokens, ParseError, parseCommands, tokenize } from './parse.js';
import { interactive, openConnection, QuitSignal, runLine } from './shell.js';

/** Global options that take a value; the first word that is not an option starts the command. */
const VALUED = new Set(['-c', '--connect', '-d', '--debug', '-e', '--escape', '-k', '--keepalive-interval', '-K', '--keepalive-count', '-l', '--log']);

/** Index of the first command word (getopt with "+": options stop at the first non-option). */
function commandStart(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    if (VALUED.has(a)) i++;
  }
  return argv.length;
}

const USAGE = `
virsh [options]... [<command_string>]
virsh [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI
    -d | --debug=NUM        debug level [0-4]
    -e | --escape <char>    set escape sequence for console
    -h | --help             this help
    -k | --keepalive-interval=NUM
                            keepalive interval in seconds, 0 for disable
    -K | --keepalive-count=NUM
                            number of possible missed keepalive messages
    -l | --log=FILE         output logging to file
    -q | --quiet            quiet mode
    -r | --readonly         connect readonly
    -t | --timing           print timing information
    -v                      short version
    -V                      long version
         --version[=TYPE]   version, TYPE is short or long (default short)
  commands (non interactive mode):

`;

async function main(argv: string[]): Promise<number> {
  const ctl = new Ctl({ out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
  const split = commandStart(argv);
  const globals = argv.slice(0, split).filter((a) => a !== '--');
  let values;
  try {
    // node:util parseArgs handles the global options (a fixed getopt-style set); command words
    // are cut off first since virsh stops option parsing at the command name.
    ({ values } = parseArgs({
      args: globals,
      strict: true,
      allowPositionals: false,
      options: {
        connect: { type: 'string', short: 'c' },
        debug: { type: 'string', short: 'd' },
        escape: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
        'keepalive-interval': { type: 'string', short: 'k' },
        'keepalive-count': { type: 'string', short: 'K' },
        log: { type: 'string', short: 'l' },
        quiet: { type: 'boolean', short: 'q' },
        readonly: { type: 'boolean', short: 'r' },
        timing: { type: 'boolean', short: 't' },
        v: { type: 'boolean', short: 'v' },
        V: { type: 'boolean', short: 'V' },
        version: { type: 'string' },
      },
    }));
  } catch (e) {
    ctl.error((e as Error).message);
    return 1;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.v || values.version !== undefined || values.V) {
    process.stdout.write('9.0.0\n');
    return 0;
  }
  for (const [key, field] of [['keepalive-interval', 'keepaliveInterval'], ['keepalive-count', 'keepaliveCount']] as const) {
    const v = values[key];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) {
      ctl.error(`option -${key === 'keepalive-interval' ? 'k' : 'K'} requires a positive integer argument`);
      return 1;
    }
    ctl[field] = Number(v);
  }
  ctl.quiet = values.quiet ?? false;
  if (values.escape !== undefined) ctl.escapeChar = values.escape;
  const uri = values.connect ?? process.env.VIRSH_DEFAULT_CONNECT_URI ?? process.env.LIBVIRT_DEFAULT_URI ?? '';
  try {
    await openConnection(ctl, uri, values.readonly ?? false);
  } catch (e) {
    reportError(ctl, e);
    return 1;
  }
  try {
    const rest = argv.slice(split);
    if (rest.length === 0) {
      await interactive(ctl);
      return 0;
    }
    let cmds;
    try {
      cmds = parseCommands(rest.length === 1 ? tokenize(rest[0]!) : argvTokens(rest));
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      for (const m of e.message.split('\n')) ctl.error(m);
      return 1;
    }
    try {
      return (await runLine(ctl, cmds)) ? 0 : 1;
    } catch (e) {
      if (e instanceof QuitSignal) return 0;
      throw e;
    }
  } finally {
    await ctl.conn?.close().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
