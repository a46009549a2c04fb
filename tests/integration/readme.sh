#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: the commands the README shows work as written, in the order shown.
#
# Every fenced block opened with ```sh is run, one test per block, except
# those of the sections "Quick start" and "Building" (they install, build
# and test this very tree: CI runs them through .ci/run).  The blocks run
# one after the other in one bash, with `set -e` and `set -o pipefail`, as
# a reader would type them after the quick start: from the top of a copy
# of the tree's contrib/ and man/ with the demo key made private (as the
# quick start does), and the built envinject first on PATH.  A copy, so
# that nothing a block writes lands in the source tree; HOME is a scratch
# folder, so that keygen writes its key there.  Output goes to the TAP
# diagnostics when a block fails.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$here/../..}" && pwd)
readme=$top_srcdir/README.md

[ -x "$top_builddir/envinject" ] || {
    echo "Bail out! $top_builddir/envinject is not built"
    exit 99
}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ei-readme.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tree" "$scratch/home" "$scratch/bin"
cp -R "$top_srcdir/contrib" "$top_srcdir/man" "$scratch/tree/"
chmod 600 "$scratch"/tree/contrib/example/keys/[0-9a-f]*
# the README's PATH line names build/quickstart: that is this build
mkdir -p "$scratch/tree/build"
ln -s "$top_builddir" "$scratch/tree/build/quickstart"

# blocks as "LINE<TAB>text" records separated by NUL
blocks=$(awk '
    /^## / { section = substr($0, 4) }
    /^```sh$/ && section != "Quick start" && section != "Building" {
        inblock = 1; start = NR; text = ""; next
    }
    /^```/ && inblock { inblock = 0; printf "%d\t%s%c", start, text, 0; next }
    inblock { text = text $0 "\n" }
' "$readme" | tr '\0' '\036')

IFS=$'\036' read -r -d '' -a list <<<"$blocks" || true
n=0
for b in "${list[@]}"; do
    [ -n "${b//[$'\n']/}" ] && n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
    echo "1..1"
    echo "not ok 1 - README.md has runnable sh blocks"
    exit 0
fi
echo "1..$n"

# one shell for all blocks, so that a cd or an export carries over; each
# block reports its status on fd 3
script=$scratch/script.sh
{
    echo 'cd "$EI_TREE"'
    i=0
    for b in "${list[@]}"; do
        [ -n "${b//[$'\n']/}" ] || continue
        i=$((i + 1))
        line=${b%%$'\t'*}
        text=${b#*$'\t'}
        printf '( set -e -o pipefail\n%s) >"$EI_OUT/%d.out" 2>&1\n' "$text" "$i"
        printf 'echo "%d %d $?" >>"$EI_OUT/status"\n' "$i" "$line"
        # keep what the block did to the shell for the next block
        printf '%s\n' "$text" | grep -E '^(cd|export) ' || true
    done
} >"$script"
mkdir -p "$scratch/out"
env -i PATH=/usr/bin:/bin HOME="$scratch/home" LC_ALL=C MANPAGER=cat \
    PAGER=cat MANWIDTH=80 EI_TREE="$scratch/tree" EI_OUT="$scratch/out" \
    bash "$script" >/dev/null 2>&1 </dev/null
cp "$scratch/out/status" "$scratch/status" 2>/dev/null

i=0
for b in "${list[@]}"; do
    [ -n "${b//[$'\n']/}" ] || continue
    i=$((i + 1))
    line=${b%%$'\t'*}
    st=$(awk -v i="$i" '$1 == i { print $3 }' "$scratch/status")
    if [ "${st:-x}" = 0 ]; then
        echo "ok $i - README.md:$line"
    else
        echo "not ok $i - README.md:$line (status ${st:-not run})"
        sed 's/^/# /' "$scratch/out/$i.out" 2>/dev/null | tail -n 30
    fi
done
exit 0
