#!/bin/sh
# SPDX-License-Identifier: MIT
# Quick start: install the dependencies, build envinject in build/quickstart
# (outside the source tree, so that contrib/test.sh's builds can follow),
# and run it on the bundled example: a defaults file, a per-environment
# dotenv file, a sealed secrets file and the process environment.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
start=$(date +%s)
step() {
    echo "== quickstart: $1 ($(($(date +%s) - start)) s)"
}
step "dependencies"
sh contrib/deps.sh
build=$top/build/quickstart
log=$top/build/quickstart.log
mkdir -p "$build"
: >"$log"
quiet() { # COMMAND...: its output goes to the log, shown when it fails
    if ! "$@" >>"$log" 2>&1; then
        tail -n 40 "$log"
        echo "quickstart: $* failed; the whole log is $log"
        exit 1
    fi
}
if [ -f config.status ]; then
    echo "quickstart: this tree is configured in place (./configure); run 'make distclean' first" >&2
    exit 1
fi
step "configure and build in build/quickstart"
[ -x configure ] || quiet autoreconf -fi
[ -f "$build/Makefile" ] || (cd "$build" && quiet "$top/configure" --quiet)
quiet make -C "$build" -s -j"$(nproc)"
ei=$build/envinject
ex=contrib/example
# git keeps no file modes but the executable bit: the demo key comes out
# 0644, and the sealed provider refuses a key that others may read
chmod 600 "$ex"/keys/[0-9a-f]*
step "the resolved configuration of 'dev', with the origin of every value"
APP_REGION=eu-west-1 "$ei" -c "$ex/envinject.conf" -e dev \
    print --format table --origin
step "running a program with it (same PID, secrets only in its environment)"
APP_REGION=eu-west-1 "$ei" -c "$ex/envinject.conf" -e dev run -- \
    sh -c 'echo "$APP_NAME connects to $DATABASE_URL as a user whose password has ${#DATABASE_PASSWORD} characters"'
step "done: the binary is $ei"
echo "   put it on your PATH for the README's examples: export PATH=\"$build:\$PATH\""
