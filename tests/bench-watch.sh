#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of run --watch (not part of make check); usage:
# tests/bench-watch.sh [BUILD_DIR] (default: the top of the source tree).
#
# One etcd on free loopback ports.  For each API of BENCH_API ("json
# grpc": the JSON gateway's watch stream, then etcdserverpb.Watch/Watch
# over gRPC), envinject run --watch --wait 0 follows a prefix;
# BENCH_CHANGES (100) times a key is changed with etcdctl and the time
# from just before the write to the new program's first line is taken:
# median and 99th percentile (changes BENCH_GAP seconds apart, 1.1: the
# watch reports at most two changes at once and then one a second).
# Then envinject's own CPU time (user + system, from /proc) while nothing
# changes for BENCH_IDLE seconds (60), for that etcd layer; last, as the
# floor, for a file layer watched by inotify.  poll_interval is a day:
# only the watch can bring a change.
set -eu
export LC_ALL=C
export ETCDCTL_API=3

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
changes=${BENCH_CHANGES:-100}
apis=${BENCH_API:-json grpc}
# changes closer than a second apart meet the watch's rate limit (two at
# once, then one a second), which is not what this measures
gap=${BENCH_GAP:-1.1}
idle=${BENCH_IDLE:-60}

for tool in etcd etcdctl curl awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-watch.sh: $tool is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$envinject" ]; then
    echo "bench-watch.sh: $envinject is not built" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-bench-watch.XXXXXX")
# shellcheck source=integration/serverlib.sh
. "$here/integration/serverlib.sh"
# shellcheck source=integration/caselib.sh
. "$here/integration/caselib.sh"
watcher=
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    if [ -n "$watcher" ]; then
        kill "$watcher" 2>/dev/null || true
        wait "$watcher" 2>/dev/null || true
    fi
    stop_all_members
    rm -rf "$work"
}
trap cleanup EXIT

start_cluster b 1 http || {
    echo "bench-watch.sh: etcd did not start" >&2
    exit 1
}
url=${urls[0]}
etcdctl --endpoints="$url" put /bw/level 0 >/dev/null

cat >"$work/prog" <<'P'
trap 'exit 0' TERM
echo "$(date +%s%N) $LEVEL" >> "$BW_LOG"
while :; do sleep 1; done
P

# cpu_ms PID: user + system time of PID so far, in milliseconds
cpu_ms() {
    local f
    read -r -a f <"/proc/$1/stat"
    # fields 14 and 15 (utime, stime), counted after "pid (comm) state"
    echo $(((f[13] + f[14]) * 1000 / $(getconf CLK_TCK)))
}

# idle_cpu PID: envinject's CPU over $idle seconds of nothing
idle_cpu() {
    local a b
    a=$(cpu_ms "$1")
    sleep "$idle"
    b=$(cpu_ms "$1")
    echo $((b - a))
}

level=0
for api in $apis; do
    : >"$work/log"
    BW_LOG=$work/log "$envinject" -q \
        --layer "etcd,endpoints=$url,prefix=/bw/,api=$api,poll_interval=86400000" \
        run --watch --wait 0 -- sh "$work/prog" &
    watcher=$!
    wait_for "$work/log" " $level$" >/dev/null

    how="a watch stream ($api)"
    echo "$changes changes through etcd, $how ..."
    : >"$work/lat"
    for _ in $(seq "$changes"); do
        level=$((level + 1))
        sleep "$gap"
        t0=$(date +%s%N)
        etcdctl --endpoints="$url" put /bw/level "$level" >/dev/null
        wait_for "$work/log" " $level$" >/dev/null
        t1=$(awk -v v="$level" '$2 == v { print $1 }' "$work/log")
        echo $(((t1 - t0) / 1000000)) >>"$work/lat"
    done
    sort -n "$work/lat" >"$work/lat.sorted"
    median=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$work/lat.sorted")
    p99=$(awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.999); print v[i] }' "$work/lat.sorted")
    echo "write to new program: median $median ms, p99 $p99 ms ($how)"

    echo "idle for $idle s, etcd: $how ..."
    echo "envinject CPU while idle (etcd, $how): $(idle_cpu "$watcher") ms in $idle s"
    kill "$watcher"
    wait "$watcher" || true
    watcher=
done

printf 'LEVEL=1\n' >"$work/app.env"
: >"$work/log"
BW_LOG=$work/log "$envinject" -q --layer "file:$work/app.env" \
    run --watch -- sh "$work/prog" &
watcher=$!
wait_for "$work/log" " 1$" >/dev/null
echo "idle for $idle s, a file watched by inotify ..."
echo "envinject CPU while idle (file, inotify): $(idle_cpu "$watcher") ms in $idle s"
