#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: every provider shared object in the build tree exports exactly
# ei_provider_v2 (jansson's check-exports).
#
# One test per object found as */.libs/*.so under $top_builddir (the core's
# libenvinject excluded).  Besides ei_provider_v2 only the symbols the
# linker itself defines are allowed; anything else leaking out of a
# provider could clash with the core or another provider.  The exit status
# is 0 whatever the results: the "not ok" lines carry them.

set -u

here=${0%/*}
[ "$here" = "$0" ] && here=.
top_builddir=${top_builddir:-$(cd "$here/../.." && pwd)}

if ! command -v nm >/dev/null 2>&1; then
    echo "1..0 # SKIP nm not installed"
    exit 0
fi

list=$(find "$top_builddir" -path '*/.libs/*.so' ! -type d \
    ! -name 'libenvinject*' 2>/dev/null | LC_ALL=C sort)

if [ -z "$list" ]; then
    echo "1..0 # SKIP no provider shared objects in this build"
    exit 0
fi

count=$(printf '%s\n' "$list" | wc -l)
echo "1..$count"

n=0
printf '%s\n' "$list" | {
    while IFS= read -r so; do
        n=$((n + 1))
        name=${so#"$top_builddir"/}
        if ! syms=$(nm -D --defined-only "$so" 2>&1); then
            echo "not ok $n - $name"
            printf '%s\n' "$syms" | sed 's/^/# /'
            continue
        fi
        # "ADDRESS TYPE NAME[@VERSION]"; type A is a version node, not code
        # or data.  The linker's own markers are allowed.
        bad=$(printf '%s\n' "$syms" | awk '
            NF >= 2 {
                type = $(NF - 1); sym = $NF
                sub(/@.*/, "", sym)
                if (type == "A" || type == "a") next
                if (sym ~ /^(_init|_fini|__bss_start|_edata|_end|__bss_start__|__bss_end__|_bss_end__|__end__)$/) next
                if (sym == "ei_provider_v2") { found = 1; next }
                print "unexpected export: " sym
            }
            END { if (!found) print "ei_provider_v2 is not exported" }')
        if [ -z "$bad" ]; then
            echo "ok $n - $name"
        else
            echo "not ok $n - $name"
            printf '%s\n' "$bad" | sed 's/^/# /'
        fi
    done
}
exit 0
