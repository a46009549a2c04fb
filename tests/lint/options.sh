#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP: every row of the option tables in src/cli.c is documented in
# man/envinject.1, and every option the page documents exists.
#
# A row {"name", 'x', "ARG", ...} of the table of a command must have an
# item line in the .Ss section of that command (the global options: in
# DESCRIPTION before the first .Ss) that holds ".Fl \-name" (or
# ".Fl -name"; a '-' inside the name may be written "\-"), ".Fl x" when the
# row has a letter, and ".Ar" when it takes an argument.  One test per
# (command, option) row, then one that every ".It ... Fl \-name" of the
# page names an option of some table.  The exit status is 0 whatever the
# results: the "not ok" lines carry them.

set -u

here=${0%/*}
[ "$here" = "$0" ] && here=.
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
cli="$top_srcdir/src/cli.c"
page="$top_srcdir/man/envinject.1"

bail() {
    echo "1..1"
    echo "not ok 1 - $1"
    exit 0
}

[ -r "$cli" ] || bail "cannot read $cli"
[ -r "$page" ] || bail "cannot read $page"

# "row TABLE NAME LETTER HASARG" for each option row, then
# "cmd NAME TABLE" for each subcommand.
parsed=$(awk '
    /^static const struct ei_cli_opt [A-Za-z_0-9]+\[\] *= *\{/ {
        table = $5
        sub(/\[.*/, "", table)
        next
    }
    table != "" && /\{NULL, *0, *NULL/ { table = ""; next }
    table != "" && match($0, /\{"[a-z0-9][a-z0-9-]*", *('"'"'.'"'"'|0), *("[^"]*"|NULL)/) {
        row = substr($0, RSTART + 1, RLENGTH - 1)
        split(row, f, /, */)
        name = f[1]; gsub(/"/, "", name)
        letter = f[2]
        if (letter == "0") letter = "-"; else letter = substr(letter, 2, 1)
        hasarg = f[3] == "NULL" ? 0 : 1
        print "row", table, name, letter, hasarg
        next
    }
    /^static const struct ei_cli_cmd commands\[\] *= *\{/ { incmds = 1; text = ""; next }
    incmds {
        text = text " " $0
        if ($0 ~ /\};/) {
            incmds = 0
            n = split(text, part, /\{EI_CMD_/)
            for (i = 2; i <= n; i++) {
                if (part[i] ~ /^NONE/) continue
                if (!match(part[i], /"[a-z][a-z0-9-]*"/)) continue
                cname = substr(part[i], RSTART + 1, RLENGTH - 2)
                t = part[i]
                sub(/\}.*/, "", t)
                sub(/^.*[, ]/, "", t)
                print "cmd", cname, t
            }
        }
    }
' "$cli")

rows=$(printf '%s\n' "$parsed" | awk '$1 == "row"')
cmds=$(printf '%s\n' "$parsed" | awk '$1 == "cmd"')
[ -n "$rows" ] || bail "no option rows found in $cli"
[ -n "$cmds" ] || bail "no commands found in $cli"

# The .It lines of one part of the page: "" for the global options (in
# DESCRIPTION before the first .Ss), else the .Ss section of a command.
items_of() {
    awk -v want="$1" '
        /^\.Sh / {
            if (want == "") in_sec = ($2 == "DESCRIPTION")
            else in_sec = 0
            next
        }
        /^\.Ss / {
            if (want == "") { in_sec = 0; next }
            s = $0
            sub(/^\.Ss +/, "", s)
            gsub(/"/, "", s)
            in_sec = (s == want)
            next
        }
        in_sec && /^\.It / { print }
    ' "$page"
}

# An ERE for ".Fl \-name" with optional backslashes before each '-'.
long_re() {
    local name=$1 re
    re=${name//-/\\\\?-}
    printf 'Fl \\\\?-%s( |$)' "$re"
}

# Tests: one per (command, row); the global table once.
tests=()
while read -r _ table name letter hasarg; do
    if [ "$table" = "global_opts" ]; then
        tests+=("global|$name|$letter|$hasarg")
        continue
    fi
    users=$(printf '%s\n' "$cmds" | awk -v t="$table" '$3 == t { print $2 }')
    if [ -z "$users" ]; then
        tests+=("?$table|$name|$letter|$hasarg")
        continue
    fi
    for c in $users; do
        tests+=("$c|$name|$letter|$hasarg")
    done
done <<EOF
$rows
EOF

echo "1..$((${#tests[@]} + 1))"
n=0
for t in "${tests[@]}"; do
    n=$((n + 1))
    IFS='|' read -r where name letter hasarg <<EOF
$t
EOF
    case $where in
    \?*)
        echo "not ok $n - --$name: table ${where#?} belongs to no command"
        continue
        ;;
    global)
        section=""
        label="global --$name"
        place="DESCRIPTION before the first .Ss"
        ;;
    *)
        section=$where
        label="$where --$name"
        place=".Ss $where"
        ;;
    esac
    line=$(items_of "$section" | grep -E -- "$(long_re "$name")" | head -n 1)
    problems=""
    if [ -z "$line" ]; then
        problems="no .It line with .Fl \\-$name in $place"
    else
        if [ "$letter" != "-" ] &&
            ! printf '%s\n' "$line" | grep -q -E -- "Fl $letter( |$)"; then
            problems="the .It line lacks the short option .Fl $letter"
        fi
        if [ "$hasarg" = 1 ] && ! printf '%s\n' "$line" | grep -q ' Ar '; then
            problems="${problems:+$problems; }the .It line lacks .Ar for the argument"
        fi
    fi
    if [ -z "$problems" ]; then
        echo "ok $n - $label"
    else
        echo "not ok $n - $label"
        echo "# $problems"
    fi
done

# The other way round: no documented long option that the code lacks.
n=$((n + 1))
known=" $(printf '%s\n' "$rows" | awk '{ printf "%s ", $3 }')"
unknown=""
documented=$(grep -E '^\.It ' "$page" |
    grep -o -E 'Fl \\?-[a-z0-9][a-z0-9\\-]*' |
    sed -e 's/^Fl \\\{0,1\}-//' -e 's/\\//g' | sort -u)
for name in $documented; do
    case $known in
    *" $name "*) ;;
    *) unknown="$unknown --$name" ;;
    esac
done
if [ -z "$unknown" ]; then
    echo "ok $n - every documented long option is in src/cli.c"
else
    echo "not ok $n - every documented long option is in src/cli.c"
    echo "# documented but not in any table:$unknown"
fi
exit 0
