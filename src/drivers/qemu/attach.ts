// Adopting QEMU processes started outside the driver (virDomainQemuAttach): find them through
// /proc/PID/cmdline, locate their QMP socket (-qmp, or -chardev socket + -mon mode=control),
// and describe the guest from QEMU's own answers. The core driver turns the result into a
// running domain. (libvirt 9.0's QEMU driver no longer supports attach; ours does.)
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { connect, type QmpClient } from '../../qmp/index.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export interface QemuProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Unix socket path of a QMP monitor, null when the process has none we can use. */
  readonly qmpPath: string | null;
  /** From -name (guest=NAME or NAME), null when absent. */
  readonly name: string | null;
  /** From -uuid. */
  readonly uuid: string | null;
}

export interface AttachedGuest {
  readonly pid: number;
  readonly qmpPath: string;
  readonly name: string;
  readonly uuid: string;
  readonly running: boolean;
  /** QMP run state ("running", "paused", "prelaunch"...). */
  readonly status: string;
  readonly memoryKiB: bigint;
  readonly vcpus: number;
  readonly argv: readonly string[];
}

/** The option value of `-opt VALUE`, for every occurrence. */
function values(argv: readonly string[], opt: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length - 1; i++) if (argv[i] === opt || argv[i] === `-${opt}`) out.push(argv[i + 1]);
  return out;
}

/** QEMU's key=value,key=value option syntax (",," escapes a comma); the bare first part keys as ''. */
export function parseOpts(s: string): Map<string, string> {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (s[i] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += s[i];
  }
  parts.push(cur);
  const m = new Map<string, string>();
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) m.set(i === 0 ? '' : p, i === 0 ? p : 'on');
    else m.set(p.slice(0, eq), p.slice(eq + 1));
  });
  return m;
}

/** The QMP unix socket a QEMU command line listens on, if any. */
export function qmpSocketOf(argv: readonly string[]): string | null {
  for (const v of values(argv, '-qmp')) {
    const o = parseOpts(v);
    const head = o.get('') ?? '';
    if (head.startsWith('unix:')) return head.slice(5);
  }
  const sockets = new Map<string, string>();
  for (const v of values(argv, '-chardev')) {
    const o = parseOpts(v);
    const path = o.get('path');
    if (o.get('') === 'socket' && path && o.get('id')) sockets.set(o.get('id') ?? '', path);
  }
  for (const v of values(argv, '-mon')) {
    const o = parseOpts(v);
    const path = sockets.get(o.get('chardev') ?? '');
    if (path && o.get('mode') === 'control') return path;
  }
  return null;
}

export function describeArgv(pid: number, argv: readonly string[]): QemuProcess {
  const nameOpt = values(argv, '-name')[0];
  let name: string | null = null;
  if (nameOpt !== undefined) {
    const o = parseOpts(nameOpt);
    name = o.get('guest') ?? o.get('') ?? null;
  }
  return { pid, argv, qmpPath: qmpSocketOf(argv), name: name || null, uuid: values(argv, '-uuid')[0] ?? null };
}

function readArgv(procRoot: string, pid: number): string[] | null {
  try {
    const raw = readFileSync(join(procRoot, String(pid), 'cmdline'), 'utf8');
    const argv = raw.split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return argv;
  } catch {
    return null;
  }
}

const isQemu = (argv: readonly string[]): boolean => argv.length > 0 && /^qemu-system-|^qemu-kvm$/.test(basename(argv[0]));

/** Every QEMU process visible in `procRoot`, with its QMP socket if it has one. */
export function findQemuProcesses(procRoot = '/proc'): QemuProcess[] {
  const found: QemuProcess[] = [];
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = readArgv(procRoot, Number(entry));
    if (argv && isQemu(argv)) found.push(describeArgv(Number(entry), argv));
  }
  return found.sort((a, b) => a.pid - b.pid);
}

const attachError = (msg: string) => VirError.format(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'Requested operation is not valid: %s', msg);

/**
 * Connects to the QMP monitor of QEMU process `pid` and describes its guest. Names and UUIDs
 * come from QEMU (query-name, query-uuid), falling back to "attach-PID" and a fresh UUID.
 * The returned client stays open for the caller (the driver keeps it as the domain's monitor).
 */
export async function attachToPid(pid: number, opts: { procRoot?: string; timeoutMs?: number } = {}): Promise<{ guest: AttachedGuest; qmp: QmpClient }> {
  const argv = readArgv(opts.procRoot ?? '/proc', pid);
  if (!argv) throw attachError(`no process with pid ${pid}`);
  if (!isQemu(argv)) throw attachError(`process ${pid} is not QEMU (${basename(argv[0] ?? '?')})`);
  const proc = describeArgv(pid, argv);
  if (!proc.qmpPath) throw attachError(`QEMU process ${pid} has no QMP unix socket monitor`);
  const qmp = await connect(proc.qmpPath, { timeoutMs: opts.timeoutMs ?? 5000 }).catch((e: unknown) => {
    throw attachError(`cannot connect to the monitor of QEMU process ${pid}: ${e instanceof Error ? e.message : String(e)}`);
  });
  try {
    const status = (await qmp.execute<{ status: string; running: boolean }>('query-status')) as { status: string; running: boolean };
    const qname = (await qmp.execute<{ name?: string }>('query-name')) as { name?: string };
    const quuid = (await qmp.execute<{ UUID: string }>('query-uuid')) as { UUID: string };
    const cpus = (await qmp.execute<unknown[]>('query-cpus-fast')) as unknown[];
    const mem = (await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary')) as { 'base-memory': number };
    const uuid = quuid.UUID && quuid.UUID !== '00000000-0000-0000-0000-000000000000' ? quuid.UUID : (proc.uuid ?? randomUUID());
    const guest: AttachedGuest = {
      pid,
      qmpPath: proc.qmpPath,
      name: qname.name ?? proc.name ?? `attach-${pid}`,
      uuid,
      running: status.running,
      status: status.status,
      memoryKiB: BigInt(mem['base-memory']) / 1024n,
      vcpus: cpus.length,
      argv,
    };
    return { guest, qmp };
  } catch (e) {
    await qmp.close().catch(() => undefined);
    throw e;
  }
}

/** Domain XML for an attached guest, as its live definition. */
export function attachedDomainXml(g: AttachedGuest, id: number): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
  return [
    `<domain type='qemu' id='${id}'>`,
    `  <name>${esc(g.name)}</name>`,
    `  <uuid>${g.uuid}</uuid>`,
    `  <memory unit='KiB'>${g.memoryKiB}</memory>`,
    `  <currentMemory unit='KiB'>${g.memoryKiB}</currentMemory>`,
    `  <vcpu placement='static'>${g.vcpus}</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64'>hvm</type>`,
    `  </os>`,
    `  <devices>`,
    `    <emulator>${esc(g.argv[0] ?? '')}</emulator>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}
