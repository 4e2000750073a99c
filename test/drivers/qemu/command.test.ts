// The domain-XML -> QEMU argv builder against argv captured from real libvirt 9.0 (QEMU 7.2):
// test/fixtures/qemu-argv/NAME.xml + NAME.args, written by scripts/capture-qemu-argv.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDomainXml } from '../../../src/api/xml/domain/parse.js';
import { buildQemuCommand, type QemuHostFacts } from '../../../src/drivers/qemu/command/index.js';

const DIR = join(import.meta.dirname, '../../fixtures/qemu-argv');

/** The host libvirt ran on when the fixtures were captured. */
const HOST: Omit<QemuHostFacts, 'monitorPath'> = {
  binary: '/usr/bin/qemu-system-x86_64',
  version: 7_002_000,
  kvmUsable: true,
  machineAliases: new Map([['pc', 'pc-i440fx-7.2'], ['q35', 'pc-q35-7.2']]),
  vncPort: 5900,
};

/**
 * Deliberate differences from libvirt's argv, applied to the captured argv before comparing:
 * - libvirt's master-key secret object (-object secret masterKey0) is dropped: it only serves to
 *   decrypt secrets libvirt passes later, and we pass none.
 * - A started domain's monitor socket is a pre-opened fd (fd=N); we let QEMU create it at a path.
 * - Tap back-ends arrive as fds libvirt opened with TUNSETIFF, which Node cannot do: QEMU opens
 *   the named tap itself (type ethernet) or uses qemu-bridge-helper (type bridge).
 * Paths of libvirt's runtime dirs (monitor socket) are host facts: the test passes libvirt's.
 */
function applyDeviations(name: string, expected: string[], monitorPath: string): string[] {
  const out: string[] = [];
  let tap = 0;
  const taps = TAP_BACKENDS[name] ?? [];
  for (let i = 0; i < expected.length; i++) {
    const a = expected[i];
    if (a === '-object' && expected[i + 1].includes('"id":"masterKey0"')) {
      i++;
      continue;
    }
    if (a.startsWith('socket,id=charmonitor,fd=')) {
      out.push(`socket,id=charmonitor,path=${monitorPath},server=on,wait=off`);
      continue;
    }
    if (a === '-netdev' && /"type":"tap","fd":"\d+"/.test(expected[i + 1])) {
      out.push(a, taps[tap++] ?? 'missing tap deviation');
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

const TAP_BACKENDS: Record<string, string[]> = {
  nets: [
    '{"type":"tap","ifname":"tsvtap0","script":"no","downscript":"no","id":"hostnet0"}',
    '{"type":"bridge","br":"br0","id":"hostnet1"}',
  ],
  // domxml-to-native also turns type='user' interfaces into tap fds; net-user (captured from a
  // started guest) shows the user back-end libvirt really passes.
  'q35-virtio': ['{"type":"user","id":"hostnet0"}'],
  'q35-sata': ['{"type":"user","id":"hostnet0"}'],
};

function monitorPathOf(name: string, args: string[]): string {
  const m = args.map((a) => /^socket,id=charmonitor,path=([^,]+),/.exec(a)).find((x) => x);
  return m ? m[1] : `/var/lib/libvirt/qemu/domain-1-${name}/monitor.sock`;
}

const names = readdirSync(DIR).filter((f) => f.endsWith('.args')).map((f) => f.slice(0, -5)).sort();
let passed = 0;

for (const name of names) {
  test(`argv matches libvirt: ${name}`, () => {
    const captured = readFileSync(join(DIR, `${name}.args`), 'utf8').split('\n').slice(0, -1);
    const monitorPath = monitorPathOf(name, captured);
    const expected = applyDeviations(name, captured, monitorPath);
    const def = parseDomainXml(readFileSync(join(DIR, `${name}.xml`), 'utf8'));
    const { argv } = buildQemuCommand(def, { ...HOST, monitorPath });
    assert.deepEqual(argv, expected);
    passed++;
  });
}

test('fixture pass count', { skip: names.length === 0 }, () => {
  console.log(`qemu argv fixtures: ${passed}/${names.length} match libvirt`);
  assert.ok(names.length >= 12, 'the fixture set was lost');
});

/** Starts QEMU with our argv and waits for the QMP greeting on the monitor socket, then quits it. */
async function qemuAccepts(argv: string[], monitorPath: string): Promise<string> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 100 && !existsSync(monitorPath) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(monitorPath)) throw new Error(`QEMU did not open its monitor: ${stderr}`);
    const greet = () => new Promise<string>((resolve, reject) => {
      const sock = connect(monitorPath);
      sock.once('data', (b) => {
        sock.end(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n' + JSON.stringify({ execute: 'quit' }) + '\n');
        resolve(b.toString('utf8'));
      });
      sock.once('error', reject);
    });
    // The socket file appears at bind(), a moment before QEMU listens on it.
    for (let i = 0; ; i++) {
      try {
        return await greet();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || i >= 50 || child.exitCode !== null) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }
}

const QEMU = HOST.binary;
for (const name of ['net-user', 'misc-devices', 'kvm-basic', 'q35-virtio', 'q35-sata']) {
  test(`QEMU starts with our argv: ${name}`, { skip: existsSync(QEMU) ? undefined : `${QEMU} not installed` }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvirt-argv-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const xml = readFileSync(join(DIR, `${name}.xml`), 'utf8')
      // Disk images and KVM are not ours to assume: drop the disk, run under TCG.
      .replace(/<disk[\s\S]*?<\/disk>/g, '').replace("type='kvm'", "type='qemu'");
    const monitorPath = join(dir, 'monitor.sock');
    const { argv } = buildQemuCommand(parseDomainXml(xml), { ...HOST, monitorPath });
    const greeting = await qemuAccepts(argv, monitorPath);
    assert.match(greeting, /"QMP":.*"qemu":.*"major": 7/);
  });
}
