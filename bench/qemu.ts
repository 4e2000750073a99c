// QEMU driver: define + start + destroy + undefine of a diskless 64 MiB TCG guest, driven by
// stock libvirt-python against tsvirtd and a private real libvirtd in the same run (one daemon
// at a time), next to QEMU's own start (spawn -S, QMP greeting, cont) as the floor; and the
// daemon's resident memory before and after the cycles.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtdUnavailableReason, startLibvirtd, type Libvirtd } from '../test/harness/libvirtd.js';
import { SYSTEM_PYTHON } from '../test/harness/run.js';
import { startTsvirtd } from '../test/harness/tsvirtd.js';
import { guestXml, killGuestsIn, qemuEnv, QEMU_BIN } from '../test/drivers/qemu/driver-guest.js';
import { connect, ConnectError } from '../src/qmp/index.js';
import { fmt, table } from './stats.js';

/** libvirtd's define alone takes ~30 s here (it re-probes its emulators), so it gets fewer cycles. */
const CYCLES = Number(process.env.TSVIRT_BENCH_QEMU_CYCLES ?? 20);
const LIBVIRTD_CYCLES = Number(process.env.TSVIRT_BENCH_QEMU_LIBVIRTD_CYCLES ?? 3);

/** One python process runs a warm-up then n timed cycles and prints per-phase ms as JSON. */
const DRIVER = `
import libvirt, sys, time, json
c = libvirt.open(sys.argv[1]); xml = open(sys.argv[2]).read(); n = int(sys.argv[3])
d = c.defineXML(xml); d.undefine()  # warm-up: libvirtd probes its emulators on the first define
print('ready', flush=True); sys.stdin.readline()
out = {'define': [], 'start': [], 'destroy': [], 'undefine': []}
for i in range(n):
    t = time.monotonic(); d = c.defineXML(xml); out['define'].append((time.monotonic() - t) * 1000)
    t = time.monotonic(); d.create(); out['start'].append((time.monotonic() - t) * 1000)
    t = time.monotonic(); d.destroy(); out['destroy'].append((time.monotonic() - t) * 1000)
    t = time.monotonic(); d.undefine(); out['undefine'].append((time.monotonic() - t) * 1000)
print(json.dumps(out), flush=True)
`;

type Phases = Record<'define' | 'start' | 'destroy' | 'undefine', number[]>;

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Runs the cycles; `between` runs after the warm-up (to sample memory). */
function drive(uri: string, xmlFile: string, cycles: number, between: () => void): Promise<Phases> {
  return new Promise((resolve, reject) => {
    const py = spawn(SYSTEM_PYTHON, ['-c', DRIVER, uri, xmlFile, String(cycles)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    py.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.startsWith('ready\n') && !buf.includes('{')) {
        between();
        buf = '';
        py.stdin.write('\n');
      }
    });
    py.on('error', reject);
    py.on('close', (code) => (code === 0 ? resolve(JSON.parse(buf.trim()) as Phases) : reject(new Error(`python driver exited ${code}`))));
  });
}

/** QEMU alone: spawn paused with a QMP socket, connect, cont, then kill. Median of CYCLES. */
async function qemuFloorMs(dir: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < CYCLES; i++) {
    const sock = join(dir, `floor-${i}.sock`);
    const t0 = performance.now();
    const child = spawn(QEMU_BIN, ['-S', '-machine', 'pc,usb=off', '-accel', 'tcg', '-m', '64', '-nodefaults', '-display', 'none',
      '-no-user-config', '-qmp', `unix:${sock},server=on,wait=off`], { stdio: 'ignore' });
    for (;;) {
      try {
        const q = await connect(sock);
        await q.execute('cont');
        times.push(performance.now() - t0);
        await q.close();
        break;
      } catch (e) {
        if (!(e instanceof ConnectError) || child.exitCode !== null) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  return median(times);
}

export async function benchQemu(): Promise<string> {
  const why = libvirtdUnavailableReason();
  if (why) return `qemu: skipped (${why})`;
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-bench-qemu-'));
  const xmlFile = join(dir, 'guest.xml');
  writeFileSync(xmlFile, guestXml({ name: 'bench-guest' }));
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  const results: Array<{ name: string; p: Phases; rss?: [number, number] }> = [];
  try {
    const floor = await qemuFloorMs(dir);
    for (const [name, start] of [['tsvirtd', () => startTsvirtd()], ['libvirtd', () => startLibvirtd()]] as const) {
      const d: Libvirtd = await start();
      try {
        let before = NaN;
        const p = await drive(d.uri('qemu'), xmlFile, name === 'tsvirtd' ? CYCLES : LIBVIRTD_CYCLES, () => (before = rssKiB(d.pid)));
        results.push({ name, p, ...(name === 'tsvirtd' ? { rss: [before, rssKiB(d.pid)] as [number, number] } : {}) });
      } finally {
        await d.stop();
      }
    }
    const rows = [['daemon', 'define ms', 'start ms', 'destroy ms', 'undefine ms', 'cycle ms', 'start - QEMU floor']];
    for (const r of results) {
      const m = (k: keyof Phases) => median(r.p[k]);
      const cycle = m('define') + m('start') + m('destroy') + m('undefine');
      rows.push([r.name, fmt(m('define')), fmt(m('start')), fmt(m('destroy')), fmt(m('undefine')), fmt(cycle), fmt(m('start') - floor)]);
    }
    const [ours, theirs] = results;
    const ratio = ours && theirs ? median(ours.p.start) / median(theirs.p.start) : NaN;
    const rss = ours?.rss;
    return [
      `qemu: define+start+destroy+undefine cycles (tsvirtd ${CYCLES}, libvirtd ${LIBVIRTD_CYCLES}), diskless 64 MiB TCG guest (medians); QEMU floor ${fmt(floor)} ms`,
      table(rows),
      `start ratio tsvirtd/libvirtd: ${fmt(ratio, 2)} (target <= 0.8)`,
      rss ? `tsvirtd RSS: ${rss[0]} KiB after warm-up, ${rss[1]} KiB after ${CYCLES} cycles (${fmt((rss[1] - rss[0]) / CYCLES)} KiB/cycle)` : '',
    ].join('\n');
  } finally {
    killGuestsIn(join(dir, 'tsvirt'));
    rmSync(dir, { recursive: true, force: true });
  }
}
