#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: every manual page in man/ passes "mandoc -Tlint -Wwarning" silently.
#
# One test per page.  mandoc's messages go out as TAP diagnostics.  The
# exit status is 0 whatever the results: the "not ok" lines carry them.

set -u

here=${0%/*}
[ "$here" = "$0" ] && here=.
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}

if ! command -v mandoc >/dev/null 2>&1; then
    echo "1..0 # SKIP mandoc not installed"
    exit 0
fi

shopt -s nullglob
pages=("$top_srcdir"/man/*.[1-9])
shopt -u nullglob

if [ "${#pages[@]}" -eq 0 ]; then
    echo "1..1"
    echo "not ok 1 - manual pages in $top_srcdir/man"
    echo "# no page found"
    exit 0
fi

echo "1..${#pages[@]}"
n=0
for page in "${pages[@]}"; do
    n=$((n + 1))
    name=${page##*/}
    # A stale system mandoc.db is the host's problem, not the page's.
    out=$(mandoc -Tlint -Wwarning "$page" 2>&1 | grep -v 'mandoc\.db')
    if [ -z "$out" ]; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
done
exit 0
