/**
 * console: relays the terminal to a domain's console stream, as virsh does. The terminal is put in
 * raw mode for the session and restored on every way out; the escape character (Ctrl-] unless -e
 * says otherwise) leaves, and so does the stream ending (the domain stopped or the daemon closed it).
 */
import { DomainConsoleFlags } from '../../api/flags.js';
import { DomainState } from '../../api/info.js';
import type { Stream, StreamChunk } from '../../api/stream.js';
import { CliError, type Ctl, type Opts } from '../ctl.js';
import { domainOpt } from '../lookup.js';
import type { CommandTable } from './types.js';

/** The byte the escape sequence stands for: "^]" is Ctrl-] (0x1d), a single character is itself. */
export function escapeByte(seq: string): number {
  if (seq.length === 2 && seq[0] === '^') return seq[1]!.toUpperCase().charCodeAt(0) ^ 0x40;
  return seq.charCodeAt(0);
}

async function console_(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const devname = o.string('devname');
  let flags = 0;
  if (o.bool('force')) flags |= DomainConsoleFlags.FORCE;
  if (o.bool('safe')) flags |= DomainConsoleFlags.SAFE;
  let state: number;
  try {
    state = (await d.state()).state;
  } catch {
    throw new CliError('Unable to get domain status');
  }
  if (state === DomainState.SHUTOFF) throw new CliError('The domain is not running');
  // virsh asks only stdin: the escape key has to come from a terminal.
  if (!process.stdin.isTTY) throw new CliError('Cannot run interactive console without a controlling TTY');
  const esc = ctl.escapeChar;
  ctl.printExtra(`Connected to domain '${d.name}'\n`);
  ctl.printExtra(`Escape character is ${esc}${esc[0] === '^' ? ` (Ctrl + ${esc[1]})` : ''}\n`);
  await relay(d.openConsole.bind(d, devname ?? null, flags), escapeByte(esc));
}

/** Raw terminal <-> stream until the escape byte or the stream's end; the terminal is always restored. */
async function relay(open: () => Promise<Stream>, esc: number): Promise<void> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  let stream: Stream | null = null;
  let onData: ((b: Buffer) => void) | null = null;
  try {
    const s = await open();
    stream = s;
    let leave!: () => void;
    const left = new Promise<'left'>((r) => (leave = () => r('left')));
    let writing = Promise.resolve();
    let writeError: unknown = null;
    onData = (b: Buffer) => {
      // As virsh: the escape counts when it starts what one read returned.
      if (b[0] === esc) {
        leave();
        return;
      }
      writing = writing.then(() => s.write(b)).catch((e: unknown) => {
        writeError ??= e;
        leave();
      });
    };
    stdin.on('data', onData);
    stdin.resume();
    const it = s[Symbol.asyncIterator]();
    for (;;) {
      const next = it.next();
      const r = await Promise.race([next, left]);
      if (r === 'left') {
        // Reading stops: the pending read is dropped once the stream is gone.
        next.catch(() => undefined);
        await s.abort().catch(() => undefined);
        if (writeError) throw writeError;
        return;
      }
      if (r.done) return;
      const chunk: StreamChunk = r.value;
      if (chunk.kind === 'data') process.stdout.write(chunk.data);
    }
  } finally {
    if (onData) stdin.off('data', onData);
    stdin.pause();
    stdin.setRawMode(false);
    if (stream && !stream.finished) await stream.abort().catch(() => undefined);
  }
}

export const CONSOLE_COMMANDS: CommandTable = { console: console_ };
