#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP test of the etcd provider against real etcd servers on free loopback
# ports.  First the case folders cases/55N-etcd-* (a single node, server
# "etcd main") and cases/56N-etcd-* (a node with users, "etcd auth"), run
# by run-cases.sh --server etcd, their results numbered on here.  Then
# what needs a script and stays here: a three-member cluster whose members
# are frozen (SIGSTOP) and stopped one by one, each check depending on the
# state the one before left, and a node with TLS client certificates made
# at run time by a CA made here.
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
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$here/../..}" && pwd)
# absolute, for run-cases.sh: this script changes folders before it runs it
# (make passes them relative, as distcheck's ../.. shows)
export top_srcdir top_builddir
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

cd "$work" || exit 99

# ---------------------------------------------------------------------------
# The case folders: the single node (data, key mapping, environments,
# origins, pagination, option errors) and the node with users.

planned=
ran=0
while IFS= read -r line; do
    if [[ $line =~ ^1\.\.([0-9]+) ]]; then
        planned=${BASH_REMATCH[1]}
    elif [[ $line =~ ^(not ok|ok)\ [0-9]+(.*)$ ]]; then
        tests=$((tests + 1))
        ran=$((ran + 1))
        echo "${BASH_REMATCH[1]} $tests${BASH_REMATCH[2]}"
    else
        printf '%s\n' "$line"
    fi
done < <("$here/run-cases.sh" --server etcd)
# a runner that died half-way ran fewer cases than it planned
[ "$planned" = "$ran" ] || not_ok "run-cases.sh --server etcd: ran $ran of ${planned:-no} cases"

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
# run --watch on three members, a JSON gateway's watch stream and a gRPC
# one side by side (nothing polled: poll_interval is a day): the member
# the streams are on stopped, a change still comes (the streams moved to
# another member) and restarts each program once; all members down, the
# programs keep running while the streams are asked for again; back
# (restarted on their data), a change restarts them.

. "$here/caselib.sh"
# all_watchers TEXT FILE_PATTERN: every watcher's FILE (% is the API)
# has a line matching TEXT
all_watchers() {
    local api
    for api in json grpc; do
        wait_for "${2//%/$api}" "$1" || return 1
    done
}
# starts N: every watcher's program started exactly N times
starts() {
    local api
    for api in json grpc; do
        [ "$(grep -c start "$work/wlog.$api")" -eq "$1" ] || return 1
    done
}
if start_cluster w 3 http; then
    ok "watch: three-member cluster started"
    m=("${urls[@]}")
    eps="endpoints=${m[0]},endpoints=${m[1]},endpoints=${m[2]}"
    ctl put /wsvc/prod/level one >/dev/null 2>&1
    cat >"$work/wprog" <<'P'
trap 'exit 0' TERM
echo "start LEVEL=$LEVEL" >> "$WLOG"
while :; do sleep 0.05; done
P
    declare -A wpid=()
    for api in json grpc; do
        : >"$work/wlog.$api"
        WLOG=$work/wlog.$api "${ei[@]}" -vv --layer \
            "etcd,$eps,prefix=/wsvc/prod/,api=$api,poll_interval=86400000,timeout=2000" \
            run --watch -- sh "$work/wprog" 2>"$work/werr.$api" &
        wpid[$api]=$!
    done
    check "watch: the programs start, the streams are open" \
        eval 'all_watchers "start LEVEL=one" "$work/wlog.%" &&
              all_watchers "watched: the service tells of changes" "$work/werr.%"'
    stop_member w1
    ctl put /wsvc/prod/level two >/dev/null 2>&1
    check "watch: first member stopped: the change comes through another" \
        eval 'all_watchers "start LEVEL=two" "$work/wlog.%" && starts 2'
    stop_member w2
    stop_member w3
    check "watch: every member down: the programs keep running, the streams are asked for again" \
        eval 'all_watchers "watching: .*asking again in" "$work/werr.%" &&
              kill -0 ${wpid[json]} && kill -0 ${wpid[grpc]} && starts 2'
    for i in 1 2 3; do restart_member "w$i"; done
    for i in 1 2 3; do
        wait_ready "w$i" "${m[i - 1]}" || not_ok "watch: member w$i back"
    done
    ctl put /wsvc/prod/level three >/dev/null 2>&1
    check "watch: members back: the change restarts the programs" \
        all_watchers "start LEVEL=three" "$work/wlog.%"
    for api in json grpc; do
        kill -TERM "${wpid[$api]}"
        wait "${wpid[$api]}"
        wrc=$?
        check "watch: $api: TERM ends the program and envinject with status 0" \
            eval '[ $wrc -eq 0 ] && [ "$(grep -c start "$work/wlog.$api")" -eq 3 ]'
    done
    stop_all_members
else
    not_ok "watch: three-member cluster started" "$work"/w*.failed-*.log
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
        # a watch over TLS: the gRPC stream with the client certificate
        cat >"$work/tprog" <<'P'
trap 'exit 0' TERM
echo "start DB_HOST=$DB_HOST" >> "$TLOG"
while :; do sleep 0.05; done
P
        : >"$work/tlog"
        TLOG=$work/tlog "${ei[@]}" -vv --layer \
            "etcd:$t,prefix=/app/tls/,$files,api=grpc,poll_interval=86400000" \
            run --watch -- sh "$work/tprog" 2>"$work/terr" &
        tpid=$!
        wait_for "$work/tlog" "start DB_HOST=db.tls" >/dev/null &&
            wait_for "$work/terr" "watched: the service tells of changes" >/dev/null
        ctl --cacert "$tls/ca.crt" --cert "$tls/client.crt" \
            --key "$tls/client.key" put /app/tls/db/host db2.tls >/dev/null 2>&1
        check "gRPC over TLS: a watch stream brings the change" \
            eval 'wait_for "$work/tlog" "start DB_HOST=db2.tls" &&
                  grep -q "Watch/Watch -> 200" "$work/terr"'
        kill -TERM $tpid
        wait $tpid
        stop_member t1
    else
        not_ok "TLS node started" "$work"/t*.failed-*.log
    fi
else
    not_ok "test CA, server and client certificates made with openssl"
fi

echo "1..$tests"
