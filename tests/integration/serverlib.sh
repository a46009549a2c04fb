# SPDX-License-Identifier: MIT
# Sourced by run-cases.sh and etcd.sh: the life cycle of the servers the
# remote tests talk to, all on loopback.  The caller sets work (a scratch
# folder) and top_srcdir.
#   fake_start NAME SEED LOG   tests/fakes/NAME_fake.py on the scenario file
#                              SEED, requests logged to LOG; sets port
#   fake_stop
#   start_cluster TAG N SCHEME [ETCD_ARG]...   N etcd members; sets urls,
#                              peers and pid_of[TAGi]
#   stop_member NAME, stop_all_members, ctl ARG... (etcdctl on urls)
#   load_keys PREFIX N         N config-sized keys under PREFIX, through ctl
# shellcheck shell=bash
export ETCDCTL_API=3

fake_pid=
port=

fake_stop() {
    if [ -n "$fake_pid" ]; then
        kill "$fake_pid" 2>/dev/null
        wait "$fake_pid" 2>/dev/null
    fi
    fake_pid=
}

# Returns 1 (with the fake's stderr in $work/fake.err) when it did not start.
fake_start() {
    local name=$1 seed=$2 log=$3 i
    fake_stop
    : >"$log"
    rm -f "$work/fake.port"
    python3 "$top_srcdir/tests/fakes/${name}_fake.py" "$seed" "$log" \
        >"$work/fake.port" 2>"$work/fake.err" &
    fake_pid=$!
    for i in $(seq 200); do
        [ -s "$work/fake.port" ] && break
        kill -0 "$fake_pid" 2>/dev/null || break
        sleep 0.05
    done
    port=$(head -n 1 "$work/fake.port" 2>/dev/null)
    case $port in
    '' | *[!0-9]*) return 1 ;;
    esac
    return 0
}

# --- etcd ---

declare -A pid_of=()
declare -A cmd_of=() url_of=()
declare -A taken=()

# A free loopback port below the ephemeral range, not handed out before.
pick_port() {
    local i p
    for i in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        [ -n "${taken[$p]:-}" ] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            taken[$p]=1
            port=$p
            return 0
        fi
    done
    return 1
}

# curl options that reach a TLS member (the caller sets them)
tls_curl=()

# wait_ready NAME URL: polls URL/health, 100 ms apart and 60 s at most,
# until etcd says it is healthy
wait_ready() {
    local name=$1 url=$2 i
    for i in $(seq 600); do
        kill -0 "${pid_of[$name]}" 2>/dev/null || return 1
        if curl -s -m 2 "${tls_curl[@]}" "$url/health" 2>/dev/null |
            grep -q '"health":"true"'; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

stop_member() {
    local name=$1
    [ -n "${pid_of[$name]:-}" ] || return 0
    kill "${pid_of[$name]}" 2>/dev/null
    # a member frozen by a test would never act on the TERM
    kill -CONT "${pid_of[$name]}" 2>/dev/null
    wait "${pid_of[$name]}" 2>/dev/null
    unset "pid_of[$name]"
}

stop_all_members() {
    local name
    for name in "${!pid_of[@]}"; do
        stop_member "$name"
    done
}

# Client and peer URLs of the members of the last cluster started.
urls=()
peers=()

# start_cluster TAG N SCHEME [ETCD_ARG]...: N members TAG1..TAGN with fresh
# data folders; new ports and a new try when a member does not come up
# (another program may have taken a port in between).
start_cluster() {
    local tag=$1 n=$2 scheme=$3
    shift 3
    local attempt i ic
    for attempt in 1 2 3; do
        urls=()
        peers=()
        ic=
        for i in $(seq "$n"); do
            pick_port || return 1
            urls+=("$scheme://127.0.0.1:$port")
            pick_port || return 1
            peers+=("http://127.0.0.1:$port")
            ic="${ic:+$ic,}$tag$i=http://127.0.0.1:$port"
        done
        for i in $(seq "$n"); do
            local name=$tag$i
            rm -rf "${work:?}/$name"
            mkdir -p "$work/$name"
            local cmd=(etcd --name "$name" --data-dir "$work/$name/data"
                --listen-client-urls "${urls[i - 1]}"
                --advertise-client-urls "${urls[i - 1]}"
                --listen-peer-urls "${peers[i - 1]}"
                --initial-advertise-peer-urls "${peers[i - 1]}"
                --initial-cluster "$ic" --initial-cluster-state new
                --initial-cluster-token "ei-$tag-$attempt-$$"
                --max-txn-ops 10000 --logger zap --log-level warn "$@")
            cmd_of[$name]=$(printf '%q ' "${cmd[@]}")
            "${cmd[@]}" >"$work/$name/log" 2>&1 &
            pid_of[$name]=$!
            url_of[$name]=${urls[i - 1]}
        done
        local up=true
        for i in $(seq "$n"); do
            wait_ready "$tag$i" "${urls[i - 1]}" || up=false
        done
        $up && return 0
        for i in $(seq "$n"); do
            cp "$work/$tag$i/log" "$work/$tag$i.failed-$attempt.log" 2>/dev/null
            stop_member "$tag$i"
        done
    done
    return 1
}

# restart_member NAME: start a stopped member again on its data (etcd
# ignores the initial-cluster flags once it has data); wait_ready tells
# when it serves again (which needs a quorum of members back).
restart_member() {
    local name=$1
    eval "${cmd_of[$name]}" >>"$work/$name/log" 2>&1 &
    pid_of[$name]=$!
}

# etcdctl against the last cluster started
ctl() {
    local eps
    eps=$(
        IFS=,
        echo "${urls[*]}"
    )
    etcdctl --endpoints="$eps" --command-timeout=30s "$@"
}

# load_keys PREFIX N: N keys of config-sized values through ctl, named
# PREFIXserviceNNN/settingNNNNNN (I % 100 and I) with the value "value I:
# postgres://db-I.internal:5432/app?sslmode=require", 10,000 puts a
# transaction (start_cluster's --max-txn-ops); 1 when one fails.  The
# benchmarks' load (bench-etcd.sh, bench-fleet.sh).
load_keys() {
    local prefix=$1 n=$2 from
    for ((from = 0; from < n; from += 10000)); do
        awk -v p="$prefix" -v a="$from" -v n="$n" 'BEGIN {
            print ""
            for (i = a; i < a + 10000 && i < n; i++)
                printf "put %sservice%03d/setting%06d \"value %d: postgres://db-%d.internal:5432/app?sslmode=require\"\n", p, i % 100, i, i, i
            print ""
            print ""
        }' | ctl txn -i=false >"$work/txn.out" || return 1
        grep -q SUCCESS "$work/txn.out" || return 1
    done
}
