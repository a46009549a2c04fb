#!/bin/bash
# SPDX-License-Identifier: MIT
# Load test of a fleet starting against one etcd cluster (not part of make
# check); usage: tests/bench-fleet.sh [BUILD_DIR] (default: the top of the
# source tree).
#
# Starts a real three-member etcd on free loopback ports, loads BENCH_KEYS
# (2,000) config-sized keys, and runs BENCH_N (1,000) starts of
# "envinject run -- true", BENCH_PARALLEL (50) at a time, over BENCH_API
# ("json", the gateway; or "grpc"), in three phases:
#   1. every member up;
#   2. the leader, listed first in the layer's endpoints so that every
#      later start meets it first, killed (SIGKILL) a quarter into the run;
#   3. every member stopped.
# The layer has on_error = "cache" and the configuration a cache group
# (max_age BENCH_MAX_AGE seconds, 60) when this envinject knows them; then
# phase 3 judges each start by the age of the cache when it ran: younger
# than max_age it must succeed from the cache, older it must fail with 69;
# the starts that straddle the limit are not judged, and phase 3b runs
# BENCH_N / 4 more starts once the cache is past max_age.  Without a cache,
# every start of phase 3 must fail with 69.  In every phase no start may
# take longer than its deadline (BENCH_TIMEOUT ms, 5000) plus a second.
#
# Reports, per phase: failures, p50/p99/max start time, the attempts each
# start made (its -vv request lines), the Range calls etcd served per start
# and etcd's CPU per start (its /metrics, all members; the gateway's calls
# are counted there too), and in phase 3 how the first back-off delays of
# the starts spread (full jitter drawn from getrandom: 50 starts at once
# must not retry in step).  Exits 1 when a phase misses its target.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
n=${BENCH_N:-1000}
parallel=${BENCH_PARALLEL:-50}
keys=${BENCH_KEYS:-2000}
api=${BENCH_API:-json}
timeout_ms=${BENCH_TIMEOUT:-5000}
max_age=${BENCH_MAX_AGE:-60}

for tool in etcd etcdctl curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-fleet.sh: $tool is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$envinject" ]; then
    echo "bench-fleet.sh: $envinject is not built" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-bench-fleet.XXXXXX")
# shellcheck source=integration/serverlib.sh
. "$here/integration/serverlib.sh"
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    stop_all_members || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "starting three etcd members ..."
if ! start_cluster fleet 3 http; then
    echo "bench-fleet.sh: etcd did not start:" >&2
    cat "$work"/fleet*/log >&2
    exit 1
fi

echo "loading $keys keys ..."
load_keys /fleet/app/ "$keys"

# the leader's client URL, from the members' own status
leader=$(ctl endpoint status -w json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["Status"]["header"]["member_id"] == m["Status"]["leader"]:
        print(m["Endpoint"])
')
victim=
for name in "${!url_of[@]}"; do
    [ "${url_of[$name]}" = "$leader" ] && victim=$name
done
if [ -z "$victim" ]; then
    echo "bench-fleet.sh: no leader among ${urls[*]}" >&2
    exit 1
fi
endpoints="\"$leader\""
for u in "${urls[@]}"; do
    [ "$u" = "$leader" ] || endpoints="$endpoints, \"$u\""
done

# with the cache when this envinject has it (design.md, "Offline cache")
ENVINJECT_CACHE_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export ENVINJECT_CACHE_KEY
write_conf() {
    local cache=$1
    {
        if $cache; then
            printf 'cache = { dir = "%s/cache"; max_age = "%ss"; };\n' \
                "$work" "$max_age"
        fi
        printf 'layers = ( { name = "service"; provider = "etcd";\n'
        printf '  endpoints = [ %s ]; prefix = "/fleet/app/";\n' "$endpoints"
        printf '  api = "%s"; timeout = %s;%s } );\n' "$api" "$timeout_ms" \
            "$($cache && echo ' on_error = "cache";')"
    } >"$work/envinject.conf"
}
cached=true
write_conf true
if ! "$envinject" -c "$work/envinject.conf" check >"$work/check.out" 2>&1; then
    cached=false
    write_conf false
    if ! "$envinject" -c "$work/envinject.conf" check >"$work/check.out" 2>&1
    then
        echo "bench-fleet.sh: the layer does not resolve:" >&2
        cat "$work/check.out" >&2
        exit 1
    fi
fi
got=$("$envinject" -c "$work/envinject.conf" print --format env |
    grep -c '^SERVICE' || true)
if [ "$got" != "$keys" ]; then
    echo "bench-fleet.sh: envinject resolved $got keys, not $keys" >&2
    exit 1
fi

members=()
for name in "${!pid_of[@]}"; do
    members+=(--member "${url_of[$name]}" "${pid_of[$name]}")
done
start=("$envinject" -vv -c "$work/envinject.conf" run -- true)
missed=0
rows=()

# field KEY LINE: the value of KEY=VALUE in the driver's line
field() {
    local kv
    for kv in $2; do
        [ "${kv%%=*}" = "$1" ] && echo "${kv#*=}" && return
    done
    echo "?"
}

# phase NAME COUNT DRIVER_ARG...: runs the driver, keeps its line, shows
# its failures
phase() {
    local name=$1 count=$2
    shift 2
    echo "phase $name: $count starts, $parallel at a time ..."
    python3 "$here/fleetdriver.py" "$count" "$parallel" "$timeout_ms" \
        "$@" -- "${start[@]}" >"$work/phase.out"
    line=$(head -n 1 "$work/phase.out")
    rows+=("$name $line")
    tail -n +2 "$work/phase.out" | head -n 5 | sed 's/^/    /'
}

# verdict TEXT OK
verdict() {
    if [ "$2" = 1 ]; then
        echo "  met:    $1"
    else
        echo "  MISSED: $1"
        missed=$((missed + 1))
    fi
}

phase 1-all-up "$n" "${members[@]}"
p1=$line
phase 2-leader-killed "$n" "${members[@]}" --kill-after $((n / 4)) \
    "${pid_of[$victim]}"
p2=$line
wait "${pid_of[$victim]}" 2>/dev/null || true
unset "pid_of[$victim]"

stop_all_members || true
if $cached; then
    # the age of the cache is that of the newest file in it
    written=$(find "$work/cache" -type f -printf '%T@\n' | sort -n | tail -n 1)
    phase 3a-all-down "$n" --cache-until "$written" "$max_age"
    p3=$line
    now=$(date +%s)
    wait_s=$(awk -v w="$written" -v a="$max_age" -v t="$now" \
        'BEGIN { d = w + a + 2 - t; print (d > 0 ? int(d + 0.999) : 0) }')
    echo "waiting ${wait_s} s for the cache to pass max_age ..."
    sleep "$wait_s"
    phase 3b-past-max-age $((n / 4 > parallel ? n / 4 : parallel)) \
        --cache-until "$written" "$max_age"
    p3b=$line
else
    phase 3-all-down "$n"
    p3=$line
fi

echo
echo "$n starts a phase, $parallel at a time, $keys keys, api $api," \
    "deadline $timeout_ms ms, cache: $($cached && echo "max_age ${max_age}s" || echo no)"
printf '%-20s %6s %7s %5s %7s %7s %7s %8s %7s %9s\n' phase failed statuses \
    hung "p50 ms" "p99 ms" "max ms" attempts "ranges" "etcd CPU"
for row in "${rows[@]}"; do
    # shellcheck disable=SC2086 # the row is split into its fields
    set -- $row
    name=$1
    shift
    printf '%-20s %6s %7s %5s %7s %7s %7s %8s %7s %6s ms\n' "$name" \
        "$(field failed "$*")" "$(field statuses "$*")" "$(field hung "$*")" \
        "$(field p50 "$*")" "$(field p99 "$*")" "$(field max "$*")" \
        "$(field attempts "$*")" "$(field ranges "$*")" \
        "$(field etcd_cpu_ms "$*")"
done
echo "(attempts: requests a start made, refused connections included;" \
    "ranges: Range calls etcd served a start; etcd CPU: all members, a start)"
if $cached; then
    for p in "$p3" "$p3b"; do
        echo "phase 3 cache: $(field fresh "$p") starts within max_age," \
            "$(field cache_misses "$p") of them failed; $(field stale "$p")" \
            "past it, $(field stale_not69 "$p") of them not 69;" \
            "$(field straddling "$p") straddling (not judged)"
    done
fi
echo "phase 3 back-off: $(field backoffs "$p3") first delays," \
    "$(field backoff_distinct "$p3") distinct, median" \
    "$(field backoff_p50 "$p3") ms, max $(field backoff_max "$p3") ms"

echo
echo "targets:"
verdict "phase 1: no start fails" "$([ "$(field failed "$p1")" = 0 ] && echo 1)"
verdict "phase 2: no start fails while a member is down" \
    "$([ "$(field failed "$p2")" = 0 ] && echo 1)"
for p in "$p1" "$p2" "$p3" ${p3b:+"$p3b"}; do
    [ "$(field hung "$p")" = 0 ] || hung_any=1
done
verdict "no start takes longer than its deadline plus a second" \
    "$([ -z "${hung_any:-}" ] && echo 1)"
if $cached; then
    verdict "phase 3: within max_age every start succeeds from the cache" \
        "$([ "$(field cache_misses "$p3")" = 0 ] && echo 1)"
    verdict "phase 3: past max_age every start fails with 69" \
        "$([ "$(field stale_not69 "$p3")" = 0 ] &&
            [ "$(field stale_not69 "$p3b")" = 0 ] && echo 1)"
else
    verdict "phase 3: every start fails with 69 (no cache in this build)" \
        "$([ "$(field failed "$p3")" = "$n" ] &&
            [ "$(field statuses "$p3")" = 69 ] && echo 1)"
fi
[ "$missed" -eq 0 ] || exit 1
exit 0
