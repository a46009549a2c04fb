#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP test of the vault provider against tests/fakes/vault_fake.py, a fake
# Vault that it starts on a free loopback port for each scenario and stops
# on exit: every auth method, KV v1 and v2, namespaces, references, a token
# that expires mid-run, 403/404/429/500/503, slow replies, and a canary
# secret that must never show in stderr or in output without --reveal.
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
fake=$top_srcdir/tests/fakes/vault_fake.py

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
# tokens and credentials carry the canary too: none may ever be shown
root_token="hvs.root-$canary"
weak_token="hvs.weak-$canary"
team_token="hvs.team-$canary"
secret_id="sid-$canary"

work=$(mktemp -d "${TMPDIR:-/tmp}/ei-vault.XXXXXX")
fake_name=Vault
# shellcheck source=fakelib.sh
. "$here/fakelib.sh"

# --- running envinject ---

rc=0
revealed=no
elapsed_ms=0
# run_ei ARG...: in $work/case (config files there), with a clean
# environment plus the VAR=VALUE words in $envs
envs=()
run_ei() {
    local t0 t1
    revealed=no
    # the values may show: get names a key, run's output is the program's
    case " $* " in *" --reveal "* | *" get "* | *" run "*) revealed=yes ;; esac
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
# conf TEXT: the configuration of the next runs; noconf: none (so that
# only the --layer options count)
conf() {
    printf '%s\n' "$1" >"$work/case/envinject.conf"
}
noconf() {
    rm -f "$work/case/envinject.conf"
}

mkdir -p "$work/case" "$work/home"
cd "$work" || exit 99

# ---------------------------------------------------------------------------
# The main scenario.
cat >"$work/scenario.json" <<EOF
{
  "namespaces": ["team-a/"],
  "mounts": {
    "secret/": {"type": "kv", "options": {"version": "2"}},
    "kv/": {"type": "kv", "options": null},
    "team-a/secret/": {"type": "kv", "options": {"version": "2"}}
  },
  "secrets": {
    "secret/app/prod": {"versions": [
      {"data": {"password": "old-version"}},
      {"data": {"password": "$canary", "port": 5432,
                "db": {"host": "db.internal", "port": 5432},
                "db-user": "app"}}]},
    "secret/app/common": {"versions": [
      {"data": {"LOG_LEVEL": "info", "port": 1}}]},
    "secret/app/gone": {"versions": [
      {"data": {"a": "1"}}, {"data": {"a": "2"}, "deleted": true}]},
    "kv/legacy": {"data": {"user": "legacy-user", "pass": "$canary"}},
    "team-a/secret/app": {"versions": [{"data": {"TEAM": "a"}}]}
  },
  "tokens": {
    "$root_token": {"policies": ["*"]},
    "$weak_token": {"policies": ["secret/data/app/common"]},
    "$team_token": {"policies": ["team-a/*"], "namespace": "team-a/"}
  },
  "auth": {
    "approle/": {"type": "approle", "roles": [
      {"role_id": "role-app", "secret_id": "$secret_id",
       "policies": ["*"]},
      {"role_id": "role-short", "secret_id": "$secret_id",
       "policies": ["*"], "token_uses": 3}]},
    "kubernetes/": {"type": "kubernetes", "roles": {
      "app": {"jwt": "k8s.jwt.$canary", "policies": ["secret/*"]}}},
    "jwt-ci/": {"type": "jwt", "roles": {
      "deploy": {"jwt": "ci.jwt.$canary", "policies": ["secret/*"]}}},
    "team-a/approle/": {"type": "approle", "roles": [
      {"role_id": "role-team", "secret_id": "$secret_id",
       "policies": ["team-a/*"]}]}
  }
}
EOF
start_fake

# --- tokens, KV v2 and v1 ---

envs=("VAULT_TOKEN=$root_token" "VAULT_ADDR=$addr")
run_ei --layer vault:secret/app/prod print --format dotenv
check "token from VAULT_TOKEN, KV v2: every field, secret" \
    eval 'rc_is 0 && out_is "# DB is secret: left out (--reveal writes it)
# DB_USER is secret: left out (--reveal writes it)
# PASSWORD is secret: left out (--reveal writes it)
# PORT is secret: left out (--reveal writes it)"'
run_ei --layer vault:secret/app/prod print --format dotenv --reveal
check "reveal: strings as they are, numbers as text, objects as JSON" \
    eval 'rc_is 0 && out_is "DB='"'"'{\"host\":\"db.internal\",\"port\":5432}'"'"'
DB_USER=app
PASSWORD=$canary
PORT=5432"'
run_ei --layer vault:secret/app/prod print --format json --origin PASSWORD
check "origin names path, version and field" \
    eval 'rc_is 0 && out_has "\"locator\": \"vault secret/app/prod v2 #password\"" && out_has "\"secret\": true"'
check "KV v2 read through data/ after one preflight, token in its header" \
    eval 'log_is "e[\"path\"] == \"/v1/sys/internal/ui/mounts/secret/app/prod\"" 3 &&
          log_is "e[\"path\"] == \"/v1/secret/data/app/prod\" and h.get(\"x-vault-token\") == \"$root_token\"" 3 &&
          log_is "h.get(\"x-vault-request\") != \"true\"" 0 &&
          log_is "\"$canary\" in e[\"path\"] + e[\"query\"]" 0'

run_ei --layer vault:kv/legacy get USER
check "KV v1 detected, path read as it is" \
    eval 'rc_is 0 && out_is legacy-user && log_is "e[\"path\"] == \"/v1/kv/legacy\"" 1'

conf "layers = ({ provider = \"vault\"; address = \"$addr\";
  paths = [\"secret/app/prod\", \"secret/app/common\"]; field = \"port\"; });"
run_ei get PORT
check "field from several paths: the later path wins" eval 'rc_is 0 && out_is 1'
conf "layers = ({ provider = \"vault\"; address = \"$addr\";
  paths = [\"secret/app/common\", \"secret/app/prod\"]; });"
run_ei print --format dotenv --reveal
check "paths: fields of both, the later path wins" \
    eval 'rc_is 0 && out_has "LOG_LEVEL=info" && out_has "PORT=5432"'

conf "layers = ({ provider = \"vault\"; address = \"$addr\"; kv_version = 2;
  path = \"secret/app/prod\"; field = \"db-user\"; });"
: >"$work/log.jsonl"
run_ei get DB_USER
check "kv_version = 2: no preflight" \
    eval 'rc_is 0 && out_is app && log_is "\"mounts\" in e[\"path\"]" 0'

envs=("VAULT_ADDR=$addr")
noconf
printf '%s\n' "$root_token" >"$work/home/.vault-token"
chmod 600 "$work/home/.vault-token"
run_ei --layer vault:secret/app/common get LOG_LEVEL
check "token from ~/.vault-token, final newline trimmed" \
    eval 'rc_is 0 && out_is info'
chmod 644 "$work/home/.vault-token"
run_ei --layer vault:secret/app/common get LOG_LEVEL
check "~/.vault-token readable by others: 77 with the chmod" \
    eval 'rc_is 77 && err_has "chmod"'
rm -f "$work/home/.vault-token"
run_ei --layer vault:secret/app/common get LOG_LEVEL
check "no token at all: 77" \
    eval 'rc_is 77 && err_has "no Vault token"'

printf '%s\r\n' "$root_token" >"$work/case/token"
chmod 600 "$work/case/token"
conf "layers = ({ provider = \"vault\"; path = \"secret/app/common\";
  auth = { token_file = \"token\"; }; });"
envs=("VAULT_ADDR=$addr" "VAULT_TOKEN=$weak_token.not-used")
run_ei get LOG_LEVEL
check "auth.token_file beats VAULT_TOKEN" eval 'rc_is 0 && out_is info'

# --- failures ---

envs=("VAULT_TOKEN=$weak_token" "VAULT_ADDR=$addr")
noconf
run_ei --layer vault:secret/app/prod print
check "403: 77 naming the path and the auth method, not the token" \
    eval 'rc_is 77 && err_has "secret/app/prod" && err_has "auth method token" && err_has "VAULT_TOKEN"'
envs=("VAULT_TOKEN=$root_token" "VAULT_ADDR=$addr")
run_ei --layer vault:secret/app/nope print
check "404 on a required path: 66 naming the path" \
    eval 'rc_is 66 && err_has "secret/app/nope" && err_has "not found"'
run_ei --layer vault:secret/app/common --layer vault:secret/app/nope,optional=true get LOG_LEVEL
check "404 on an optional path: skipped with a warning" \
    eval 'rc_is 0 && out_is info && err_has "warning"'
run_ei --layer vault:secret/app/gone print
check "deleted latest version: 66" \
    eval 'rc_is 66 && err_has "deleted"'
run_ei --layer vault:secret/app/prod,address=http://vault.example:8200 print
check "plain http to another host: refused before any I/O (78)" \
    eval 'rc_is 78 && err_has "plain http"'

# --- namespaces ---

conf "layers = ({ provider = \"vault\"; address = \"$addr\"; namespace = \"team-a\";
  path = \"secret/app\"; });"
envs=("VAULT_TOKEN=$team_token")
: >"$work/log.jsonl"
run_ei get TEAM
check "namespace: X-Vault-Namespace on every request, paths relative to it" \
    eval 'rc_is 0 && out_is a && log_is "h.get(\"x-vault-namespace\") != \"team-a/\"" 0 && log_is "True" 2'
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app\"; });"
envs=("VAULT_TOKEN=$team_token" "VAULT_NAMESPACE=team-a/")
run_ei get TEAM
check "VAULT_NAMESPACE as the default" eval 'rc_is 0 && out_is a'

# --- logins ---

printf 'role-app\n' >"$work/case/role_id"
printf '%s\n' "$secret_id" >"$work/case/secret_id"
chmod 600 "$work/case/secret_id"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\";
  auth = { method = \"approle\"; role_id_file = \"role_id\";
           secret_id_file = \"secret_id\"; }; });"
envs=()
: >"$work/log.jsonl"
run_ei run -- /bin/sh -c 'printf "%s" "$PASSWORD"'
check "approle: the program gets the secret" \
    eval 'rc_is 0 && [ "$(cat "$work/out")" = "$canary" ]'
check "approle: login body, then the token, revoked before exec" \
    eval 'log_is "e[\"path\"] == \"/v1/auth/approle/login\" and e[\"method\"] == \"POST\" and \"x-vault-token\" not in h and e[\"body\"] == \"{\\\"role_id\\\":\\\"role-app\\\",\\\"secret_id\\\":\\\"$secret_id\\\"}\"" 1 &&
          log_is "e[\"path\"] == \"/v1/auth/token/revoke-self\" and e[\"status\"] == 204" 1 &&
          log_is "e[\"path\"] == \"/v1/secret/data/app/prod\" and h.get(\"x-vault-token\", \"\").startswith(\"hvs.\")" 1'

conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\";
  auth = { method = \"approle\"; role_id_file = \"role_id\";
           secret_id_file = \"secret_id\"; revoke = false; }; });"
: >"$work/log.jsonl"
run_ei get PORT
check "approle with revoke = false: no revoke" \
    eval 'rc_is 0 && out_is 5432 && log_is "\"revoke-self\" in e[\"path\"]" 0'

printf 'wrong\n' >"$work/case/secret_id_bad"
chmod 600 "$work/case/secret_id_bad"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\";
  auth = { method = \"approle\"; role_id_file = \"role_id\";
           secret_id_file = \"secret_id_bad\"; }; });"
run_ei print
check "approle refused: 77" eval 'rc_is 77 && err_has "approle login refused"'
chmod 644 "$work/case/secret_id"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\";
  auth = { method = \"approle\"; role_id_file = \"role_id\";
           secret_id_file = \"secret_id\"; }; });"
run_ei print
check "secret_id file readable by others: 77" eval 'rc_is 77 && err_has "chmod"'
chmod 600 "$work/case/secret_id"

printf 'k8s.jwt.%s\n' "$canary" >"$work/case/sa-token"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\";
  auth = { method = \"kubernetes\"; role = \"app\"; jwt_file = \"sa-token\"; }; });"
: >"$work/log.jsonl"
run_ei get DB_USER
check "kubernetes: role and service account token, token revoked" \
    eval 'rc_is 0 && out_is app &&
          log_is "e[\"path\"] == \"/v1/auth/kubernetes/login\" and json.loads(e[\"body\"]) == {\"role\": \"app\", \"jwt\": \"k8s.jwt.$canary\"}" 1 &&
          log_is "\"revoke-self\" in e[\"path\"] and e[\"status\"] == 204" 1'
printf 'other.jwt\n' >"$work/case/sa-token"
run_ei get DB_USER
check "kubernetes with a JWT Vault refuses: 77" eval 'rc_is 77 && err_has "kubernetes login refused"'

printf 'ci.jwt.%s' "$canary" >"$work/case/id-token"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\";
  auth = { method = \"jwt\"; role = \"deploy\"; jwt_file = \"id-token\"; mount = \"jwt-ci\"; }; });"
run_ei get DB_USER
check "jwt at another mount" \
    eval 'rc_is 0 && out_is app && log_is "e[\"path\"] == \"/v1/auth/jwt-ci/login\"" 1'

printf 'role-team\n' >"$work/case/role_team"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; namespace = \"team-a\";
  path = \"secret/app\";
  auth = { method = \"approle\"; role_id_file = \"role_team\";
           secret_id_file = \"secret_id\"; }; });"
: >"$work/log.jsonl"
run_ei get TEAM
check "approle login inside a namespace" \
    eval 'rc_is 0 && out_is a && log_is "e[\"path\"] == \"/v1/auth/approle/login\" and h.get(\"x-vault-namespace\") == \"team-a/\"" 1'

# --- references ---

printf 'DB_PASSWORD = "ref+vault://secret/app/prod#password";\nDB_HOST = "ref+vault://secret/app/prod#/db/host";\nPLAIN = "x";\n' \
    >"$work/case/defaults.cfg"
conf "layers = ({ provider = \"file\"; path = \"defaults.cfg\"; },
  { provider = \"vault\"; address = \"$addr\"; path = \"secret/app/common\"; });"
envs=("VAULT_TOKEN=$root_token")
: >"$work/log.jsonl"
run_ei print --format dotenv
check "references: resolved, secret" \
    eval 'rc_is 0 && out_is "# DB_HOST is secret: left out (--reveal writes it)
# DB_PASSWORD is secret: left out (--reveal writes it)
# LOG_LEVEL is secret: left out (--reveal writes it)
PLAIN=x
# PORT is secret: left out (--reveal writes it)"'
check "references: one read per secret, one preflight per mount" \
    eval 'log_is "e[\"path\"] == \"/v1/secret/data/app/prod\"" 1 && log_is "\"mounts\" in e[\"path\"]" 1'
run_ei get DB_PASSWORD
check "references: get prints the value" eval 'rc_is 0 && out_is "$canary"'
run_ei get DB_HOST
check "references: nested field" eval 'rc_is 0 && out_is db.internal'
run_ei explain DB_PASSWORD
check "references: explain names the locator" \
    eval 'rc_is 0 && out_has "vault secret/app/prod v2 #password"'
printf 'X = "ref+vault://secret/app/prod#nope";\n' >"$work/case/defaults.cfg"
run_ei print
check "unresolvable reference: 78 naming the key and the reference" \
    eval 'rc_is 78 && err_has "X:" && err_has "ref+vault://secret/app/prod#nope"'
printf 'X = "ref+vault://secret/app/missing#a";\n' >"$work/case/defaults.cfg"
run_ei print
check "reference to a missing secret: 78" eval 'rc_is 78 && err_has "ref+vault://secret/app/missing#a"'

# --- a token that expires mid-run: three uses only (preflight and read
# of the layer, preflight of the reference; its read finds it gone) ---

printf 'role-short\n' >"$work/case/role_short"
printf 'A = "ref+vault://kv/legacy#user";\n' >"$work/case/defaults.cfg"
conf "layers = ({ provider = \"file\"; path = \"defaults.cfg\"; },
  { provider = \"vault\"; address = \"$addr\"; path = \"secret/app/common\";
    auth = { method = \"approle\"; role_id_file = \"role_short\";
             secret_id_file = \"secret_id\"; }; });"
envs=()
: >"$work/log.jsonl"
run_ei print --format dotenv --reveal
check "token expiring mid-run: logged in again, run completes" \
    eval 'rc_is 0 && out_has "A=legacy-user" && out_has "LOG_LEVEL=info" &&
          ! err_has warning &&
          log_is "e[\"path\"] == \"/v1/auth/approle/login\"" 2 &&
          log_is "e[\"status\"] == 403" 2 &&
          log_is "\"revoke-self\" in e[\"path\"] and e[\"status\"] == 204" 1'

# ---------------------------------------------------------------------------
# Faults: 429 with Retry-After, 500, slow replies, sealed.
cat >"$work/scenario.json" <<EOF
{
  "require_request_header": true,
  "secrets": {"secret/app/prod": {"versions": [{"data": {"k": "$canary"}}]}},
  "tokens": {"$root_token": {"policies": ["*"]}},
  "faults": [
    {"path": "^/v1/secret/data/app/prod\$", "status": 429, "times": 1,
     "retry_after": "1"},
    {"path": "^/v1/secret/data/app/prod\$", "status": 500, "times": 1},
    {"path": "^/v1/secret/data/slow\$", "delay_ms": 4000}
  ]
}
EOF
start_fake
envs=("VAULT_TOKEN=$root_token" "VAULT_ADDR=$addr")
noconf
run_ei --layer vault:secret/app/prod,kv_version=2 get K
check "429 with Retry-After then 500: retried, honouring Retry-After" \
    eval 'rc_is 0 && [ "$(cat "$work/out")" = "$canary" ] && [ "$elapsed_ms" -ge 1000 ] &&
          log_is "e[\"path\"] == \"/v1/secret/data/app/prod\"" 3'
run_ei --layer vault:secret/slow,kv_version=2,timeout=1000 print
check "slow reply: 69 at the deadline" \
    eval 'rc_is 69 && [ "$elapsed_ms" -lt $((1000 + margin_ms)) ]'

cat >"$work/scenario.json" <<EOF
{"sealed": true, "tokens": {"$root_token": {"policies": ["*"]}}}
EOF
start_fake
envs=("VAULT_TOKEN=$root_token" "VAULT_ADDR=$addr")
noconf
run_ei --layer vault:secret/app/prod,timeout=1500 print
check "sealed Vault: 69 after retries" \
    eval 'rc_is 69 && err_has "503" && [ "$(log_count True)" -ge 2 ]'
run_ei --layer vault:secret/app/prod,timeout=1500,optional=true print
check "sealed Vault, optional layer: skipped with a warning" \
    eval 'rc_is 0 && err_has "warning"'
printf 'role-app\n' >"$work/case/role_id"
conf "layers = ({ provider = \"vault\"; address = \"$addr\"; path = \"secret/app/prod\"; timeout = 1500;
  auth = { method = \"approle\"; role_id_file = \"role_id\"; secret_id_file = \"secret_id\"; }; });"
envs=()
run_ei print
check "sealed Vault at login: 69" eval 'rc_is 69 && err_has "sealed"'

stop_fake
echo "1..$tests"
[ "$failed" -eq 0 ]
