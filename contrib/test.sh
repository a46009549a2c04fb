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

step() { # NAME COMMAND...: one more check that passes or fails as a whole
    local name=$1
    shift
    if "$@" >"$top/build/$name.out" 2>&1; then
        echo "== $name: ok"
        passed=$((passed + 1))
    else
        echo "== $name: FAILED"
        tail -n 40 "$top/build/$name.out"
        failed=$((failed + 1))
    fi
}

shared_build() { # every provider as a shared object, exports checked
    local dir="$top/build/shared" p opts=""
    for p in file env dir sealed etcd consul vault aws-secrets aws-ssm; do
        opts="$opts --enable-provider-$p=shared"
    done
    rm -rf "$dir" && mkdir -p "$dir/t" && cd "$dir" &&
        "$top/configure" --quiet $opts && make -s -j"$(nproc)" &&
        [ "$(ls .libs/*.so | wc -l)" -eq 9 ] &&
        top_builddir=$dir top_srcdir=$top sh "$top/tests/lint/exports.sh" \
            >exports.tap && ! grep -q '^not ok' exports.tap &&
        printf 'A=1\nB=${A}2\n' >t/a.env &&
        printf 'provider_path = ["%s/.libs"];\nlayers = ( { provider = "file"; path = "a.env"; } );\n' \
            "$dir" >t/envinject.conf &&
        [ "$(./envinject -c t/envinject.conf print --format env B)" = B=12 ]
}

fuzz_build() { # the libFuzzer targets, each run for a few seconds
    local dir="$top/build/fuzz"
    rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" &&
        "$top/configure" --quiet --enable-fuzzers CC=clang &&
        make -s -j"$(nproc)" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
}

run default
run sanitizers --enable-sanitizers
step distcheck make -s -C "$top/build/default" distcheck
step shared-providers shared_build
if command -v clang >/dev/null 2>&1; then
    step fuzzers fuzz_build
fi
if [ -n "${VALGRIND:-}" ]; then
    VALGRIND_RUN=1 run valgrind
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
