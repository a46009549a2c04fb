#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: the include rules the layout stands for, read from the sources.
#   1. include/ (the public ABI) includes system headers only.
#   2. A provider includes the public header, system and library headers,
#      and files of providers/ by a relative path that stays inside it:
#      never the core (src/) nor the tests.  The build proves the same from
#      the other side: providers compile with -I include only.
#   3. The core includes from providers/ only the shared parsers of
#      providers/common, never a provider's own files, and never tests/.
#   4. providers/common includes nothing of a provider.
# The exit status is 0 whatever the results: the "not ok" lines carry them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
cd "$top_srcdir" || exit 1

n=0
check() { # DESCRIPTION OFFENDING-LINES
    n=$((n + 1))
    if [ -z "$2" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        printf '%s\n' "$2" | sed 's/^/# /'
    fi
}
quoted() { # FILES...: the quoted #include lines, as file:line:text
    grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" 2>/dev/null
}

echo "1..4"
check "include/ includes system headers only" \
    "$(quoted include/envinject/*.h)"
check "providers include nothing of src/ or tests/" \
    "$(find providers -name '*.[ch]' -print0 | xargs -0 grep -Hn \
        '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' |
        grep -v '"envinject/provider.h"' |
        grep -E '"(\.\./)*(src|tests)/|"\.\./\.\./')"
check "the core includes only providers/common of the providers" \
    "$(quoted src/*.c src/*.h | grep -E '"[^"]*(providers|tests)/' |
        grep -v '"\.\./providers/common/[a-z_]*\.h"')"
check "providers/common includes no provider" \
    "$(quoted providers/common/*.[ch] | grep -v '"envinject/provider.h"' |
        grep -E '"[^"]*/')"
exit 0
