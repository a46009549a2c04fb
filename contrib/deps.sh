#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what envinject needs to build (and, with --test, to run its test
# suite) from Debian 12's packages.  Uses sudo when not run as root.
set -eu
pkgs="build-essential autoconf automake libtool pkg-config
      libcurl4-openssl-dev libjansson-dev libconfig-dev libsodium-dev"
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs libcmocka-dev mandoc valgrind python3 openssl clang
          libclang-rt-14-dev etcd-server etcd-client curl jq python3-dotenv"
fi
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
# shellcheck disable=SC2086
missing=$(for p in $pkgs; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
          grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
    $as_root apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing
fi
