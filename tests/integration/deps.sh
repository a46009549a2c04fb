#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: contrib/deps.sh removes the policy-rc.d it wrote however it ends
# (a failed install, SIGINT, SIGTERM).  apt-get, dpkg-query, sudo, id and
# systemctl are stubs on PATH; POLICY_RC_D points the script at a file in
# a temporary folder, so nothing outside it is touched.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ei-deps.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
stub() { # NAME BODY
    printf '#!/bin/sh\n%s\n' "$2" >"$work/bin/$1"
    chmod 755 "$work/bin/$1"
}
stub id 'echo 1000'
stub sudo 'exec "$@"'
stub dpkg-query 'exit 1'
stub systemctl 'exit 0'
# install: what $DEPS_INSTALL says (fail, INT, TERM), after checking that
# the policy is in place while it runs
stub apt-get '[ "$1" = update ] && exit 0
[ -x "$POLICY_RC_D" ] || { echo "policy missing during install" >&2; exit 3; }
case $DEPS_INSTALL in
fail) exit 100 ;;
*) kill -"$DEPS_INSTALL" "$PPID"; exit 0 ;;
esac'

n=0
echo "1..3"
for how in fail INT TERM; do
    n=$((n + 1))
    rm -f "$work/policy-rc.d"
    PATH="$work/bin:$PATH" POLICY_RC_D="$work/policy-rc.d" TMPDIR="$work" \
        DEPS_INSTALL=$how sh "$top_srcdir/contrib/deps.sh" --test \
        >"$work/out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && [ ! -e "$work/policy-rc.d" ] &&
        ! grep -q "policy missing" "$work/out"; then
        echo "ok $n - policy-rc.d removed after install $how (exit $rc)"
    else
        echo "not ok $n - policy-rc.d after install $how (exit $rc)"
        sed 's/^/# /' "$work/out"
        ls -l "$work/policy-rc.d" 2>&1 | sed 's/^/# /'
    fi
done
