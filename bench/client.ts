// tsvirt's client against python3-libvirt (bench/client-driver.py), both driving the same private
// real libvirtd (test:///default), one client at a time: sequential calls, 64 calls in flight on
// one connection, and list-all of 10,000 domains (with the decode of that reply timed alone).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '../src/api/connection.js';
import { openRemote } from '../src/drivers/remote/driver.js';
import { RemoteProcedures as R } from '../src/protocol/gen/remote.js';
import { XdrReader } from '../src/xdr/index.js';
import { libvirtdUnavailableReason, startLibvirtd } from '../test/harness/libvirtd.js';
import { SYSTEM_PYTHON } from '../test/harness/run.js';
import { fmt, measureSequential, percentile, table, type LatencyResult } from './stats.js';

const SECS = 2;
const IN_FLIGHT = 64;
const DOMAINS = 10_000;
const LIST_REPS = 9;
const DECODE_REPS = 30;

interface Json {
  [k: string]: number;
}

function driverScript(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return join(d, 'bench', 'client-driver.py');
}

function python(args: string[]): Promise<Json> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [driverScript(), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`client-driver ${args[0]} exited with ${code}`));
      else resolve(JSON.parse(text.trim().split('\n').pop() ?? '') as Json);
    });
  });
}

/** A timed workload, with the CPU it cost this client and the daemon per call. */
interface Measured extends LatencyResult {
  clientCpuUs: number;
  daemonCpuUs: number;
}

const CLK_TCK = 100;
/** Calls each side makes before its timed loop (both drivers use the same number). */
const WARMUP = 300;

/** utime + stime of a process, all threads, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

async function ours(daemonPid: number, run: () => Promise<LatencyResult>): Promise<Measured> {
  const d0 = cpuSeconds(daemonPid);
  const c0 = process.cpuUsage();
  const r = await run();
  const used = process.cpuUsage(c0);
  const n = r.callsPerSec * SECS;
  return { ...r, clientCpuUs: (used.user + used.system) / n, daemonCpuUs: ((cpuSeconds(daemonPid) - d0) * 1e6) / (n + WARMUP) };
}

async function theirs(daemonPid: number, args: string[]): Promise<Measured> {
  const d0 = cpuSeconds(daemonPid);
  const j = await python(args);
  const n = j.n as number;
  return {
    callsPerSec: j.perSec as number,
    p50us: j.p50us as number,
    p99us: j.p99us as number,
    clientCpuUs: j.cpuUs as number,
    daemonCpuUs: ((cpuSeconds(daemonPid) - d0) * 1e6) / (n + WARMUP),
  };
}

/** `workers` loops sharing one connection, for `secs` after a warm-up. */
async function inFlight(once: () => Promise<unknown>, workers: number, secs: number): Promise<LatencyResult> {
  for (let i = 0; i < 300; i++) await once();
  const lat: number[] = [];
  const start = performance.now();
  const end = start + secs * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (;;) {
        const t = performance.now();
        await once();
        const now = performance.now();
        lat.push((now - t) * 1000);
        if (now >= end) return;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { callsPerSec: lat.length / elapsed, p50us: percentile(lat, 50), p99us: percentile(lat, 99) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function domainXml(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `<domain type='test'><name>bench-${i}</name><uuid>c0000000-0000-4000-8000-${hex}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`;
}

export async function benchClient(): Promise<string> {
  const why = libvirtdUnavailableReason();
  if (why !== undefined) return `client: not run (${why})`;
  const d = await startLibvirtd();
  try {
    const uri = d.uri('test');
    // The raw RPC client beside the API on one connection: the reply body of list-all is decoded apart.
    const remote = await openRemote(uri, { keepalive: false });
    const c = new Connection(remote, { readonly: false });

    const lookup = () => c.domainLookupByName('test');
    const oursLib = await ours(d.pid, () => measureSequential(() => c.libVersion(), SECS * 1000, WARMUP));
    const pyLib = await theirs(d.pid, ['seq', uri, String(SECS), 'lib']);
    const oursLookup = await ours(d.pid, () => measureSequential(lookup, SECS * 1000, WARMUP));
    const pyLookup = await theirs(d.pid, ['seq', uri, String(SECS), 'lookup']);
    const oursFlight = await ours(d.pid, () => inFlight(lookup, IN_FLIGHT, SECS));
    const pyIn = await theirs(d.pid, ['inflight', uri, String(IN_FLIGHT), String(SECS)]);

    // test:///default lives in the daemon while our connection holds it open, so python sees these too.
    const defineStart = performance.now();
    for (let i = 0; i < DOMAINS; i += IN_FLIGHT) {
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, DOMAINS - i) }, (_, k) => c.defineDomain(domainXml(i + k))));
    }
    const defineMs = performance.now() - defineStart;
    const listMs: number[] = [];
    let count = 0;
    for (let i = 0; i < LIST_REPS; i++) {
      const t = performance.now();
      count = (await c.listAllDomains()).length;
      listMs.push(performance.now() - t);
    }
    if (count !== DOMAINS + 1) throw new Error(`list-all returned ${count} domains`);
    const spec = R.CONNECT_LIST_ALL_DOMAINS;
    const body = await remote.client.callRaw(spec.prog, spec.vers, spec.proc, (w) => spec.args.encode(w, { needResults: 1, flags: 0 }));
    const decodeMs: number[] = [];
    for (let i = 0; i < DECODE_REPS; i++) {
      const t = performance.now();
      const r = spec.ret.decode(new XdrReader(body));
      decodeMs.push(performance.now() - t);
      if (r.domains.length !== count) throw new Error('decode lost domains');
    }
    const pyList = await python(['listall', uri, String(LIST_REPS)]);
    if (pyList.count !== count) throw new Error(`python listed ${String(pyList.count)} domains`);
    await c.close();

    type Row = [string, number, number, number, string, ((ratio: number, ours: number) => boolean) | null];
    const detail = (o: Measured, p: Measured): Row[] => [
      ['  p50 us', o.p50us, p.p50us, 0, '', null],
      ['  p99 us', o.p99us, p.p99us, 0, '', null],
      ['  client CPU per call, us', o.clientCpuUs, p.clientCpuUs, 1, '', null],
      ['  libvirtd CPU per call, us', o.daemonCpuUs, p.daemonCpuUs, 1, '', null],
    ];
    const rows: Row[] = [
      ['sequential getLibVersion, calls/s', oursLib.callsPerSec, pyLib.callsPerSec, 0, '>= 1x', (r) => r >= 1],
      ...detail(oursLib, pyLib),
      ['sequential lookupByName, calls/s', oursLookup.callsPerSec, pyLookup.callsPerSec, 0, '>= 1x', (r) => r >= 1],
      ...detail(oursLookup, pyLookup),
      [`${IN_FLIGHT} in flight on one connection, lookupByName calls/s`, oursFlight.callsPerSec, pyIn.callsPerSec, 0, '>= 2x', (r) => r >= 2],
      ...detail(oursFlight, pyIn),
      [`list-all of ${count} domains, round trip ms (lower = better)`, median(listMs), (pyList.median as number) * 1000, 1, '', null],
      [`  decode of the reply (${(body.length / 1024).toFixed(0)} KiB), ms`, median(decodeMs), NaN, 2, 'ours < 20 ms', (_r, o) => o < 20],
    ];
    const printed = rows.map(([label, o, p, digits, target, met]) => {
      const ratio = o / p;
      const verdict = met ? (met(ratio, o) ? 'met' : 'MISSED') : '';
      return [label, fmt(o, digits), fmt(p, digits), Number.isFinite(ratio) ? `${fmt(ratio, 2)}x` : '', target, verdict];
    });
    return [
      'tsvirt client vs python3-libvirt, one private libvirtd 9.0 (test:///default, unix socket); ratios are tsvirt/python',
      `(${DOMAINS} domains defined with ${IN_FLIGHT} in flight in ${fmt(defineMs, 0)} ms)`,
      table([['', 'tsvirt', 'python', 'ratio', 'target', ''], ...printed]),
    ].join('\n');
  } finally {
    await d.stop();
  }
}
