// Captures golden libvirt wire traffic from a private real libvirtd into test/fixtures/golden/NAME.json.
// Run through scripts/capture-golden.sh; optional arguments pick scenarios by name.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLibvirtd } from '../../test/harness/libvirtd.js';
import { goldenDir, verifyGolden, type GoldenFixture, type GoldenMessage } from '../../test/harness/golden.js';
import { messagesFromSegments, parseHeader } from './frames.js';
import { dissect, readSegments, startCapture } from './tshark.js';
import { SCENARIOS, type Scenario } from './scenarios.js';

function libvirtPackageVersion(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libvirt-daemon'], { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout === '') throw new Error('cannot read the libvirt-daemon package version');
  return r.stdout;
}

/** Own framing plus the dissector's summary for each message; both must agree on every header. */
function toMessages(pcap: string, port: number): GoldenMessage[] {
  const wire = messagesFromSegments(readSegments(pcap, port));
  const dissected = dissect(pcap, port);
  const pending = { c2s: dissected.filter((p) => p.dir === 'c2s'), s2c: dissected.filter((p) => p.dir === 's2c') };
  return wire.map((w) => {
    const h = parseHeader(w.bytes);
    const d = pending[w.dir].shift();
    if (d === undefined || d.serial !== h.serial || d.proc !== h.proc || d.length !== h.len) {
      throw new Error(`${pcap}: dissector disagrees at ${w.dir} frame ${w.frame}: ours ${JSON.stringify(h)}, tshark ${JSON.stringify(d)}`);
    }
    return { dir: w.dir, hex: w.bytes.toString('hex'), prog: h.prog, proc: h.proc, type: h.type, serial: h.serial, status: h.status, decoded: d.summary };
  });
}

/** Pretty JSON with one message per line, so diffs of a re-capture stay readable. */
function render(f: GoldenFixture): string {
  const head = JSON.stringify({ description: f.description, command: f.command, libvirt: f.libvirt }, null, 2).slice(0, -2);
  const msgs = f.messages.map((m) => '    ' + JSON.stringify(m)).join(',\n');
  return `${head},\n  "messages": [\n${msgs}\n  ]\n}\n`;
}

async function captureOne(s: Scenario, port: number, run: () => Promise<void>, work: string, version: string): Promise<GoldenFixture> {
  const pcap = join(work, `${s.name}.pcap`);
  const cap = await startCapture(port, pcap);
  try {
    await run();
  } finally {
    await cap.stop();
  }
  const fixture: GoldenFixture = { description: s.description, command: s.command, libvirt: version, messages: toMessages(pcap, port) };
  const problems = [...verifyGolden(fixture), ...s.check(fixture.messages)];
  if (problems.length) throw new Error(`${s.name}: capture rejected:\n  ${problems.join('\n  ')}`);
  return fixture;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const chosen = SCENARIOS.filter((s) => wanted.length === 0 || wanted.includes(s.name));
  const version = libvirtPackageVersion();
  const keep = process.env.CAPTURE_PCAP_DIR;
  const work = keep ?? mkdtempSync(join(tmpdir(), 'tsvirt-capture-'));
  mkdirSync(work, { recursive: true });
  mkdirSync(goldenDir(), { recursive: true });
  const daemon = await startLibvirtd({ tcp: true });
  try {
    const port = daemon.tcpPort;
    if (port === undefined) throw new Error('daemon has no TCP port');
    for (const s of chosen) {
      const f = await captureOne(s, port, () => s.run(daemon, work), work, version);
      const out = join(goldenDir(), `${s.name}.json`);
      writeFileSync(out, render(f));
      console.log(`${s.name}: ${f.messages.length} messages -> ${out}`);
    }
  } finally {
    await daemon.stop();
    if (keep === undefined) rmSync(work, { recursive: true, force: true });
    else console.log(`pcaps kept in ${work}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
