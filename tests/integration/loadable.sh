#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: a provider loaded as a shared object that links libsodium works
# beside a binary with its dependencies linked in (configure's default):
# its copy of libsodium is initialised by the core when it is loaded, as
# envinject-provider(3) promises (tests/helpers/testprov.c built with
# -DTESTPROV_SODIUM takes secret memory in configure; an uninitialised
# libsodium aborts there).  The binary with the shared libraries passes
# the same test.  Skipped when the helper was not built (--disable-dlopen).
set -u
# shellcheck source=taplib.sh
. "${0%/*}/taplib.sh"
so=${TESTPROV_SODIUM_SO:-$top_builddir/tests/helpers/.libs/testprov-sodium.so}
if [ ! -f "$so" ] || [ ! -x "$envinject" ]; then
    echo "1..0 # SKIP testprov-sodium.so or envinject not built"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ei-loadable.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
# the loader wants a folder that only its owner may write to
mkdir -m 755 "$work/providers"
cp "$so" "$work/providers/testprov-sodium.so"
cat >"$work/envinject.conf" <<CONF
provider_path = ["$work/providers"];
layers = ( { provider = "testprov-sodium"; entries = ["LOADED=yes"]; } );
CONF
linked=shared
if ! ldd "$envinject" 2>/dev/null | grep -q 'libsodium\.so'; then
    linked=static
fi
out=$("$envinject" -c "$work/envinject.conf" get LOADED 2>"$work/err")
st=$?
if [ "$st" -eq 0 ] && [ "$out" = yes ]; then
    ok "testprov-sodium.so runs beside the binary ($linked libsodium)"
else
    not_ok "testprov-sodium.so runs beside the binary ($linked libsodium)" \
        "status $st, stdout '$out'" "$(cat "$work/err")"
fi
echo "1..$n"
