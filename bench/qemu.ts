// QEMU driver: define + start + destroy + undefine of a diskless 64 MiB TCG guest, driven by
// stock libvirt-python against tsvirtd and a private real libvirtd in the same run (one daemon
// at a time), next to QEMU's own start (spawn -S, QMP greeting, cont) as the floor; and the
// daemon's resident memory before and after the cycles.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtdUnavailableReason, startLibvirtd, type Libvirtd } from '../test/harness/libvirtd.js';
import { SYSTEM_PYTHON } from '../test/harness/run.js';
import { startTsvirtd } from '../test/harness/tsvirtd.js';
import { guestXml, killGuestsIn, qemuEnv, QEMU_BIN } from '../test/drivers/qemu/driver-guest.js';
import { connect, ConnectError } from '../src/qmp/index.js';
import { fmt, table } from './stats.js';

const CYCLES = Number(process.env.TSVIRT_BENCH_QEMU_CYCLES ?? 200);
/** Cycles before memory is first sampled: V8 compiles and sizes its heap during the first ones. */
const WARMUP = Number(process.env.TSVIRT_BENCH_QEMU_WARMUP ?? 20);
/** libvirtd is slower per cycle, so it runs fewer. */
const LIBVIRTD_CYCLES = Number(process.env.TSVIRT_BENCH_QEMU_LIBVIRTD_CYCLES ?? 20);

/** One python process runs a warm-up then n timed cycles and prints per-phase ms as JSON. */
const DRIVER = `
import libvirt, sys, time, json
c = libvirt.open(sys.argv[1]); xml = open(sys.argv[2]).read(); n = int(sys.argv[3])
d = c.defineXML(xml); d.undefine()  # warm-up: libvirtd probes its emulators on the first define
for i in range(int(sys.argv[4])):
    d = c.defineXML(xml); d.create(); d.destroy(); d.undefine()
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
function drive(uri: string, xmlFile: string, cycles: number, warmup: number, between: () => Promise<void>): Promise<Phases> {
  return new Promise((resolve, reject) => {
    const py = spawn(SYSTEM_PYTHON, ['-c', DRIVER, uri, xmlFile, String(cycles), String(warmup)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    py.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.startsWith('ready\n') && !buf.includes('{')) {
        buf = '';
        between().then(
          () => py.stdin.write('\n'),
          (e: unknown) => {
            py.kill();
            reject(e);
          },
        );
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

/** First and last RSS, range, and the least-squares trend over the run expressed per cycle. */
function rssLine(samples: Array<[number, number]>): string {
  const n = samples.length;
  const mt = samples.reduce((a, [t]) => a + t, 0) / n;
  const mr = samples.reduce((a, [, r]) => a + r, 0) / n;
  const cov = samples.reduce((a, [t, r]) => a + (t - mt) * (r - mr), 0);
  const vt = samples.reduce((a, [t]) => a + (t - mt) ** 2, 0);
  const span = samples[n - 1]![0];
  const perCycle = ((cov / vt) * span) / CYCLES;
  const rs = samples.map(([, r]) => r);
  return `tsvirtd RSS over ${CYCLES} cycles after ${WARMUP} warm-up: ${rs[0]} -> ${rs[n - 1]} KiB (range ${Math.min(...rs)}-${Math.max(...rs)}), trend ${fmt(perCycle)} KiB/cycle`;
}

/**
 * Signals tsvirtd to write a heap snapshot and sums its nodes' own sizes: data (objects, strings,
 * buffers) apart from code, which V8's JIT compiles and flushes on its own schedule.
 */
async function liveHeapBytes(pid: number, snapDir: string): Promise<{ data: number; code: number }> {
  const before = new Set(readdirSync(snapDir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const file = readdirSync(snapDir).find((f) => !before.has(f));
    if (!file) continue;
    let snap: HeapSnapshot;
    try {
      snap = JSON.parse(readFileSync(join(snapDir, file), 'utf8')) as HeapSnapshot;
    } catch {
      continue; // still being written
    }
    const { node_fields: fields, node_types: types } = snap.snapshot.meta;
    const size = fields.indexOf('self_size');
    const type = fields.indexOf('type');
    const codeType = types[0]!.indexOf('code');
    const sum = { data: 0, code: 0 };
    for (let j = 0; j < snap.nodes.length; j += fields.length) {
      if (snap.nodes[j + type] === codeType) sum.code += snap.nodes[j + size]!;
      else sum.data += snap.nodes[j + size]!;
    }
    rmSync(join(snapDir, file));
    return sum;
  }
  throw new Error('tsvirtd wrote no heap snapshot');
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
}

function heapLine(a: { data: number; code: number }, b: { data: number; code: number }): string {
  const kib = (x: number) => fmt(x / 1024);
  const per = (x: number, y: number) => fmt((y - x) / 1024 / CYCLES, 2);
  return `tsvirtd live heap after full GC: data ${kib(a.data)} -> ${kib(b.data)} KiB (${per(a.data, b.data)} KiB/cycle, target 0); ` +
    `JIT code ${kib(a.code)} -> ${kib(b.code)} KiB (${per(a.code, b.code)} KiB/cycle)`;
}

export async function benchQemu(): Promise<string> {
  const why = libvirtdUnavailableReason();
  if (why) return `qemu: skipped (${why})`;
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-bench-qemu-'));
  const xmlFile = join(dir, 'guest.xml');
  writeFileSync(xmlFile, guestXml({ name: 'bench-guest' }));
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  const results: Array<{ name: string; p: Phases; rss?: Array<[number, number]>; heap?: Array<{ data: number; code: number }> }> = [];
  try {
    const floor = await qemuFloorMs(dir);
    // SIGUSR2 makes tsvirtd write a heap snapshot, taken after a full GC: its size is the live heap.
    const snapDir = join(dir, 'heap');
    mkdirSync(snapDir);
    const startOurs = (): Promise<Libvirtd> => {
      const saved = process.env.TSVIRTD_NODE_FLAGS;
      process.env.TSVIRTD_NODE_FLAGS = `${saved ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapDir}`;
      return startTsvirtd().finally(() => {
        // Assigning undefined would store the string "undefined".
        if (saved === undefined) delete process.env.TSVIRTD_NODE_FLAGS;
        else process.env.TSVIRTD_NODE_FLAGS = saved;
      });
    };
    for (const [name, start] of [['tsvirtd', startOurs], ['libvirtd', () => startLibvirtd()]] as const) {
      const d: Libvirtd = await start();
      try {
        const ours = name === 'tsvirtd';
        // RSS sampled every 100 ms while the timed cycles run; the trend, not two points, tells growth.
        const samples: Array<[number, number]> = [];
        let timer: NodeJS.Timeout | undefined;
        const heap: Array<{ data: number; code: number }> = [];
        const p = await drive(d.uri('qemu'), xmlFile, ours ? CYCLES : LIBVIRTD_CYCLES, ours ? WARMUP : 0, async () => {
          if (ours) heap.push(await liveHeapBytes(d.pid, snapDir));
          const t0 = performance.now();
          samples.push([0, rssKiB(d.pid)]);
          timer = setInterval(() => samples.push([performance.now() - t0, rssKiB(d.pid)]), 100);
        }).finally(() => clearInterval(timer));
        if (ours) heap.push(await liveHeapBytes(d.pid, snapDir));
        results.push({ name, p, ...(ours ? { rss: samples, heap } : {}) });
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
    const heap = ours?.heap;
    return [
      `qemu: define+start+destroy+undefine cycles (tsvirtd ${CYCLES}, libvirtd ${LIBVIRTD_CYCLES}), diskless 64 MiB TCG guest (medians); QEMU floor ${fmt(floor)} ms`,
      table(rows),
      `start ratio tsvirtd/libvirtd: ${fmt(ratio, 2)} (target <= 0.8)`,
      rss && rss.length > 2 ? rssLine(rss) : '',
      heap && heap.length === 2 ? heapLine(heap[0]!, heap[1]!) : '',
    ].join('\n');
  } finally {
    killGuestsIn(join(dir, 'tsvirt'));
    rmSync(dir, { recursive: true, force: true });
  }
}
