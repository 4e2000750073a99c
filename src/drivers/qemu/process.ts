// One QEMU process: spawning it (detached, output to the domain's log file), connecting its
// QMP monitor, running monitor commands with a deadline, and knowing when it has ended: from
// the child's exit when we spawned it, from the monitor's EOF when we reconnected to it after a
// daemon restart. No polling of the pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { connect, ConnectError, QmpError, QmpTimeoutError, type QmpClient, type QmpEvent } from '../../qmp/index.js';
import { internalError, operationTimeout } from './errors.js';

export interface ProcessTimeouts {
  /** How long start waits for the monitor to accept and greet. */
  readonly connectMs: number;
  /** Deadline of one monitor command. */
  readonly commandMs: number;
  /** destroy: SIGTERM, then SIGKILL after this long. */
  readonly killGraceMs: number;
}

export interface MonitorHooks {
  onEvent(ev: QmpEvent): void;
  /** The process ended (child exit or monitor EOF), once. */
  onEnd(): void;
}

export class QemuProcess {
  qmp: QmpClient | null = null;
  /** Set by destroy: the end is expected and reported by destroy itself. */
  beingDestroyed = false;
  /** Until start has finished: an early end is start's failure to report, not an event. */
  starting = true;
  /** QEMU reported SHUTDOWN: the end that follows is a shutdown, not a crash. */
  gotShutdown = false;
  /** The guest panicked and on_crash ends it. */
  crashed = false;
  /** virsh reboot asked for a reset once the guest powers off (libvirt's fake reboot). */
  fakeReboot = false;
  /** Reason the next RESUME/STOP event records (set before cont/stop we send ourselves). */
  runningReason: number | undefined;
  pausedReason: number | undefined;
  private endedFlag = false;
  readonly ended: Promise<void>;
  private markEnded!: () => void;
  private hooks: MonitorHooks | null = null;

  constructor(
    readonly pid: number,
    readonly monitorPath: string,
    readonly logPath: string,
    /** Set when this daemon spawned the process; null after a reconnect. */
    readonly child: ChildProcess | null,
    readonly timeouts: ProcessTimeouts,
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    if (child) {
      if (child.exitCode !== null || child.signalCode !== null) this.end();
      else child.once('exit', () => this.end());
    }
  }

  get isEnded(): boolean {
    return this.endedFlag;
  }

  /** True while the child we spawned has not exited (unknown, thus false, after a reconnect). */
  private get childRunning(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Lets go of the monitor, leaving QEMU running (a daemon going away); another daemon can
   * reconnect from the status file.
   */
  async detach(): Promise<void> {
    this.hooks = null;
    this.detached = true;
    await this.qmp?.close().catch(() => undefined);
  }

  private detached = false;

  /** Waits for the end with the child referenced, so a caller's event loop stays up meanwhile. */
  async waitEnded(): Promise<void> {
    this.child?.ref();
    try {
      await this.ended;
    } finally {
      this.child?.unref();
    }
  }

  private end(): void {
    if (this.endedFlag || this.detached) return;
    this.endedFlag = true;
    // A monitor EOF with the process still there: make sure it is gone, as libvirt does.
    if (this.childRunning || (this.child === null && !this.beingDestroyed)) this.signal('SIGKILL');
    void this.qmp?.close().catch(() => undefined);
    this.markEnded();
    this.hooks?.onEnd();
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child && !this.childRunning) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // Already gone.
    }
  }

  /**
   * Connects the monitor, retrying while the socket is not there or refuses (QEMU creates it a
   * moment before it listens). Fails with libvirt's words when the process dies first.
   */
  async connectMonitor(hooks: MonitorHooks, logFrom: number, vmName: string): Promise<void> {
    this.hooks = hooks;
    const deadline = Date.now() + this.timeouts.connectMs;
    for (;;) {
      if (this.endedFlag) throw internalError(`process exited while connecting to monitor: ${logTail(this.logPath, logFrom)}`);
      try {
        const left = Math.max(100, deadline - Date.now());
        this.attach(await connect(this.monitorPath, { timeoutMs: left, closeTimeoutMs: 200 }));
        return;
      } catch (err) {
        const code = err instanceof ConnectError ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
        const retry = code === 'ENOENT' || code === 'ECONNREFUSED';
        if (!retry || Date.now() > deadline) {
          if (this.endedFlag) throw internalError(`process exited while connecting to monitor: ${logTail(this.logPath, logFrom)}`);
          if (!retry) throw internalError(`QEMU unexpectedly closed the monitor (vm='${vmName}'): ${logTail(this.logPath, logFrom)}`);
          throw operationTimeout(`QEMU monitor of '${vmName}' did not answer within ${this.timeouts.connectMs} ms`);
        }
        await Promise.race([new Promise((r) => setTimeout(r, 15)), this.ended]);
      }
    }
  }

  /** Reattaches to a monitor after a daemon restart; throws when nothing answers. */
  async reconnectMonitor(hooks: MonitorHooks): Promise<void> {
    this.hooks = hooks;
    this.attach(await connect(this.monitorPath, { timeoutMs: this.timeouts.connectMs, closeTimeoutMs: 200 }));
  }

  private attach(qmp: QmpClient): void {
    this.qmp = qmp;
    qmp.on('event', (ev) => this.hooks?.onEvent(ev));
    void qmp.closed.then(() => this.end());
  }

  /** Runs a monitor command with the configured deadline, reporting failures as libvirt errors. */
  async command<T = unknown>(name: string, args?: object, vmName = ''): Promise<T> {
    const qmp = this.qmp;
    if (!qmp || this.endedFlag) throw internalError('monitor must not be NULL');
    try {
      return await qmp.execute<T>(name, args, { timeoutMs: this.timeouts.commandMs });
    } catch (err) {
      if (err instanceof QmpError) throw internalError(`unable to execute QEMU command '${name}': ${err.desc}`);
      if (err instanceof QmpTimeoutError) {
        throw operationTimeout(`QEMU monitor of '${vmName}' did not answer '${name}' within ${this.timeouts.commandMs} ms`);
      }
      throw internalError(`End of file from qemu monitor`);
    }
  }

  /**
   * Ends the process: SIGTERM, SIGKILL after the grace period; resolves as soon as it has
   * exited (child exit or monitor EOF).
   */
  async kill(): Promise<void> {
    if (this.endedFlag) return;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.signal('SIGKILL');
        // Without a child to watch, the monitor's EOF tells; a stuck socket must not hang us.
        if (!this.child) setTimeout(() => this.end(), 1000).unref();
        resolve();
      }, this.timeouts.killGraceMs);
    });
    await Promise.race([this.waitEnded(), forced.then(() => this.ended)]);
    clearTimeout(timer);
  }

  /** Resident set size in KiB, from /proc/PID/stat (pages * 4 KiB). */
  rssKiB(): bigint | undefined {
    const f = this.statFields();
    return f ? BigInt(f[21] ?? '0') * 4n : undefined;
  }

  /** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
  private statFields(): string[] | undefined {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  }

  /** CPU time of the whole process in ns, from /proc/PID/stat (utime + stime). */
  cpuTimeNs(): bigint {
    const f = this.statFields();
    if (!f) return 0n;
    const ticks = BigInt(f[11] ?? '0') + BigInt(f[12] ?? '0');
    return (ticks * 1_000_000_000n) / CLOCK_TICKS;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux architecture QEMU's x86 host runs on. */
const CLOCK_TICKS = 100n;

/** Spawns QEMU in its own session, stdout/stderr appended to the log after a start-up header. */
export function spawnQemu(argv: string[], logPath: string): { child: ChildProcess; logFrom: number } {
  const fd = openSync(logPath, 'a', 0o600);
  try {
    const header = `${new Date().toISOString().replace('T', ' ').replace('Z', '+0000')}: starting up tsvirt\n${argv.map(shellQuote).join(' \\\n')}\n`;
    writeSync(fd, header);
    const logFrom = statSync(logPath).size;
    const [bin, ...args] = argv as [string, ...string[]];
    // detached: QEMU outlives a daemon killed with SIGKILL and its signals to the process group.
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, LC_ALL: 'C' } });
    child.unref();
    child.on('error', () => undefined);
    return { child, logFrom };
  } finally {
    closeSync(fd);
  }
}

const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** What QEMU wrote to the log since `from`, without its final newline (libvirt's error detail). */
export function logTail(logPath: string, from: number): string {
  try {
    const buf = readFileSync(logPath);
    let text = buf.subarray(Math.min(from, buf.length)).toString('utf8');
    if (text.length > 1024) text = text.slice(-1024);
    return text.replace(/\n+$/, '');
  } catch {
    return '';
  }
}
