#!/bin/sh
# SPDX-License-Identifier: MIT
# Quick start: install the dependencies, build envinject, and run it on the
# bundled example (a defaults file, a per-environment dotenv file, a sealed
# secrets file and the process environment).
set -eu
cd "$(dirname "$0")/.."
sh contrib/deps.sh
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --quiet
make -s -j"$(nproc)"
ex=contrib/example
chmod 600 "$ex"/keys/* 2>/dev/null || true
echo "== the resolved configuration of 'dev', with the origin of every value"
APP_REGION=eu-west-1 ./envinject -c "$ex/envinject.conf" -e dev \
    print --format table --origin
echo "== running a program with it (same PID, secrets only in its environment)"
APP_REGION=eu-west-1 ./envinject -c "$ex/envinject.conf" -e dev run -- \
    sh -c 'echo "$APP_NAME connects to $DATABASE_URL as a user whose password has ${#DATABASE_PASSWORD} characters"'
