#!/usr/bin/env bash
# Live delivery under load beyond one message at a time: a burst, a reconnect storm and slow
# consumers (the plain fan-out is bench/fanout.sh).
#
#   bench/live_load.sh
#
# burst  N_BURST (10000) SSE subscribers; BURST (100) declarations spread over BURST_MS (1000)
#        without waiting for deliveries; every subscriber must get all of them, in order. The
#        same against nginx+nchan (bench/nchan.conf), side by side.
# storm  N_STORM (19000): tryvoha declares a warm-up and BEHIND (20) more with nobody
#        listening, is stopped (SIGTERM) and started again on the same data, and the N_STORM
#        subscribers reconnect at once with Last-Event-ID set to the warm-up's event: each must
#        get exactly the BEHIND events it missed. Reports the time until all have caught up and
#        how many frames the server signed meanwhile (/metrics tryvoha_frames_signed_total).
# slow   N_SLOW (10000) subscribers and M_SLOW (400) messages one at a time, twice on fresh
#        servers: every subscriber reading, then every STALL_EVERY-th (10: 10%) one stopping
#        once its stream has begun (with a small receive window). Compares the readers'
#        latency, counts the stalled ones cut off (/metrics) and the server's memory.
#
# Settings: WORKLOADS="burst storm slow"  REPS=1  RESULTS=target/live_load/<time>  QUIET_WAIT
#           TRYVOHA_BIN=path (benchmark this server binary instead of building the workspace's)
# Needs what bench/fanout.sh needs (nginx + nchan for the burst) and root for somaxconn.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
BENCH_NAME=live_load
. bench/common.sh
WORKLOADS=${WORKLOADS:-"burst storm slow"}
REPS=${REPS:-1}
N_BURST=${N_BURST:-10000}
BURST=${BURST:-100}
BURST_MS=${BURST_MS:-1000}
N_STORM=${N_STORM:-19000}
BEHIND=${BEHIND:-20}
N_SLOW=${N_SLOW:-10000}
M_SLOW=${M_SLOW:-400}
STALL_EVERY=${STALL_EVERY:-10}
QUIET_WAIT=${QUIET_WAIT:-120}
RESULTS=${RESULTS:-target/live_load/$(date -u +%Y%m%dT%H%M%SZ)}
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
TRYVOHA_PORT=8080
NCHAN_PORT=8090
PAYLOAD=${PAYLOAD:-590}

case " $WORKLOADS " in
    *" burst "*) { command -v nginx >/dev/null && [ -e "$NCHAN_MODULE" ]; } || {
        echo "live_load: the burst needs nginx and nchan: apt-get install -y nginx libnginx-mod-nchan" >&2
        exit 1
    } ;;
esac
check_free_ports $TRYVOHA_PORT $NCHAN_PORT
prepare_binaries "$repo"
mkdir -p "$RESULTS"
take_over_somaxconn
token=""

bench_tryvoha() { # name, then the coordinator's arguments
    local name=$1
    shift
    TRYVOHA_ADMIN_TOKEN=$token timeout 900 "$bench_bin" target=tryvoha server="127.0.0.1:$TRYVOHA_PORT" \
        server_pid="$server_pid" out="$RESULTS/$name.json" "$@" | tee "$RESULTS/$name.txt"
}

run_burst() { # label
    local name="burst-$1"
    wait_for_quiet
    new_token
    start_tryvoha "$work/$name-tryvoha" "$name-tryvoha"
    # 101 hromadas (a warm-up and the burst): Kyiv and Lviv oblasts together have 142.
    bench_tryvoha "$name-tryvoha" workload=burst n="$N_BURST" m="$BURST" burst_ms="$BURST_MS" oblast=14,27 \
        label="$1" message_timeout_s=120
    stop_servers
    wait_for_quiet
    start_nchan "$work/nchan-$name"
    timeout 900 "$bench_bin" target=nchan workload=burst n="$N_BURST" m="$BURST" burst_ms="$BURST_MS" \
        payload="$PAYLOAD" label="$1" message_timeout_s=120 server="127.0.0.1:$NCHAN_PORT" \
        server_pid="$(cat "$nginx_prefix/nginx.pid")" out="$RESULTS/$name-nchan.json" | tee "$RESULTS/$name-nchan.txt"
    stop_servers
}

run_storm() { # label
    local name="storm-$1" data prepared
    wait_for_quiet
    new_token
    data="$work/$name"
    start_tryvoha "$data" "$name"
    prepared=$(TRYVOHA_ADMIN_TOKEN=$token timeout 300 "$bench_bin" target=tryvoha workload=storm-prepare \
        server="127.0.0.1:$TRYVOHA_PORT" m="$BEHIND" | tail -1)
    echo "live_load: $prepared; restarting the server"
    stop_servers
    start_tryvoha "$data" "$name"
    # shellcheck disable=SC2086 # $prepared is "run=… after=…", two arguments
    bench_tryvoha "$name" workload=storm n="$N_STORM" m="$BEHIND" label="$1" $prepared
    stop_servers
}

run_slow() { # label
    local stall
    for stall in 0 "$STALL_EVERY"; do
        local name="slow-$1-stall$stall"
        wait_for_quiet
        new_token
        start_tryvoha "$work/$name" "$name"
        # Up to 451 messages: Kyiv, Lviv, Odesa, Dnipropetrovsk, Zaporizhzhia and Kharkiv oblasts
        # have 452 hromadas together.
        bench_tryvoha "$name" n="$N_SLOW" m="$M_SLOW" stall_every="$stall" label="$1-stall$stall" \
            oblast=14,27,18,9,12,28
        stop_servers
    done
}

ulimit -n 20000
machine_lines | tee "$RESULTS/machine.txt"
echo "tryvoha binary: $tryvoha_source" | tee -a "$RESULTS/machine.txt"
for rep in $(seq 1 "$REPS"); do
    for workload in $WORKLOADS; do
        "run_$workload" "r$rep"
    done
done
echo "live_load: results in $RESULTS"
