#!/usr/bin/python3
# The stock client side of bench/daemon.ts: python3-libvirt driving one daemon. Modes:
#   serve URI                    command loop on stdin, one JSON line per command on stdout
#   concurrent URI THREADS SECS START   THREADS connections in threads, lookupByName loop
#   events URI SUBS PROCS N PACE SUBS subscribers in PROCS processes; suspend/resume N times,
#                                one change every PACE seconds (0: back to back)
#   events-sub URI CONNS N       (child of events) CONNS subscribers, prints delivery times
import json
import subprocess
import sys
import threading
import time

import libvirt

from bench_common import out, pct, timed_loop

# Errors are raised as exceptions; keep libvirt from also printing them.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def domain_xml(i):
    return ("<domain type='test'><name>bench-%d</name><uuid>b0000000-0000-4000-8000-%012x</uuid>"
            "<memory>1024</memory><os><type>hvm</type></os></domain>") % (i, i)


def serve(uri):
    conn = libvirt.open(uri)
    out({"ready": True})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "rtt":
            out(timed_loop(conn.getLibVersion, float(cmd[1])))
        elif cmd[0] == "lookupinfo":
            out(timed_loop(lambda: conn.lookupByName("test").info(), float(cmd[1])))
        elif cmd[0] == "define":
            n = int(cmd[1])
            t = time.perf_counter()
            for i in range(n):
                conn.defineXML(domain_xml(i))
            out({"secs": time.perf_counter() - t, "n": n})
        elif cmd[0] == "listall":
            times = []
            count = 0
            for _ in range(int(cmd[1])):
                t = time.perf_counter()
                count = len(conn.listAllDomains())
                times.append(time.perf_counter() - t)
            times.sort()
            out({"median": times[len(times) // 2], "count": count})
        elif cmd[0] == "undefine":
            for d in conn.listAllDomains():
                if d.name().startswith("bench-"):
                    d.undefine()
            out({"ok": True})
        elif cmd[0] == "quit":
            break
    conn.close()


def concurrent(uri, threads, secs, start_at):
    conns = [libvirt.open(uri) for _ in range(threads)]
    results = [None] * threads

    def run(i):
        c = conns[i]
        lat = []
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + secs
        while True:
            t = time.perf_counter()
            c.lookupByName("test")
            lat.append((time.perf_counter() - t) * 1e6)
            if time.time() >= end:
                break
        results[i] = lat

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for c in conns:
        c.close()
    out({"lat": [x for r in results for x in r], "secs": secs})


def event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def events_sub(uri, nconns, n):
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=event_loop, daemon=True).start()
    recv = [[] for _ in range(nconns)]
    done = threading.Event()
    conns = []

    def cb(_conn, _dom, _event, _detail, idx):
        recv[idx].append(time.time())
        if all(len(r) >= n for r in recv):
            done.set()

    for i in range(nconns):
        c = libvirt.open(uri)
        c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, i)
        conns.append(c)
    out({"ready": True})
    done.wait(60)
    out({"recv": recv})


def events(uri, subs, procs, n, pace):
    per = [subs // procs + (1 if i < subs % procs else 0) for i in range(procs)]
    children = [subprocess.Popen([sys.executable, __file__, "events-sub", uri, str(k), str(n)],
                                 stdout=subprocess.PIPE, text=True) for k in per]
    for ch in children:
        json.loads(ch.stdout.readline())
    conn = libvirt.open(uri)
    dom = conn.lookupByName("test")
    t0 = []
    start = time.time()
    for i in range(n):
        if pace:
            # Sleep to the next slot, so that delays never accumulate into queueing.
            time.sleep(max(0.0, start + i * pace - time.time()))
        t0.append(time.time())
        if i % 2 == 0:
            dom.suspend()
        else:
            dom.resume()
    lat = []
    last = start
    delivered = 0
    for ch in children:
        recv = json.loads(ch.stdout.readline())["recv"]
        ch.wait()
        for r in recv:
            delivered += len(r)
            for k, t in enumerate(r[:n]):
                lat.append((t - t0[k]) * 1e6)
                last = max(last, t)
    conn.close()
    lat.sort()
    out({"delivered": delivered, "expected": subs * n, "rate": delivered / (last - start),
         "p50us": pct(lat, 50), "p99us": pct(lat, 99)})


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2])
    elif mode == "concurrent":
        concurrent(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    elif mode == "events":
        events(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "events-sub":
        events_sub(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("unknown mode " + mode)
