#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite from a clean tree: install the test dependencies,
# build twice (plain, and with ASan+UBSan), run `make check` in each, and
# end with one line "N passed, N failed".  VALGRIND=1 adds a third run of
# the suite under valgrind.
set -u
cd "$(dirname "$0")/.."
top=$PWD
sh contrib/deps.sh --test || exit 1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }

passed=0
failed=0
count() { # LOG: add the automake summary of one make check
    local p f
    p=$(sed -n 's/^# PASS: *//p' "$1" | tail -n 1)
    f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$1" |
        awk '{ s += $1 } END { print s + 0 }')
    passed=$((passed + ${p:-0}))
    failed=$((failed + f))
}

run() { # NAME CONFIGURE-ARGS...: configure, build and check in build/NAME
    local name=$1
    shift
    local dir="$top/build/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "== $name: configure $*"
    if ! (cd "$dir" && "$top/configure" --quiet "$@" >configure.out 2>&1 &&
        make -s -j"$(nproc)" >build.out 2>&1); then
        cat "$dir/configure.out" "$dir/build.out" 2>/dev/null | tail -n 40
        echo "$name: build failed"
        failed=$((failed + 1))
        return
    fi
    (cd "$dir" && make -s -j"$(nproc)" check ${VALGRIND_RUN:+VALGRIND=1} \
        >check.out 2>&1)
    grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL|#)' "$dir/check.out" |
        grep -Ev '^PASS' || true
    for log in $(find "$dir" -name '*.log' ! -name 'test-suite.log' \
                     ! -name config.log); do
        if grep -qE '^(not ok|FAIL|ERROR)' "$log" 2>/dev/null; then
            echo "---- $log"
            grep -E -A5 '^(not ok|# )' "$log" | head -n 60
        fi
    done
    count "$dir/check.out"
}

run default
run sanitizers --enable-sanitizers
if [ -n "${VALGRIND:-}" ]; then
    VALGRIND_RUN=1 run valgrind
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
