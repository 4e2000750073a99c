// tsvirsh for tests: as a separate process (next to stock virsh) or in-process, as its main()
// runs one command line (spawning a node process per case is slow).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type RunOptions, type RunResult } from './run.js';
import { Ctl } from '../../src/cli/ctl.js';
import { argvTokens, ParseError, parseCommands, tokenize } from '../../src/cli/parse.js';
import { openConnection, runLine } from '../../src/cli/shell.js';

export const haveVirsh = ['/usr/bin/virsh', '/usr/local/bin/virsh'].some((p) => existsSync(p));

/** tsvirsh as argv: the TypeScript source through tsx, or compiled JS under dist/. */
export function tsvirshArgv(): string[] {
  const here = fileURLToPath(import.meta.url);
  const root = join(dirname(here), '..', '..');
  if (here.endsWith('.ts')) return [process.execPath, '--import', 'tsx', join(root, 'src', 'cli', 'main.ts')];
  return [process.execPath, join(root, 'src', 'cli', 'main.js')];
}

export function runTool(which: 'virsh' | 'tsvirsh', args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const o = { timeoutMs: 30_000, ...opts, input: opts.input ?? '' };
  if (which === 'virsh') return runCommand('virsh', args, o);
  const [cmd, ...pre] = tsvirshArgv();
  return runCommand(cmd!, [...pre, ...args], o);
}

export function shown(r: RunResult): string {
  return `[rc=${r.code}]\n${r.stdout}[stderr]\n${r.stderr}`;
}

/** tsvirsh in this process on one command string, as main() runs it (parse errors included). */
export async function tsvirshLine(uri: string, line: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const ctl = new Ctl({ out: (t) => (stdout += t), err: (t) => (stderr += t) });
  let code = 0;
  try {
    await openConnection(ctl, uri, false);
    let cmds;
    try {
      cmds = parseCommands(tokenize(line));
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      for (const m of e.message.split('\n')) ctl.error(m);
      return { stdout, stderr, code: 1, signal: null, timedOut: false };
    }
    code = (await runLine(ctl, cmds)) ? 0 : 1;
  } finally {
    await ctl.conn?.close();
  }
  return { stdout, stderr, code, signal: null, timedOut: false };
}

/** tsvirsh in this process on one argv (already split into words). */
export async function tsvirsh(uri: string, args: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  const ctl = new Ctl({ out: (t) => (stdout += t), err: (t) => (stderr += t) });
  try {
    await openConnection(ctl, uri, false);
    const ok = await runLine(ctl, parseCommands(argvTokens(args)));
    return { stdout, stderr, code: ok ? 0 : 1 };
  } finally {
    await ctl.conn?.close();
  }
}
