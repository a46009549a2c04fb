#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of the last-known-good cache (not part of make check); usage:
# tests/bench-cache.sh [BUILD_DIR] (default: the top of the tree).
#
# One http layer of BENCH_KEYS (2000) keys from the http fake, read by
# `envinject print`: without a cache (the floor), with on_error = "cache"
# (each fetch also seals and writes the file, with two fsyncs), and with
# the fake stopped, answered from the cache (connection refused at once,
# then the file opened).  CPU is counted in instructions with valgrind's
# callgrind, which a loaded machine does not change; the wall time of
# BENCH_RUNS (9) runs of each is shown as a median for what fsync costs,
# which depends on the disk.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
keys=${BENCH_KEYS:-2000}
runs=${BENCH_RUNS:-9}

for tool in valgrind python3; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "bench-cache.sh: $tool is not installed" >&2
        exit 1
    }
done
[ -x "$envinject" ] || {
    echo "bench-cache.sh: $envinject is not built" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-bench-cache.XXXXXX")
fake=
cleanup() {
    [ -n "$fake" ] && kill "$fake" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

python3 - "$keys" >seed.json <<'P'
import json, sys
n = int(sys.argv[1])
doc = {"k%05d" % i: "value-%05d-%s" % (i, "x" * 40) for i in range(n)}
print(json.dumps({"documents": {"/app/prod/settings.json": {"json": doc}}}))
P
python3 "$here/fakes/http_fake.py" seed.json log.jsonl >port 2>fake.err &
fake=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
port=$(head -n 1 port)
[ -n "$port" ] || { echo "bench-cache.sh: the fake did not start" >&2; exit 1; }

openssl_hex() { python3 -c 'import os; print(os.urandom(32).hex())'; }
openssl_hex >key
chmod 600 key
# a long timeout: under valgrind a fetch takes seconds
layer="{ name = \"svc\"; provider = \"http\"; url = \"http://127.0.0.1:$port/app/prod/settings.json\"; timeout = 60000;"
printf 'layers = (%s });\n' "$layer" >plain.conf
printf 'cache = { dir = "cache"; key_file = "key"; max_age = "1h"; };\nlayers = (%s on_error = "cache"; });\n' \
    "$layer" >cached.conf

# instructions of one run (callgrind's total); a run that fails, or
# that fell back on the cache when it should have fetched, stops the
# benchmark: its figure would measure something else
instr() {
    local want=$1
    shift
    rm -f cg.out
    valgrind --tool=callgrind --callgrind-out-file=cg.out "$envinject" "$@" \
        >/dev/null 2>cg.err || {
        echo "bench-cache.sh: $* failed:" >&2
        grep -v '^==' cg.err >&2
        exit 1
    }
    if [ "$(grep -c 'using values cached' cg.err)" != "$want" ]; then
        echo "bench-cache.sh: $*: expected $want fallback(s):" >&2
        grep -v '^==' cg.err >&2
        exit 1
    fi
    sed -n 's/^summary: *//p' cg.out
}
# median wall time of $runs runs, in ms
wall() {
    local i t0 t1
    for i in $(seq "$runs"); do
        t0=$(date +%s%N)
        "$envinject" "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
    done | sort -n | sed -n "$(((runs + 1) / 2))p"
}

"$envinject" -c cached.conf print >/dev/null # the file exists for the rest
floor=$(instr 0 -c plain.conf print)
write=$(instr 0 -c cached.conf print)
floor_ms=$(wall -c plain.conf -q print)
write_ms=$(wall -c cached.conf -q print)
size=$(stat -c %s cache/*.cache)
kill "$fake"
wait "$fake" 2>/dev/null || true
fake=
# nothing listens now: refused at once, then retried until the deadline,
# which is cut short (the timeout is not part of the cache's identity)
sed -i 's/timeout = 60000;/timeout = 200;/' cached.conf
read_i=$(instr 1 -c cached.conf print)
read_ms=$(wall -c cached.conf -q print)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "keys: $keys, cache file: $size bytes"
printf '%-34s %14s %8s %8s\n' "run" "instructions" "x floor" "ms"
printf '%-34s %14s %8s %8s\n' "fetch, no cache (floor)" "$floor" 1.00 "$floor_ms"
printf '%-34s %14s %8s %8s\n' "fetch and write the cache" "$write" \
    "$(ratio "$write" "$floor")" "$write_ms"
printf '%-34s %14s %8s %8s\n' "service down, read the cache" "$read_i" \
    "$(ratio "$read_i" "$floor")" "$read_ms"
