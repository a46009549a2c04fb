#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark of the YAML reader (not part of make check); usage:
# contrib/bench-yaml.sh [BUILD_DIR] (default: the top of the source tree).
#
# Writes a 5 MB application.yaml shaped as services write them (nested
# mappings, lists of scalars, lists of mappings, block scalars, anchors
# and merge keys, two Spring profile documents), resolves it with
# envinject print for the environment "prod", and reports the median wall
# time and the peak RSS of BENCH_RUNS runs (default 5) against the
# targets: under 0.5 s and under 64 MiB; and the same for the keys it
# gives written as one flat JSON file, the floor that the rest of
# envinject sets.  BENCH_BYTES changes the size (default 5000000).  Exits 1 when a target is missed
# and BENCH_STRICT is set.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
runs=${BENCH_RUNS:-5}
target_bytes=${BENCH_BYTES:-5000000}

[ -x "$envinject" ] || { echo "bench-yaml.sh: $envinject is not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-yaml.sh: /usr/bin/time is not installed (Debian package time)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-yaml.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
file=$work/application.yaml
printf 'layers = ();\n' >"$work/none.conf"

# "dense": service blocks of ~1 KiB with 25 keys each (128,000 keys in
# 5 MB), as generated configuration is; "prose": two keys a block, one a
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

gen_prose() {
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

# measure FILE: median wall time and peak RSS of $runs runs, into
# $median and $rss_max (KiB)
measure() {
    times=""
    rss_max=0
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -f '%e %M' -o "$work/time" \
            "$envinject" -c "$work/none.conf" -e prod --layer "file:$1" \
            print --format dotenv >/dev/null
        read -r t m <"$work/time"
        times="$times $t"
        [ "$m" -gt "$rss_max" ] && rss_max=$m
        i=$((i + 1))
    done
    median=$(printf '%s\n' $times | sort -n |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    rss_mib=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k / 1024 }')
}

ok=1
for shape in dense prose; do
    "gen_$shape" "$file"
    size=$(wc -c <"$file")
    echo "== $shape: $size bytes"
    # The floor: the same keys and values as a flat JSON file, which shows
    # what the rest of envinject (merge, output) takes for so many keys.
    "$envinject" -c "$work/none.conf" -e prod --layer "file:$file" print \
        --format json --reveal >"$work/flat.json"
    echo "keys: $(grep -c '^  "' "$work/flat.json")"
    measure "$work/flat.json"
    echo "floor (the same keys as flat JSON): median ${median} s, peak RSS ${rss_mib} MiB"
    measure "$file"
    echo "resolve: median ${median} s of $runs runs, peak RSS ${rss_mib} MiB"
    awk -v t="$median" 'BEGIN { exit !(t < 0.5) }' ||
        { echo "MISSED: 0.5 s"; ok=0; }
    [ "$rss_max" -lt 65536 ] || { echo "MISSED: 64 MiB"; ok=0; }
done
[ "$ok" -eq 1 ] && echo "targets met: under 0.5 s and under 64 MiB"
if [ "$ok" -eq 0 ] && [ -n "${BENCH_STRICT:-}" ]; then
    exit 1
fi
exit 0
