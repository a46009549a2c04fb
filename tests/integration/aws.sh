#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: the aws-secrets and aws-ssm providers against tests/fakes/aws_fake.py,
# a loopback fake that checks every signature with its own SigV4 code.
#
# Every envinject run gets a clean environment (env -i) with instance
# metadata disabled or pointed at the fake, so nothing but loopback is
# ever contacted.  A random canary sits in the secrets: it must never show
# in stderr, nor in output without --reveal.  The exit status is 0 whatever
# the results: the "not ok" lines carry them.

set -u

here=${0%/*}
[ "$here" = "$0" ] && here=.
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
envinject=${ENVINJECT:-$top_builddir/envinject}
fake=$top_srcdir/tests/fakes/aws_fake.py

if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 not installed"
    exit 0
fi
if [ ! -x "$envinject" ]; then
    echo "1..0 # SKIP $envinject not built"
    exit 0
fi
if ! "$envinject" providers 2>/dev/null | grep -q '^aws-secrets '; then
    echo "1..0 # SKIP envinject built without aws-secrets"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ei-aws.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

canary=EI_CANARY_$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
bin_b64=$(printf '%s\001\002' "$canary" | base64 | tr -d '\n')
AKID=AKIDINTEGRATION
SK='integration/Secret+Key0'

n=0
fails=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    fails=$((fails + 1))
    echo "not ok $n - $1"
    shift
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/# /'
    done
}

# start_fake NAME: start a fake on the scenario $tmp/NAME.json, logging
# requests to $tmp/NAME.log; sets $port
start_fake() {
    local name=$1
    : >"$tmp/$name.log"
    python3 "$fake" "$tmp/$name.json" "$tmp/$name.log" >"$tmp/$name.port" \
        2>"$tmp/$name.err" &
    pids+=($!)
    port=
    for _ in $(seq 100); do
        port=$(head -n 1 "$tmp/$name.port" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "Bail out! the fake server $name did not start: $(cat "$tmp/$name.err")"
        exit 0
    fi
}

# ei ENV... -- ARGS...: run envinject in a clean environment; sets $status,
# $out, $err
# under VALGRIND=1 (make check VALGRIND=1) every run is checked for leaks
vg=()
if [ -n "${VALGRIND:-}" ]; then
    vg=(valgrind --error-exitcode=99 --leak-check=full
        --errors-for-leak-kinds=definite --show-leak-kinds=definite
        --track-fds=no -q)
fi

ei() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    env -i PATH="$PATH" HOME="$tmp/home" LC_ALL=C \
        AWS_EC2_METADATA_DISABLED=true "${envs[@]}" \
        "${vg[@]}" "$envinject" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

KEYS=(AWS_ACCESS_KEY_ID=$AKID "AWS_SECRET_ACCESS_KEY=$SK")

# check NAME WANT_STATUS [stdout|stderr|nostdout|nostderr PATTERN]...:
# the last run had that status and its outputs (do not) hold the fixed
# strings; the canary never shows in stderr
check() {
    local name=$1 want=$2
    shift 2
    local why=()
    [ "$status" = "$want" ] || why+=("exit status $status, want $want")
    case $err in *"$canary"*) why+=("the canary shows in stderr") ;; esac
    while [ $# -ge 2 ]; do
        local what=$1 pat=$2 text
        shift 2
        case $what in
        stdout | nostdout) text=$out ;;
        *) text=$err ;;
        esac
        case $what in
        no*) case $text in *"$pat"*) why+=("$what: has '$pat'") ;; esac ;;
        *) case $text in *"$pat"*) ;; *) why+=("$what: lacks '$pat'") ;; esac ;;
        esac
    done
    if [ ${#why[@]} -eq 0 ]; then
        ok "$name"
    else
        not_ok "$name" "${why[@]}" "stdout: $out" "stderr: $err"
    fi
}

# count_log NAME FIELD-PATTERN: requests in $tmp/NAME.log that match
count_log() {
    grep -c -- "$2" "$tmp/$1.log" || true
}

mkdir -p "$tmp/home/.aws"

# --- the scenarios ---

cat >"$tmp/main.json" <<EOF
{"region": "eu-west-1",
 "credentials": [
   {"access_key_id": "$AKID", "secret_access_key": "$SK"},
   {"access_key_id": "ASIASESSION", "secret_access_key": "s", "session_token": "good-token"},
   {"access_key_id": "ASIAEXPIRED", "secret_access_key": "s", "session_token": "old", "expired": true},
   {"access_key_id": "AKIDFILE", "secret_access_key": "from/file"}],
 "secrets": {
   "prod/app/db": {"string": "{\"username\": \"app\", \"password\": \"$canary\", \"pool\": {\"max\": 20}}",
                   "version_id": "v-current",
                   "stages": {"AWSPREVIOUS": {"string": "{\"username\": \"old\"}", "version_id": "v-old"}}},
   "prod/app/api-token": {"string": "tok-$canary"},
   "prod/app/tls.der": {"binary": "$bin_b64"},
   "prod/app/extra": {"string": "{\"username\": \"override\"}"},
   "prod/app/forbidden": {"string": "nope"}},
 "parameters": [
   {"name": "/prod/app/db/host", "type": "String", "value": "db.internal", "version": 3},
   {"name": "/prod/app/db/password", "type": "SecureString", "value": "ssm-$canary", "version": 1},
   {"name": "/prod/app/hosts", "type": "StringList", "value": "a,b,c"}],
 "generate": [{"path": "/bulk", "count": 1000, "type": "SecureString", "value": "v{i}"}],
 "empty_pages": false,
 "faults": {"access_denied": ["prod/app/forbidden", "/forbidden"]},
 "ecs": {"path": "/v2/credentials/task", "token": "Basic ecs-token",
         "credentials": {"access_key_id": "ASIAECS", "secret_access_key": "ecs/secret", "session_token": "ecs-session"}},
 "imds": {"role": "app-role",
          "credentials": {"access_key_id": "ASIAIMDS", "secret_access_key": "imds/secret", "session_token": "imds-session"}}}
EOF
cat >"$tmp/burst.json" <<EOF
{"region": "eu-west-1",
 "credentials": [{"access_key_id": "$AKID", "secret_access_key": "$SK"}],
 "secrets": {"s": {"string": "{\"k\": \"$canary\"}"}},
 "faults": {"throttle": 3}}
EOF
cat >"$tmp/always.json" <<EOF
{"region": "eu-west-1",
 "credentials": [{"access_key_id": "$AKID", "secret_access_key": "$SK"}],
 "secrets": {"s": {"string": "x"}},
 "faults": {"throttle_always": true}}
EOF
cat >"$tmp/pages.json" <<EOF
{"region": "eu-west-1",
 "credentials": [{"access_key_id": "$AKID", "secret_access_key": "$SK"}],
 "secrets": {"a": {"string": "{\"A\": \"1\"}"}, "b": {"string": "{\"B\": \"2\"}"},
             "c": {"string": "{\"C\": \"3\"}"}},
 "parameters": [{"name": "/p/x", "type": "String", "value": "1"},
                {"name": "/p/y", "type": "String", "value": "2"},
                {"name": "/p/deep/z", "type": "String", "value": "3"}],
 "batch_page": 1, "batch_reverse": true, "ssm_page": 1, "empty_pages": true}
EOF


# --- the fake's own verifier against the AWS vectors ---
if python3 "$fake" --selftest >"$tmp/selftest" 2>&1 &&
    ! grep -q '^not ok' "$tmp/selftest"; then
    ok "the fake's SigV4 verifier passes the AWS test-suite vectors"
else
    not_ok "the fake's SigV4 verifier passes the AWS test-suite vectors" \
        "$(cat "$tmp/selftest")"
fi

start_fake main
MAIN=$port
EP="endpoint=http://127.0.0.1:$MAIN,region=eu-west-1"

# --- aws-secrets ---
ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/db,$EP" print -f json --reveal
check "JSON secret flattened into keys" 0 \
    stdout "\"USERNAME\": \"app\"" stdout "\"PASSWORD\": \"$canary\"" \
    stdout "\"POOL_MAX\": \"20\""

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/db,$EP" print
check "secret by default: redacted without --reveal" 0 \
    stdout "# PASSWORD is secret: left out (--reveal writes it)" nostdout "$canary"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/db,$EP" get PASSWORD
check "get prints the secret" 0 stdout "$canary"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/db,$EP" \
    run -- sh -c 'printf "%s" "$PASSWORD"'
check "run hands the secret to the program" 0 stdout "$canary"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/db,$EP" print --origin -f json
check "locator is name@VersionId" 0 stdout "prod/app/db@v-current" \
    nostdout "$canary"

ei "${KEYS[@]}" -- --layer "aws-secrets,secret_id=prod/app/db,secret_id=prod/app/api-token,secret_id=prod/app/extra,$EP" \
    print -f json --reveal
check "several secrets in one batch, the later one wins" 0 \
    stdout "\"API_TOKEN\": \"tok-$canary\"" stdout "\"USERNAME\": \"override\"" \
    stdout "\"PASSWORD\": \"$canary\""
batches=$(count_log main '"secretsmanager.BatchGetSecretValue", "status": 200')
[ "$batches" = 1 ] && ok "BatchGetSecretValue used once" ||
    not_ok "BatchGetSecretValue used once" "$batches batch requests"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/api-token,key_name=Token_Value,$EP" \
    print -f json --reveal
check "plain string named by key_name" 0 stdout "\"Token_Value\": \"tok-$canary\""

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/tls.der,$EP" print
check "binary secret refused by default" 78 stderr "set binary = \"base64\""

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/tls.der,binary=base64,$EP" \
    get TLS_DER
check "binary secret as base64" 0 stdout "$bin_b64"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/db,version_stage=AWSPREVIOUS,$EP" \
    print -f json --reveal
check "version_stage reads another version" 0 stdout "\"USERNAME\": \"old\"" \
    nostdout "$canary"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/missing,$EP" print
check "missing secret: 66 naming it" 66 stderr "prod/app/missing" \
    stderr "ResourceNotFoundException"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/missing,optional=true,$EP" \
    --layer "aws-secrets:prod/app/api-token,$EP" print
check "missing secret in an optional layer: skipped" 0 stdout "# API_TOKEN is secret" \
    stderr "warning"

ei "${KEYS[@]}" -- --layer "aws-secrets:prod/app/forbidden,$EP" print
check "access denied: 77 naming the credential source" 77 \
    stderr "AccessDeniedException" \
    stderr "credentials from the environment (AWS_ACCESS_KEY_ID)" \
    nostderr "$SK"

ei AWS_ACCESS_KEY_ID=ASIAEXPIRED AWS_SECRET_ACCESS_KEY=s AWS_SESSION_TOKEN=old \
    -- --layer "aws-secrets:prod/app/db,$EP" print
check "expired session token: 77" 77 stderr "session token expired" \
    stderr "AWS_SESSION_TOKEN" nostderr "old"

ei AWS_ACCESS_KEY_ID=ASIASESSION AWS_SECRET_ACCESS_KEY=s \
    AWS_SESSION_TOKEN=good-token -- --layer "aws-secrets:prod/app/db,$EP" print
check "session token signed and accepted" 0 stdout "# USERNAME is secret"

ei AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=wrong-key-$canary \
    -- --layer "aws-secrets:prod/app/db,$EP" print
check "wrong secret key: 77, the key never shown" 77 \
    stderr "InvalidSignatureException" nostderr "wrong-key"

ei AWS_ACCESS_KEY_ID=AKIDUNKNOWN AWS_SECRET_ACCESS_KEY=x \
    -- --layer "aws-secrets:prod/app/db,$EP" print
check "unknown access key: 77" 77 stderr "UnrecognizedClientException" \
    nostderr "AKIDUNKNOWN"

# --- credential sources ---
printf '[default]\naws_access_key_id = WRONG\naws_secret_access_key = x\n[ci]\naws_access_key_id = AKIDFILE\naws_secret_access_key = from/file\n' \
    >"$tmp/home/.aws/credentials"
ei AWS_PROFILE=ci -- --layer "aws-secrets:prod/app/db,$EP" print
check "shared credentials file, AWS_PROFILE" 0 stdout "# USERNAME is secret"

printf '[profile ci]\nregion = eu-west-1\n' >"$tmp/home/.aws/config"
ei AWS_PROFILE=ci -- --layer "aws-secrets:prod/app/db,endpoint=http://127.0.0.1:$MAIN" \
    print
check "region from the shared config file" 0 stdout "# USERNAME is secret"
rm -f "$tmp/home/.aws/credentials" "$tmp/home/.aws/config"

printf 'Basic ecs-token\n' >"$tmp/ecs-token"
ei AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$MAIN/v2/credentials/task \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$tmp/ecs-token" \
    -- --layer "aws-secrets:prod/app/db,$EP" print
check "container credentials with a token file" 0 stdout "# USERNAME is secret"

ei AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$MAIN/v2/credentials/task \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
    -- --layer "aws-secrets:prod/app/db,$EP" print
check "container credentials refused: 77" 77 stderr "HTTP 401"

ei AWS_EC2_METADATA_DISABLED=false \
    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$MAIN \
    -- --layer "aws-secrets:prod/app/db,$EP" print
check "instance metadata (IMDSv2)" 0 stdout "# USERNAME is secret"
puts=$(count_log main '"method": "PUT", "path": "/latest/api/token", "target": null, "status": 200')
[ "$puts" -ge 1 ] && ok "IMDSv2 token requested with PUT" ||
    not_ok "IMDSv2 token requested with PUT" "$(cat "$tmp/main.log")"

ei -- --layer "aws-secrets:prod/app/db,$EP" print
check "no credentials anywhere: 77" 77 stderr "no AWS credentials"

# --- aws-ssm ---
ei "${KEYS[@]}" -- --layer "aws-ssm:/prod/app,recursive=true,$EP" print
check "SSM: String plain, SecureString secret" 0 \
    stdout "DB_HOST=db.internal" stdout "# DB_PASSWORD is secret: left out (--reveal writes it)" \
    stdout "HOSTS=a,b,c" nostdout "$canary"

ei "${KEYS[@]}" -- --layer "aws-ssm:/prod/app,$EP" print -f json --reveal
check "SSM: one level unless recursive" 0 stdout "\"HOSTS\": \"a,b,c\"" \
    nostdout "DB_HOST"

# valgrind is tens of times slower: give the 100 requests the time
ei "${KEYS[@]}" -- --layer "aws-ssm:/bulk,$EP${vg:+,timeout=120000}" print -f json --origin
# secret: each key keeps its origin, without its value
keys=$(grep -c '"P[0-9]*": {' "$tmp/out")
pages=$(count_log main '"AmazonSSM.GetParametersByPath", "status": 200')
if [ "$status" = 0 ] && [ "$keys" = 1000 ] && [ "$pages" -ge 100 ]; then
    ok "SSM: 1,000 parameters over 100 pages"
else
    not_ok "SSM: 1,000 parameters over 100 pages" \
        "status $status, $keys keys, $pages pages" "$err"
fi

ei "${KEYS[@]}" -- --layer "aws-ssm:/forbidden,$EP" print
check "SSM: access denied names the path" 77 stderr "/forbidden"

# --- throttling ---
start_fake burst
ei "${KEYS[@]}" -- --layer "aws-secrets:s,endpoint=http://127.0.0.1:$port,region=eu-west-1" \
    get K
throttled=$(count_log burst '"code": "ThrottlingException"')
if [ "$status" = 0 ] && [ "$out" = "$canary" ] && [ "$throttled" = 3 ]; then
    ok "throttling burst: retried with back-off"
else
    not_ok "throttling burst: retried with back-off" \
        "status $status, $throttled throttled" "$err"
fi

start_fake always
ei "${KEYS[@]}" -- --layer "aws-secrets:s,endpoint=http://127.0.0.1:$port,region=eu-west-1,timeout=600" \
    print
check "throttled until the timeout: 69" 69 stderr "throttled (ThrottlingException)"

# --- pagination and order ---
start_fake pages
ei "${KEYS[@]}" -- --layer "aws-secrets,secret_id=a,secret_id=b,secret_id=c,endpoint=http://127.0.0.1:$port,region=eu-west-1" \
    --layer "aws-ssm:/p,recursive=true,endpoint=http://127.0.0.1:$port,region=eu-west-1" \
    print --reveal
check "batch pages answered backwards, SSM pages with empty ones" 0 \
    stdout "A=1" stdout "B=2" stdout "C=3" stdout "X=1" stdout "DEEP_Z=3"

# --- a configuration file ---
cat >"$tmp/envinject.conf" <<EOF
layers = (
  { name = "params"; provider = "aws-ssm"; path = "/prod/app"; recursive = true;
    endpoint = "http://127.0.0.1:$MAIN"; region = "eu-west-1"; },
  { name = "db"; provider = "aws-secrets"; secret_id = ["prod/app/db"];
    endpoint = "http://127.0.0.1:$MAIN"; region = "eu-west-1"; }
);
EOF
ei "${KEYS[@]}" -- -c "$tmp/envinject.conf" explain PASSWORD DB_HOST
check "configuration file and explain" 0 stdout "prod/app/db@v-current" \
    stdout "/prod/app/db/host:3" nostdout "$canary"

cat >"$tmp/bad.conf" <<EOF
layers = ( { provider = "aws-secrets"; secret_id = "x"; regoin = "eu-west-1"; } );
EOF
ei "${KEYS[@]}" -- -c "$tmp/bad.conf" print
check "unknown option: 78 before any request" 78 stderr "regoin"

echo "1..$n"
exit 0
