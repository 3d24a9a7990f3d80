# Shell functions the side-by-side benchmarks share (sourced by bench/fanout.sh,
# bench/live_load.sh and bench/cluster.sh). Each script sets BENCH_NAME (the prefix of its
# messages) and QUIET_WAIT; those that start servers also TRYVOHA_PORT, NCHAN_PORT,
# RESULTS and repo.

stop_pid() { # pid, signal: signal it, wait up to 10 s, then SIGKILL
    local pid=$1 signal=$2 i
    kill -s "$signal" "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "$BENCH_NAME: $pid did not stop on $signal; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

wait_for_url() { # url: up to 20 s
    local i
    for i in $(seq 1 200); do
        curl -sf -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    echo "$BENCH_NAME: $1 did not answer within 20 s" >&2
    return 1
}

busy_cpus() { # CPUs' worth of busy time over the last second, e.g. 0.12
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) ))
    local all=$(( busy + (b[4]+b[5]) - (a[4]+a[5]) ))
    awk -v busy="$busy" -v all="$all" -v cpus="$(nproc)" 'BEGIN { printf "%.2f", all ? busy / all * cpus : 0 }'
}

wait_for_quiet() { # the machine is shared: wait up to QUIET_WAIT seconds for it to be idle
    local i load
    for i in $(seq 1 "$QUIET_WAIT"); do
        load=$(busy_cpus)
        awk -v l="$load" 'BEGIN { exit !(l < 0.25) }' && return 0
    done
    echo "$BENCH_NAME: the machine is still busy ($load CPUs); measuring anyway, see 'other CPU' in the report" >&2
}

machine_lines() { # the date, the build and the machine, for the results' machine.txt
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "workspace commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (working tree has changes)')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc)"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
    echo "kernel: $(uname -r)"
}

# Builds tryvoha and tryvoha-bench (or only the bench when TRYVOHA_BIN names a tryvoha), and
# copies both into a new work directory: a build started meanwhile must not swap binaries
# mid-run. Sets work, tryvoha_bin, bench_bin and tryvoha_source (what was copied).
prepare_binaries() { # repo
    local repo=$1
    if [ -n "${TRYVOHA_BIN:-}" ]; then
        cargo build --release -p tryvoha-bench
        tryvoha_source=$TRYVOHA_BIN
    else
        cargo build --release -p tryvoha -p tryvoha-bench
        tryvoha_source=$repo/target/release/tryvoha
    fi
    work=$(mktemp -d "/tmp/tryvoha-$BENCH_NAME.XXXXXX")
    cp "$tryvoha_source" "$work/tryvoha"
    cp "$repo/target/release/tryvoha-bench" "$work/tryvoha-bench"
    tryvoha_bin=$work/tryvoha
    bench_bin=$work/tryvoha-bench
}

check_free_ports() { # port…: refuse to start if something listens on one of them
    local port
    for port in "$@"; do
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
            echo "$BENCH_NAME: something already listens on 127.0.0.1:$port; stop it first" >&2
            exit 1
        fi
    done
}

# The servers of one run: server_pid (tryvoha or the floor) and nginx_prefix (nchan), stopped
# by stop_servers; take_over_somaxconn raises net.core.somaxconn for the run and installs the
# exit trap that stops everything, restores it and removes the work directory.
server_pid=""
nginx_prefix=""

take_over_somaxconn() {
    if ! [ -w /proc/sys/net/core/somaxconn ]; then
        echo "$BENCH_NAME: cannot write net.core.somaxconn (run as root)" >&2
        exit 1
    fi
    old_somaxconn=$(cat /proc/sys/net/core/somaxconn)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    echo 65535 > /proc/sys/net/core/somaxconn
}

new_token() { token="bench-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"; }

start_tryvoha() { # data dir, log name: a release tryvoha with $token as its admin token, the
    # per-client limits off (every subscriber comes from 127.0.0.1); a restart on the same data
    # dir appends to the same log
    TRYVOHA_ADMIN_TOKEN=$token TRYVOHA_LOG=warn \
        "$tryvoha_bin" serve --listen "127.0.0.1:$TRYVOHA_PORT" --data "$1" \
        --max-connections-per-client 0 --rate-limit 0 >> "$RESULTS/$2.server.log" 2>&1 &
    server_pid=$!
    wait_for_url "http://127.0.0.1:$TRYVOHA_PORT/healthz"
}

start_nchan() { # prefix: a fresh nginx + nchan (bench/nchan.conf) under it
    local i
    nginx_prefix=$1
    mkdir -p "$nginx_prefix/logs" "$nginx_prefix/tmp"
    nginx -q -t -p "$nginx_prefix/" -e logs/error.log -c "$repo/bench/nchan.conf"
    nginx -p "$nginx_prefix/" -e logs/error.log -c "$repo/bench/nchan.conf"
    for i in $(seq 1 100); do [ -s "$nginx_prefix/nginx.pid" ] && break; sleep 0.1; done
    wait_for_url "http://127.0.0.1:$NCHAN_PORT/nchan_status"
}

stop_servers() {
    if [ -n "$server_pid" ]; then
        stop_pid "$server_pid" TERM
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
    if [ -n "$nginx_prefix" ] && [ -s "$nginx_prefix/nginx.pid" ]; then
        local master workers
        master=$(cat "$nginx_prefix/nginx.pid")
        workers=$(ps -o pid= --ppid "$master" 2>/dev/null || true)
        stop_pid "$master" QUIT
        for worker in $workers; do stop_pid "$worker" TERM; done
    fi
    nginx_prefix=""
}

cleanup() {
    stop_servers
    echo "$old_somaxconn" > /proc/sys/net/core/somaxconn
    rm -rf "$work"
}
