#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark of the YAML reader (not part of make check); usage:
# contrib/bench-yaml.sh [BUILD_DIR] (default: the top of the source tree).
#
# Writes two 5 MB application.yaml files shaped as services write them:
# "dense" (nested mappings, lists of scalars, lists of mappings, block
# scalars, anchors and merge keys, two Spring profile documents) and
# "sparse" (few keys, long folded texts).  Each is resolved with
# envinject print for the environment "prod", beside the same keys
# written as one flat JSON file (what the rest of envinject costs for so
# many keys) and the floor of starting a program at all (env true).  For
# each it reports the median wall time, the median CPU time (user + sys)
# and the peak RSS of BENCH_RUNS runs (default 5), and PASS or MISSED
# against the targets for the YAML file: under 0.5 s and under 64 MiB.
#
# The time judged is CPU time: on a machine shared with other work, wall
# time also counts the waits for a core, which say nothing about
# envinject (BENCH_JUDGE=wall judges wall time, for an idle machine).
# BENCH_CALLGRIND=1 adds the instruction counts of one run of each under
# valgrind --tool=callgrind, which do not depend on the load at all.
# BENCH_BYTES changes the size (default 5000000).  Exits 1 when a target
# is missed and BENCH_STRICT is set.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
runs=${BENCH_RUNS:-5}
judge=${BENCH_JUDGE:-cpu}
target_bytes=${BENCH_BYTES:-5000000}

[ -x "$envinject" ] || { echo "bench-yaml.sh: $envinject is not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-yaml.sh: /usr/bin/time is not installed (Debian package time)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-yaml.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
file=$work/application.yaml
printf 'layers = ();\n' >"$work/none.conf"

# "dense": service blocks of ~1 KiB with 25 keys each (128,000 keys in
# 5 MB), as generated configuration is; "sparse": two keys a block, one a
# long folded text (10,000 keys), as hand-written files with descriptions,
# certificates and templates are.
gen_dense() {
    awk -v target="$target_bytes" 'BEGIN {
        print "defaults: &defaults"
        print "  timeout: 1:30"
        print "  retries: 3"
        print "  tls: on"
        bytes = 0
        for (i = 0; bytes < target; i++) {
            s = sprintf("svc%05d", i)
            block = s ":\n" \
                "  <<: *defaults\n" \
                "  host: " s ".internal.example\n" \
                "  port: 0" (8000 + i % 1000) "\n" \
                "  url: \"https://" s ".internal.example/api/v1?x=1&y=2\"\n" \
                "  owner: team-" (i % 37) "\n" \
                "  tags: [alpha, beta, gamma, \"delta epsilon\"]\n" \
                "  pool:\n" \
                "    min: 1\n" \
                "    max: 50\n" \
                "    idle: ~\n" \
                "  replicas:\n" \
                "    - {zone: eu-west-1a, weight: 1}\n" \
                "    - {zone: eu-west-1b, weight: 2}\n" \
                "  motd: |\n" \
                "    Welcome to " s ".\n" \
                "    Maintenance windows are announced a week ahead.\n" \
                "  description: >\n" \
                "    A long folded description of the service that wraps over\n" \
                "    several lines, as the documentation of real services does,\n" \
                "    so that scalars are not all short words.\n" \
                "  features:\n" \
                "    checkout: yes\n" \
                "    search: NO\n" \
                "    beta_banner: \"off\"\n"
            printf "%s", block
            bytes += length(block)
        }
        print "---"
        print "spring.config.activate.on-profile: prod | staging"
        print "svc00000.host: prod.internal.example"
        print "---"
        print "spring.config.activate.on-profile: \"!prod\""
        print "svc00001.host: dev.internal.example"
    }' >"$1"

}

gen_sparse() {
    awk -v target="$target_bytes" 'BEGIN {
        for (i = 0; bytes < target; i++) {
            s = sprintf("svc%05d", i)
            block = s ":\n  host: " s ".internal\n  description: >\n"
            for (j = 0; j < 12; j++)
                block = block "    lorem ipsum dolor sit amet consectetur " \
                    "adipiscing elit sed do eiusmod tempor\n"
            printf "%s", block
            bytes += length(block)
        }
    }' >"$1"
}

# measure LABEL CMD...: median wall and CPU time (s) and peak RSS (KiB)
# of $runs runs into $wall, $cpu and $rss, and one line of report
measure() {
    label=$1
    shift
    walls=""
    cpus=""
    rss=0
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null
        read -r t u s m <"$work/time"
        walls="$walls $t"
        cpus="$cpus $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')"
        [ "$m" -gt "$rss" ] && rss=$m
        i=$((i + 1))
    done
    wall=$(median $walls)
    cpu=$(median $cpus)
    ins=""
    if [ -n "${BENCH_CALLGRIND:-}" ] && command -v valgrind >/dev/null; then
        valgrind --tool=callgrind --callgrind-out-file="$work/cg" \
            "$@" >/dev/null 2>"$work/cg.log"
        ins=$(sed -n 's/.*refs: *//p' "$work/cg.log" | tr -d ,)
        ins=$(awk -v n="$ins" 'BEGIN { printf ", %.1f M instr.", n / 1e6 }')
    fi
    printf '  %-28s wall %5.2f s  cpu %5.2f s  peak RSS %6.1f MiB%s\n' \
        "$label" "$wall" "$cpu" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
        "$ins"
}

median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ok=1
echo "envinject: $envinject; $runs runs each; judged on $judge time"
for shape in dense sparse; do
    "gen_$shape" "$file"
    size=$(wc -c <"$file")
    # the same keys and values as one flat JSON file
    "$envinject" -c "$work/none.conf" -e prod --layer "file:$file" print \
        --format json --reveal >"$work/flat.json"
    echo "== $shape: $size bytes of YAML, $(grep -c '^  "' "$work/flat.json") keys"
    measure "floor (env true)" env true
    measure "same keys as flat JSON" "$envinject" -c "$work/none.conf" \
        -e prod --layer "file:$work/flat.json" print --format dotenv
    measure "YAML" "$envinject" -c "$work/none.conf" -e prod \
        --layer "file:$file" print --format dotenv
    t=$cpu
    [ "$judge" = wall ] && t=$wall
    verdict=PASS
    awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' ||
        { verdict="MISSED 0.5 s"; ok=0; }
    if [ "$rss" -ge 65536 ]; then
        [ "$verdict" = PASS ] && verdict=MISSED || verdict="$verdict,"
        verdict="$verdict 64 MiB"
        ok=0
    fi
    echo "  $shape YAML against 0.5 s ($judge) and 64 MiB: $verdict"
done
[ "$ok" -eq 1 ] && echo "targets met: under 0.5 s and under 64 MiB"
if [ "$ok" -eq 0 ] && [ -n "${BENCH_STRICT:-}" ]; then
    exit 1
fi
exit 0
