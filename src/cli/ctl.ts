/**
 * The shell's state shared by every command: the connection, global flags, output. Errors follow
 * virsh: a command reports `error: WHAT` and, when a libvirt call failed underneath, the libvirt
 * error's message as a second `error:` line.
 */
import type { Connection } from '../api/connection.js';
import { VirError } from '../rpc/errors.js';
import { table } from './format.js';
import type { ParsedCommand } from './parse.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export class Ctl {
  conn: Connection | null = null;
  /** The URI asked for (-c / connect --name), '' for the default. */
  uri = '';
  readonly = false;
  quiet = false;
  interactive = false;
  keepaliveInterval: number | undefined;
  keepaliveCount: number | undefined;
  /** The console's escape sequence (-e): "^]" by default. */
  escapeChar = '^]';

  constructor(readonly io: Output) {}

  /** vshPrint: always shown. */
  print(text: string): void {
    this.io.out(text);
  }

  /** vshPrintExtra: hidden by -q. */
  printExtra(text: string): void {
    if (!this.quiet) this.io.out(text);
  }

  /** A virsh table (headerless under -q). */
  table(header: readonly string[], rows: readonly (readonly string[])[]): void {
    this.io.out(table(header, rows, this.quiet));
  }

  error(msg: string): void {
    this.io.err(`error: ${msg}\n`);
  }

  get connection(): Connection {
    if (!this.conn) throw new CliError('no valid connection');
    return this.conn;
  }
}

/**
 * A command failure: `message` is virsh's own line (may be empty when only the libvirt error is
 * shown), `cause` the libvirt error reported after it.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly virCause: VirError | null = null,
    /** A second line of virsh's own, when there is no libvirt error to show. */
    readonly extra: string | null = null,
  ) {
    super(message);
  }
}

/** Runs `p`; a libvirt failure becomes a CliError saying `what` first. */
export async function attempt<T>(p: Promise<T>, what: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new CliError(what, asVirError(err));
  }
}

export function asVirError(err: unknown): VirError | null {
  return err instanceof VirError ? err : null;
}

/** Prints a failure the way virsh does. */
export function reportError(ctl: Ctl, err: unknown): void {
  if (err instanceof CliError) {
    if (err.message) ctl.error(err.message);
    if (err.virCause) ctl.error(err.virCause.message);
    if (err.extra) ctl.error(err.extra);
    return;
  }
  if (err instanceof VirError) {
    ctl.error(err.message);
    return;
  }
  ctl.error(err instanceof Error ? err.message : String(err));
}

/** Option accessors over a parsed command. */
export class Opts {
  constructor(readonly cmd: ParsedCommand) {}

  bool(name: string): boolean {
    return this.cmd.values.has(name);
  }

  has(name: string): boolean {
    return this.cmd.values.has(name);
  }

  /** A string option; empty values are refused as virsh does. */
  string(name: string): string | undefined {
    const v = this.cmd.values.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return undefined;
    if (v === '') throw new CliError(`Failed to get option '${name}': Option argument is empty`);
    return v;
  }

  /** A string option that may be empty. */
  raw(name: string): string | undefined {
    const v = this.cmd.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  argv(name: string): string[] {
    const v = this.cmd.values.get(name);
    return Array.isArray(v) ? v : [];
  }

  /** vshCommandOptInt-style: a signed 32-bit decimal. */
  int(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = parseStrictInt(v);
    if (n === null || n < -2147483648 || n > 2147483647) throw new CliError(`Numeric value '${v}' for <${name}> option is malformed or out of range`);
    return n;
  }

  /** Unsigned 32-bit (negative refused). */
  uint(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = parseStrictInt(v);
    if (n === null || n < 0 || n > 4294967295) throw new CliError(`Numeric value '${v}' for <${name}> option is malformed or out of range`);
    return n;
  }

  /** A scaled integer ("1M", "512", "2GiB"); `scale` is the unit when none is given. */
  scaled(name: string, scale: number, max = 2n ** 64n - 1n): bigint | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const r = parseScaled(v, scale, max);
    if (r === null) throw new CliError(`Scaled numeric value '${v}' for <${name}> option is malformed or out of range`);
    return r;
  }
}

function parseStrictInt(v: string): number | null {
  const t = v.replace(/^\s+/, '');
  if (!/^[+-]?\d+$/.test(t)) return null;
  return Number(t);
}

const SUFFIX: Record<string, number> = { b: 0, k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/** libvirt's virScaleInteger rules: k/KiB = 1024, kB = 1000, no suffix = `scale`. */
export function parseScaled(v: string, scale: number, max: bigint): bigint | null {
  const m = /^\s*\+?(\d+)(.*)$/.exec(v);
  if (!m) return null;
  let n = BigInt(m[1]!);
  const suffix = m[2]!;
  let mult: bigint;
  if (suffix === '') mult = BigInt(scale);
  else {
    const unit = SUFFIX[suffix[0]!.toLowerCase()];
    if (unit === undefined) return null;
    const rest = suffix.slice(1);
    let base: bigint;
    if (rest === '' || rest.toLowerCase() === 'ib') base = 1024n;
    else if (rest.toLowerCase() === 'b' && unit !== 0) base = 1000n;
    else return null;
    if (suffix[0]!.toLowerCase() === 'b' && rest !== '') return null;
    mult = base ** BigInt(unit);
  }
  n *= mult;
  return n > max ? null : n;
}
