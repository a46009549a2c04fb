# SPDX-License-Identifier: MIT
# Sourced by vault.sh and consul.sh: the fake server's life cycle, TAP
# output, the canary check and the request log.  The caller sets work (a
# scratch folder), fake (the fake's script), fake_name (for messages) and
# canary; `revealed`, `out` and `err` files in $work are the caller's.
# shellcheck shell=bash
fake_pid=
port=

stop_fake() {
    if [ -n "$fake_pid" ]; then
        kill "$fake_pid" 2>/dev/null
        wait "$fake_pid" 2>/dev/null
    fi
    fake_pid=
}
cleanup() {
    stop_fake
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- TAP ---

tests=0
failed=0
ok() {
    tests=$((tests + 1))
    echo "ok $tests - $1"
}
not_ok() {
    tests=$((tests + 1))
    failed=$((failed + 1))
    echo "not ok $tests - $1"
    shift
    local f
    for f in "$@"; do
        [ -s "$f" ] && head -n 20 "$f" | sed "s|^|# $(basename "$f"): |"
    done
}
# check DESCRIPTION COMMAND...: ok when the command succeeds; every check
# also looks for the canary where it must never be
check() {
    local d=$1
    shift
    if ! "$@"; then
        not_ok "$d" "$work/out" "$work/err"
    elif grep -qF "$canary" "$work/err"; then
        not_ok "$d (canary in stderr)" "$work/err"
    elif [ "$revealed" = no ] && grep -qF "$canary" "$work/out"; then
        not_ok "$d (canary in stdout)" "$work/out"
    else
        ok "$d"
    fi
}

# --- the fake ---

start_fake() {
    stop_fake
    : >"$work/log.jsonl"
    rm -f "$work/port"
    python3 "$fake" "$work/scenario.json" "$work/log.jsonl" \
        >"$work/port" 2>"$work/fake.err" &
    fake_pid=$!
    local i
    for i in $(seq 100); do
        [ -s "$work/port" ] && break
        kill -0 "$fake_pid" 2>/dev/null || break
        sleep 0.05
    done
    port=$(head -n 1 "$work/port" 2>/dev/null)
    case $port in
    '' | *[!0-9]*)
        echo "Bail out! the fake $fake_name did not start"
        sed 's/^/# /' "$work/fake.err"
        exit 99
        ;;
    esac
    addr=http://127.0.0.1:$port
}

# log_count EXPR: requests in the log for which the Python expression on
# e (method, path, query, headers with lower-case names, body, status) holds
log_count() {
    python3 - "$work/log.jsonl" "$1" <<'EOF'
import json, sys
n = 0
with open(sys.argv[1]) as f:
    for line in f:
        e = json.loads(line)
        h = e.get("headers", {})
        if eval(sys.argv[2]):
            n += 1
print(n)
EOF
}
log_is() {
    [ "$(log_count "$1")" -eq "$2" ]
}
