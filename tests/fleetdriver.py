#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The driver of tests/bench-fleet.sh: runs one phase of starts, PARALLEL
at a time, and reports what they did and what they cost etcd.

usage: fleetdriver.py N PARALLEL DEADLINE_MS [--member URL PID]...
                      [--kill-after K PID] [--cache-until WRITTEN MAX_AGE]
                      -- COMMAND [ARG]...

Runs COMMAND N times, PARALLEL at a time (a new one as soon as one ends,
as xargs -P does), each with stdout thrown away and stderr kept.  With
--kill-after, SIGKILL goes to PID once K starts have ended (a member
killed mid-run; its counters are read just before).  Each --member is an
etcd member whose /metrics is read before and after the phase: the Range
calls it served (the JSON gateway's requests are counted there too, as
the gateway calls the member's gRPC server) and its CPU time.

Prints one line of KEY=VALUE pairs (the shell makes the table of them),
then a line per kind of failure ("fail STATUS COUNT first line of
stderr").  A start "hangs" when it takes more than DEADLINE_MS plus a
second.  The back-off delays come from the starts' -vv lines ("retrying
in N ms"), the attempts from their request lines ("-> ").

With --cache-until (the cache written at WRITTEN, seconds since the
epoch, good for MAX_AGE seconds), each start is judged by the age of the
cache while it ran: one that ended before the limit must succeed (else
it counts in cache_misses), one that began after it must fail with 69
(else it counts in stale_not69); one that straddles it is not judged.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HANG_MARGIN_MS = 1000
# how far from the limit of the cache's age a start must be to be judged
CACHE_EDGE_S = 0.5
RANGE_RE = re.compile(
    r'^grpc_server_started_total\{[^}]*grpc_method="Range"[^}]*\} (\S+)$',
    re.M)
CPU_RE = re.compile(r"^process_cpu_seconds_total (\S+)$", re.M)
RETRY_RE = re.compile(r"retrying in (\d+) ms")
# a request line of -vv: "envinject: LAYER: POST host /path -> what (N ms)"
ATTEMPT_RE = re.compile(r" (?:POST|GET) \S+ /\S* -> ")


def scrape(url):
    """(Range calls started, CPU seconds) of a member, None when down."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    ranges = sum(float(v) for v in RANGE_RE.findall(text))
    cpu = CPU_RE.search(text)
    return ranges, float(cpu.group(1)) if cpu else 0.0


def percentile(sorted_ms, p):
    if not sorted_ms:
        return 0
    i = min(len(sorted_ms) - 1, max(0, -(-len(sorted_ms) * p // 100) - 1))
    return sorted_ms[int(i)]


def main(argv):
    sep = argv.index("--")
    opts, cmd = argv[:sep], argv[sep + 1:]
    n, parallel, deadline = int(opts[0]), int(opts[1]), int(opts[2])
    members = {}  # url -> pid
    kill_after, kill_pid = -1, 0
    cache_limit = None
    i = 3
    while i < len(opts):
        if opts[i] == "--member":
            members[opts[i + 1]] = int(opts[i + 2])
            i += 3
        elif opts[i] == "--kill-after":
            kill_after, kill_pid = int(opts[i + 1]), int(opts[i + 2])
            i += 3
        elif opts[i] == "--cache-until":
            cache_limit = float(opts[i + 1]) + float(opts[i + 2])
            i += 3
        else:
            sys.exit("fleetdriver.py: unknown option " + opts[i])

    before = {u: scrape(u) for u in members}
    last = dict(before)  # a killed member's counters at its death
    lock = threading.Lock()
    results = []  # (ms, status, stderr, began, ended): wall clock
    state = {"next": 0, "done": 0, "killed": False}

    def maybe_kill():
        # under the lock: once, when K starts have ended
        if kill_after < 0 or state["killed"] or state["done"] < kill_after:
            return
        state["killed"] = True
        for u, pid in members.items():
            if pid == kill_pid:
                last[u] = scrape(u)
        os.kill(kill_pid, signal.SIGKILL)

    def worker():
        while True:
            with lock:
                if state["next"] >= n:
                    return
                state["next"] += 1
            began = time.time()
            t0 = time.monotonic()
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, check=False)
            ms = (time.monotonic() - t0) * 1000
            ended = time.time()
            with lock:
                results.append((ms, p.returncode,
                                p.stderr.decode(errors="replace"), began,
                                ended))
                state["done"] += 1
                maybe_kill()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0

    for u in members:
        now = scrape(u)
        if now is not None:
            last[u] = now
    ranges = cpu = 0.0
    for u in members:
        if before[u] is not None and last[u] is not None:
            ranges += last[u][0] - before[u][0]
            cpu += last[u][1] - before[u][1]

    times = sorted(r[0] for r in results)
    failed = [r for r in results if r[1] != 0]
    hung = sum(1 for r in results if r[0] > deadline + HANG_MARGIN_MS)
    attempts = sum(len(ATTEMPT_RE.findall(r[2])) for r in results)
    first_backoff = []
    for r in results:
        m = RETRY_RE.search(r[2])
        if m:
            first_backoff.append(int(m.group(1)))
    first_backoff.sort()
    statuses = sorted({r[1] for r in failed})
    judged = []
    if cache_limit is not None:
        fresh = [r for r in results if r[4] < cache_limit - CACHE_EDGE_S]
        stale = [r for r in results if r[3] > cache_limit + CACHE_EDGE_S]
        judged = [
            "fresh=%d" % len(fresh),
            "cache_misses=%d" % sum(1 for r in fresh if r[1] != 0),
            "stale=%d" % len(stale),
            "stale_not69=%d" % sum(1 for r in stale if r[1] != 69),
            "straddling=%d" % (len(results) - len(fresh) - len(stale)),
        ]
    print(" ".join([
        "starts=%d" % len(results),
        "failed=%d" % len(failed),
        "statuses=%s" % (",".join(str(s) for s in statuses) or "-"),
        "hung=%d" % hung,
        "p50=%d" % percentile(times, 50),
        "p99=%d" % percentile(times, 99),
        "max=%d" % (times[-1] if times else 0),
        "wall=%.1f" % wall,
        "attempts=%.2f" % (attempts / max(1, len(results))),
        "ranges=%.2f" % (ranges / max(1, len(results))),
        "etcd_cpu_ms=%.1f" % (cpu * 1000 / max(1, len(results))),
        "backoffs=%d" % len(first_backoff),
        "backoff_distinct=%d" % len(set(first_backoff)),
        "backoff_p50=%d" % percentile(first_backoff, 50),
        "backoff_max=%d" % (first_backoff[-1] if first_backoff else 0),
    ] + judged))
    kinds = {}
    for r in failed:
        lines = [ln for ln in r[2].splitlines()
                 if not ATTEMPT_RE.search(ln) and "retrying in" not in ln
                 and "trying " not in ln]
        first = lines[-1] if lines else "(no message)"
        first = re.sub(r"\d+ ms", "N ms", first)
        kinds[(r[1], first)] = kinds.get((r[1], first), 0) + 1
    for (status, text), count in sorted(kinds.items(), key=lambda x: -x[1]):
        print("fail %d %d %s" % (status, count, text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
