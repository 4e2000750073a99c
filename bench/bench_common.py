# Helpers shared by the python3-libvirt bench drivers (client-driver.py, daemon-driver.py).
import json
import sys
import time


def out(obj):
    """One JSON line on stdout: the drivers' only output channel to the TypeScript side."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    return sorted_vals[min(len(sorted_vals) - 1, int(p / 100 * len(sorted_vals)))]


def timed_loop(fn, secs, warmup=200):
    """Calls fn repeatedly for secs seconds after a warm-up: count, rate, latency percentiles (us), own CPU per call (us)."""
    for _ in range(warmup):
        fn()
    lat = []
    cpu = time.process_time()
    start = time.perf_counter()
    end = start + secs
    now = start
    while now < end:
        t = now
        fn()
        now = time.perf_counter()
        lat.append((now - t) * 1e6)
    cpu = time.process_time() - cpu
    lat.sort()
    secs_run = now - start
    return {"n": len(lat), "secs": secs_run, "perSec": len(lat) / secs_run, "p50us": pct(lat, 50),
            "p99us": pct(lat, 99), "cpuUs": cpu / len(lat) * 1e6}
