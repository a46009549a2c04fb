#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: the root of the FROM-scratch image (contrib/docker/rootfs.sh) works
# on its own.  The root is assembled in a temporary folder from this build,
# the test inputs are copied under /t in it, and envinject runs there with
# chroot: no shell, no /proc, no /dev, nothing but what the image holds.
# Each provider kind is exercised:
#   file, sealed, env  the bundled example (contrib/example)
#   dir                a folder of files, as systemd's credentials
#   dotenvx           decryption of tests/fixtures/dotenvx (libcrypto dlopened)
#   http, vault        their fakes, plain http on loopback
#   azure-keyvault     its fake over https, with the test CA
#                      (tests/fakes/azure-tls), and a wrong CA refused
#   etcd               a real etcd node, plain http and https (same CA)
# run -- /envinject print: the values reach the program's environment.
# Skipped unless root (chroot needs it); the remote parts are skipped when
# python3 or etcd is missing.  Prints the root's size (the image's).
set -u
# shellcheck source=taplib.sh
. "${0%/*}/taplib.sh"
chroot=$(command -v chroot)
if [ "$(id -u)" -ne 0 ] || [ -z "$chroot" ]; then
    echo "1..0 # SKIP chroot needs root"
    exit 0
fi
if [ ! -x "$envinject" ]; then
    echo "1..0 # SKIP $envinject not built"
    exit 0
fi
if ldd "$envinject" 2>/dev/null | grep -q libasan; then
    echo "1..0 # SKIP built with sanitizers"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ei-rootfs.XXXXXX") || exit 1
# shellcheck source=serverlib.sh
. "$top_srcdir/tests/integration/serverlib.sh"
cleanup() {
    fake_stop
    stop_all_members
    rm -rf "$work"
}
trap cleanup EXIT
canary=EI_CANARY_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

root=$work/root
# in_root DESC EXPECTED_STATUS ENV... -- ARG...: envinject in the root with
# only the environment given; stdout in $work/out, stderr in $work/err;
# the canary must not be in stderr
in_root() {
    local desc=$1 want=$2 st
    shift 2
    local envs=()
    while [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    (cd / && env -i "${envs[@]}" "$chroot" "$root" /envinject "$@") \
        >"$work/out" 2>"$work/err"
    st=$?
    if [ "$st" -ne "$want" ]; then
        not_ok "$desc: exit $st, not $want" "$(cat "$work/err")"
        return 1
    fi
    if grep -q "$canary" "$work/err"; then
        not_ok "$desc: the canary is in stderr"
        return 1
    fi
    return 0
}
# expect_out DESC LINE...: every LINE is a line of $work/out
expect_out() {
    local desc=$1 line
    shift
    for line in "$@"; do
        if ! grep -qxF -- "$line" "$work/out"; then
            not_ok "$desc: no line $line" "$(cat "$work/out" "$work/err")"
            return 1
        fi
    done
    ok "$desc"
}

# the image holds the binary stripped (make install-strip): so does the root
cp "$envinject" "$work/envinject"
command -v strip >/dev/null && strip "$work/envinject"
if sh "$top_srcdir/contrib/docker/rootfs.sh" "$root" "$work/envinject" 2>"$work/err"; then
    ok "contrib/docker/rootfs.sh assembles the root"
else
    not_ok "contrib/docker/rootfs.sh failed" "$(cat "$work/err")"
    echo "1..$n"
    exit 1
fi
# the size of the image: the root before any test input is added
size=$(du -sk "$root" | cut -f1)
echo "# image size (du -sk of the root): ${size} KiB"
# nothing but the binary, libraries, loader, CA bundle, nsswitch.conf, /tmp
extra=$(cd "$root" && find . ! -type d | grep -Ev \
    '^\./(envinject|lib(64)?/.*\.so[.0-9]*|usr/lib(64)?/.*\.so[.0-9]*|etc/ssl/certs/ca-certificates\.crt|etc/nsswitch\.conf)$')
if [ -z "$extra" ] && [ -d "$root/tmp" ] && [ ! -e "$root/bin" ]; then
    ok "the root holds envinject, its libraries, the loader, CAs, nsswitch.conf and /tmp only"
else
    not_ok "unexpected files in the root" "$extra"
fi

# -v: --version loads libcurl only then
if in_root "-v --version" 0 -- -v --version &&
    grep -q '^providers: .*etcd.*vault.*http' "$work/out" &&
    ! grep -q '^libcurl not loaded' "$work/out"; then
    ok "-v --version runs in the root with every provider and libcurl"
else
    [ -s "$work/out" ] && not_ok "--version lacks providers" "$(cat "$work/out")"
fi

# --- local providers: the bundled example (file, sealed, env) and dir
mkdir -p "$root/t"
cp -r "$top_srcdir/contrib/example" "$root/t/example"
chmod 600 "$root"/t/example/keys/[0-9a-f]*
if in_root "example: file, sealed, env" 0 ENVINJECT_CONFIG=/t/example/envinject.conf \
    APP_FROM_ENV=yes -- run -- /envinject --layer env print --reveal --format dotenv; then
    expect_out "example: file, sealed and env layers reach the program" \
        "DATABASE_PASSWORD=dev-db-password-demo" "APP_NAME=shop" \
        "APP_FROM_ENV=yes" "STRIPE_API_KEY=sk_test_demo_0000000000000000"
fi
mkdir -m 700 "$root/t/creds"
printf '%s' "$canary" >"$root/t/creds/DB_PASSWORD"
printf 'x' >"$root/t/creds/API_TOKEN"
chmod 600 "$root"/t/creds/*
if in_root "dir layer" 0 -- --layer dir:/t/creds run -- /envinject --layer env print --reveal --format dotenv; then
    expect_out "dir: a folder of credentials reaches the program" \
        "DB_PASSWORD=$canary" "API_TOKEN=x"
fi
mkdir "$root/t/dotenvx"
cp "$top_srcdir"/tests/fixtures/dotenvx/{.env.production,.env.keys} "$root/t/dotenvx/"
chmod 600 "$root/t/dotenvx/.env.keys"
if in_root "dotenvx" 0 -- --layer file:/t/dotenvx/.env.production print --reveal --format dotenv; then
    expect_out "dotenvx: encrypted values decrypted with libcrypto from the root" \
        "DB_PASSWORD=prod-pass-123" "API_KEY='sk_live_abc\$def'" "HELLO=production"
fi

# --- remote providers against fakes on loopback
seed() { sed "s/@CANARY@/$canary/g" "$top_srcdir/tests/integration/seeds/$1" >"$work/$1"; }
if ! command -v python3 >/dev/null; then
    skip "http: no python3"
    skip "vault: no python3"
    skip "azure-keyvault over https: no python3"
    skip "azure-keyvault: a wrong CA: no python3"
else
    seed http-main.json
    if fake_start http "$work/http-main.json" "$work/http.log"; then
        if in_root "http" 0 -- --layer "http:http://127.0.0.1:$port/myapp/prod/settings.json" \
            run -- /envinject --layer env print --format dotenv; then
            expect_out "http: a JSON document over plain http" "DB_HOST=db.prod" "DB_PORT=5432"
        fi
    else
        not_ok "http fake did not start" "$(cat "$work/fake.err")"
    fi
    seed vault-main.json
    if fake_start vault "$work/vault-main.json" "$work/vault.log"; then
        if in_root "vault" 0 VAULT_ADDR="http://127.0.0.1:$port" VAULT_TOKEN="hvs.root-$canary" \
            -- --layer vault:secret/app/prod print --reveal --format dotenv; then
            expect_out "vault: KV v2 over plain http" "PASSWORD=$canary" "DB_USER=app"
        fi
    else
        not_ok "vault fake did not start" "$(cat "$work/fake.err")"
    fi
    seed azure-main.json
    mkdir "$root/t/tls"
    cp "$top_srcdir/tests/fakes/azure-tls/ca.pem" "$root/t/tls/ca.pem"
    if fake_start azure "$work/azure-main.json" "$work/azure.log"; then
        az=(AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47
            AZURE_CLIENT_ID=0f4d5e6a-app "AZURE_CLIENT_SECRET=cs~$canary"
            "AZURE_AUTHORITY_HOST=https://login.localhost:$port")
        v="azure-keyvault:https://myvault.vault.azure.net.localhost:$port"
        if in_root "azure-keyvault" 0 "${az[@]}" -- --layer "$v,cacert=/t/tls/ca.pem" \
            print --reveal --format dotenv; then
            expect_out "azure-keyvault: over https (OpenSSL from the root), the test CA" \
                "DB_PASSWORD=$canary" "LOG_LEVEL=info"
        fi
        # the system's CAs (the root's bundle) do not sign the test server
        if in_root "azure-keyvault, system CAs" 77 "${az[@]}" -- --layer "$v" print; then
            ok "azure-keyvault: the root's CA bundle is used and refuses the test server (77)"
        fi
    else
        not_ok "azure fake did not start" "$(cat "$work/fake.err")"
    fi
    fake_stop
fi

# --- etcd: a real node, plain http then https with the test CA
etcd_case() { # etcd_case SCHEME LAYER_OPTIONS
    if ! start_cluster r 1 "$1" "${@:3}"; then
        not_ok "etcd ($1) did not start"
        return
    fi
    if ! ctl put /app/prod/db/host "db-$1" >/dev/null ||
        ! ctl put /app/prod/db/password "$canary" >/dev/null; then
        not_ok "etcdctl put failed"
    fi
    if in_root "etcd $1" 0 -- --layer "etcd:${urls[0]},prefix=/app/prod/$2" \
        run -- /envinject --layer env print --reveal --format dotenv; then
        expect_out "etcd: a real node over $1" "DB_HOST=db-$1" "DB_PASSWORD=$canary"
    fi
    stop_all_members
}
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    skip "etcd over http: no etcd"
    skip "etcd over https: no etcd"
else
    etcd_case http ""
    tlsd=$top_srcdir/tests/fakes/azure-tls
    tls_curl=(--cacert "$tlsd/ca.pem")
    ctl() {
        etcdctl --endpoints="${urls[0]}" --cacert="$tlsd/ca.pem" \
            --command-timeout=30s "$@"
    }
    etcd_case https ",cacert=/t/tls/ca.pem" \
        --cert-file "$tlsd/server.pem" --key-file "$tlsd/server.key"
fi
echo "1..$n"
