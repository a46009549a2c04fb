#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite from a clean tree: install the test dependencies,
# build twice outside the source tree (plain, and with ASan+UBSan), run the
# tests of each build group by group with a progress line per group, then
# distcheck, a build with every provider shared, a build without dlopen and
# the fuzzers.  Ends with one line "N passed, N failed".  VALGRIND=1 adds a
# run of the suite under valgrind.  Builds go to build/NAME; their logs stay
# there.
set -u
cd "$(dirname "$0")/.."
top=$PWD
start=$SECONDS
elapsed() {
    local s=$((SECONDS - start))
    printf '%d:%02d' $((s / 60)) $((s % 60))
}
say() {
    echo "== [$(elapsed)] $*"
}

say "dependencies"
sh contrib/deps.sh --test || exit 1
if [ -f config.status ]; then
    # automake refuses to build elsewhere from a tree configured in place
    say "the source tree is configured in place: make distclean first"
    make -s distclean >/dev/null 2>&1 || rm -f config.status
fi
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }

passed=0
failed=0
skipped=0
mkdir -p "$top/build"

group_name() { # TEST: the progress group a test belongs to
    case $1 in
    tests/unit/*) echo "unit tests" ;;
    tests/lint/*) echo "lints" ;;
    tests/integration/run-cases.sh) echo "integration cases" ;;
    *) basename "$1" .sh ;;
    esac
}

check_group() { # DIR NAME TESTS...: make check for some tests, counted
    local dir=$1 name=$2
    shift 2
    local t0=$SECONDS out="$dir/check-${name// /-}.out" p f s
    (cd "$dir" && make -s -j"$(nproc)" check TESTS="$*" \
        ${VALGRIND_RUN:+VALGRIND=1} >"$out" 2>&1)
    p=$(sed -n 's/^# PASS: *//p' "$out" | tail -n 1)
    s=$(sed -n 's/^# SKIP: *//p' "$out" | tail -n 1)
    f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$out" |
        awk '{ s += $1 } END { print s + 0 }')
    if [ -z "$p" ]; then
        # no summary: the harness itself failed (a test did not build)
        f=$((f + 1))
        tail -n 30 "$out"
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + f))
    skipped=$((skipped + ${s:-0}))
    say "$(basename "$dir"): $name: ${p:-0} passed, $f failed, ${s:-0} skipped ($((SECONDS - t0)) s)"
    if [ "$f" -ne 0 ]; then
        grep -E '^(FAIL|ERROR|XPASS)' "$out" | head -n 40
        local log
        for log in "$@"; do
            log="$dir/$log.log"
            if grep -qE '^(not ok|FAIL|ERROR)' "$log" 2>/dev/null; then
                echo "---- $log"
                grep -E -A5 '^(not ok|# )' "$log" | head -n 60
            fi
        done
    fi
}

run() { # NAME CONFIGURE-ARGS...: configure, build and test in build/NAME
    local name=$1
    shift
    local dir="$top/build/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    say "$name: configure${*:+ $*} and build"
    if ! (cd "$dir" && "$top/configure" --quiet "$@" >configure.out 2>&1 &&
        make -s -j"$(nproc)" >build.out 2>&1 &&
        make -s -j"$(nproc)" check TESTS= >build-tests.out 2>&1); then
        cat "$dir/configure.out" "$dir/build.out" "$dir/build-tests.out" \
            2>/dev/null | tail -n 40
        say "$name: build failed"
        failed=$((failed + 1))
        return
    fi
    # one make check per group: a progress line each, in a stable order
    local tests t g groups=()
    tests=$(make -s -C "$dir" print-tests)
    declare -A members=()
    for t in $tests; do
        g=$(group_name "$t")
        [ -n "${members[$g]+set}" ] || groups+=("$g")
        members[$g]="${members[$g]:-} $t"
    done
    for g in "${groups[@]}"; do
        # shellcheck disable=SC2086
        check_group "$dir" "$g" ${members[$g]}
    done
}

step() { # NAME COMMAND...: one more check that passes or fails as a whole
    local name=$1 t0=$SECONDS
    shift
    if "$@" >"$top/build/$name.out" 2>&1; then
        say "$name: ok ($((SECONDS - t0)) s)"
        passed=$((passed + 1))
    else
        say "$name: FAILED ($((SECONDS - t0)) s)"
        tail -n 40 "$top/build/$name.out"
        failed=$((failed + 1))
    fi
}

shared_build() { # every provider as a shared object, exports checked
    local dir="$top/build/shared" p opts="" n=0
    # every provider configure.ac declares
    for p in $(sed -n 's/^EI_PROVIDER(\[\([a-z0-9-]*\)\].*/\1/p' "$top/configure.ac"); do
        opts="$opts --enable-provider-$p=shared"
        n=$((n + 1))
    done
    rm -rf "$dir" && mkdir -p "$dir/t" && cd "$dir" &&
        "$top/configure" --quiet $opts && make -s -j"$(nproc)" &&
        [ "$(ls .libs/*.so | wc -l)" -eq "$n" ] &&
        top_builddir=$dir top_srcdir=$top sh "$top/tests/lint/exports.sh" \
            >exports.tap && ! grep -q '^not ok' exports.tap &&
        printf 'A=1\nB=${A}2\n' >t/a.env &&
        printf 'provider_path = ["%s/.libs"];\nlayers = ( { provider = "file"; path = "a.env"; } );\n' \
            "$dir" >t/envinject.conf &&
        [ "$(./envinject -c t/envinject.conf print --format env B)" = B=12 ]
}

nodlopen_build() { # --disable-dlopen: nothing loadable, libcurl linked
    local dir="$top/build/nodlopen"
    rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" &&
        "$top/configure" --quiet --disable-dlopen && make -s -j"$(nproc)" &&
        ./envinject -V | tee version.out &&
        grep -qx 'loadable providers: no (built with --disable-dlopen)' \
            version.out &&
        ./envinject providers | tee providers.out &&
        grep -q 'cannot load providers from shared objects' providers.out &&
        ! nm -D envinject | grep -qw dlopen &&
        ldd envinject | grep -q 'libcurl\.so'
}

fuzz_build() { # the README's fuzz build, in place in a copy of the tree
    local dir="$top/build/fuzz"
    rm -rf "$dir" && mkdir -p "$dir" &&
        git -C "$top" ls-files -z | tar -C "$top" --null -T - -cf - |
        tar -C "$dir" -xf - &&
        cd "$dir" && autoreconf -fi >/dev/null 2>&1 &&
        CC=clang ./configure --quiet --enable-fuzzers &&
        make -s -j"$(nproc)" && make -s fuzz
}

run default
run sanitizers --enable-sanitizers
step distcheck make -s -C "$top/build/default" distcheck
step shared-providers shared_build
step no-dlopen nodlopen_build
if command -v clang >/dev/null 2>&1; then
    step fuzzers fuzz_build
fi
if [ -n "${VALGRIND:-}" ]; then
    VALGRIND_RUN=1 run valgrind
fi
say "done"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
