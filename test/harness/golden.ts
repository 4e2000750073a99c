// Golden wire captures (test/fixtures/golden/*.json): their shape, loading, and consistency checks.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GoldenMessage {
  readonly dir: 'c2s' | 's2c';
  /** The whole frame as sent, length word included. */
  readonly hex: string;
  readonly prog: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
  /** One-line summary from tshark's libvirt dissector ('' when it had none). */
  readonly decoded: string;
}

export interface GoldenFixture {
  readonly description: string;
  readonly command: string;
  /** Debian package version of the libvirt that produced the capture. */
  readonly libvirt: string;
  readonly messages: readonly GoldenMessage[];
}

export const MessageType = { CALL: 0, REPLY: 1, MESSAGE: 2, STREAM: 3, CALL_WITH_FDS: 4, REPLY_WITH_FDS: 5, STREAM_HOLE: 6 } as const;

/** Nearest ancestor holding package.json: works from test/harness (tsx) and dist/test/harness (tsc). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${from}`);
  }
}

export function goldenDir(): string {
  return join(repoRoot(), 'test', 'fixtures', 'golden');
}

export function goldenNames(): string[] {
  const dir = goldenDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
}

export function loadGolden(name: string): GoldenFixture {
  return JSON.parse(readFileSync(join(goldenDir(), `${name}.json`), 'utf8')) as GoldenFixture;
}

export function messageBytes(m: GoldenMessage): Buffer {
  return Buffer.from(m.hex, 'hex');
}

/**
 * Everything wrong with a fixture, or [] when it is consistent: hex well-formed, length word equal to
 * the frame size, header fields equal to the JSON fields, and every server reply or stream packet
 * carrying the serial (and proc) of an earlier client call; so do stream packets from the client.
 */
export function verifyGolden(f: GoldenFixture): string[] {
  const problems: string[] = [];
  const calls = new Map<string, number>(); // "prog/serial" -> proc
  f.messages.forEach((m, i) => {
    const at = `message ${i} (${m.dir})`;
    if (m.dir !== 'c2s' && m.dir !== 's2c') problems.push(`${at}: bad dir`);
    if (!/^([0-9a-f]{2})+$/.test(m.hex)) {
      problems.push(`${at}: hex is not lowercase byte pairs`);
      return;
    }
    const b = messageBytes(m);
    if (b.length < 28) {
      problems.push(`${at}: ${b.length} bytes, shorter than length word + header`);
      return;
    }
    if (b.readUInt32BE(0) !== b.length) problems.push(`${at}: length word ${b.readUInt32BE(0)} != ${b.length} bytes`);
    const header = { prog: b.readUInt32BE(4), proc: b.readInt32BE(12), type: b.readInt32BE(16), serial: b.readUInt32BE(20), status: b.readInt32BE(24) };
    for (const [k, v] of Object.entries(header)) {
      if (m[k as keyof typeof header] !== v) problems.push(`${at}: field ${k}=${m[k as keyof typeof header]} but header says ${v}`);
    }
    const key = `${m.prog}/${m.serial}`;
    if (m.dir === 'c2s' && (m.type === MessageType.CALL || m.type === MessageType.CALL_WITH_FDS)) calls.set(key, m.proc);
    // Replies, and stream packets in either direction, belong to a call; events and keepalives do not.
    const echoes = m.type === MessageType.REPLY || m.type === MessageType.REPLY_WITH_FDS || m.type === MessageType.STREAM || m.type === MessageType.STREAM_HOLE;
    if (echoes && calls.get(key) !== m.proc) problems.push(`${at}: no earlier call with prog ${m.prog.toString(16)} serial ${m.serial} proc ${m.proc}`);
  });
  return problems;
}
