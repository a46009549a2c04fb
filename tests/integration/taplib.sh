# SPDX-License-Identifier: MIT
# Sourced by the TAP scripts of tests/integration (rootfs.sh,
# packaging.sh, loadable.sh, formats.sh, completion.sh): the source and
# build folders, the envinject under test, and the TAP lines.  Sets top_srcdir, top_builddir, envinject (ENVINJECT,
# else the build's); the caller prints the plan "1..$n" at the end.
# shellcheck shell=bash
export LC_ALL=C
here=${0%/*}
[ "$here" = "$0" ] && here=.
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this one
envinject=${ENVINJECT:-$top_builddir/envinject}

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# not_ok DESCRIPTION [DIAGNOSTIC...]: each diagnostic line as a # comment
not_ok() {
    n=$((n + 1))
    echo "not ok $n - $1"
    shift
    [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
