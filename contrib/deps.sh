#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what envinject needs to build (and, with --test, to run its test
# suite) from Debian 12's packages.  Uses sudo when not run as root.
# apt's output goes to a log that is shown only when the install fails.
# The tests start their own etcd: the etcd-server package's system service
# is kept from starting while it is installed, and disabled afterwards.
set -eu
pkgs="build-essential autoconf automake libtool pkg-config
      libcurl4-openssl-dev libjansson-dev libconfig-dev libsodium-dev
      libyaml-dev libssl-dev"
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs libcmocka-dev mandoc valgrind python3 python3-dotenv python3-yaml python3-jsonschema zsh fish openssl
          clang libclang-rt-14-dev etcd-server etcd-client curl jq man-db
          faketime"
fi
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
# shellcheck disable=SC2086
missing=$(for p in $pkgs; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
          grep -q 'install ok installed' || echo "$p"; done)
if [ -z "$missing" ]; then
    echo "deps: every package is installed"
    exit 0
fi
log=$(mktemp "${TMPDIR:-/tmp}/envinject-deps.XXXXXX")
fail() {
    tail -n 30 "$log"
    echo "deps: $1 failed; the whole log is $log"
    exit 1
}
echo "deps: installing" $missing
$as_root apt-get update >"$log" 2>&1 || fail "apt-get update"

# policy-rc.d answers 101 ("not allowed") to every service start during the
# install, the documented way to keep a package's daemon from starting; one
# that the machine already has is left alone.  The one written here goes
# however the script ends (a failure, ^C, kill): left behind, it would keep
# every service of every later install from starting.  POLICY_RC_D is for
# the test (tests/integration/deps.sh).
policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
own_policy=""
drop_policy() {
    [ -z "$own_policy" ] || $as_root rm -f "$policy"
    own_policy=""
}
trap drop_policy EXIT
trap 'drop_policy; exit 130' INT
trap 'drop_policy; exit 143' TERM
case " $(echo $missing) " in
*" etcd-server "*)
    if [ ! -e "$policy" ]; then
        # set first: a signal between writing and chmod still removes it
        own_policy=1
        printf '#!/bin/sh\nexit 101\n' | $as_root tee "$policy" >/dev/null &&
            $as_root chmod 755 "$policy"
    fi
    ;;
esac
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -q \
    $missing >>"$log" 2>&1 || fail "apt-get install"
wrote_policy=$own_policy
drop_policy
if [ -n "$wrote_policy" ] && [ -d /run/systemd/system ]; then
    $as_root systemctl disable --now etcd.service >>"$log" 2>&1 || true
    echo "deps: etcd.service disabled (the tests start their own etcd)"
fi
rm -f "$log"
echo "deps: done"
