// XDR throughput: encode and decode the reply of CONNECT_LIST_ALL_DOMAINS holding 10,000 domains.
import { XdrReader, XdrWriter } from '../src/xdr/index.js';
import { RemoteConnectListAllDomainsRet } from '../src/protocol/gen/remote.js';
import { fmt, table } from './stats.js';

export function makeDomainList(n: number) {
  const domains = Array.from({ length: n }, (_, i) => ({
    name: `domain-${String(i).padStart(5, '0')}`,
    uuid: Uint8Array.from({ length: 16 }, (_, k) => (i * 31 + k * 7) & 0xff),
    id: i % 3 === 0 ? -1 : i + 1,
  }));
  return { domains, ret: n };
}

function timeLoop(fn: () => void, minMs: number): { iters: number; secs: number } {
  for (let i = 0; i < 5; i++) fn();
  let iters = 0;
  const t0 = process.hrtime.bigint();
  let secs = 0;
  while (secs * 1000 < minMs) {
    fn();
    iters++;
    secs = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return { iters, secs };
}

export function benchXdr(): string {
  const value = makeDomainList(10_000);
  const w = new XdrWriter(1 << 20);
  RemoteConnectListAllDomainsRet.encode(w, value);
  const bytes = w.bytes().slice();
  const size = bytes.length;

  const enc = timeLoop(() => {
    w.reset();
    RemoteConnectListAllDomainsRet.encode(w, value);
  }, 1500);
  const dec = timeLoop(() => {
    RemoteConnectListAllDomainsRet.decode(new XdrReader(bytes));
  }, 1500);

  // Heap growth of one decode with the result kept alive, after a full GC on both sides.
  const gc = (globalThis as { gc?: () => void }).gc;
  let retained = NaN;
  if (gc) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = RemoteConnectListAllDomainsRet.decode(new XdrReader(bytes));
    gc();
    retained = process.memoryUsage().heapUsed - before;
    if (kept.domains.length !== 10_000) throw new Error('decode lost records');
  }

  const mbps = (r: { iters: number; secs: number }) => (size * r.iters) / r.secs / 1e6;
  return [
    `XDR: CONNECT_LIST_ALL_DOMAINS reply with 10,000 domains (${size} bytes)`,
    table([
      ['', 'MB/s', 'ms/message', 'target'],
      ['encode', fmt(mbps(enc)), fmt((enc.secs * 1000) / enc.iters, 2), '>= 200 MB/s'],
      ['decode', fmt(mbps(dec)), fmt((dec.secs * 1000) / dec.iters, 2), '>= 200 MB/s'],
    ]),
    gc
      ? `decoded value retains ${fmt(retained / 1024, 0)} KiB of heap = ${fmt(retained / size, 2)}x the message (target <= 1x)`
      : 'decoded heap size: run with --expose-gc to measure',
  ].join('\n');
}
