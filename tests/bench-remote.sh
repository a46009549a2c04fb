#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of remote layers read side by side (not part of make check);
# usage: tests/bench-remote.sh [BUILD_DIR] (default: the top of the tree).
#
# Four remote layers, each behind a proxy that holds every answer back by
# BENCH_DELAY ms (100): the http fake, the AWS AppConfig fake (two calls:
# a session, then the configuration), the Vault fake and a real etcd.
# envinject fetches remote layers at the same time, so four layers should
# cost about what the slowest one costs, not the sum.  Reports the median
# of BENCH_RUNS (7) runs of each layer alone and of all four together,
# and the ratio of the four to the slowest alone and to their sum.
# (AppConfig and Vault take two requests each: a session or a token
# look-up first.)
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
runs=${BENCH_RUNS:-7}
delay=${BENCH_DELAY:-100}
top_srcdir=$(cd "$here/.." && pwd)

for tool in etcd etcdctl curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-remote.sh: $tool is not installed" >&2
        exit 1
    fi
done
[ -x "$envinject" ] || {
    echo "bench-remote.sh: $envinject is not built" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-bench-remote.XXXXXX")
# shellcheck source=integration/serverlib.sh
. "$here/integration/serverlib.sh"
pids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    stop_all_members
    rm -rf "$work"
}
trap cleanup EXIT

# start_fake NAME SEED: a fake on its port ($port), kept running
start_fake() {
    local name=$1 seed=$2 i
    sed 's/@CANARY@/bench/g' "$here/integration/seeds/$name-$seed.json" \
        >"$work/$name.json"
    python3 "$here/fakes/${name}_fake.py" "$work/$name.json" \
        "$work/$name.log" >"$work/$name.port" 2>"$work/$name.err" &
    pids+=($!)
    for i in $(seq 200); do
        [ -s "$work/$name.port" ] && break
        sleep 0.05
    done
    port=$(head -n 1 "$work/$name.port")
}

start_fake http main
http_port=$port
start_fake aws-appconfig main
ac_port=$port
start_fake vault main
vault_port=$port
start_cluster e 1 http || {
    echo "bench-remote.sh: etcd did not start" >&2
    exit 1
}
etcd_port=${urls[0]##*:}
etcdctl --endpoints="${urls[0]}" put /app/prod/db/host db.prod >/dev/null

python3 "$here/delayproxy.py" "$delay" "$http_port" "$ac_port" \
    "$vault_port" "$etcd_port" >"$work/proxy.port" &
pids+=($!)
for i in $(seq 200); do
    [ -s "$work/proxy.port" ] && break
    sleep 0.05
done
read -r p_http p_ac p_vault p_etcd <"$work/proxy.port"

export AWS_ACCESS_KEY_ID=AKIDINTEGRATION
export AWS_SECRET_ACCESS_KEY=integration/Secret+Key0
export AWS_EC2_METADATA_DISABLED=true
export VAULT_TOKEN=hvs.root-bench

l_http=(--layer "http:http://127.0.0.1:$p_http/myapp/prod/settings.json")
l_ac=(--layer "aws-appconfig:myapp,profile=settings,environment=prod,endpoint=http://127.0.0.1:$p_ac,region=eu-west-1")
l_vault=(--layer "vault:secret/app/prod,address=http://127.0.0.1:$p_vault")
l_etcd=(--layer "etcd:http://127.0.0.1:$p_etcd,prefix=/app/prod/")

# median_ms ARGS...: the median wall time of $runs runs of envinject print
median_ms() {
    local i t0 t1
    : >"$work/times"
    for i in $(seq "$runs"); do
        t0=$(date +%s%N)
        "$envinject" "$@" print --format dotenv >/dev/null 2>"$work/err" || {
            echo "bench-remote.sh: envinject failed:" >&2
            cat "$work/err" >&2
            exit 1
        }
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000)) >>"$work/times"
    done
    sort -n "$work/times" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

t0=$(date +%s%N)
curl -s -o /dev/null "http://127.0.0.1:$p_http/myapp/prod/settings.json"
t1=$(date +%s%N)
echo "floor: one curl request through a ${delay} ms proxy: $(((t1 - t0) / 1000000)) ms"
slowest=0
sum=0
for name in http ac vault etcd; do
    eval "args=(\"\${l_$name[@]}\")"
    m=$(median_ms "${args[@]}")
    echo "alone: $name $m ms"
    [ "$m" -gt "$slowest" ] && slowest=$m
    sum=$((sum + m))
done
all=$(median_ms "${l_http[@]}" "${l_ac[@]}" "${l_vault[@]}" "${l_etcd[@]}")
echo "together: 4 layers $all ms"
awk -v a="$all" -v s="$slowest" -v t="$sum" 'BEGIN {
    printf "ratio: 4 layers / slowest alone = %.2f; / the four alone added up (%d ms) = %.2f\n", a / s, t, a / t
}'
