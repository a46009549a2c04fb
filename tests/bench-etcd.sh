#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of the etcd provider (not part of make check); usage:
# tests/bench-etcd.sh [BUILD_DIR] (default: the top of the source tree).
#
# Starts one etcd on free loopback ports, loads 2,000 and 100,000 keys under
# two prefixes, and resolves each prefix with envinject and, as the floor,
# with one curl range request for the whole prefix, through the JSON
# gateway (api = "json", the default) and through native gRPC (api =
# "grpc", with curl speaking HTTP/2 as the floor).  Reports the median
# wall time and the peak RSS of each, and the targets: 2,000 keys within
# 1.5 times the curl floor; 100,000 keys under 1 s and 64 MiB (judged
# for the faster API).  Exits 1 when a target is missed and BENCH_STRICT
# is set.
set -eu
export LC_ALL=C
export ETCDCTL_API=3

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
runs_small=${BENCH_RUNS:-15}
runs_big=${BENCH_RUNS_BIG:-5}
big_n=${BENCH_BIG:-100000}
small_n=2000

for tool in etcd etcdctl curl awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-etcd.sh: $tool is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$envinject" ]; then
    echo "bench-etcd.sh: $envinject is not built" >&2
    exit 1
fi
# GNU time gives the peak RSS; without it only times are reported
gnu_time=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
    gnu_time=/usr/bin/time
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-bench-etcd.XXXXXX")
# shellcheck source=integration/serverlib.sh
. "$here/integration/serverlib.sh"
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    stop_all_members || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! start_cluster bench 1 http; then
    echo "bench-etcd.sh: etcd did not start:" >&2
    cat "$work"/bench*/log >&2
    exit 1
fi
url=${urls[0]}
echo "loading $small_n and $big_n keys into etcd at $url ..."
load_keys /bench/small/ "$small_n"
load_keys /bench/big/ "$big_n"

# b64 TEXT: standard base64 of a text, for the curl request body
b64() {
    printf '%s' "$1" | base64 -w0
}

# measure NAME RUNS COMMAND...: median wall ms and peak RSS KiB of RUNS runs
median_ms=0
peak_kib=0
measure() {
    local runs=$1
    shift
    local times=() i t0 t1 rss
    peak_kib=0
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        if [ -n "$gnu_time" ]; then
            "$gnu_time" -f %M -o "$work/rss" "$@" >"$work/out" 2>"$work/err"
        else
            "$@" >"$work/out" 2>"$work/err"
        fi
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000000)))
        if [ -n "$gnu_time" ]; then
            rss=$(tail -n 1 "$work/rss")
            [ "$rss" -gt "$peak_kib" ] && peak_kib=$rss
        fi
    done
    median_ms=$(printf '%s\n' "${times[@]}" | sort -n |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
}

missed=0
# grpc_body FILE PREFIX: the framed RangeRequest{key, range_end} of a prefix
# shorter than 100 bytes (so that every length is one varint byte)
grpc_body() {
    local file=$1 prefix=$2 end=${2%/}0
    local n=$((2 + ${#prefix} + 2 + ${#end}))
    {
        printf '\0\0\0\0'"$(printf '\\%03o' "$n")"
        printf '\n'"$(printf '\\%03o' "${#prefix}")"'%s' "$prefix"
        printf '\022'"$(printf '\\%03o' "${#end}")"'%s' "$end"
    } >"$file"
}

# bench LABEL PREFIX N RUNS API: prints both lines, sets ei_ms, curl_ms,
# ei_kib
ei_ms=0
curl_ms=0
ei_kib=0
bench() {
    local label=$1 prefix=$2 n=$3 runs=$4 api=$5
    local end=${prefix%/}0
    local body got
    if [ "$api" = json ]; then
        body="{\"key\":\"$(b64 "$prefix")\",\"range_end\":\"$(b64 "$end")\"}"
        measure "$runs" curl -s -f -X POST -d "$body" "$url/v3/kv/range"
        got=$(grep -o '"count":"[0-9]*"' "$work/out" | tr -dc 0-9)
    else
        grpc_body "$work/grpc.req" "$prefix"
        measure "$runs" curl -s -f --http2-prior-knowledge \
            -H 'Content-Type: application/grpc' -H 'TE: trailers' \
            --data-binary "@$work/grpc.req" "$url/etcdserverpb.KV/Range"
        # every key is in the reply once
        got=$(grep -a -o "${prefix}service[0-9]*/setting[0-9]*" "$work/out" |
            wc -l)
    fi
    curl_ms=$median_ms
    local curl_kib=$peak_kib
    if [ "$got" != "$n" ]; then
        echo "bench-etcd.sh: curl saw $got keys under $prefix, not $n" >&2
        exit 1
    fi
    measure "$runs" "$envinject" \
        --layer "etcd:$url,prefix=$prefix,api=$api,timeout=60000" \
        print --format dotenv
    ei_ms=$median_ms
    ei_kib=$peak_kib
    got=$(grep -c '^SERVICE' "$work/out" || true)
    if [ "$got" != "$n" ]; then
        echo "bench-etcd.sh: envinject resolved $got keys under $prefix, not $n" >&2
        cat "$work/err" >&2
        exit 1
    fi
    printf '%-8s %-5s %-10s %8s ms %10s KiB\n' "$label" "$api" curl \
        "$curl_ms" "${gnu_time:+$curl_kib}" "$label" "$api" envinject \
        "$ei_ms" "${gnu_time:+$ei_kib}"
}

# verdict TEXT OK: one line per target
verdict() {
    if [ "$2" = 1 ]; then
        echo "  met:    $1"
    else
        echo "  MISSED: $1"
        missed=$((missed + 1))
    fi
}

echo
printf '%-8s %-5s %-10s %11s %14s\n' keys api command "median" "peak RSS"
small_ok=0
small_line=
big_time_ok=0
big_line=
big_rss_ok=0
big_rss_line=
for api in json grpc; do
    bench "$small_n" /bench/small/ "$small_n" "$runs_small" "$api"
    ratio=$(awk -v a="$ei_ms" -v b="$curl_ms" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    small_line="$small_line
    $api: $ei_ms ms vs $curl_ms ms: ${ratio}x"
    if awk -v a="$ei_ms" -v b="$curl_ms" 'BEGIN { exit !(a <= 1.5 * b) }'; then
        small_ok=1
    fi

    bench "$big_n" /bench/big/ "$big_n" "$runs_big" "$api"
    big_line="$big_line
    $api: $ei_ms ms; the curl floor is $curl_ms ms"
    [ "$ei_ms" -lt 1000 ] && big_time_ok=1
    if [ -n "$gnu_time" ]; then
        big_rss_line="$big_rss_line
    $api: $((ei_kib / 1024)) MiB"
        [ "$ei_kib" -lt $((64 * 1024)) ] && big_rss_ok=1
    else
        big_rss_line=" (not measured: no GNU time)"
        big_rss_ok=1
    fi
done
small_line="2,000 keys within 1.5x the curl floor$small_line"
big_line="$big_n keys under 1 s$big_line"
big_rss_line="$big_n keys under 64 MiB peak RSS$big_rss_line"

echo
echo "targets:"
verdict "$small_line" "$small_ok"
verdict "$big_line" "$big_time_ok"
verdict "$big_rss_line" "$big_rss_ok"
if [ "$missed" -gt 0 ] && [ -n "${BENCH_STRICT:-}" ]; then
    exit 1
fi
exit 0
