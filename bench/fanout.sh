#!/usr/bin/env bash
# Fan-out benchmark: tryvoha, nginx+nchan and the physical floor under the same load, side by side.
#
#   bench/fanout.sh
#
# For every repetition, transport and size N it starts a fresh tryvoha (temporary data
# directory), a fresh nginx+nchan (bench/nchan.conf, 2 workers) and the floor (`tryvoha-bench
# floor`: a program that only writes each message's bytes to the same N sockets, from one
# thread per CPU), runs `tryvoha-bench` against each (N subscribers on one region/channel,
# 1 warm-up + M measured messages), stops the server, and at the end prints every report and
# the ratios tryvoha ÷ nchan, tryvoha ÷ floor and nchan ÷ floor. The order of the three
# rotates with the repetition.
#
# Settings (environment):  SIZES="10000 19000"  REPS=2  M=20  TRANSPORTS="sse" (or "sse ws")
#                          SERVERS="tryvoha nchan floor"  RESULTS=target/fanout/<time>
#   QUIET_WAIT=120  seconds to wait, before each run, for a second with under 0.25 CPUs busy
#                   (a build running alongside skews every figure; each report shows it as
#                   "other CPU" during the messages).
#   TRYVOHA_BIN=path  benchmark this tryvoha binary instead of building the workspace's.
#
# Needs nginx and the nchan module (apt-get install -y nginx libnginx-mod-nchan), cargo, curl,
# and the right to write net.core.somaxconn (raised to 65535 for the run, restored at exit).
# Every subscriber comes from 127.0.0.1, so the per-client limits are off for the run.
# Loopback only; every wait is bounded; servers are stopped by pid; nothing is left running.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
BENCH_NAME=fanout
. bench/common.sh
SIZES=${SIZES:-"10000 19000"}
REPS=${REPS:-2}
M=${M:-20}
TRANSPORTS=${TRANSPORTS:-sse}
SERVERS=${SERVERS:-"tryvoha nchan floor"}
QUIET_WAIT=${QUIET_WAIT:-120}
RESULTS=${RESULTS:-target/fanout/$(date -u +%Y%m%dT%H%M%SZ)}
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
TRYVOHA_PORT=8080
NCHAN_PORT=8090
FLOOR_PORT=8070
# tryvoha's declared event, as delivered, is about this long; nchan gets a body of that size.
PAYLOAD=${PAYLOAD:-590}

missing=()
command -v nginx >/dev/null || missing+=("nginx")
[ -e "$NCHAN_MODULE" ] || missing+=("libnginx-mod-nchan ($NCHAN_MODULE)")
command -v cargo >/dev/null || missing+=("cargo")
command -v curl >/dev/null || missing+=("curl")
if [ ${#missing[@]} -gt 0 ]; then
    echo "fanout: missing: ${missing[*]}" >&2
    echo "fanout: install with: apt-get install -y nginx libnginx-mod-nchan curl (this script installs nothing)" >&2
    exit 1
fi
check_free_ports $TRYVOHA_PORT $NCHAN_PORT $FLOOR_PORT
prepare_binaries "$repo"
mkdir -p "$RESULTS"
take_over_somaxconn

machine() {
    machine_lines
    echo "tryvoha binary: $tryvoha_source"
    echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), nchan: $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null || echo unknown)"
    echo "open files: $(ulimit -n); somaxconn for the run: 65535 (was $old_somaxconn)"
}

run_tryvoha() { # n, label, transport
    local n=$1 label=$2 transport=$3
    wait_for_quiet
    new_token
    start_tryvoha "$work/tryvoha-$label-$n" "$n-$label-tryvoha"
    TRYVOHA_ADMIN_TOKEN=$token timeout 900 "$bench_bin" target=tryvoha n="$n" m="$M" label="$label" transport="$transport" \
        server="127.0.0.1:$TRYVOHA_PORT" server_pid="$server_pid" out="$RESULTS/$n-$label-tryvoha.json" \
        | tee "$RESULTS/$n-$label-tryvoha.txt"
    stop_servers
}

run_nchan() { # n, label, transport
    local n=$1 label=$2 transport=$3
    wait_for_quiet
    start_nchan "$work/nchan-$label-$n"
    timeout 900 "$bench_bin" target=nchan n="$n" m="$M" label="$label" payload="$PAYLOAD" transport="$transport" \
        server="127.0.0.1:$NCHAN_PORT" server_pid="$(cat "$nginx_prefix/nginx.pid")" \
        out="$RESULTS/$n-$label-nchan.json" | tee "$RESULTS/$n-$label-nchan.txt"
    cp "$nginx_prefix/logs/error.log" "$RESULTS/$n-$label-nchan.server.log" 2>/dev/null || true
    stop_servers
}

run_floor() { # n, label, transport
    local n=$1 label=$2 transport=$3 i
    wait_for_quiet
    "$bench_bin" floor listen="127.0.0.1:$FLOOR_PORT" threads="$(nproc)" > "$RESULTS/$n-$label-floor.server.log" 2>&1 &
    server_pid=$!
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$FLOOR_PORT") 2>/dev/null && break
        sleep 0.1
    done
    timeout 900 "$bench_bin" target=floor n="$n" m="$M" label="$label" payload="$PAYLOAD" transport="$transport" \
        server="127.0.0.1:$FLOOR_PORT" server_pid="$server_pid" out="$RESULTS/$n-$label-floor.json" \
        | tee "$RESULTS/$n-$label-floor.txt"
    stop_servers
}

ulimit -n 20000
machine | tee "$RESULTS/machine.txt"
read -r -a servers <<< "$SERVERS"
for rep in $(seq 1 "$REPS"); do
    for transport in $TRANSPORTS; do
        for n in $SIZES; do
            # Rotate which server goes first, so none always runs on the warmer machine.
            for k in $(seq 0 $((${#servers[@]} - 1))); do
                server=${servers[$(((k + rep - 1) % ${#servers[@]}))]}
                "run_$server" "$n" "r$rep-$transport" "$transport"
            done
        done
    done
done
echo
"$bench_bin" summary dir="$RESULTS" | tee "$RESULTS/summary.md"
echo
echo "fanout: results in $RESULTS"
