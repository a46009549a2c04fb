#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: every C file of the tree compiles under clang with the project's
# warnings as errors, whatever compiler this build uses.
#
# The documented fuzz build is "CC=clang ./configure --enable-fuzzers", and
# clang checks things gcc lets through: a printf-style function that passes
# its va_list on needs its own format attribute (-Wformat-nonliteral), a
# parameter may not shadow a libc global such as environ (-Wshadow).  One
# test per file, syntax only (a few seconds for the tree).  The flags come
# from the build ($EI_LINT_CFLAGS, set by make check); -Werror is added
# even with --disable-werror, since a lint that only warns checks nothing.
# The exit status is 0 whatever the results: the "not ok" lines carry them.

set -u

here=${0%/*}
[ "$here" = "$0" ] && here=.
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
clang=${CLANG:-clang}

if ! command -v "$clang" >/dev/null 2>&1; then
    echo "1..0 # SKIP clang not installed"
    exit 0
fi
if [ -z "${EI_LINT_CFLAGS:-}" ]; then
    echo "1..0 # SKIP EI_LINT_CFLAGS not set (run through make check)"
    exit 0
fi

list=$(cd "$top_srcdir" && find src providers tests -name '*.c' |
    LC_ALL=C sort)
count=$(printf '%s\n' "$list" | wc -l)
echo "1..$count"

# -O2: _FORTIFY_SOURCE warns without optimisation.  Short table rows:
# see the nested-rows check in configure.ac (gcc builds keep that check).
# A gcc-only warning flag in the build's set is not clang's to judge.
extra="-O2 -Werror -Wno-missing-field-initializers -Wno-unknown-warning-option"

n=0
printf '%s\n' "$list" | {
    while IFS= read -r file; do
        n=$((n + 1))
        # word splitting of the flag lists is intended
        # shellcheck disable=SC2086
        if out=$("$clang" -fsyntax-only $EI_LINT_CFLAGS $extra \
            "$top_srcdir/$file" 2>&1) && [ -z "$out" ]; then
            echo "ok $n - $file"
        else
            echo "not ok $n - $file"
            printf '%s\n' "$out" | sed 's/^/# /'
        fi
    done
}
exit 0
