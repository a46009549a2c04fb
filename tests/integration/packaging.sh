#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: the packaging of contrib/.
#   systemd  contrib/systemd/envinject-example.service passes
#            systemd-analyze verify (in a scratch root holding the unit,
#            the two programs it names and systemd's own units) with no
#            complaint; app.conf resolves its credentials from
#            $CREDENTIALS_DIRECTORY as systemd sets it, and refuses to run
#            the program when one is missing (78)
#   deb      make deb builds the package (dpkg-buildpackage); dpkg-deb -c
#            lists the binary, the man pages, the three completions and the
#            examples; dpkg -x into a scratch root gives a working
#            envinject --version; lintian reports nothing but the tags
#            explained in contrib/debian/README.  Opt-in: EI_TEST_DEB=1
#            (it builds the whole tree again: 3 minutes on a loaded
#            2-core machine); skipped without dpkg-buildpackage and dh.
set -u
# shellcheck source=taplib.sh
. "${0%/*}/taplib.sh"
if [ ! -x "$envinject" ]; then
    echo "1..0 # SKIP $envinject not built"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ei-packaging.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
sd=$top_srcdir/contrib/systemd

# --- systemd
if ! command -v systemd-analyze >/dev/null || [ ! -d /usr/lib/systemd/system ]; then
    skip "systemd-analyze verify: systemd-analyze is not installed"
else
    r=$work/sdroot
    mkdir -p "$r/usr/bin" "$r/etc/systemd/system" "$r/usr/lib/systemd"
    cp -R /usr/lib/systemd/system "$r/usr/lib/systemd/"
    cp "$sd/envinject-example.service" "$r/etc/systemd/system/"
    cp "$envinject" "$r/usr/bin/envinject"
    printf '#!/bin/sh\n' >"$r/usr/bin/app"
    chmod 755 "$r/usr/bin/app"
    # a unit with a mistake only warns: any output is a failure
    if systemd-analyze verify --root="$r" envinject-example.service \
        >"$work/verify" 2>&1 && [ ! -s "$work/verify" ]; then
        ok "systemd-analyze verify: the example unit is clean"
    else
        not_ok "systemd-analyze verify" "$(cat "$work/verify")"
    fi
    # the check itself: a misspelt directive is reported
    sed 's/^Type=exec/Typ=exec/' "$sd/envinject-example.service" \
        >"$r/etc/systemd/system/envinject-example.service"
    systemd-analyze verify --root="$r" envinject-example.service \
        >"$work/verify" 2>&1
    if grep -q "Typ" "$work/verify"; then
        ok "systemd-analyze verify reports a broken unit"
    else
        not_ok "systemd-analyze verify missed a misspelt directive" "$(cat "$work/verify")"
    fi
fi
# app.conf as the unit runs it: settings from the file, credentials from
# the folder systemd names in CREDENTIALS_DIRECTORY
mkdir -p "$work/etc" "$work/creds"
sed "s|/etc/envinject/app.env|$work/etc/app.env|" "$sd/app.conf" >"$work/etc/app.conf"
printf 'LISTEN=:8080\n' >"$work/etc/app.env"
printf 'pw-%s' "$$" >"$work/creds/DATABASE_PASSWORD"
printf 'sk_test' >"$work/creds/STRIPE_API_KEY"
chmod 700 "$work/creds"
chmod 600 "$work/creds"/*
env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$work/creds" \
    "$envinject" -c "$work/etc/app.conf" -- /usr/bin/env >"$work/out" 2>"$work/err"
st=$?
if [ $st -eq 0 ] && grep -qx "DATABASE_PASSWORD=pw-$$" "$work/out" &&
    grep -qx "STRIPE_API_KEY=sk_test" "$work/out" && grep -qx "LISTEN=:8080" "$work/out"; then
    ok "app.conf: credentials from \$CREDENTIALS_DIRECTORY reach the program"
else
    not_ok "app.conf with credentials: exit $st" "$(cat "$work/out" "$work/err")"
fi
rm "$work/creds/STRIPE_API_KEY"
env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$work/creds" \
    "$envinject" -c "$work/etc/app.conf" -- /usr/bin/env >"$work/out" 2>"$work/err"
st=$?
if [ $st -eq 78 ] && [ ! -s "$work/out" ] && grep -q STRIPE_API_KEY "$work/err"; then
    ok "app.conf: a missing credential stops the start (78), naming the key"
else
    not_ok "app.conf without a credential: exit $st, not 78" "$(cat "$work/out" "$work/err")"
fi

# --- the Debian package
if [ "${EI_TEST_DEB:-}" != 1 ]; then
    skip "make deb: opt-in, EI_TEST_DEB=1"
elif ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
    skip "make deb: dpkg-buildpackage or debhelper missing"
else
    if (cd "$top_builddir" && make -s deb) >"$work/deb.log" 2>&1; then
        ok "make deb builds the package"
    else
        not_ok "make deb failed" "$(tail -n 30 "$work/deb.log")"
    fi
    deb=
    for f in "$top_builddir"/deb/envinject_*.deb; do
        [ -f "$f" ] && deb=$f
    done
    if [ -n "$deb" ]; then
        dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/files"
        missing=
        for f in /usr/bin/envinject /usr/share/man/man1/envinject.1.gz \
            /usr/share/man/man5/envinject.conf.5.gz \
            /usr/share/man/man7/envinject-providers.7.gz \
            /usr/share/man/man3/envinject-provider.3.gz \
            /usr/share/bash-completion/completions/envinject \
            /usr/share/zsh/vendor-completions/_envinject \
            /usr/share/fish/vendor_completions.d/envinject.fish \
            /usr/share/doc/envinject/examples/envinject-example.service \
            /usr/share/doc/envinject/examples/app.conf \
            /usr/share/doc/envinject/examples/example/envinject.conf \
            /usr/share/doc/envinject/copyright; do
            grep -qxF "$f" "$work/files" || missing="$missing $f"
        done
        if [ -z "$missing" ]; then
            ok "dpkg-deb -c: binary, man pages, completions and examples"
        else
            not_ok "dpkg-deb -c lacks:$missing"
        fi
        mkdir "$work/inst"
        dpkg -x "$deb" "$work/inst"
        if "$work/inst/usr/bin/envinject" -v --version >"$work/out" 2>&1 &&
            grep -q '^envinject ' "$work/out" &&
            ! grep -q '^libcurl not loaded' "$work/out"; then
            ok "dpkg -x: the installed envinject -v --version works, libcurl loaded"
        else
            not_ok "the installed envinject" "$(cat "$work/out")"
        fi
        # the completion installed is the binary's own
        if "$envinject" completion bash | cmp -s - \
            "$work/inst/usr/share/bash-completion/completions/envinject"; then
            ok "the bash completion is the one envinject generates"
        else
            not_ok "the installed bash completion differs from envinject completion bash"
        fi
        if command -v lintian >/dev/null; then
            # tags explained in contrib/debian/README are listed there as
            # "lintian: TAG"; any other is a failure
            lintian -I --pedantic --tag-display-limit 0 "$deb" >"$work/lintian" 2>&1
            allowed=$(sed -n 's/^lintian: \([a-z0-9-]*\).*/\1/p' \
                "$top_srcdir/contrib/debian/README")
            other=$(grep -E '^[EWIPX]: ' "$work/lintian" | awk '{ print $3 }' |
                grep -vxF -f <(printf '%s\n' "$allowed") || true)
            if [ -z "$other" ]; then
                ok "lintian: nothing unexplained"
            else
                not_ok "lintian tags not explained in contrib/debian/README" "$(cat "$work/lintian")"
            fi
        else
            skip "lintian is not installed"
        fi
    fi
fi
echo "1..$n"
