// tsvirtd against a private real libvirtd, both driven by the same stock client (python3-libvirt,
// bench/daemon-driver.py) on test:///default, one daemon at a time so they never share the CPUs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { libvirtdUnavailableReason, startLibvirtd, type Libvirtd } from '../test/harness/libvirtd.js';
import { SYSTEM_PYTHON } from '../test/harness/run.js';
import { startTsvirtd } from '../test/harness/tsvirtd.js';
import { fmt, percentile, table } from './stats.js';

/** The python driver sits in the source tree (tsc does not copy it to dist/). */
function driverScript(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return join(d, 'bench', 'daemon-driver.py');
}

const CLK_TCK = 100;
/** list-all calls per measurement: enough for the 10 ms resolution of /proc CPU times. */
const LIST_REPS = 40;

/** utime + stime of a process (all its threads) in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Json {
  [k: string]: number | boolean | number[] | number[][];
}

/** Runs the driver in a mode that prints one JSON line and exits. */
function runDriver(args: string[]): Promise<Json> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [driverScript(), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = text.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`daemon-driver ${args[0]} exited with ${code}`));
      else resolve(JSON.parse(last) as Json);
    });
  });
}

/** The long-lived driver: keeps test:///default open between commands. */
class Serve {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly queue: Array<(line: string) => void> = [];

  constructor(uri: string) {
    this.child = spawn(SYSTEM_PYTHON, [driverScript(), 'serve', uri]);
    this.child.stderr.pipe(process.stderr);
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (l) => this.queue.shift()?.(l));
  }

  private next(): Promise<Json> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error('daemon-driver serve exited'));
      this.child.once('exit', onExit);
      this.queue.push((l) => {
        this.child.off('exit', onExit);
        resolve(JSON.parse(l) as Json);
      });
    });
  }

  ready(): Promise<Json> {
    return this.next();
  }

  cmd(line: string): Promise<Json> {
    const p = this.next();
    this.child.stdin.write(line + '\n');
    return p;
  }

  async quit(): Promise<void> {
    this.child.stdin.end('quit\n');
    await new Promise((r) => this.child.once('close', r));
  }
}

export interface DaemonNumbers {
  rttPerSec: number;
  rttP99us: number;
  cpuPerCallUs: number;
  lookupInfoPerSec: number;
  concurrent: Array<{ clients: number; perSec: number; p99us: number }>;
  listAllMs: number;
  defineMs: number;
  eventsPerSec: number;
  cpuPerDeliveryUs: number;
  cpuListAllMs: number;
  cpuPerDefineUs: number;
  defineColdMs: number;
  eventP50us: number;
  eventP99us: number;
  eventsDelivered: string;
  rssFreshKiB: number;
  rssPerDomainBytes: number;
}

const CONCURRENCY: Array<{ clients: number; procs: number }> = [
  { clients: 1, procs: 1 },
  { clients: 16, procs: 2 },
  { clients: 64, procs: 4 },
];

async function concurrentRun(uri: string, clients: number, procs: number, secs: number): Promise<{ perSec: number; p99us: number }> {
  const startAt = Date.now() / 1000 + 1.5 + clients * 0.01;
  const per = Array.from({ length: procs }, (_, i) => Math.floor(clients / procs) + (i < clients % procs ? 1 : 0));
  const res = await Promise.all(per.map((t) => runDriver(['concurrent', uri, String(t), String(secs), String(startAt)])));
  const lat = res.flatMap((r) => r.lat as number[]).sort((a, b) => a - b);
  return { perSec: lat.length / secs, p99us: percentile(lat, 99) };
}

export async function measureDaemon(d: Libvirtd, opts: { secs: number; events: number; domains: number }): Promise<DaemonNumbers> {
  const uri = d.uri('test');
  const rssFreshKiB = rssKiB(d.pid);
  const serve = new Serve(uri);
  await serve.ready();
  const cpu0 = cpuSeconds(d.pid);
  const rtt = await serve.cmd(`rtt ${opts.secs}`);
  const cpu1 = cpuSeconds(d.pid);
  // The driver also makes 200 warm-up calls before its timed loop.
  const cpuPerCallUs = ((cpu1 - cpu0) / ((rtt.n as number) + 200)) * 1e6;
  const li = await serve.cmd(`lookupinfo ${opts.secs / 2}`);
  const concurrent = [];
  for (const c of CONCURRENCY) concurrent.push({ clients: c.clients, ...(await concurrentRun(uri, c.clients, c.procs, opts.secs / 2)) });
  // Back to back for the delivery rate; paced for latency, which back to back would turn into
  // queueing in the python subscribers (the slowest part) rather than the daemon's delivery time.
  const cpuEv0 = cpuSeconds(d.pid);
  const ev = await runDriver(['events', uri, '50', '5', String(opts.events), '0']);
  const cpuEvent = cpuSeconds(d.pid) - cpuEv0;
  const paced = await runDriver(['events', uri, '50', '5', String(opts.events / 2), '0.005']);
  // The first pass also measures RSS growth (conservative for tsvirtd: it includes garbage V8 has
  // not collected yet). The second pass, after undefining, is the steady-state define rate:
  // the first includes tsvirtd's JIT warm-up of the XML code.
  const rssBefore = rssKiB(d.pid);
  const cold = await serve.cmd(`define ${opts.domains}`);
  const rssAfter = rssKiB(d.pid);
  await serve.cmd('undefine');
  const cpuDef0 = cpuSeconds(d.pid);
  const def = await serve.cmd(`define ${opts.domains}`);
  const cpuDefine = cpuSeconds(d.pid) - cpuDef0;
  const cpuList0 = cpuSeconds(d.pid);
  const list = await serve.cmd(`listall ${LIST_REPS}`);
  const cpuList = cpuSeconds(d.pid) - cpuList0;
  if (list.count !== opts.domains + 1) throw new Error(`list-all returned ${list.count} domains`);
  await serve.cmd('undefine');
  await serve.quit();
  return {
    rttPerSec: (rtt.n as number) / (rtt.secs as number),
    rttP99us: rtt.p99us as number,
    cpuPerCallUs,
    lookupInfoPerSec: (li.n as number) / (li.secs as number),
    concurrent,
    listAllMs: (list.median as number) * 1000,
    defineMs: (def.secs as number) * 1000,
    eventsPerSec: ev.rate as number,
    // Includes the 50 subscribers' connection setup (the same for both daemons).
    cpuPerDeliveryUs: (cpuEvent / (ev.delivered as number)) * 1e6,
    cpuListAllMs: (cpuList / LIST_REPS) * 1000,
    cpuPerDefineUs: (cpuDefine / opts.domains) * 1e6,
    defineColdMs: (cold.secs as number) * 1000,
    eventP50us: paced.p50us as number,
    eventP99us: paced.p99us as number,
    eventsDelivered: `${(ev.delivered as number) + (paced.delivered as number)}/${(ev.expected as number) + (paced.expected as number)}`,
    rssFreshKiB,
    rssPerDomainBytes: ((rssAfter - rssBefore) * 1024) / opts.domains,
  };
}

type Row = [label: string, ours: number, theirs: number, digits: number, target: string, met: ((ratio: number, ours: number) => boolean) | null];

export async function benchDaemon(opts = { secs: 3, events: 200, domains: 1000 }): Promise<string> {
  const tsd = await startTsvirtd();
  let ours: DaemonNumbers;
  try {
    ours = await measureDaemon(tsd, opts);
  } finally {
    await tsd.stop();
  }
  // TSVIRT_BENCH_NO_LIBVIRTD=1 measures tsvirtd alone (quicker while profiling).
  const why = process.env.TSVIRT_BENCH_NO_LIBVIRTD ? 'TSVIRT_BENCH_NO_LIBVIRTD is set' : libvirtdUnavailableReason();
  let theirs: DaemonNumbers | undefined;
  if (why === undefined) {
    const lvd = await startLibvirtd();
    try {
      theirs = await measureDaemon(lvd, opts);
    } finally {
      await lvd.stop();
    }
  }
  const nan = NaN;
  const t = theirs;
  const c = (i: number) => [ours.concurrent[i]!, t?.concurrent[i]] as const;
  const rows: Row[] = [
    ['round-trip calls/s (getLibVersion)', ours.rttPerSec, t?.rttPerSec ?? nan, 0, '>= 1.5x', (r) => r >= 1.5],
    ['  p99 us', ours.rttP99us, t?.rttP99us ?? nan, 0, '', null],
    ['daemon CPU per call, us', ours.cpuPerCallUs, t?.cpuPerCallUs ?? nan, 1, '<= 0.5x', (r) => r <= 0.5],
    ['lookupByName + info, pairs/s', ours.lookupInfoPerSec, t?.lookupInfoPerSec ?? nan, 0, '', null],
  ];
  for (let i = 0; i < CONCURRENCY.length; i++) {
    const [o, l] = c(i);
    const n = o.clients;
    rows.push([`${n} client${n > 1 ? 's' : ''}, lookupByName calls/s`, o.perSec, l?.perSec ?? nan, 0, n === 64 ? '>= 1.5x' : '', n === 64 ? (r) => r >= 1.5 : null]);
    rows.push([`  p99 us`, o.p99us, l?.p99us ?? nan, 0, n === 64 ? '<= 0.5x' : '', n === 64 ? (r) => r <= 0.5 : null]);
  }
  rows.push(
    [`list-all of ${opts.domains} domains, ms (faster = lower)`, ours.listAllMs, t?.listAllMs ?? nan, 2, '<= 0.5x', (r) => r <= 0.5],
    ['  daemon CPU per list-all, ms', ours.cpuListAllMs, t?.cpuListAllMs ?? nan, 2, '', null],
    [`defining ${opts.domains} domains (first time), ms`, ours.defineColdMs, t?.defineColdMs ?? nan, 0, '', null],
    [`defining ${opts.domains} domains (steady), ms`, ours.defineMs, t?.defineMs ?? nan, 0, '<= 0.5x', (r) => r <= 0.5],
    ['  daemon CPU per define, us', ours.cpuPerDefineUs, t?.cpuPerDefineUs ?? nan, 0, '', null],
    ['events to 50 subscribers, deliveries/s', ours.eventsPerSec, t?.eventsPerSec ?? nan, 0, '>= 2x', (r) => r >= 2],
    ['  daemon CPU per delivery, us', ours.cpuPerDeliveryUs, t?.cpuPerDeliveryUs ?? nan, 1, '', null],
    ['  latency p50 us (one change per 5 ms)', ours.eventP50us, t?.eventP50us ?? nan, 0, '', null],
    ['  latency p99 us (one change per 5 ms)', ours.eventP99us, t?.eventP99us ?? nan, 0, '<= 0.5x', (r) => r <= 0.5],
    ['daemon RSS fresh, MB', ours.rssFreshKiB / 1024, (t?.rssFreshKiB ?? nan) / 1024, 1, 'ours <= 60 MB', (_r, o) => o <= 60],
    [`RSS per extra domain (${opts.domains} defined), bytes`, ours.rssPerDomainBytes, t?.rssPerDomainBytes ?? nan, 0, 'ours <= 4096', (_r, o) => o <= 4096],
  );
  const body = rows.map(([label, o, l, digits, target, met]) => {
    const ratio = o / l;
    const verdict = met ? (met(ratio, o) ? 'met' : 'MISSED') : '';
    return [label, fmt(o, digits), fmt(l, digits), Number.isFinite(ratio) ? `${fmt(ratio, 2)}x` : 'n/a', target, verdict];
  });
  return [
    `tsvirtd vs libvirtd ${theirs ? '9.0 (private instance)' : `(libvirtd not run: ${why})`}, python3-libvirt client, test:///default`,
    `events delivered: tsvirtd ${ours.eventsDelivered}${t ? `, libvirtd ${t.eventsDelivered}` : ''}; ratios are tsvirtd/libvirtd`,
    table([['', 'tsvirtd', 'libvirtd', 'ratio', 'target', ''], ...body]),
  ].join('\n');
}
