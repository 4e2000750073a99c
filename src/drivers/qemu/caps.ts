// QEMU capabilities: probed once per emulator binary over QMP on stdio (query-version,
// query-machines, query-cpu-definitions, query-commands, query-kvm) and cached on disk, keyed
// by the binary's path, mtime and size, like libvirt's capabilities cache.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface QemuMachine {
  readonly name: string;
  readonly alias?: string;
  readonly isDefault: boolean;
  readonly cpuMax: number;
  readonly deprecated: boolean;
}

export interface QemuCpuModel {
  readonly name: string;
  /** Features the host/accelerator lacks for this model; empty means usable. */
  readonly unavailableFeatures: string[];
}

export interface QemuCaps {
  /** major*1_000_000 + minor*1_000 + micro. */
  readonly version: number;
  /** e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3" */
  readonly package: string;
  readonly machines: QemuMachine[];
  readonly cpuModels: QemuCpuModel[];
  readonly commands: string[];
  /** KVM compiled in (query-kvm "present"); whether /dev/kvm is usable is checked per start. */
  readonly kvmPresent: boolean;
}

interface CacheFile {
  readonly binary: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly caps: QemuCaps;
}

/** Bump when the probe or the QemuCaps shape changes so old cache files are ignored. */
const CACHE_FORMAT = 1;

/** Alias -> machine it stands for ("pc" -> "pc-i440fx-7.2"). */
export function machineAliases(caps: QemuCaps): Map<string, string> {
  return new Map(caps.machines.filter((m) => m.alias !== undefined).map((m) => [m.alias as string, m.name]));
}

/** Whether this process can open /dev/kvm read-write (what QEMU's -accel kvm needs). */
export async function kvmUsable(device = '/dev/kvm'): Promise<boolean> {
  try {
    await access(device, fsc.R_OK | fsc.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface CapsCacheOptions {
  /** Directory holding one JSON file per binary. */
  readonly cacheDir: string;
  /** Milliseconds before the probe is abandoned. Default 30 s. */
  readonly timeoutMs?: number;
}

/** Cached capabilities for `binary`, probing (and caching) when the binary changed or was never seen. */
export async function loadQemuCaps(binary: string, opts: CapsCacheOptions): Promise<QemuCaps> {
  const st = await stat(binary);
  const file = cacheFileFor(opts.cacheDir, binary);
  const cached = await readCache(file);
  if (cached && cached.binary === binary && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.caps;
  const caps = await probeQemuCaps(binary, opts.timeoutMs);
  await mkdir(opts.cacheDir, { recursive: true, mode: 0o755 });
  await writeAtomically(file, JSON.stringify({ format: CACHE_FORMAT, binary, mtimeMs: st.mtimeMs, size: st.size, caps }) + '\n');
  return caps;
}

export const cacheFileFor = (dir: string, binary: string): string =>
  join(dir, `${createHash('sha256').update(binary).digest('hex').slice(0, 32)}.json`);

async function readCache(file: string): Promise<CacheFile | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile> & { format?: number };
    if (data.format !== CACHE_FORMAT || data.caps === undefined) return undefined;
    return data as CacheFile;
  } catch {
    // Missing or damaged: probe again.
    return undefined;
  }
}

/** temp file + fsync + rename, so readers see the old file or the whole new one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

// ---- the probe ----

const PROBE_ARGS = ['-S', '-no-user-config', '-nodefaults', '-display', 'none', '-machine', 'none', '-qmp', 'stdio'];
const QUERIES = ['query-version', 'query-machines', 'query-cpu-definitions', 'query-commands', 'query-kvm'] as const;

type Json = Record<string, unknown>;

export class QemuProbeError extends Error {
  override readonly name = 'QemuProbeError';
}

/** Runs `binary -machine none -qmp stdio`, asks the QUERIES, quits. */
export function probeQemuCaps(binary: string, timeoutMs = 30_000): Promise<QemuCaps> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, PROBE_ARGS, { stdio: ['pipe', 'pipe', 'pipe'] });
    const replies = new Map<string, unknown>();
    let stderr = '';
    let buf = '';
    let greeted = false;
    let done = false;
    const finish = (err: Error | undefined, caps?: QemuCaps) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (err) reject(err);
      else if (caps) resolve(caps);
    };
    const timer = setTimeout(() => finish(new QemuProbeError(`probing ${binary} timed out after ${timeoutMs} ms`)), timeoutMs);
    const send = (execute: string, id: string) => child.stdin.write(JSON.stringify({ execute, id }) + '\n');
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    child.on('error', (e) => finish(new QemuProbeError(`cannot run ${binary}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (!done) finish(new QemuProbeError(`${binary} exited (${code ?? signal}) during the probe: ${stderr.trim()}`));
    });
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        let msg: Json;
        try {
          msg = JSON.parse(line) as Json;
        } catch {
          finish(new QemuProbeError(`${binary} sent a line that is not JSON: ${line.slice(0, 200)}`));
          return;
        }
        if (!greeted && 'QMP' in msg) {
          greeted = true;
          send('qmp_capabilities', 'caps');
          QUERIES.forEach((q) => send(q, q));
          continue;
        }
        if (typeof msg.id !== 'string') continue;
        if ('error' in msg) {
          const e = msg.error as Json;
          finish(new QemuProbeError(`${binary}: ${msg.id} failed: ${String(e.desc ?? '')}`));
          return;
        }
        replies.set(msg.id, msg.return);
        if (QUERIES.every((q) => replies.has(q))) {
          send('quit', 'quit');
          try {
            finish(undefined, capsFromReplies(replies));
          } catch (e) {
            finish(e instanceof Error ? e : new QemuProbeError(String(e)));
          }
        }
      }
    });
  });
}

function capsFromReplies(r: Map<string, unknown>): QemuCaps {
  const ver = r.get('query-version') as { qemu: { major: number; minor: number; micro: number }; package?: string };
  const machines = (r.get('query-machines') as Json[]).map((m) => ({
    name: String(m.name),
    ...(typeof m.alias === 'string' ? { alias: m.alias } : {}),
    isDefault: m['is-default'] === true,
    cpuMax: Number(m['cpu-max'] ?? 1),
    deprecated: m.deprecated === true,
  }));
  machines.sort((a, b) => a.name.localeCompare(b.name));
  const cpuModels = (r.get('query-cpu-definitions') as Json[]).map((c) => ({
    name: String(c.name),
    unavailableFeatures: Array.isArray(c['unavailable-features']) ? c['unavailable-features'].map(String) : [],
  }));
  cpuModels.sort((a, b) => a.name.localeCompare(b.name));
  const commands = (r.get('query-commands') as Json[]).map((c) => String(c.name)).sort();
  const kvm = r.get('query-kvm') as { present?: boolean };
  return {
    version: ver.qemu.major * 1_000_000 + ver.qemu.minor * 1_000 + ver.qemu.micro,
    package: (ver.package ?? '').trim(),
    machines,
    cpuModels,
    commands,
    kvmPresent: kvm.present === true,
  };
}
