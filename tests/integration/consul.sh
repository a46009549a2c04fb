#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP test of the consul provider against tests/fakes/consul_fake.py, a
# fake Consul agent that it starts on a free loopback port for each
# scenario and stops on exit: recursive reads, tokens from every source,
# ACLs, datacenters, fail-over between agents (one that refuses, one that
# hangs), 403/404/408/429/500/503, slow replies, malformed replies, and a
# canary that must never show in stderr or in output without --reveal.
#
# Needs python3 (standard library only); skips without it.  Under
# $VALGRIND every envinject run goes through valgrind.
#
# shellcheck disable=SC2016,SC2034,SC2088
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$here/../..}" && pwd)
envinject=$top_builddir/envinject
fake=$top_srcdir/tests/fakes/consul_fake.py

if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 missing"
    exit 0
fi
if [ ! -x "$envinject" ]; then
    echo "Bail out! $envinject is not built"
    exit 99
fi

vg_args='--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no -q'
ei=("$envinject")
margin_ms=1500
if [ -n "${VALGRIND:-}" ]; then
    # shellcheck disable=SC2206 # the option list is split on purpose
    ei=(valgrind $vg_args "$envinject")
    margin_ms=20000
fi

canary=EI_CANARY_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ ${#canary} -eq 42 ] || {
    echo "Bail out! cannot make a canary"
    exit 99
}
# the tokens carry the canary: no token may ever be shown
token="tok-$canary"
list_token="list-$canary"

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-consul.XXXXXX")
fake_name=Consul
# shellcheck source=fakelib.sh
. "$here/fakelib.sh"

# A loopback port where nothing listens (bound, then closed).
dead_port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

# An agent that accepts connections and never answers, as a frozen
# process does (the kernel completes the handshake and takes the request):
# a socket that listens and never accepts; stopped on exit.
hung_pid=
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
time.sleep(600)' >"$work/hung.port" &
hung_pid=$!
trap 'kill "$hung_pid" 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do
    [ -s "$work/hung.port" ] && break
    sleep 0.05
done
hung_port=$(head -n 1 "$work/hung.port")

# --- running envinject ---

rc=0
revealed=no
elapsed_ms=0
envs=()
run_ei() {
    local t0 t1
    revealed=no
    case " $* " in *" --reveal "* | *" get "*) revealed=yes ;; esac
    t0=$(date +%s%N)
    (cd "$work/case" &&
        exec env -i PATH=/usr/bin:/bin HOME="$work/home" "${envs[@]}" \
            "${ei[@]}" "$@") >"$work/out" 2>"$work/err"
    rc=$?
    t1=$(date +%s%N)
    elapsed_ms=$(((t1 - t0) / 1000000))
}
out_is() {
    printf '%s\n' "$1" | cmp -s - "$work/out"
}
out_has() {
    grep -qF -- "$1" "$work/out"
}
err_has() {
    grep -qF -- "$1" "$work/err"
}
rc_is() {
    [ "$rc" -eq "$1" ]
}
conf() {
    printf '%s\n' "$1" >"$work/case/envinject.conf"
}
noconf() {
    rm -f "$work/case/envinject.conf"
}

mkdir -p "$work/case" "$work/home"
cd "$work" || exit 99

# ---------------------------------------------------------------------------
cat >"$work/scenario.json" <<EOF
{
  "datacenters": ["dc2"],
  "kv": {
    "config/app/DB_HOST": "db.local",
    "config/app/db/port": "5432",
    "config/app/feature.flags/new-checkout": "true",
    "config/app/URL": "postgres://\${DB_HOST}:5432/app",
    "config/app/EMPTY": null,
    "config/app/folder/": null,
    "config/app/multi": "line one\nline two\n",
    "config/apple/NOT_MINE": "x",
    "config/private/KEY": "hidden",
    "secrets/app/API_KEY": "$canary",
    "broken/app/BAD": {"base64": "not base64!"}
  },
  "acl": {
    "tokens": {
      "$token": {"read": ["config/app/", "secrets/", "broken/"]},
      "$list_token": {"read": ["config/"], "list": ["config/app/"]}
    },
    "anonymous": {"read": ["config/app/DB_HOST"]}
  }
}
EOF
start_fake

envs=("CONSUL_HTTP_TOKEN=$token" "CONSUL_HTTP_ADDR=127.0.0.1:$port")
noconf
run_ei --layer consul:config/app print --format dotenv
check "recursive read: keys mapped, folders skipped, null empty, interpolated" \
    eval 'rc_is 0 && out_is "DB_HOST=db.local
DB_PORT=5432
EMPTY=
FEATURE_FLAGS_NEW_CHECKOUT=true
MULTI='"'"'line one
line two
'"'"'
URL=postgres://db.local:5432/app"'
check "one GET with ?recurse, the prefix as a folder, token in its header" \
    eval 'log_is "e[\"method\"] == \"GET\" and e[\"path\"] == \"/v1/kv/config/app/\" and e[\"query\"] == \"recurse\" and h.get(\"x-consul-token\") == \"$token\"" 1 &&
          log_is "True" 1'
run_ei --layer consul:config/app print --format json --origin DB_HOST
check "origin: key, ModifyIndex and agent" \
    eval 'rc_is 0 && out_has "\"locator\": \"config/app/DB_HOST@11 ($addr)\"" && out_has "\"secret\": false"'

envs=("CONSUL_HTTP_ADDR=$addr")
printf '%s\n' "$token" >"$work/case/token"
chmod 600 "$work/case/token"
conf "layers = ({ provider = \"consul\"; prefix = \"secrets/app/\"; token_file = \"token\"; secret = true; });"
run_ei print --format dotenv
check "token_file; a secret layer hides the canary" \
    eval 'rc_is 0 && out_is "# API_KEY is secret: left out (--reveal writes it)"'
run_ei get API_KEY
check "get shows the secret value" eval 'rc_is 0 && out_is "$canary"'
chmod 644 "$work/case/token"
run_ei print
check "token file readable by others: 77 with the chmod" \
    eval 'rc_is 77 && err_has chmod'
chmod 600 "$work/case/token"
noconf
envs=("CONSUL_HTTP_ADDR=$addr" "CONSUL_HTTP_TOKEN=wrong" "CONSUL_HTTP_TOKEN_FILE=$work/case/token")
run_ei --layer consul:config/app/,include=DB_HOST get DB_HOST
check "CONSUL_HTTP_TOKEN_FILE beats CONSUL_HTTP_TOKEN" eval 'rc_is 0 && out_is db.local'

envs=("CONSUL_HTTP_ADDR=$addr" "CONSUL_HTTP_TOKEN=unknown-$canary")
run_ei --layer consul:config/app/ print
check "unknown token (ACL not found): 77 naming the token source" \
    eval 'rc_is 77 && err_has "HTTP 403" && err_has "CONSUL_HTTP_TOKEN"'
envs=("CONSUL_HTTP_ADDR=$addr")
: >"$work/log.jsonl"
run_ei --layer consul:config/app/ print --format dotenv
check "no token: the anonymous policy, other keys filtered out" \
    eval 'rc_is 0 && out_is "DB_HOST=db.local" && log_is "\"x-consul-token\" in h" 0'
envs=("CONSUL_HTTP_ADDR=$addr" "CONSUL_HTTP_TOKEN=$token")
run_ei --layer consul:config/none/ print
check "a prefix without keys: empty layer" eval 'rc_is 0 && [ ! -s "$work/out" ]'
run_ei --layer consul:config/app/,datacenter=dc2,include=DB_HOST print --format dotenv
check "datacenter" \
    eval 'rc_is 0 && out_is DB_HOST=db.local && log_is "e[\"query\"] == \"recurse&dc=dc2\"" 1'
run_ei --layer consul:config/app/,datacenter=dc9,timeout=1000 print
check "unknown datacenter (HTTP 500): 69 at the deadline" \
    eval 'rc_is 69 && err_has "HTTP 500" && [ "$elapsed_ms" -lt $((1000 + margin_ms)) ]'
run_ei --layer consul:broken/app/ print
check "value that is not base64: 65 naming the key" \
    eval 'rc_is 65 && err_has "broken/app/BAD" && err_has "base64"'

conf "layers = ({ provider = \"consul\"; prefix = \"config/app/\";
  endpoints = [\"http://127.0.0.1:$dead_port\", \"$addr\"]; include = [\"DB_HOST\"]; });"
: >"$work/log.jsonl"
run_ei print --format dotenv
check "endpoints fail over: an agent that refuses is skipped" \
    eval 'rc_is 0 && out_is DB_HOST=db.local && log_is "True" 1'
# a share of 6000 / 3 ms for the agent that hangs, then the next one
conf "layers = ({ provider = \"consul\"; prefix = \"config/app/\";
  endpoints = [\"http://127.0.0.1:$hung_port\", \"$addr\"]; include = [\"DB_HOST\"];
  timeout = 6000; });"
: >"$work/log.jsonl"
run_ei -v print --format dotenv
check "an agent that accepts and never answers is given up on for the next" \
    eval 'rc_is 0 && out_is DB_HOST=db.local && log_is "True" 1 &&
          err_has "127.0.0.1:$hung_port /v1/kv/config/app/ -> no answer within 2000 ms"'
conf "layers = ({ provider = \"consul\"; prefix = \"config/app/\";
  endpoints = [\"http://127.0.0.1:$hung_port\", \"http://127.0.0.1:$dead_port\"];
  timeout = 1500; });"
run_ei print
check "no agent answers: 69, naming what each agent did" \
    eval 'rc_is 69 && err_has "(127.0.0.1:$hung_port: no answer within 500 ms; 127.0.0.1:$dead_port: connection refused)"'
conf "layers = ({ provider = \"consul\"; prefix = \"config/app/\";
  endpoints = [\"http://127.0.0.1:$dead_port\"]; timeout = 800; });"
run_ei print
check "no agent answers: 69" eval 'rc_is 69 && err_has "connection refused"'
conf "layers = ({ provider = \"consul\"; prefix = \"config/app/\";
  endpoints = [\"http://127.0.0.1:$dead_port\"]; timeout = 800; optional = true; },
  { provider = \"env\"; include = [\"PATH\"]; });"
run_ei print --format dotenv
check "no agent answers, optional layer: skipped with a warning" \
    eval 'rc_is 0 && err_has warning && out_is "PATH=/usr/bin:/bin"'
noconf

envs=("CONSUL_HTTP_ADDR=$addr" "CONSUL_HTTP_TOKEN=$list_token")
# key_list_policy is off in this scenario: the token may read config/
run_ei --layer consul:config/,interpolate=false get PRIVATE_KEY
check "a token's readable keys across folders" eval 'rc_is 0 && out_is hidden'

# ---------------------------------------------------------------------------
# Faults and the key-list policy.
cat >"$work/scenario.json" <<EOF
{
  "kv": {"config/app/A": "1", "config/app/B": "2"},
  "acl": {"tokens": {"$token": {"read": ["config/"]}}, "key_list_policy": true},
  "faults": [
    {"path": "^/v1/kv/config/app/\$", "status": 429, "times": 1, "retry_after": "1"},
    {"path": "^/v1/kv/config/app/\$", "status": 500, "times": 1},
    {"path": "^/v1/kv/slow/", "delay_ms": 4000},
    {"path": "^/v1/kv/down/", "status": 503},
    {"path": "^/v1/kv/junk/", "status": 200, "body": "[{\"Key\": \"junk/a\", \"Value\": \"$canary"},
    {"path": "^/v1/kv/html/", "status": 200, "body": "<html>$canary</html>",
     "content_type": "text/html"}
  ]
}
EOF
start_fake
envs=("CONSUL_HTTP_ADDR=$addr" "CONSUL_HTTP_TOKEN=$token")
run_ei --layer consul:config/app/ print
check "key-list policy refuses the prefix: 77" eval 'rc_is 77 && err_has "HTTP 403"'
cat >"$work/scenario.json" <<EOF
{
  "kv": {"config/app/A": "1", "config/app/B": "2", "closing/C": "3"},
  "faults": [
    {"path": "^/v1/kv/closing/", "status": 408, "times": 1,
     "body": "grpc: the client connection is closing"},
    {"path": "^/v1/kv/config/app/\$", "status": 429, "times": 1, "retry_after": "1"},
    {"path": "^/v1/kv/config/app/\$", "status": 500, "times": 1},
    {"path": "^/v1/kv/slow/", "delay_ms": 4000},
    {"path": "^/v1/kv/down/", "status": 503},
    {"path": "^/v1/kv/junk/", "status": 200, "body": "[{\"Key\": \"junk/a\", \"Value\": \"$canary"},
    {"path": "^/v1/kv/html/", "status": 200, "body": "<html>$canary</html>",
     "content_type": "text/html"}
  ]
}
EOF
start_fake
envs=("CONSUL_HTTP_ADDR=$addr")
run_ei --layer consul:config/app/ print --format dotenv
check "429 with Retry-After, then 500: retried, honouring Retry-After" \
    eval 'rc_is 0 && out_is "A=1
B=2" && [ "$elapsed_ms" -ge 1000 ] && log_is "True" 3'
: >"$work/log.jsonl"
run_ei --layer consul:closing/ print --format dotenv
check "408 (request timeout) is retried like 503" \
    eval 'rc_is 0 && out_is "C=3" && log_is "e[\"path\"] == \"/v1/kv/closing/\"" 2'
run_ei --layer consul:slow/,timeout=1000 print
check "slow reply: 69 at the deadline" \
    eval 'rc_is 69 && [ "$elapsed_ms" -lt $((1000 + margin_ms)) ]'
run_ei --layer consul:down/,timeout=1000 print
check "503 until the deadline: 69" eval 'rc_is 69 && err_has "HTTP 503"'
run_ei --layer consul:junk/ print
check "truncated JSON: 65, nothing of it shown" \
    eval 'rc_is 65 && err_has "malformed JSON"'
run_ei --layer consul:html/ print
check "not JSON at all: 65" eval 'rc_is 65 && err_has "malformed JSON"'
check "never a token in a URL, always GET with ?recurse" \
    eval 'log_is "e[\"method\"] != \"GET\" or not e[\"query\"].startswith(\"recurse\")" 0'

stop_fake
echo "1..$tests"
[ "$failed" -eq 0 ]
