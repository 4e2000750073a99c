#!/usr/bin/python3
# The python3-libvirt side of bench/client.ts: the same client workloads against the same daemon.
# Each mode prints one JSON line. Modes:
#   seq URI SECS lib|lookup   sequential getLibVersion or lookupByName for SECS
# Timed results carry calls/s, latency percentiles (us) and this process's CPU per call (us).
#   inflight URI THREADS SECS THREADS threads sharing one connection, lookupByName loop
#   listall URI REPS          listAllDomains REPS times; median seconds and the count
import sys
import threading
import time

import libvirt

from bench_common import out, pct, timed_loop

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def seq(uri, secs, what):
    conn = libvirt.open(uri)
    fn = conn.getLibVersion if what == "lib" else lambda: conn.lookupByName("test")
    res = timed_loop(fn, secs, warmup=300)
    conn.close()
    out(res)


def inflight(uri, threads, secs):
    conn = libvirt.open(uri)
    for _ in range(300):
        conn.lookupByName("test")
    results = [None] * threads
    go = threading.Event()

    def run(i):
        lat = []
        go.wait()
        end = time.perf_counter() + secs
        while True:
            t = time.perf_counter()
            conn.lookupByName("test")
            now = time.perf_counter()
            lat.append((now - t) * 1e6)
            if now >= end:
                break
        results[i] = lat

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    cpu = time.process_time()
    start = time.perf_counter()
    go.set()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    conn.close()
    lat = sorted(x for r in results for x in r)
    out({"perSec": len(lat) / elapsed, "p50us": pct(lat, 50), "p99us": pct(lat, 99),
         "cpuUs": cpu / len(lat) * 1e6, "n": len(lat)})


def listall(uri, reps):
    conn = libvirt.open(uri)
    times = []
    count = 0
    for _ in range(reps):
        t = time.perf_counter()
        count = len(conn.listAllDomains())
        times.append(time.perf_counter() - t)
    conn.close()
    times.sort()
    out({"median": times[len(times) // 2], "count": count})


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "seq":
        seq(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif mode == "inflight":
        inflight(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "listall":
        listall(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)
