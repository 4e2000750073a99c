// Runs an external tool (virsh, python3, tshark) with a hard timeout and captures what it printed.
import { spawn } from 'node:child_process';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when our timeout fired and the process was killed. */
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Milliseconds before SIGKILL. Default 20 s. */
  readonly timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Debian's python with the libvirt bindings; the python3 first on PATH may be another build. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
        timedOut,
      });
    });
    // A tool that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** `virsh -c URI ARGS...`; `-q` is not added so callers see exactly what virsh prints. */
export function runVirsh(uri: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return runCommand('virsh', ['-c', uri, ...args], opts);
}

/** Runs a python snippet with the system interpreter; extra args land in sys.argv[1:]. */
export function runPython(code: string, args: readonly string[] = [], opts?: RunOptions): Promise<RunResult> {
  return runCommand(SYSTEM_PYTHON, ['-c', code, ...args], opts);
}

/** One-line description of a result for assertion messages. */
export function describeRun(r: RunResult): string {
  const how = r.timedOut ? 'timed out' : r.code !== null ? `exit ${r.code}` : `signal ${r.signal}`;
  return `${how}; stdout=${JSON.stringify(r.stdout)}; stderr=${JSON.stringify(r.stderr)}`;
}
