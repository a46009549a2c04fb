#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of dotenvx-encrypted dotenv files (not part of make check);
# usage: tests/bench-dotenvx.sh [BUILD_DIR] (default: the top of the tree).
#
# Instructions (valgrind --tool=callgrind: the same counts on a loaded
# machine) of `envinject --layer file:F print` for F holding BENCH_N (20)
# values: the floor is the same file in plain text, measured in the same
# run; then the file with 1 and with BENCH_N values encrypted (made with
# tests/helpers/dotenvx-seal to the key of tests/fixtures/dotenvx/.env).
# Prints the floor, the fixed cost (loading libcrypto, the curve) and the
# cost of one value.
set -eu
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
envinject=$build/envinject
seal=$build/tests/helpers/dotenvx-seal
n=${BENCH_N:-20}
command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 77; }
[ -x "$seal" ] || { echo "build $seal first (make check builds it)" >&2; exit 1; }
fx=$here/fixtures/dotenvx
pub=$(sed -n 's/^DOTENV_PUBLIC_KEY="\(.*\)"$/\1/p' "$fx/.env")
export DOTENV_PRIVATE_KEY
DOTENV_PRIVATE_KEY=$(sed -n 's/^DOTENV_PRIVATE_KEY=//p' "$fx/.env.keys")
work=$(mktemp -d "${TMPDIR:-/tmp}/ei-bench-dotenvx.XXXXXX")
trap 'rm -rf "$work"' EXIT

# file NAME ENCRYPTED: BENCH_N values, the first ENCRYPTED of them encrypted
file() {
    local i v
    {
        echo "DOTENV_PUBLIC_KEY=\"$pub\""
        for i in $(seq "$n"); do
            v="value-$i-with-some-length-0123456789"
            if [ "$i" -le "$2" ]; then
                v=$(printf '%s' "$v" | "$seal" "$pub")
            fi
            echo "KEY_$i=\"$v\""
        done
    } >"$work/$1"
}

# instructions of one run over file $1
count() {
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$envinject" --layer "file:$work/$1,format=dotenv" print --reveal \
        >/dev/null 2>"$work/cg.err"
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg.err"
}

file plain.env 0
file one.env 1
file all.env "$n"
floor=$(count plain.env)
one=$(count one.env)
all=$(count all.env)
per=$(((all - one) / (n - 1)))
echo "floor (plain, $n values):     $floor instructions"
echo "1 value encrypted:           $one"
echo "$n values encrypted:          $all"
echo "fixed cost (libcrypto, curve): $((one - floor - per))"
echo "per encrypted value:           $per"
