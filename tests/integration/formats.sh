#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: every print format written with hostile values, then read back by
# the program that reads that format for real, byte for byte:
#   dotenv  dash and bash (set -a; . FILE), python-dotenv (each python3
#           that has it), and envinject's own file provider
#   shell   dash and bash, sourced and through eval
#   json    jq
#   env     a line reader that splits at the first '=' (docker --env-file)
#   github  the $GITHUB_ENV parser of the Actions runner (a transcription,
#           tests/integration/gh_env.py), and the ::add-mask:: lines
#   docker, systemd
#           transcriptions of docker's ParseEnvFile and systemd's
#           load_env_file (tests/integration/target_readers.py)
#   yaml    PyYAML (python3-yaml), and envinject's own YAML reader
#   k8s     PyYAML, every document, the Secret's data base64-decoded
# A value the dotenv format cannot write for all its readers alike must be
# refused (exit 65, nothing written, the key named, the value not); no
# reader may run a command found in a value; without --reveal no secret
# may reach a reader as a value.
#
# The values come from a dir layer (one file per key, no newline trimmed),
# marked secret.  The exit status is 0 whatever the results: the "not ok"
# lines carry them.

set -u
# the folders absolute (the tests run in a folder of their own), the
# envinject under test, ok and not_ok
# shellcheck source=taplib.sh
. "${0%/*}/taplib.sh"
gh_env=$top_srcdir/tests/integration/gh_env.py

for c in dash bash jq od; do
    if ! command -v "$c" >/dev/null 2>&1; then
        echo "1..0 # SKIP $c not installed"
        exit 0
    fi
done
if [ ! -x "$envinject" ]; then
    echo "1..0 # SKIP $envinject not built"
    exit 0
fi
sub_envinject=$envinject
if [ -n "${VALGRIND:-}" ]; then
    sub_envinject="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite -q $envinject"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ei-formats.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# check DESCRIPTION COMMAND...: ok when the command succeeds
check() {
    local what=$1
    shift
    local msg
    if msg=$("$@" 2>&1); then
        ok "$what"
    else
        not_ok "$what" "$msg"
    fi
}

# --- the values: set A has a dotenv form for every reader, set B has not
mkdir a b
put() { printf '%s' "$3" >"$1/$2"; }
put a Q_BOTH "it's \"double\""
put a Q_SINGLE "'"
put a Q_DOUBLE '"'
put a TICKS 'say `touch pwned` now'
put a SUBST '$(touch pwned)'
put a VARS '$HOME and $1 and $$ and $'
put a BS_ONE 'back\slash \n not a newline'
put a BS_TWO 'two \\ in a row'
put a BS_QUOTE "\\' and \\\""
put a NEWLINE $'line 1\nline 2\n'
put a QUOTE_NL $'it\'s\nmulti-line'
put a QUOTE_TAB $'it\'s\ttabbed'
put a TAB $'a\tb'
put a SPACES '  lead and trail  '
put a HASH 'a # not a comment'
put a HASH_FIRST '#first'
put a EQUALS 'a=b=c'
put a UTF8 $'h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac'
put a EMPTY ''
put a BARE 'plain-1.2_x/y:z@w%v+u,t'
put a EXPORT 'export'
# python-dotenv expands ${ even in single quotes: read with interpolate=False
put a BRACE '${HOME} and ${X:-y}'
put b ISSUE $'it\'s `touch pwned`'
put b QUOTE_SUBST "it's \$(touch pwned)"
put b CR $'a\rb'
put b CRLF $'a\r\nb'
put b CR_END $'x\r'
put b BS_DOLLAR '\\$x'
put b BS_END_DOLLAR '$x\'
put b BS_END 'ends in \'
put b BS_ALONE '\'
# a byte above 0x7f then the escape or the closing quote: one GBK character
put b GBK_QUOTE $'it\'s caf\xc3\xa9";touch pwned;#'
put b GBK_END $'it\'s caf\xc3\xa9'
mkdir all
cp a/* b/* all/
keys_a=$(ls a)
keys_all=$(ls all)

# "KEY HEX" per key of $2.. from the files of folder $1
expected() {
    local dir=$1 k
    shift
    for k in "$@"; do
        printf '%s %s\n' "$k" "$(od -An -v -tx1 <"$dir/$k" | tr -d ' \n')"
    done
}
expected all $keys_all >want.all
expected a $keys_a >want.a

ei() {
    local dir=$1
    shift
    env -i PATH="$PATH" $sub_envinject \
        --layer "dir:$dir,trim_newline=false,secret=true" "$@"
}

# The dumper that a shell runs after reading the file: "KEY HEX" per key,
# "KEY UNSET" for a key it did not get.
cat >dump.sh <<'EOF'
for k in $KEYS; do
    if eval "[ \"\${$k+set}\" = set ]"; then
        eval "v=\${$k}"
        printf '%s %s\n' "$k" "$(printf '%s' "$v" | od -An -v -tx1 | tr -d ' \n')"
    else
        printf '%s UNSET\n' "$k"
    fi
done
EOF

# read_sh SHELL HOW FILE KEYS: what SHELL gets from FILE; HOW is "source"
# (set -a; . FILE) or "eval"
read_sh() {
    local sh=$1 how=$2 file=$3
    local load=". ./$file"
    [ "$how" = eval ] && load="eval \"\$(cat ./$file)\""
    env -i PATH="$PATH" KEYS="$4" "$sh" -c "set -a; $load; set +a; . ./dump.sh"
}

# same WANT GOT: the reader got every value right and ran nothing
same() {
    local want=$1 got=$2
    if [ -e pwned ]; then
        rm -f pwned
        echo "a command in a value was run"
        return 1
    fi
    diff "$want" "$got"
}

# --- dotenv
if ei a print --reveal --format dotenv >out.env 2>err; then
    ok "dotenv: set A written"
else
    not_ok "dotenv: set A written" "$(cat err)"
fi
for sh in dash bash; do
    read_sh "$sh" source out.env "$keys_a" >got 2>err
    check "dotenv read back by $sh (set -a; . FILE)" same want.a got
done
pythons=()
for py in /usr/bin/python3 python3; do
    p=$(command -v "$py") || continue
    "$p" -c 'import dotenv' 2>/dev/null || continue
    seen=
    for q in "${pythons[@]}"; do
        [ "$q" -ef "$p" ] && seen=1
    done
    [ -z "$seen" ] && pythons+=("$p")
done
if [ ${#pythons[@]} -eq 0 ]; then
    ok "dotenv read back by python-dotenv # SKIP python-dotenv not installed"
fi
for p in "${pythons[@]}"; do
    ver=$("$p" -c 'import importlib.metadata as m; print(m.version("python-dotenv"))' 2>/dev/null)
    # dotenv_values as users call it: interpolation on, which changes a
    # value holding ${ (documented); with interpolate=False every value
    for interp in True False; do
        env -i PATH="$PATH" "$p" -c '
import sys, dotenv
vals = dotenv.dotenv_values(sys.argv[1], interpolate=sys.argv[2] == "True")
for k in sys.argv[3:]:
    v = vals.get(k)
    print(k, "UNSET" if v is None else v.encode().hex())' out.env $interp \
            $keys_a >got 2>&1
        if [ $interp = True ]; then
            grep -v '^BRACE ' want.a >want.interp
            grep -v '^BRACE ' got >got.interp
            check "dotenv read back by python-dotenv ${ver:-?} ($p), all but \${" \
                same want.interp got.interp
            [ "$(grep '^BRACE ' got)" != "$(grep '^BRACE ' want.a)" ] &&
                ok "python-dotenv ${ver:-?} expands \${ in single quotes, as documented" ||
                not_ok "python-dotenv ${ver:-?} expands \${ in single quotes, as documented" "$(grep '^BRACE' got)"
        else
            check "dotenv read back by python-dotenv ${ver:-?} ($p), interpolate=False" \
                same want.a got
        fi
    done
done
: >got
for k in $keys_a; do
    printf '%s %s\n' "$k" "$(env -i "$envinject" --layer file:out.env get "$k" |
        od -An -v -tx1 | tr -d ' \n' | sed 's/0a$//')" >>got
done
check "dotenv read back by envinject's file provider" same want.a got

for k in $(ls b); do
    rc=0
    ei all print --reveal --format dotenv Q_BOTH "$k" >out 2>err || rc=$?
    line=$(cat err)
    value=$(cat "b/$k")
    if [ "$rc" = 65 ] && [ ! -s out ] && [ "$(wc -l <err)" = 1 ] &&
        [[ $line == "envinject: $k: value holds "*"; use --format=shell or json" ]] &&
        [[ $line != *"$value"* ]]; then
        ok "dotenv refuses $k: exit 65, nothing written, one line"
    else
        not_ok "dotenv refuses $k: exit 65, nothing written, one line" \
            "exit $rc" "stdout: $(cat out)" "stderr: $line"
    fi
done

# --- shell: every value
ei all print --reveal --format shell >out.sh 2>err || not_ok "shell: written" "$(cat err)"
for sh in dash bash; do
    for how in source eval; do
        read_sh "$sh" "$how" out.sh "$keys_all" >got 2>err
        check "shell read back by $sh ($how)" same want.all got
    done
done

# --- json: every value
ei all print --reveal --format json >out.json 2>err || not_ok "json: written" "$(cat err)"
: >got
for k in $keys_all; do
    printf '%s %s\n' "$k" "$(jq -j --arg k "$k" '.[$k]' out.json |
        od -An -v -tx1 | tr -d ' \n')" >>got
done
check "json read back by jq" same want.all got

# --- env: the values without a line feed, split at the first '='
nolf=$(for k in $keys_all; do
    [ "$(tr -dc '\n' <"all/$k" | wc -c)" -eq 0 ] && echo "$k"
done)
ei all print --reveal --format env $nolf >out.txt 2>err || not_ok "env: written" "$(cat err)"
expected all $nolf >want.env
while IFS= read -r line; do
    printf '%s %s\n' "${line%%=*}" "$(printf '%s' "${line#*=}" | od -An -v -tx1 | tr -d ' \n')"
done <out.txt >got
check "env read back by a line reader" same want.env got

# --- github: masks on standard output, the assignments into $GITHUB_ENV
if command -v python3 >/dev/null 2>&1; then
    : >gh.env
    rc=0
    env -i PATH="$PATH" GITHUB_ENV="$tmp/gh.env" $sub_envinject \
        --layer "dir:all,trim_newline=false,secret=true" \
        print --reveal --format github >gh.out 2>err || rc=$?
    python3 "$gh_env" gh.env $keys_all >got 2>&1
    check "github: \$GITHUB_ENV read back by the runner's parser" same want.all got
    python3 "$gh_env" --masks all $keys_all >want.masks
    check "github: an ::add-mask:: per line of every secret, nothing else" \
        diff want.masks gh.out
    rc=0
    env -i PATH="$PATH" GITHUB_ENV="$tmp/gh.env" $sub_envinject \
        --layer "dir:all,secret=true" print --reveal --format github \
        >>gh.env 2>err || rc=$?
    if [ "$rc" = 64 ] && grep -q 'do not redirect it to \$GITHUB_ENV' err; then
        ok "github: standard output redirected into \$GITHUB_ENV is refused"
    else
        not_ok "github: standard output redirected into \$GITHUB_ENV is refused" \
            "exit $rc" "$(cat err)"
    fi
    # without GITHUB_ENV: the masks first, then the assignments
    ei all print --reveal --format github >gh.out 2>err
    python3 "$gh_env" --masks all $keys_all >want
    head -n "$(wc -l <want)" gh.out >got
    check "github without \$GITHUB_ENV: masks first on standard output" diff want got
else
    ok "github read back # SKIP python3 not installed"
fi

# --- docker, systemd, yaml, k8s: read back by their readers' rules
readers=$top_srcdir/tests/integration/target_readers.py
if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
    # docker: every value without a line feed or a final CR; the others
    # are refused one by one
    dock=$(for k in $keys_all; do
        [ "$(tr -dc '\n' <"all/$k" | wc -c)" -eq 0 ] &&
            [ "$(tail -c 1 "all/$k" | od -An -tx1 | tr -d ' ')" != 0d ] && echo "$k"
    done)
    ei all print --reveal --format docker $dock >out.docker 2>err ||
        not_ok "docker: written" "$(cat err)"
    expected all $dock >want.docker
    python3 "$readers" docker out.docker $dock >got 2>&1
    check "docker read back by docker's env-file rules, verbatim" same want.docker got
    for k in NEWLINE CRLF CR_END; do
        rc=0
        ei all print --reveal --format docker "$k" >out 2>err || rc=$?
        if [ "$rc" = 65 ] && [ ! -s out ] && [ "$(wc -l <err)" = 1 ] &&
            grep -q "^envinject: $k: value holds a" err; then
            ok "docker refuses $k: exit 65, nothing written, one line"
        else
            not_ok "docker refuses $k: exit 65, nothing written, one line" \
                "exit $rc" "$(cat out err)"
        fi
    done
    for f in systemd yaml; do
        ei all print --reveal --format $f >out.$f 2>err ||
            not_ok "$f: written" "$(cat err)"
        python3 "$readers" $f out.$f $keys_all >got 2>&1
        check "$f read back by $f's rules" same want.all got
    done
    cp out.yaml back.yaml
    : >got
    for k in $keys_all; do
        printf '%s %s\n' "$k" "$(env -i "$envinject" --layer file:back.yaml,interpolate=false \
            get "$k" | od -An -v -tx1 | tr -d ' \n' | sed 's/0a$//')" >>got
    done
    check "yaml read back by envinject's YAML reader" same want.all got
    # k8s: the secrets in a Secret, base64; the rest in a ConfigMap
    ei all print --reveal --format k8s --name app-config >out.k8s 2>err ||
        not_ok "k8s: written" "$(cat err)"
    python3 "$readers" k8s out.k8s app-config $keys_all >got 2>&1
    check "k8s read back: a Secret of base64 data" same want.all got
    check "k8s: one Secret and no ConfigMap for secrets only" \
        test "$(grep -c '^kind:' out.k8s)/$(grep -c '^kind: Secret$' out.k8s)" = 1/1
    env -i PATH="$PATH" $sub_envinject --layer "dir:a,trim_newline=false,secret=false" \
        --layer "dir:b,trim_newline=false,secret=true" \
        print --reveal --format k8s --name app-config >out.k8s 2>err ||
        not_ok "k8s: both written" "$(cat err)"
    python3 "$readers" k8s out.k8s app-config $keys_all >got 2>&1
    check "k8s read back: a ConfigMap and a Secret" same want.all got
    check "k8s: the ConfigMap holds set A, the Secret set B" \
        test "$(awk '/^kind:/{k=$2} /^  [A-Z_0-9]*:/{print k}' out.k8s | sort | uniq -c | tr -s ' ')" \
        = "$(printf ' %s ConfigMap\n %s Secret' "$(echo $keys_a | wc -w)" "$(ls b | wc -l)")"
    rc=0
    ei all print --reveal --format k8s --name Not_A_Name >out 2>err || rc=$?
    check "k8s: a name Kubernetes refuses is refused (64)" \
        test "$rc/$(wc -l <err)/$(wc -c <out)" = 64/1/0
    # bytes that are not UTF-8: no YAML, docker or systemd form
    mkdir bad
    printf 'caf\xe9' >bad/LATIN1
    # (a Secret holds bytes: only the ConfigMap needs UTF-8)
    for f in docker systemd yaml k8s; do
        rc=0
        opts=
        [ $f = k8s ] && opts="--name x"
        env -i PATH="$PATH" $sub_envinject --layer "dir:bad,secret=false" \
            print --format $f $opts >out 2>err || rc=$?
        if [ "$rc" = 65 ] && [ ! -s out ] &&
            grep -q "^envinject: LATIN1: value holds bytes that are not UTF-8" err; then
            ok "$f refuses a value that is not UTF-8 (65)"
        else
            not_ok "$f refuses a value that is not UTF-8 (65)" "exit $rc" "$(cat out err)"
        fi
    done
    # every YAML escape: C0 and C1 controls, DEL, U+2028/9, BOM, U+FFFE
    mkdir esc
    printf 'a\001b\033c\177d\302\205e\302\237f\342\200\250g\342\200\251h\357\273\277i\357\277\276j\342\202\254' >esc/ESC
    ei esc print --reveal --format yaml >out.yaml 2>err
    expected esc ESC >want.esc
    python3 "$readers" yaml out.yaml ESC >got 2>&1
    check "yaml: escapes for what YAML cannot hold raw read back" same want.esc got
    check "yaml: those characters written as escapes" \
        test "$(cat out.yaml)" = 'ESC: "a\x01b\x1Bc\x7Fd\x85e\x9Ff\u2028g\u2029h\uFEFFi\uFFFEj€"'
else
    ok "docker, systemd, yaml and k8s read back # SKIP python3 with yaml not installed"
fi

# --- without --reveal, no reader gets a secret as a value
unset_all() {
    for k in $1; do echo "$k UNSET"; done
}
unset_all "$keys_all" >want.unset
for f in dotenv shell docker systemd; do
    ei all print --format $f >out.$f 2>err
    warn=$(cat err)
    for sh in dash bash; do
        read_sh "$sh" source out.$f "$keys_all" >got 2>&1
        check "$f without --reveal: $sh gets no secret" same want.unset got
    done
    count=$(echo $keys_all | wc -w)
    if [ "$warn" = "envinject: warning: $count secret values left out; --reveal writes them" ] &&
        [ "$(grep -c '^# [A-Z_0-9]* is secret: left out (--reveal writes it)$' out.$f)" = "$count" ] &&
        ! grep -qv '^#' out.$f; then
        ok "$f without --reveal: a comment per secret, one warning"
    else
        not_ok "$f without --reveal: a comment per secret, one warning" \
            "stderr: $warn" "$(cat out.$f)"
    fi
done
ei all print --format json >out.json 2>/dev/null
check "json without --reveal: an empty object" \
    test "$(jq -c . out.json)" = "{}"
for f in env github; do
    ei all print --format $f >out.$f 2>/dev/null
    check "$f without --reveal: nothing written" test ! -s out.$f
done
ei all print --format yaml >out.yaml 2>err
count=$(echo $keys_all | wc -w)
if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
    check "yaml without --reveal: an empty mapping" \
        test "$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1])))' out.yaml)" = "{}"
fi
check "yaml without --reveal: a comment per secret" \
    test "$(grep -c '^# [A-Z_0-9]* is secret: left out (--reveal writes it)$' out.yaml)" = "$count"
ei all print --format k8s --name app >out.k8s 2>err
check "k8s without --reveal: no Secret, a comment, one warning"     test "$(cat out.k8s)|$(cat err)" = "# Secret app left out: $(echo $keys_all | wc -w) secret keys (--reveal writes it)|envinject: warning: $(echo $keys_all | wc -w) secret values left out; --reveal writes them"

echo "1..$n"
exit 0
