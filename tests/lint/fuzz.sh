#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: every libFuzzer target (tests/fuzz/fuzz_*.c) ships what make fuzz
# starts it from: seeds in tests/fuzz/corpus/NAME and a dictionary
# tests/fuzz/NAME.dict, and is built by make fuzz.
#
# From an empty corpus a target whose input goes through jansson or
# libconfig, which are not instrumented, hardly gets past the first bytes:
# the fuzzer cannot see what the library accepts.  Seeds: 1 to 40 files of at most 4096 bytes each,
# so the corpora stay small enough to read.  Dictionary: libFuzzer's format,
# one "entry" or name="entry" a line (\\, \" and \xNN escapes), # comments,
# at least one entry.  The exit status is 0 whatever the results: the
# "not ok" lines carry them.

set -u

here=${0%/*}
[ "$here" = "$0" ] && here=.
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
fuzz=$top_srcdir/tests/fuzz

SEEDS_MAX=40
SEED_BYTES_MAX=4096

list=$(find "$fuzz" -maxdepth 1 -name 'fuzz_*.c' 2>/dev/null |
    sed 's|.*/||; s/\.c$//' | LC_ALL=C sort)
if [ -z "$list" ]; then
    echo "1..0 # SKIP no fuzz target in $fuzz"
    exit 0
fi
count=$(printf '%s\n' "$list" | wc -l)
echo "1..$count"

# the FUZZERS list of Makefile.am, one name a line
built=$(sed -n '/^FUZZERS *=/,/[^\\]$/p' "$top_srcdir/Makefile.am" |
    awk '{ for (i = 1; i <= NF; i++) if (sub(/^tests\/fuzz\//, "", $i)) print $i }')

n=0
for t in $list; do
    n=$((n + 1))
    bad=""
    printf '%s\n' "$built" | grep -qx "$t" ||
        bad="$bad
not in FUZZERS of Makefile.am"
    seeds=0
    if [ -d "$fuzz/corpus/$t" ]; then
        for s in "$fuzz/corpus/$t"/* "$fuzz/corpus/$t"/.[!.]*; do
            [ -e "$s" ] || continue
            seeds=$((seeds + 1))
            if [ ! -f "$s" ]; then
                bad="$bad
corpus/$t/${s##*/}: not a regular file"
            elif [ $(($(wc -c <"$s"))) -gt "$SEED_BYTES_MAX" ]; then
                bad="$bad
corpus/$t/${s##*/}: more than $SEED_BYTES_MAX bytes"
            fi
        done
    fi
    if [ "$seeds" -eq 0 ] || [ "$seeds" -gt "$SEEDS_MAX" ]; then
        bad="$bad
corpus/$t: $seeds seeds (1 to $SEEDS_MAX expected)"
    fi
    dict=$fuzz/$t.dict
    if [ ! -f "$dict" ]; then
        bad="$bad
$t.dict: missing"
    else
        entry='^([A-Za-z_][A-Za-z0-9_]*=)?"([^"\\]|\\[\\"]|\\x[0-9A-Fa-f]{2})+"$'
        wrong=$(grep -Ev '^[[:space:]]*(#|$)' "$dict" | grep -Evn "$entry")
        [ -n "$wrong" ] && bad="$bad
$t.dict: not an entry: $(printf '%s\n' "$wrong" | head -n 1)"
        grep -Eq "$entry" "$dict" || bad="$bad
$t.dict: no entry"
    fi
    if [ -z "$bad" ]; then
        echo "ok $n - $t: $seeds seeds and a dictionary"
    else
        echo "not ok $n - $t"
        printf '%s\n' "$bad" | sed '/^$/d; s/^/# /'
    fi
done
exit 0
