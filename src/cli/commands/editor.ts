/**
 * virsh's external-editor plumbing: the temporary file ($TMPDIR/virshXXXXXX.xml), running
 * $VISUAL / $EDITOR / vi on it (directly, or through `sh -c` when the editor string holds anything
 * beyond a plain path), reading it back, and the "Try again?" question, with virsh 9.0's messages.
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CliError, type Ctl } from '../ctl.js';

/** strerror() texts for the errors a temporary file can hit. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EISDIR: 'Is a directory',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
};

function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return (code && STRERROR[code]) ?? (e instanceof Error ? e.message : String(e));
}

const TEMPLATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** vshEditWriteToTempFile: a new private file holding `doc`; its path. */
export function writeTempFile(doc: string): string {
  const dir = process.env.TMPDIR ?? '/tmp';
  for (let tries = 0; ; tries++) {
    let suffix = '';
    for (let i = 0; i < 6; i++) suffix += TEMPLATE_CHARS[Math.floor(Math.random() * TEMPLATE_CHARS.length)];
    const file = `${dir}/virsh${suffix}.xml`;
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && tries < 100) continue;
      throw new CliError(`g_mkstemp_full: failed to create temporary file: ${strerror(e)}`);
    }
    try {
      writeSync(fd, doc);
    } catch (e) {
      closeSync(fd);
      unlinkTemp(file);
      throw new CliError(`write: ${file}: failed to write to temporary file: ${strerror(e)}`);
    }
    closeSync(fd);
    return file;
  }
}

export function unlinkTemp(file: string): void {
  try {
    unlinkSync(file);
  } catch { /* already gone */ }
}

/** vshEditReadBackFile. */
export function readBack(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`${file}: failed to read temporary file: ${strerror(e)}`);
  }
}

/** Characters virsh lets through without a shell, in the editor string and the file name. */
const PLAIN = /^[A-Za-z0-9\-/_.:@]*$/;

/** virBufferEscapeShell: quote an argument when it holds shell-special characters. */
function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (!/[|&;<>()$`\\"' \t\n*?[#~=%]/.test(arg)) return arg;
  return `'${arg.replace(/'/g, "'\\''")}'`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** virFindFileInPath: absolute names as given, names with a slash when executable, else $PATH. */
function findInPath(name: string): string | null {
  if (isAbsolute(name)) return name;
  if (name.includes('/')) return isExecutable(name) ? resolve(name) : null;
  if (name === '') return null;
  for (const dir of (process.env.PATH ?? '/bin:/usr/bin').split(delimiter)) {
    const p = join(dir || '.', name);
    if (isExecutable(p)) return resolve(p);
  }
  return null;
}

/** vshEditFile: runs the editor on `file` with virsh's stdin/stdout/stderr, waiting for it. */
export async function runEditor(file: string): Promise<void> {
  const editor = process.env.VISUAL ?? process.env.EDITOR ?? 'vi';
  let argv: string[];
  if (!PLAIN.test(editor)) {
    if (!PLAIN.test(file)) throw new CliError(`${file}: temporary filename contains shell meta or other unacceptable characters (is $TMPDIR wrong?)`);
    argv = ['sh', '-c', `${editor} ${file}`];
  } else argv = [editor, file];
  const binary = findInPath(argv[0]!);
  if (binary === null) throw new CliError(`Cannot find '${argv[0]}' in path: No such file or directory`);
  const shown = argv.map(shellQuote).join(' ');
  // In the interactive shell readline holds the terminal in raw mode: hand it over cooked.
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY && stdin.isRaw;
  if (wasRaw) stdin.setRawMode(false);
  if (stdin.isTTY) stdin.pause();
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    const child = spawn(binary, argv.slice(1), { stdio: 'inherit', argv0: argv[0] });
    child.once('error', (e) => {
      // The forked child could not exec: libvirt's child reports it and exits 127 (missing) or 126.
      const code = (e as NodeJS.ErrnoException).code;
      process.stderr.write(`libvirt:  error : cannot execute binary ${binary}: ${strerror(e)}\n`);
      done({ code: code === 'ENOENT' ? 127 : 126, signal: null });
    });
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  if (wasRaw) stdin.setRawMode(true);
  if (result.signal) {
    const num = osConstants.signals[result.signal] ?? 0;
    throw new CliError(`internal error: Child process (${shown}) unexpected fatal signal ${num}`);
  }
  if (result.code !== 0) throw new CliError(`internal error: Child process (${shown}) unexpected exit status ${result.code}`);
}

/** The answer to vshAskReedit: a choice, or null when there is no terminal to ask on. */
export type ReeditChoice = 'y' | 'n' | 'f' | 'i' | null;

async function readKey(): Promise<string> {
  const stdin = process.stdin;
  return new Promise((done) => {
    const onData = (b: Buffer) => {
      stdin.off('data', onData);
      stdin.pause();
      done(b.toString('latin1').slice(0, 1));
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/**
 * vshAskReedit: without a terminal on stdin virsh does not ask (the caller then reports `msg`);
 * otherwise it shows the pending libvirt error and reads one key in raw mode.
 */
export async function askReedit(ctl: Ctl, msg: string, relaxAvail: boolean, pendingError: string | null): Promise<ReeditChoice> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return null;
  if (pendingError) ctl.error(pendingError);
  stdin.setRawMode(true);
  try {
    for (;;) {
      ctl.print(`\r${msg} Try again? ${relaxAvail ? '[y,n,i,f,?]' : '[y,n,f,?]'}: `);
      const c = (await readKey()).toLowerCase();
      if (c === '?') {
        const lines = ['', 'y - yes, start editor again', 'n - no, throw away my changes'];
        if (relaxAvail) lines.push('i - turn off validation and try to redefine again');
        lines.push('f - force, try to redefine again', '? - print this help');
        // virsh writes "\r\n" with output processing off; libuv's raw mode keeps ONLCR, so "\n" gives the same bytes.
        ctl.print(lines.map((l) => `${l}\n`).join(''));
        continue;
      }
      if (c === 'y' || c === 'n' || c === 'f' || (relaxAvail && c === 'i')) {
        ctl.print('\r\n');
        return c;
      }
    }
  } finally {
    stdin.setRawMode(false);
  }
}

/** vshEditString: edits a short text; one trailing newline (editors like to add it) is dropped. */
export async function editString(text: string): Promise<string> {
  const file = writeTempFile(text);
  try {
    await runEditor(file);
    const out = readBack(file);
    return out.endsWith('\n') ? out.slice(0, -1) : out;
  } finally {
    unlinkTemp(file);
  }
}
