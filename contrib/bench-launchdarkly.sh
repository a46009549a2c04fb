#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds and runs contrib/bench-launchdarkly.c against the evaluator of the
# launchdarkly provider (with the compiler flags of a release: -O2), from
# the top of the source tree.  Prints the CPU time of one pass over 1,000
# flags of 10 rules for one context; exits 1 when the median passes 10 ms.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-ld.XXXXXX")
trap 'rm -rf "$out"' EXIT
${CC:-cc} -O2 -std=gnu11 -I"$top/providers" -o "$out/bench" \
    "$top/contrib/bench-launchdarkly.c" "$top/providers/launchdarkly/eval.c" \
    "$top/providers/common/sha1.c" \
    $(pkg-config --cflags --libs jansson libcrypto) -lm
"$out/bench"
