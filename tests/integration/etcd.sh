#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP test of the etcd provider against real etcd servers that it starts on
# free loopback ports (a single node, a three-member cluster, a node with
# users and one with TLS client certificates) and stops on exit.
#
# Needs etcd and etcdctl (Debian etcd-server, etcd-client), openssl and
# curl; skips when etcd is missing.  Under $VALGRIND every envinject run
# goes through valgrind, and the timing checks get a wider margin.
#
# Checks are written in single quotes on purpose: eval runs them later
# (so shellcheck also misses the variables they use).
# shellcheck disable=SC2016,SC2034
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top_builddir=$(cd "${top_builddir:-$here/../..}" && pwd)
envinject=$top_builddir/envinject

if ! command -v etcd >/dev/null 2>&1; then
    echo "1..0 # SKIP etcd not installed"
    exit 0
fi
for tool in etcdctl openssl curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "1..0 # SKIP $tool not installed"
        exit 0
    fi
done
if [ ! -x "$envinject" ]; then
    echo "Bail out! $envinject is not built"
    exit 99
fi

vg_args='--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no -q'
ei=("$envinject")
# how much later than its timeout a run that cannot reach etcd may end
margin_ms=1500
if [ -n "${VALGRIND:-}" ]; then
    # shellcheck disable=SC2206 # the option list is split on purpose
    ei=(valgrind $vg_args "$envinject")
    margin_ms=20000
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-etcd.XXXXXX")
# shellcheck source=serverlib.sh
. "$here/serverlib.sh"

cleanup() {
    stop_all_members
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- TAP ---

tests=0
ok() {
    tests=$((tests + 1))
    echo "ok $tests - $1"
}
# not_ok DESCRIPTION [FILE]...: the files (output of the run) as diagnostics
not_ok() {
    tests=$((tests + 1))
    echo "not ok $tests - $1"
    shift
    local f
    for f in "$@"; do
        [ -s "$f" ] && head -n 20 "$f" | sed "s|^|# $(basename "$f"): |"
    done
}
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() {
    local d=$1
    shift
    if "$@"; then
        ok "$d"
    else
        not_ok "$d" "$work/out" "$work/err"
    fi
}

# load_bulk PREFIX N: N keys PREFIXbulk/kNNNN with UTF-8 values, in
# transactions of 1000 puts (etcd started with --max-txn-ops 10000)
load_bulk() {
    local prefix=$1 n=$2 from
    for ((from = 1; from <= n; from += 1000)); do
        awk -v p="$prefix" -v a="$from" -v n="$n" 'BEGIN {
            print ""
            for (i = a; i < a + 1000 && i <= n; i++)
                printf "put %sbulk/k%04d \"värde %d ✓ – ñ 日本 \\\"q\\\"\"\n", p, i, i
            print ""
            print ""
        }' | ctl txn -i=false >"$work/ctl.out" 2>&1 || return 1
        grep -q SUCCESS "$work/ctl.out" || return 1
    done
}

# expected dotenv lines of load_bulk (single-quoted: no ' and no CR inside)
expect_bulk() {
    local n=$1
    awk -v n="$n" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "BULK_K%04d='"'"'värde %d ✓ – ñ 日本 \"q\"'"'"'\n", i, i
    }'
}

# run_ei ARG...: envinject with its output in $work/out, $work/err
rc=0
run_ei() {
    "${ei[@]}" "$@" >"$work/out" 2>"$work/err"
    rc=$?
}

# run_timed ARG...: as run_ei, with the elapsed milliseconds in $elapsed_ms
elapsed_ms=0
run_timed() {
    local t0 t1
    t0=$(date +%s%N)
    run_ei "$@"
    t1=$(date +%s%N)
    elapsed_ms=$(((t1 - t0) / 1000000))
}

out_is() {
    printf '%s\n' "$1" | cmp -s - "$work/out"
}
err_has() {
    grep -q -- "$1" "$work/err"
}
rc_is() {
    [ "$rc" -eq "$1" ]
}

mod_revision() {
    ctl get "$1" -w json | sed -n 's/.*"mod_revision":\([0-9]*\).*/\1/p'
}

cd "$work" || exit 99
bulk_n=3000

# ---------------------------------------------------------------------------
# A single node: data, key mapping, environments, origins, pagination.

if start_cluster s 1 http; then
    ok "single node started"
    single=${urls[0]}
    loaded=true
    load_bulk /app/prod/ "$bulk_n" || loaded=false
    {
        ctl put /app/prod/db/host db.prod.internal &&
            ctl put /app/prod/db/port 5432 &&
            ctl put /app/prod/ 'the prefix itself' &&
            ctl put /app/prod//feature.flags//new-checkout on &&
            ctl put -- /app/prod/database/url 'postgres://${DB_HOST}:${DB_PORT}/app' &&
            ctl put -- /app/prod/cmd 'echo $(id) `id`' &&
            printf 'line1\nline2 ✓\n\n' | ctl put /app/prod/multi &&
            ctl put /app/prod0 outside-after &&
            ctl put /app/production/db/host outside-sibling &&
            ctl put /app/dev/db/host db.dev.internal &&
            ctl put /app/dev/only/dev yes &&
            ctl put /app/prof/db/host outside-before
    } >"$work/ctl.out" 2>&1 || loaded=false
    check "data loaded with etcdctl" $loaded

    run_ei --layer "etcd:$single,prefix=/app/prod/" print --format dotenv
    check "prod prefix resolves" rc_is 0
    grep '^BULK_' "$work/out" >"$work/bulk.got"
    expect_bulk "$bulk_n" >"$work/bulk.want"
    check "$bulk_n UTF-8 keys come back byte for byte" \
        cmp -s "$work/bulk.want" "$work/bulk.got"
    check "$((bulk_n + 6)) keys, nothing from outside the prefix" \
        test "$(grep -c '^[A-Z_][A-Z0-9_]*=' "$work/out")" -eq $((bulk_n + 6))
    check "no key from a sibling prefix or the prefix itself" \
        eval "! grep -q -e outside -e 'prefix itself' '$work/out'"

    run_ei --layer "etcd:$single,prefix=/app/prod/" get MULTI
    printf 'line1\nline2 ✓\n\n\n' >"$work/want"
    check "multi-line value" cmp -s "$work/want" "$work/out"
    run_ei --layer "etcd:$single,prefix=/app/prod/" get FEATURE_FLAGS_NEW_CHECKOUT
    check "empty path segments are skipped in the key" out_is on
    run_ei --layer "etcd:$single,prefix=/app/prod/" get DATABASE_URL
    check "values are interpolated" out_is "postgres://db.prod.internal:5432/app"
    run_ei --layer "etcd:$single,prefix=/app/prod/" get CMD
    # shellcheck disable=SC2016 # the value is literal text
    check "no command substitution" out_is 'echo $(id) `id`'

    # not in the working directory, where every other run would read it
    mkdir -p "$work/conf"
    cat >"$work/conf/envinject.conf" <<EOF
environments = ["dev", "prod"];
layers = (
  { name = "service"; provider = "etcd"; endpoints = ["$single"];
    prefix = "/app/\${env}/"; }
);
EOF
    run_ei -c "$work/conf/envinject.conf" -e dev print --format dotenv
    check "dev environment under its own prefix" \
        out_is "$(printf 'DB_HOST=db.dev.internal\nONLY_DEV=yes')"
    run_ei -c "$work/conf/envinject.conf" -e prod get DB_HOST
    check "prod environment under its own prefix" out_is db.prod.internal

    rev=$(mod_revision /app/prod/db/host)
    run_ei -c "$work/conf/envinject.conf" -e prod explain DB_HOST
    check "origin names the key, its mod_revision and the member" \
        grep -q -F "/app/prod/db/host@$rev ($single)" "$work/out"

    run_ei --layer "etcd:$single,prefix=/app/prod/,page_size=7" print \
        --format dotenv
    cp "$work/out" "$work/paged"
    run_ei --layer "etcd:$single,prefix=/app/prod/" print --format dotenv
    check "pages of 7 keys give the same result" cmp -s "$work/paged" "$work/out"

    run_ei --layer "etcd:$single,prefix=/app/prod/,serializable=true" get DB_HOST
    check "serializable read" out_is db.prod.internal

    # native gRPC: the same keys, values, pages and origins as the gateway
    run_ei --layer "etcd:$single,prefix=/app/prod/,api=grpc" print \
        --format dotenv
    check "gRPC: the same $((bulk_n + 6)) keys as the JSON gateway" \
        eval 'rc_is 0 && cmp -s "$work/paged" "$work/out"'
    run_ei --layer "etcd:$single,prefix=/app/prod/,api=grpc,page_size=7" \
        print --format dotenv
    check "gRPC: pages of 7 keys give the same result" \
        cmp -s "$work/paged" "$work/out"
    run_ei --layer "etcd:$single,prefix=/app/prod/,api=grpc,serializable=true" \
        explain DB_HOST
    check "gRPC: origin names the key, its mod_revision and the member" \
        grep -q -F "/app/prod/db/host@$rev ($single)" "$work/out"
    run_ei -v --layer "etcd:$single,prefix=/nothing/here/,api=grpc" print
    check "gRPC: a prefix without keys is an empty layer" \
        eval 'rc_is 0 && [ ! -s "$work/out" ] && err_has empty'
    run_ei --layer "etcd:$single,prefix=/app/,api=rest" print
    check "an unknown api is a configuration error (78)" \
        eval 'rc_is 78 && err_has "api must be"'

    run_ei -v --layer "etcd:$single,prefix=/nothing/here/" print --format dotenv
    check "a prefix without keys is an empty layer" \
        eval 'rc_is 0 && [ ! -s "$work/out" ] && err_has empty'
    run_ei --layer "etcd:$single,prefix=/nothing/here/" print --format dotenv
    check "an empty layer says nothing without -v" \
        eval 'rc_is 0 && [ ! -s "$work/err" ]'

    run_ei --layer "etcd:127.0.0.1:2379,prefix=/app/" print
    check "an endpoint without a scheme is a configuration error (78)" \
        eval 'rc_is 78 && err_has scheme'
    run_ei --layer "etcd:$single,prefix=/app/,username=u,password=hunter2" print
    check "a password in clear is refused (78)" \
        eval 'rc_is 78 && err_has password_file && ! err_has hunter2'
    run_ei --layer "etcd:$single" print
    check "prefix is required (78)" eval 'rc_is 78 && err_has prefix'

    # the peer port answers HTTP, but is no v3 gateway
    run_ei --layer "etcd:${peers[0]},prefix=/app/" print
    check "a server that is no etcd gateway is malformed data (65)" \
        eval 'rc_is 65 && err_has gateway'
    stop_member s1
else
    not_ok "single node started" "$work"/s1.failed-*.log
fi

# ---------------------------------------------------------------------------
# Three members: fail-over (a member frozen, then stopped), serializable
# reads without quorum, all down.

if start_cluster c 3 http; then
    ok "three-member cluster started"
    m=("${urls[@]}")
    # no ARG: a name given several times makes the list
    eps="endpoints=${m[0]},endpoints=${m[1]},endpoints=${m[2]}"
    ctl put /svc/prod/db/host db.cluster >/dev/null 2>&1 &&
        ctl put /svc/prod/db/port 5433 >/dev/null 2>&1
    run_ei --layer "etcd,$eps,prefix=/svc/prod/" print --format dotenv
    check "all members up" \
        out_is "$(printf 'DB_HOST=db.cluster\nDB_PORT=5433')"

    # A frozen member still takes connections and requests (its kernel
    # does), and never answers: it must cost its share of the timeout
    # (12000 / 4 ms), not all of it.  The cluster may have to elect a new
    # leader meanwhile, hence the generous timeout; what is checked is who
    # answered and that the frozen one was given up on, not how fast.
    kill -STOP "${pid_of[c1]}"
    for api in json grpc; do
        run_ei -v --layer "etcd,$eps,prefix=/svc/prod/,api=$api,timeout=12000" \
            explain DB_HOST
        check "$api: first member frozen (SIGSTOP): given up on, the next answers" \
            eval 'rc_is 0 && grep -q -F "(${m[1]})" "$work/out" &&
                  err_has "${m[0]#http://} /[a-zA-Z0-9./]*[Rr]ange -> no answer within 3000 ms"'
    done
    kill -STOP "${pid_of[c2]}" "${pid_of[c3]}"
    run_ei --layer "etcd,$eps,prefix=/svc/prod/,timeout=2000" get DB_HOST
    check "every member frozen: 69, naming what each did" \
        eval 'rc_is 69 &&
              err_has "(${m[0]#http://}: no answer within 500 ms; ${m[1]#http://}: no answer within 500 ms; ${m[2]#http://}: no answer before the deadline)"'
    kill -CONT "${pid_of[c1]}" "${pid_of[c2]}" "${pid_of[c3]}"
    for i in 1 2 3; do
        wait_ready "c$i" "${m[i - 1]}" || not_ok "member c$i back after SIGCONT"
    done

    stop_member c1
    run_ei --layer "etcd,$eps,prefix=/svc/prod/" explain DB_HOST
    check "first member stopped: the next one answers" \
        eval 'rc_is 0 && grep -q -F "(${m[1]})" "$work/out"'
    run_ei --layer "etcd:${m[0]}\\,${m[1]}\\,${m[2]},prefix=/svc/prod/" get DB_PORT
    check "endpoints as one comma-separated string" out_is 5433
    run_ei --layer "etcd,$eps,prefix=/svc/prod/,api=grpc" explain DB_HOST
    check "gRPC: first member stopped: the next one answers" \
        eval 'rc_is 0 && grep -q -F "(${m[1]})" "$work/out"'

    stop_member c2
    run_ei --layer "etcd,$eps,prefix=/svc/prod/,serializable=true,timeout=20000" \
        get DB_HOST
    check "no quorum: a serializable read still answers" out_is db.cluster
    run_timed --layer "etcd,$eps,prefix=/svc/prod/,timeout=1500" get DB_HOST
    check "no quorum: a linearizable read is unavailable (69)" rc_is 69

    run_timed --layer "etcd,$eps,prefix=/svc/prod/,api=grpc,timeout=1500" \
        get DB_HOST
    check "gRPC: no quorum: a linearizable read is unavailable (69)" rc_is 69

    stop_member c3
    run_timed --layer "etcd,$eps,prefix=/svc/prod/,timeout=1000" print
    check "all members stopped: exit 69" rc_is 69
    run_timed --layer "etcd,$eps,prefix=/svc/prod/,api=grpc,timeout=1000" print
    check "gRPC: all members stopped: exit 69 within the timeout and a margin" \
        eval 'rc_is 69 && [ "$elapsed_ms" -le $((1000 + margin_ms)) ]'
    check "all members stopped: within the timeout and a margin" \
        eval 'rc_is 69 && [ "$elapsed_ms" -le $((1000 + margin_ms)) ]'
    check "all members stopped: the message names the layer and endpoints" \
        eval 'err_has "^envinject: etcd (" && err_has "${m[2]}"'
    # an env layer that selects nothing: the caller's environment (make's
    # MAKEOVERRIDES holds '${') is not what this checks
    run_ei --layer "etcd,$eps,prefix=/svc/prod/,timeout=1000,optional=true" \
        --layer env:EI_SELECTS_NOTHING_ print --format dotenv
    check "all members stopped: an optional layer is skipped" \
        eval 'rc_is 0 && [ "$(wc -l <"$work/err")" -eq 1 ] && err_has warning'
else
    not_ok "three-member cluster started" "$work"/c*.failed-*.log
fi

# ---------------------------------------------------------------------------
# Users: a reader with a role on /app/prod/ only.

pw='s3cret pass ✓'
if start_cluster a 1 http; then
    ok "node for authentication started"
    auth=${urls[0]}
    {
        ctl put /app/prod/db/host db.auth &&
            ctl put /app/dev/db/host db.auth.dev &&
            ctl user add root --new-user-password=rootpw --interactive=false &&
            ctl user add reader --new-user-password="$pw" --interactive=false &&
            ctl role add appread &&
            ctl role grant-permission --prefix=true appread read /app/prod/ &&
            ctl user grant-role reader appread &&
            ctl auth enable
    } >"$work/ctl.out" 2>&1
    check "users, role and auth enabled with etcdctl" test $? -eq 0

    printf '%s\n' "$pw" >"$work/pw"
    chmod 600 "$work/pw"
    base="etcd:$auth,prefix=/app/prod/,username=reader"
    run_ei --layer "$base,password_file=$work/pw" get DB_HOST
    check "right password from password_file" out_is db.auth
    EI_ETCD_PW=$pw run_ei --layer "$base,password_env=EI_ETCD_PW" get DB_HOST
    check "right password from password_env" out_is db.auth

    printf 'not-the-pw\n' >"$work/pw.bad"
    chmod 600 "$work/pw.bad"
    run_ei --layer "$base,password_file=$work/pw.bad" get DB_HOST
    check "wrong password: exit 77 naming the user" \
        eval 'rc_is 77 && err_has reader && ! err_has not-the-pw'
    EI_ETCD_PW=$pw run_ei --layer \
        "etcd:$auth,prefix=/app/dev/,username=reader,password_env=EI_ETCD_PW" \
        print
    check "prefix outside the role: exit 77" rc_is 77
    check "the password never shows" eval '! grep -q -F "$pw" "$work/err"'
    run_ei --layer "etcd:$auth,prefix=/app/prod/" print
    check "no user with auth enabled: exit 77" rc_is 77
    run_ei --layer "$base,password_file=$work/pw,api=grpc" get DB_HOST
    check "gRPC: right password" out_is db.auth
    run_ei --layer "$base,password_file=$work/pw.bad,api=grpc" get DB_HOST
    check "gRPC: wrong password: exit 77 naming the user" \
        eval 'rc_is 77 && err_has reader && ! err_has not-the-pw'
    EI_ETCD_PW=$pw run_ei --layer \
        "etcd:$auth,prefix=/app/dev/,username=reader,password_env=EI_ETCD_PW,api=grpc" \
        print
    check "gRPC: prefix outside the role: exit 77" \
        eval 'rc_is 77 && ! grep -q -F "$pw" "$work/err"'
    run_ei --layer "etcd:$auth,prefix=/app/prod/,api=grpc" print
    check "gRPC: no user with auth enabled: exit 77" rc_is 77
    chmod 644 "$work/pw"
    run_ei --layer "$base,password_file=$work/pw" print
    check "a password file others may read is refused (77)" \
        eval 'rc_is 77 && err_has chmod'
    stop_member a1
else
    not_ok "node for authentication started" "$work"/a*.failed-*.log
fi

# ---------------------------------------------------------------------------
# TLS with client certificates, from a CA made here.

tls=$work/tls
mkdir -p "$tls"
mkcert() { # mkcert NAME CA_NAME SAN: key and certificate signed by CA_NAME
    local name=$1 ca=$2 san=$3
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tls/$name.key" -subj "/O=envinject test/OU=$name" \
        -out "$tls/$name.csr" 2>/dev/null &&
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' \
            "$san" >"$tls/$name.ext" &&
        openssl x509 -req -in "$tls/$name.csr" -CA "$tls/$ca.crt" \
            -CAkey "$tls/$ca.key" -CAcreateserial -days 2 \
            -extfile "$tls/$name.ext" -out "$tls/$name.crt" 2>/dev/null
}
mkca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tls/$1.key" -subj "/CN=envinject test $1" -days 2 \
        -out "$tls/$1.crt" 2>/dev/null
}
if mkca ca && mkca otherca && mkcert server ca IP:127.0.0.1 &&
    mkcert client ca DNS:client.invalid; then
    ok "test CA, server and client certificates made with openssl"
    chmod 600 "$tls"/*.key
    tls_curl=(--cacert "$tls/ca.crt" --cert "$tls/client.crt" --key "$tls/client.key")
    if start_cluster t 1 https --cert-file "$tls/server.crt" \
        --key-file "$tls/server.key" --trusted-ca-file "$tls/ca.crt" \
        --client-cert-auth; then
        ok "TLS node started"
        t=${urls[0]}
        ctl --cacert "$tls/ca.crt" --cert "$tls/client.crt" \
            --key "$tls/client.key" put /app/tls/db/host db.tls >/dev/null 2>&1
        files="cacert=$tls/ca.crt,cert=$tls/client.crt,key=$tls/client.key"
        run_ei --layer "etcd:$t,prefix=/app/tls/,$files" get DB_HOST
        check "TLS with a client certificate" out_is db.tls
        run_ei --layer "etcd:$t,prefix=/app/tls/,$files,api=grpc" get DB_HOST
        check "gRPC over TLS (HTTP/2 by ALPN) with a client certificate" \
            out_is db.tls
        run_ei --layer "etcd:$t,prefix=/app/tls/,cacert=$tls/otherca.crt,cert=$tls/client.crt,key=$tls/client.key,api=grpc" get DB_HOST
        check "gRPC: a wrong CA fails closed (77)" \
            eval 'rc_is 77 && [ ! -s "$work/out" ]'
        run_ei --layer "etcd:$t,prefix=/app/tls/,cacert=$tls/otherca.crt,cert=$tls/client.crt,key=$tls/client.key" get DB_HOST
        check "a wrong CA fails closed (77)" \
            eval 'rc_is 77 && [ ! -s "$work/out" ]'
        # a refused handshake is a member that does not answer
        run_ei --layer "etcd:$t,prefix=/app/tls/,cacert=$tls/ca.crt,timeout=1000" get DB_HOST
        check "no client certificate fails closed (69)" \
            eval 'rc_is 69 && [ ! -s "$work/out" ]'
        run_ei --layer "etcd:${t/https/http},prefix=/app/tls/,timeout=1000" get DB_HOST
        check "plain http to a TLS member fails (69)" \
            eval 'rc_is 69 && [ ! -s "$work/out" ]'
        stop_member t1
    else
        not_ok "TLS node started" "$work"/t*.failed-*.log
    fi
else
    not_ok "test CA, server and client certificates made with openssl"
fi

echo "1..$tests"
