import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import { abortable } from './abortable.js';

/** Keep the last few KiB of stderr: enough for ssh's or the shell's complaint, bounded for chatty peers. */
const STDERR_KEEP = 8192;

export interface ChildChannelOptions {
  /** Names the far end in errors, e.g. "ssh to 'host'". */
  what: string;
  env?: NodeJS.ProcessEnv;
  /** Turns what the child wrote to stderr (and how it ended) into the error reported at EOF. */
  explain?: (stderr: string, exit: { code: number | null; signal: NodeJS.Signals | null }) => string | undefined;
}

/**
 * A Duplex over a child's stdin/stdout, as libvirt talks to ssh or an ext command. When stdout ends and
 * the child failed or complained on stderr, the stream fails with that text instead of a bare EOF.
 * Destroying the stream kills the child.
 */
export class ChildChannel extends Duplex {
  private stderrText = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private exitWaiters: Array<() => void> = [];

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    private readonly opts: ChildChannelOptions,
  ) {
    super({ allowHalfOpen: false });
    child.stderr.on('data', (b: Buffer) => {
      this.stderrText = (this.stderrText + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.stdout.on('data', (b: Buffer) => {
      if (!this.push(b)) child.stdout.pause();
    });
    child.stdout.on('end', () => void this.onStdoutEnd());
    child.stdin.on('error', () => undefined); // EPIPE after the child died: reported via stdout's end.
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  /** What the child printed on stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // A write failing (EPIPE) means the child is gone; its exit, reported at stdout's end, says why.
    this.child.stdin.write(chunk, () => cb(null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.exit === null) this.child.kill('SIGTERM');
    cb(err);
  }

  private async onStdoutEnd(): Promise<void> {
    // stderr and the exit status usually follow stdout's end closely; wait briefly for both.
    if (this.exit === null) {
      await Promise.race([
        new Promise<void>((r) => this.exitWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, 1000).unref()),
      ]);
    }
    if (!this.child.stderr.readableEnded) {
      await Promise.race([
        new Promise<void>((r) => this.child.stderr.once('end', r)),
        new Promise<void>((r) => setTimeout(r, 500).unref()),
      ]);
    }
    const exit = this.exit ?? { code: null, signal: null };
    const failed = (exit.code !== null && exit.code !== 0) || exit.signal !== null || this.stderrText.trim() !== '';
    const detail = failed ? (this.opts.explain?.(this.stderrText, exit) ?? defaultExplain(this.stderrText, exit)) : undefined;
    if (detail !== undefined) this.destroy(this.failure(`${detail}: Connection reset by peer`));
    else this.push(null);
  }

  private failure(message: string): VirError {
    return new VirError({ code: VirErrorNumber.SYSTEM_ERROR, domain: VirErrorDomain.RPC, message: `${message} (${this.opts.what})` });
  }
}

function defaultExplain(stderr: string, exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  const how = exit.signal ? `killed by ${exit.signal}` : exit.code === null ? 'still running' : `exit status ${exit.code}`;
  const text = stderr.trim().replace(/\s*\n\s*/g, '; ');
  return text ? `${text} [${how}]` : `[${how}]`;
}

/** Spawns argv[0] with argv[1..] (no shell) and resolves once it is running. */
export function spawnChannel(argv: readonly string[], opts: ChildChannelOptions, signal?: AbortSignal): Promise<ChildChannel> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return abortable<ChildChannel>((done) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    child.once('spawn', () => done(null, new ChildChannel(child, opts)));
    child.on('error', (err) => {
      const code = (err as { code?: string }).code;
      const reason = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : err.message;
      done(new VirError({
        code: VirErrorNumber.SYSTEM_ERROR,
        domain: VirErrorDomain.NONE,
        message: `Cannot run program '${file}': ${reason} (${opts.what})`,
        cause: err,
      }));
    });
    return () => child.kill('SIGKILL');
  }, signal);
}
