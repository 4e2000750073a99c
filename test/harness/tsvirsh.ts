// tsvirsh in-process, as its main() runs one command line: spawning a node process per case is slow.
import { Ctl } from '../../src/cli/ctl.js';
import { argvTokens, parseCommands } from '../../src/cli/parse.js';
import { openConnection, runLine } from '../../src/cli/shell.js';

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
