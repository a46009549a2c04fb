#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs the data-driven cases under tests/integration/cases as TAP, one test
# per directory; usage: run-cases.sh [--server NAME] [CASE_NAME...]: the
# cases named, else those of server NAME, else the local cases (no server).
#
# A case directory holds:
#   cmd                  shell text run with sh -c in a fresh copy of the
#                        directory (the working directory), environment
#                        emptied but PATH=/usr/bin:/bin, HOME and `env`
#   env                  optional KEY=VALUE lines added to that environment
#   stdin                optional, fed to the command (else /dev/null)
#   expect.status        exit status, default 0
#   expect.stdout        exact output; or expect.stdout.re: one extended
#   expect.stderr        regex per line, each matching a line of the
#                        output, in order (same for stderr)
#   expect.probe         lines that must each be a line of probe.out, the
#                        report the probe writes when PROBE_OUT names it
#   skip-if-missing      commands; the case is skipped when one is missing
#   skip-unless-root     present: the case is skipped unless run as root
#                        (it reads another process's memory)
#   skip-if-sanitized    present: the case is skipped when envinject is
#                        built with AddressSanitizer (it preloads a library,
#                        which ASan's interceptors do not survive)
#   skip-under-valgrind  present: the case is skipped when $VALGRIND is set
#                        (valgrind writes cores of its own)
#   skip-unless-cores    present: the case is skipped unless the kernel
#                        writes a core file into the working directory of an
#                        ordinary process that aborts (core_pattern "core"
#                        or "core.%p"-like, ulimit -c allowed to rise)
# Placeholders replaced in cmd and every copied text file: @ENVINJECT@
# (under valgrind when $VALGRIND is set), @PROBE@, @CASEDIR@, @CANARY@,
# @CANARY_B64@ (base64 of the canary and the bytes 1 and 2), @PORT@ (a
# free loopback port where nothing listens), @HUNG_PORT@ (a loopback port
# that takes connections and never answers), @SRCDIR@.
#
# A remote case also has:
#   server               "NAME SEED" (skipped when envinject has no
#                        provider whose name starts with NAME): the fake tests/fakes/NAME_fake.py on
#                        the scenario seeds/NAME-SEED.json, or "etcd SEED":
#                        a real single etcd node on free loopback ports,
#                        loaded by the bash script seeds/etcd-SEED.sh (run
#                        with its URL in ETCDCTL_ENDPOINTS; etcd allows
#                        10,000 operations a transaction).
#                        Consecutive cases with the same line share one
#                        server, started before the first and stopped after
#                        the last: a fault with a count is used up by the
#                        first case that meets it.  Placeholders @SERVER@
#                        (its URL), @SERVER_PORT@, @SERVER_PEER@ (etcd's
#                        peer URL, which is no client gateway); the seed
#                        (scenario or script) has @CANARY@ and
#                        @CANARY_B64@ replaced too.
#   expect.log           lines "N EXPR" or ">=N EXPR": N requests of the
#                        fake's log for this case (each a JSON object e,
#                        its headers h) make the Python expression EXPR true
#   expect.time          lines "min MS" and "max MS": the command took at
#                        least MS, or at most MS plus a margin for a loaded
#                        machine (1.5 s, 20 s under valgrind)
#
# The canary @CANARY@ (EI_CANARY_ and 32 random hex digits) must never be in
# stderr, nor in stdout unless the expected stdout has it, nor in the argv
# of a probe report; when expect.probe has it, the probe must have seen it.
set -u
shopt -u patsub_replacement 2>/dev/null || true
# case order and regex classes must not depend on the caller's locale
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$here/../..}" && pwd)
envinject=$top_builddir/envinject
probe=$top_builddir/tests/helpers/probe
cases_dir=$top_srcdir/tests/integration/cases
vg_args='--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no -q'

# A case that hangs must not hang the suite; valgrind is ~50 times slower.
if [ -n "${VALGRIND:-}" ]; then
    case_timeout=${EI_CASE_TIMEOUT:-3000}
else
    case_timeout=${EI_CASE_TIMEOUT:-300}
fi

bail() {
    echo "Bail out! $*"
    exit 99
}

[ -x "$envinject" ] || bail "$envinject is not built"
[ -x "$probe" ] || bail "$probe is not built"
[ -d "$cases_dir" ] || bail "no case directory $cases_dir"

sub_envinject=$envinject
if [ -n "${VALGRIND:-}" ]; then
    vg=$(command -v valgrind) || bail "VALGRIND is set but valgrind is missing"
    sub_envinject="$vg $vg_args $envinject"
fi
canary=EI_CANARY_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ ${#canary} -eq 42 ] || bail "cannot make a canary from /dev/urandom"
canary_b64=$(printf '%s\001\002' "$canary" | base64 | tr -d '\n')
margin_ms=1500
[ -n "${VALGRIND:-}" ] && margin_ms=20000

# the servers of the remote cases, their logs and seeds
work=$(mktemp -d "${TMPDIR:-/tmp}/ei-cases.XXXXXX") || bail "mktemp failed"
# shellcheck source=serverlib.sh
. "$here/serverlib.sh"
casedir=
server_line=
server=
server_peer=
hung_pid=
hung_port=
cleanup() {
    server_stop
    [ -n "$hung_pid" ] && kill "$hung_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Placeholders of text $1 replaced; result in REPLY.
subst() {
    local s=$1
    s=${s//@ENVINJECT@/"$sub_envinject"}
    s=${s//@PROBE@/"$probe"}
    s=${s//@CASEDIR@/"$casedir"}
    s=${s//@CANARY@/"$canary"}
    s=${s//@SRCDIR@/"$top_srcdir"}
    s=${s//@PORT@/"$port"}
    s=${s//@CANARY_B64@/"$canary_b64"}
    s=${s//@SERVER@/"$server"}
    s=${s//@SERVER_PORT@/"${server##*:}"}
    s=${s//@SERVER_PEER@/"$server_peer"}
    s=${s//@HUNG_PORT@/"$hung_port"}
    REPLY=$s
}

# File $1 with placeholders replaced, written to $2 (may be $1: the
# redirection keeps the file's mode).
subst_file() {
    local text=
    IFS= read -r -d '' text <"$1"
    subst "$text"
    printf '%s' "$REPLY" >"$2"
}

diag() {
    sed 's/^/# /'
}

# Regex file $1 (one ERE per line) against output file $2, in order.
match_re() {
    local re_file=$1 out_file=$2 re i=0 found
    local -a lines
    mapfile -t lines <"$out_file"
    while IFS= read -r re || [ -n "$re" ]; do
        [ -n "$re" ] || continue
        found=
        while [ $i -lt ${#lines[@]} ]; do
            if [[ ${lines[$i]} =~ $re ]]; then
                found=1
                i=$((i + 1))
                break
            fi
            i=$((i + 1))
        done
        if [ -z "$found" ]; then
            echo "no line (in order) matches: $re"
            return 1
        fi
    done <"$re_file"
    return 0
}

server_stop() {
    fake_stop
    stop_all_members
    server_line=
    server=
    server_peer=
}

# server_start "NAME SEED": the server of a remote case; what went wrong
# in REPLY when it cannot start
server_start() {
    local name=${1%% *} seed=${1#* } f
    server_stop
    REPLY=
    if [ "$name" = etcd ]; then
        f=$here/seeds/etcd-$seed.sh
        [ -f "$f" ] || { REPLY="no seed $f"; return 1; }
        if ! start_cluster s 1 http; then
            REPLY="etcd did not start: $(cat "$work"/s1.failed-*.log)"
            return 1
        fi
        server=${urls[0]}
        server_peer=${peers[0]}
        subst_file "$f" "$work/seed.sh"
        if ! ETCDCTL_ENDPOINTS=$server bash "$work/seed.sh" \
            >"$work/seed.out" 2>&1; then
            REPLY="seed $f failed: $(cat "$work/seed.out")"
            return 1
        fi
    else
        f=$here/seeds/$name-$seed.json
        [ -f "$f" ] || { REPLY="no seed $f"; return 1; }
        subst_file "$f" "$work/seed.json"
        if ! fake_start "$name" "$work/seed.json" "$work/requests.jsonl"; then
            REPLY="the fake $name did not start: $(cat "$work/fake.err")"
            return 1
        fi
        server=http://127.0.0.1:$port
    fi
    server_line=$1
}

# A socket that listens and never accepts, as a frozen process does (the
# kernel completes the handshake and takes the request).
hung_start() {
    python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
time.sleep(3600)' >"$work/hung.port" &
    hung_pid=$!
    local i
    for i in $(seq 100); do
        [ -s "$work/hung.port" ] && break
        sleep 0.05
    done
    hung_port=$(head -n 1 "$work/hung.port")
    [ -n "$hung_port" ]
}

# expect.log $1 against the request log $2: what differs, in REPLY
check_log() {
    # a checker that fails (a bad expression, no log) fails the case too
    REPLY=$(python3 - "$2" "$1" 2>&1 <<'PY'
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1])]
for want in open(sys.argv[2]):
    want = want.strip()
    if not want or want.startswith("#"):
        continue
    count, expr = want.split(" ", 1)
    n = sum(1 for e in entries if eval(expr, {"json": json},
                                        {"e": e, "h": e.get("headers", {})}))
    if (n < int(count[2:])) if count.startswith(">=") else n != int(count):
        print("%d requests, want %s: %s" % (n, count, expr))
PY
    ) || REPLY="the expect.log checker failed: $REPLY"
}

"$envinject" providers >"$work/providers" 2>&1 || bail "envinject providers failed"
failed=0
n=0
# a build with AddressSanitizer links its runtime
sanitized=
if ldd "$envinject" 2>/dev/null | grep -q 'libasan'; then
    sanitized=yes
fi

# Whether an ordinary process that aborts leaves a core file in its
# working directory (asked once).
cores_here=
cores_written() {
    if [ -z "$cores_here" ]; then
        local d
        d=$(mktemp -d "${TMPDIR:-/tmp}/ei-core.XXXXXX") || return 1
        # the subshell outlives the abort (|| :), so that the shell's
        # "Aborted (core dumped)" goes to its /dev/null, not to the log
        (cd "$d" && ulimit -c unlimited 2>/dev/null &&
            { sh -c 'kill -ABRT $$' || :; }) >/dev/null 2>&1
        if ls "$d" | grep -q '^core'; then cores_here=yes; else cores_here=no; fi
        rm -rf "$d"
    fi
    [ "$cores_here" = yes ]
}

run_case() {
    local dir=$1 name=${1##*/}
    local msgs="" c root out status want line

    if [ -f "$dir/skip-if-sanitized" ] && [ -n "$sanitized" ]; then
        echo "ok $n - $name # SKIP envinject is built with a sanitizer"
        return
    fi
    if [ -f "$dir/skip-under-valgrind" ] && [ -n "${VALGRIND:-}" ]; then
        echo "ok $n - $name # SKIP valgrind writes cores of its own"
        return
    fi
    if [ -f "$dir/skip-unless-cores" ] && ! cores_written; then
        echo "ok $n - $name # SKIP the kernel writes no core file here" \
            "(core_pattern: $(cat /proc/sys/kernel/core_pattern 2>/dev/null))"
        return
    fi
    if [ -f "$dir/skip-unless-root" ] && [ "$(id -u)" != 0 ]; then
        echo "ok $n - $name # SKIP needs root"
        return
    fi
    if [ -f "$dir/skip-if-missing" ]; then
        while IFS= read -r c || [ -n "$c" ]; do
            case $c in '' | '#'*) continue ;; esac
            if ! command -v "$c" >/dev/null 2>&1; then
                echo "ok $n - $name # SKIP $c is missing"
                return
            fi
        done <"$dir/skip-if-missing"
    fi
    local need=()
    if [ -f "$dir/server" ]; then
        read -r line <"$dir/server"
        case $line in
        etcd\ *) need=(etcd etcdctl curl) ;;
        *) need=(python3) ;;
        esac
    fi
    grep -rqF '@HUNG_PORT@' "$dir" && need+=(python3)
    for c in "${need[@]}"; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "ok $n - $name # SKIP $c is missing"
            return
        fi
    done
    # a build without the provider family (aws: aws-secrets, aws-ssm)
    if [ -f "$dir/server" ] && ! grep -q "^${line%% *}" "$work/providers"; then
        echo "ok $n - $name # SKIP envinject built without ${line%% *}"
        return
    fi
    if [ -f "$dir/server" ] && [ "$line" != "$server_line" ] &&
        ! server_start "$line"; then
        echo "not ok $n - $name"
        printf '%s\n' "$REPLY" | diag
        failed=$((failed + 1))
        return
    fi
    if [ -z "$hung_port" ] && grep -rqF '@HUNG_PORT@' "$dir"; then
        hung_start || bail "no loopback listener for @HUNG_PORT@"
    fi
    [ -f "$dir/server" ] && : >"$work/requests.jsonl"
    if [ ! -f "$dir/cmd" ]; then
        echo "not ok $n - $name"
        echo "# no cmd file in $dir"
        failed=$((failed + 1))
        return
    fi

    root=$(mktemp -d "${TMPDIR:-/tmp}/ei-case.XXXXXX") || bail "mktemp failed"
    casedir=$root/case
    out=$root/out
    mkdir "$casedir" "$out" "$root/home"
    cp -R "$dir/." "$casedir/"
    port=
    if grep -rqF '@PORT@' "$dir"; then
        # serverlib.sh's picker, which also keeps the servers' ports apart
        pick_port || bail "no free loopback port"
    fi

    local f
    while IFS= read -r -d '' f; do
        # only non-empty text files; binary fixtures are copied as they are
        if grep -qF '@' "$f" && grep -Iq . "$f"; then
            subst_file "$f" "$f"
        fi
    done < <(find "$casedir" -type f -print0)
    for f in expect.stdout expect.stderr expect.stdout.re expect.stderr.re \
        expect.probe; do
        [ -f "$dir/$f" ] && subst_file "$dir/$f" "$out/$f"
    done

    local cmd=
    IFS= read -r -d '' cmd <"$dir/cmd"
    subst "$cmd"
    cmd=$REPLY
    local -a envs=()
    if [ -f "$casedir/env" ]; then
        while IFS= read -r line || [ -n "$line" ]; do
            case $line in '' | '#'*) continue ;; esac
            envs+=("$line")
        done <"$casedir/env"
    fi
    local input=/dev/null
    [ -f "$casedir/stdin" ] && input=$casedir/stdin

    local t0 t1
    t0=$(date +%s%N)
    (cd "$casedir" &&
        exec timeout -k 10 "$case_timeout" env -i PATH=/usr/bin:/bin \
            HOME="$root/home" "${envs[@]}" sh -c "$cmd") \
        <"$input" >"$out/stdout" 2>"$out/stderr"
    status=$?
    t1=$(date +%s%N)

    # a misspelt expectation would otherwise check nothing
    local f
    for f in "$dir"/expect.*; do
        [ -e "$f" ] || continue
        case ${f##*/} in
        expect.status | expect.stdout | expect.stdout.re | expect.stderr | \
            expect.stderr.re | expect.probe | expect.log | expect.time) ;;
        *) msgs+="unknown expectation file ${f##*/}"$'\n' ;;
        esac
    done

    want=0
    if [ -f "$dir/expect.status" ]; then
        read -r want <"$dir/expect.status"
    fi
    if [ "$status" != "$want" ]; then
        msgs+="exit status $status, want $want"$'\n'
        [ "$status" = 124 ] && msgs+="(timed out after ${case_timeout}s)"$'\n'
        # the case dir may be gone by the time someone reads the log
        if [ -s "$out/stderr" ]; then
            msgs+="last lines of stderr:"$'\n'
            msgs+=$(tail -n 8 "$out/stderr")$'\n'
        fi
    fi

    local stream
    for stream in stdout stderr; do
        if [ -f "$out/expect.$stream" ]; then
            if ! cmp -s "$out/expect.$stream" "$out/$stream"; then
                msgs+="$stream differs:"$'\n'
                msgs+=$(diff -u "$out/expect.$stream" "$out/$stream")$'\n'
            fi
        elif [ -f "$out/expect.$stream.re" ]; then
            if ! line=$(match_re "$out/expect.$stream.re" "$out/$stream"); then
                msgs+="$stream: $line"$'\n'"$stream was:"$'\n'
                msgs+=$(cat "$out/$stream")$'\n'
            fi
        elif [ "$stream" = stderr ] && [ -s "$out/stderr" ] &&
            [ "$status" != "$want" ]; then
            msgs+="stderr was:"$'\n'$(cat "$out/stderr")$'\n'
        fi
    done

    if [ -f "$out/expect.probe" ]; then
        if [ ! -f "$casedir/probe.out" ]; then
            msgs+="no probe report $casedir/probe.out"$'\n'
        else
            while IFS= read -r line || [ -n "$line" ]; do
                [ -n "$line" ] || continue
                grep -qxF -- "$line" "$casedir/probe.out" ||
                    msgs+="probe report lacks: $line"$'\n'
            done <"$out/expect.probe"
            if grep -qF '@CANARY@' "$dir/expect.probe" &&
                ! grep -qF "$canary" "$casedir/probe.out"; then
                msgs+="the canary did not reach the probe"$'\n'
            fi
        fi
    fi

    if [ -f "$dir/expect.log" ]; then
        check_log "$casedir/expect.log" "$work/requests.jsonl"
        [ -n "$REPLY" ] && msgs+="request log: $REPLY"$'\n'
    fi
    if [ -f "$dir/expect.time" ]; then
        local what ms took=$(((t1 - t0) / 1000000))
        while read -r what ms || [ -n "$what" ]; do
            case $what in
            '' | '#'*) ;;
            min) [ "$took" -ge "$ms" ] ||
                msgs+="took $took ms, want at least $ms"$'\n' ;;
            max) [ "$took" -le $((ms + margin_ms)) ] ||
                msgs+="took $took ms, want at most $ms + $margin_ms"$'\n' ;;
            *) msgs+="expect.time: unknown line '$what'"$'\n' ;;
            esac
        done <"$casedir/expect.time"
    fi

    # the canary rule
    if grep -qF "$canary" "$out/stderr"; then
        msgs+="canary found in stderr"$'\n'
    fi
    if grep -qF "$canary" "$out/stdout" &&
        ! grep -qsF '@CANARY@' "$dir/expect.stdout" "$dir/expect.stdout.re"; then
        msgs+="canary found in stdout"$'\n'
    fi
    for f in "$casedir"/probe*.out; do
        [ -f "$f" ] || continue
        if grep '^argv\[' "$f" | grep -qF "$canary"; then
            msgs+="canary found in the probe's argv (${f##*/})"$'\n'
        fi
    done

    if [ -z "$msgs" ]; then
        echo "ok $n - $name"
        rm -rf "$root"
    else
        echo "not ok $n - $name (kept $root)"
        printf '%s' "$msgs" | diag
        failed=$((failed + 1))
    fi
}

cases=()
want_server=
if [ "${1:-}" = --server ]; then
    want_server=${2:?--server needs a name}
    shift 2
fi
if [ $# -gt 0 ]; then
    for a in "$@"; do
        [ -d "$cases_dir/$a" ] || bail "no case $a"
        cases+=("$cases_dir/$a")
    done
else
    for d in "$cases_dir"/*/; do
        [ -d "$d" ] || continue
        s=
        [ -f "$d/server" ] && read -r s _ <"$d/server"
        [ "$s" = "$want_server" ] && cases+=("${d%/}")
    done
fi

echo "1..${#cases[@]}"
for d in "${cases[@]}"; do
    n=$((n + 1))
    run_case "$d"
done
server_stop
[ "$failed" -eq 0 ]
