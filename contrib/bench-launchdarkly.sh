#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark of the launchdarkly provider (not a test), from the top of the
# source tree: contrib/bench-launchdarkly.sh [BUILD_DIR]
#
# 1. Builds contrib/bench-launchdarkly.c against the evaluator (with the
#    compiler flags of a release: -O2) and runs it: the CPU time of the
#    load of a latest-all document of 1,000 flags of 10 rules (scan and
#    compilation)
#    and of one evaluation of every flag for one context.  Exits 1 when the
#    median evaluation passes 10 ms (issue 13's budget).
# 2. With BUILD_DIR (an envinject built there), serves that document from
#    tests/fakes/launchdarkly_fake.py and measures the CPU (user + sys) of
#    `envinject run -- true` with one launchdarkly layer, against the floor
#    `env true` and against the same layer over an empty document: the
#    difference is what the 1,000 flags cost envinject (HTTP, parse,
#    evaluation, keys).  Means of BENCH_RUNS runs (default 20): the
#    kernel's accounting is coarse for one short run.  With valgrind
#    installed and BENCH_CALLGRIND=1, also the instruction counts of one
#    `envinject print` of each (callgrind counts no exec'd program), which
#    do not depend on the machine's load.
set -eu
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-ld.XXXXXX")
fakes=
cleanup() {
    for pid in $fakes; do
        kill "$pid" 2>/dev/null || :
    done
    rm -rf "$out"
}
trap cleanup EXIT
${CC:-cc} -O2 -std=gnu11 -I"$top/providers" -o "$out/bench" \
    "$top/contrib/bench-launchdarkly.c" "$top/providers/launchdarkly/eval.c" \
    "$top/providers/launchdarkly/scan.c" \
    "$top/providers/common/sha1.c" "$top/providers/common/libcrypto.c" \
    "$top/providers/common/urlpath.c" \
    $(pkg-config --cflags --libs jansson libcrypto) -lm
status=0
"$out/bench" "$out/doc.json" || status=$?
[ $# -ge 1 ] || exit "$status"

envinject=$(cd "$1" && pwd)/envinject
if [ ! -x "$envinject" ]; then
    echo "bench-launchdarkly.sh: $envinject is not built" >&2
    exit 1
fi
cd "$out"
printf '{"flags":{},"segments":{}}' >empty.json
# a fake per document: it prints its port, then serves until killed
for doc in empty.json doc.json; do
    printf '{"sdk_keys": ["sdk-bench"], "data_file": "%s"}\n' "$doc" \
        >"scenario-$doc"
    python3 "$top/tests/fakes/launchdarkly_fake.py" "scenario-$doc" \
        "log-$doc" >"port-$doc" &
    fakes="$fakes $!"
    i=0
    while [ ! -s "port-$doc" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    cat >"conf-$doc" <<EOF
layers = ({ provider = "launchdarkly";
  base_uri = "http://127.0.0.1:$(head -n 1 "port-$doc")";
  timeout = 120000;
  context = { key = "user-42"; country = "us"; email = "ann@example.com";
              name = "Ann"; age = 30; version = "2.3.4"; }; });
EOF
done
export LD_SDK_KEY=sdk-bench
# user + sys of a command's children, in ms per run
python3 - "$envinject" "${BENCH_RUNS:-20}" <<'EOF'
import resource, subprocess, sys
envinject, runs = sys.argv[1], int(sys.argv[2])
def cpu(argv):
    total = 0.0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += (after.ru_utime - before.ru_utime) + \
                 (after.ru_stime - before.ru_stime)
    return total * 1000 / runs
floor = cpu(["env", "true"])
empty = cpu([envinject, "--config", "conf-empty.json", "run", "--", "true"])
full = cpu([envinject, "--config", "conf-doc.json", "run", "--", "true"])
print("envinject run -- true, CPU (user+sys) per run, mean of %d runs:" % runs)
print("  floor (env true)                 %7.2f ms" % floor)
print("  launchdarkly, empty document     %7.2f ms" % empty)
print("  launchdarkly, 1,000 x 10 flags   %7.2f ms (%.2f ms over the "
      "empty document)" % (full, full - empty))
EOF
if [ "${BENCH_CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
    echo "instructions of one envinject print (valgrind --tool=callgrind):"
    for doc in empty.json doc.json; do
        valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$envinject" --config "conf-$doc" print 2>"cg-$doc" >/dev/null ||
            { cat "cg-$doc" >&2; exit 1; }
        printf '  %-10s %s\n' "$doc" \
            "$(sed -n 's/.*Collected : *//p' "cg-$doc")"
    done
fi
exit "$status"
