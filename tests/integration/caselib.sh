# SPDX-License-Identifier: MIT
# Helpers for case scripts (sourced as . @SRCDIR@/tests/integration/caselib.sh).
# Every wait is a bounded loop on a condition, never a fixed sleep: a slow
# machine takes longer, it does not fail.

# wait_until WHAT COMMAND...: until COMMAND succeeds, 30 s at most; says
# what it waited for and fails when that never comes.
wait_until() {
    _what=$1
    shift
    _i=0
    while ! "$@" 2>/dev/null; do
        _i=$((_i + 1))
        if [ "$_i" -gt 600 ]; then
            echo "timed out waiting for $_what"
            return 1
        fi
        sleep 0.05
    done
}

# wait_for FILE TEXT: until FILE has a line matching TEXT (grep).
wait_for() {
    wait_until "'$2' in $1" grep -q -- "$2" "$1"
}

_has_lines() {
    [ "$(grep -c -- "$2" "$1")" -ge "$3" ]
}

# wait_count FILE TEXT N: until FILE has N lines matching TEXT.
wait_count() {
    wait_until "$3 lines '$2' in $1" _has_lines "$1" "$2" "$3"
}

_ended() {
    ! kill -0 "$1"
}

# wait_gone PID: until the process PID has ended (and was reaped).
wait_gone() {
    wait_until "process $1 to end" _ended "$1"
}
