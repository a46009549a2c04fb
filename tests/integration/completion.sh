#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: envinject completion and envinject schema.
#   completion  the scripts for bash, zsh and fish parse in their shell;
#               every command and option that --help lists is in each;
#               bash and fish complete commands, options, format names,
#               environments and keys of the configuration (-c followed),
#               and a program after run --, without reading any layer
#   schema      the JSON Schema, checked by an independent validator
#               (python3-jsonschema, draft 2020-12), agrees with envinject
#               check on good and bad values of every type; the
#               .env.example reads back as the defaults
set -u
# shellcheck source=taplib.sh
. "${0%/*}/taplib.sh"
if [ ! -x "$envinject" ]; then
    echo "1..0 # SKIP $envinject not built"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ei-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# the scripts call "envinject": this build, first in PATH
mkdir bin
ln -s "$envinject" bin/envinject
export PATH="$tmp/bin:$PATH"

check() {
    local what=$1 msg
    shift
    if msg=$("$@" 2>&1); then ok "$what"; else not_ok "$what" "$msg"; fi
}
same() { # GOT WANT
    [ "$1" = "$2" ] || { printf ' got: %s\nwant: %s\n' "$1" "$2"; return 1; }
}

# A configuration whose one layer would hang if it were read: completion
# and schema must never read a layer.
cat >envinject.conf <<CONF
environment = "dev";
environments = ["dev", "staging", "prod"];
layers = ( { name = "remote"; provider = "file"; path = "/nonexistent/\${env}.env"; } );
require = ["DATABASE_URL", "API_TOKEN"];
schema = {
  PORT = { type = "int"; min = 1; max = 65535; default = "8080"; };
  DEBUG = { type = "bool"; default = "off"; };
  LEVEL = { type = "enum"; values = ["debug", "info"]; default = "info"; };
  DATABASE_URL = { type = "url"; };
  CODE = { type = "string"; pattern = "[[:upper:]]{2}-[[:digit:]]+"; };
  NOTE = { type = "string"; allow_empty = true; required = true; };
  API_TOKEN = { type = "string"; secret = true; };
};
CONF
mkdir other
cat >other/envinject.conf <<CONF
environments = ["blue", "green"];
require = ["OTHER_KEY"];
CONF

# --- every command and option of --help is in every script
for sh in bash zsh fish; do
    "$envinject" completion $sh >script.$sh 2>err ||
        not_ok "completion $sh: written" "$(cat err)"
done
cmds=$("$envinject" --help | awk '/^Commands:/{c=1; next} /^$/{c=0} c{print $1}')
missing=
for sh in bash zsh fish; do
    for c in $cmds; do
        grep -q -- "$c" script.$sh || missing="$missing $sh:$c"
        for o in $("$envinject" $c --help | grep -o -- '--[a-z][a-z-]*' | sort -u) \
            $("$envinject" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
            case $sh in
            fish) grep -q -- "-l ${o#--}\\b" script.fish || missing="$missing fish:$c:$o" ;;
            *) grep -q -- "$o" script.$sh || missing="$missing $sh:$c:$o" ;;
            esac
        done
    done
done
check "every command and option of --help is in the bash, zsh and fish scripts" \
    test -z "$missing"
check "bash reads its script" bash -n script.bash
if command -v zsh >/dev/null 2>&1; then
    check "zsh reads its script" zsh -n script.zsh
    check "zsh: the script defines _envinject and compdef's it" \
        zsh -c 'compdef() { print -r -- "compdef $*"; }; source ./script.zsh' 
else
    ok "zsh reads its script # SKIP zsh not installed"
fi
if command -v fish >/dev/null 2>&1; then
    check "fish reads its script" fish -n script.fish
else
    ok "fish reads its script # SKIP fish not installed"
fi
rc=0
"$envinject" completion tcsh >out 2>err || rc=$?
check "an unknown shell is a usage error (64)" \
    test "$rc/$(head -n 1 err)" = "64/envinject: completion: unknown shell 'tcsh' (expected bash, zsh or fish)"

# --- bash: what the function offers for a command line
bash_complete() { # LINE (the last word is the one completed; may be empty)
    bash -c '
        source ./script.bash
        read -r -a COMP_WORDS <<<"$1"
        [ "${1: -1}" = " " ] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _envinject
        printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$1"
}
check "bash: commands" same "$(bash_complete 'envinject pr')" "print providers "
check "bash: print's formats" \
    same "$(bash_complete 'envinject print --format ')" \
    "audit docker dotenv env github json k8s shell systemd table yaml "
check "bash: check's formats" \
    same "$(bash_complete 'envinject check -f ')" "github json text "
check "bash: schema's formats" \
    same "$(bash_complete 'envinject schema --format ')" "env-example json-schema "
check "bash: -e takes the configuration's environments" \
    same "$(bash_complete 'envinject -e ')" "dev prod staging "
check "bash: get takes the keys the configuration names" \
    same "$(bash_complete 'envinject get ')" \
    "API_TOKEN CODE DATABASE_URL DEBUG LEVEL NOTE PORT "
check "bash: explain follows -c to another configuration" \
    same "$(bash_complete 'envinject -c other/envinject.conf explain ')" "OTHER_KEY "
check "bash: diff takes environments" \
    same "$(bash_complete 'envinject diff st')" "staging "
check "bash: diff --against takes a file" \
    same "$(bash_complete 'envinject diff --against script.ba')" "script.bash "
check "bash: run's options" \
    same "$(bash_complete 'envinject run --wa')" "--wait --watch "
check "bash: a program after run --" \
    same "$(bash_complete 'envinject run -- bas' | tr ' ' '\n' | grep -x bash | sort -u)" "bash"
check "bash: completion's shells" \
    same "$(bash_complete 'envinject completion ')" "bash fish zsh "

# --- fish: complete -C
if command -v fish >/dev/null 2>&1; then
    fish_complete() {
        fish -c "source ./script.fish; complete -C '$1'" | cut -f1 | sort | tr '\n' ' '
    }
    check "fish: print's formats" \
        same "$(fish_complete 'envinject print --format ')" \
        "audit docker dotenv env github json k8s shell systemd table yaml "
    check "fish: -e takes the configuration's environments" \
        same "$(fish_complete 'envinject -e ')" "dev prod staging "
    check "fish: get takes keys, -c followed" \
        same "$(fish_complete 'envinject -c other/envinject.conf get ')" "OTHER_KEY "
else
    ok "fish completes # SKIP fish not installed"
fi

# --- the words the scripts ask for
check "completion --keys: no layer read (its file does not exist)" \
    same "$("$envinject" completion --keys | tr '\n' ' ')" \
    "API_TOKEN CODE DATABASE_URL DEBUG LEVEL NOTE PORT "
rc=0
"$envinject" -c missing.conf completion --environments >out 2>err || rc=$?
check "completion --environments: a missing configuration is 66, nothing out" \
    test "$rc/$(wc -c <out)" = "66/0"

# --- schema: JSON Schema validated by python3-jsonschema, against check
# (the same rules without the layer that cannot be read)
grep -v '^layers' envinject.conf >schema.conf
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    "$envinject" -c schema.conf schema >schema.json 2>err || not_ok "schema: written" "$(cat err)"
    check "schema: draft 2020-12, itself a valid schema" /usr/bin/python3 -c '
import json, sys, jsonschema
s = json.load(open("schema.json"))
assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
jsonschema.Draft202012Validator.check_schema(s)'
    # KEY VALUE pairs; each is checked with the others at good values
    good='PORT=80 DEBUG=on LEVEL=info DATABASE_URL=https://db.example/x CODE=AB-12 NOTE= API_TOKEN=t'
    disagree=
    while read -r key value; do
        [ -z "$key" ] && continue
        [ "$value" = '""' ] && value=
        env=()
        for kv in $good; do
            [ "${kv%%=*}" = "$key" ] || env+=("$kv")
        done
        env+=("$key=$value")
        printf '%s\n' "${env[@]}" >values.env
        rc=0
        "$envinject" -c schema.conf --layer file:values.env,interpolate=false check >/dev/null 2>&1 || rc=$?
        "$envinject" -c schema.conf --layer file:values.env,interpolate=false print --reveal --format json >values.json 2>/dev/null
        /usr/bin/python3 -c '
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("schema.json")))
sys.exit(1 if list(v.iter_errors(json.load(open("values.json")))) else 0)'
        vrc=$?
        if { [ $rc = 0 ] && [ $vrc = 0 ]; } || { [ $rc != 0 ] && [ $vrc = 1 ]; }; then
            :
        else
            disagree="$disagree $key=[$value]:check=$rc,schema=$vrc"
        fi
    done <<'VALUES'
PORT 80
PORT +80
PORT -3
PORT 12a
PORT 99999
PORT ""
DEBUG on
DEBUG TRUE
DEBUG 0
DEBUG maybe
DEBUG ""
LEVEL debug
LEVEL DEBUG
LEVEL ""
DATABASE_URL postgres://u:p@db:5432/x
DATABASE_URL http://:80
DATABASE_URL db.example
DATABASE_URL ""
CODE XY-1
CODE xy-1
CODE XY-
NOTE ""
NOTE text
API_TOKEN ""
API_TOKEN s3cret
VALUES
    # int bounds: JSON Schema cannot compare a string as a number, which
    # the description says; 99999 and -3 are the known disagreements
    check "schema and check agree on every value but an int's bounds" \
        same "$disagree" " PORT=[-3]:check=1,schema=0 PORT=[99999]:check=1,schema=0"
else
    ok "schema validated by python3-jsonschema # SKIP not installed"
fi
"$envinject" schema --format env-example >example.env 2>err ||
    not_ok "schema --format env-example: written" "$(cat err)"
check "env-example: the defaults read back, required keys empty, optional ones commented" \
    same "$(grep -v '^#' example.env | grep . | tr '\n' ' ')" \
    "API_TOKEN= DATABASE_URL= DEBUG=off LEVEL=info NOTE= PORT=8080 "
check "env-example: each key has its rule as a comment" \
    same "$(grep -c '^# [A-Z_]*: ' example.env)" 7
rc=0
"$envinject" schema --format xml >out 2>err || rc=$?
check "schema: an unknown format is 64" test "$rc/$(wc -c <out)" = "64/0"
echo "1..$n"
exit 0
