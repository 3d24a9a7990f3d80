#!/usr/bin/env bash
# SSE fan-out benchmark: tryvoha and nginx+nchan under the same load, side by side.
#
#   bench/fanout.sh
#
# For every repetition and every size N it starts a fresh tryvoha (temporary data directory)
# and a fresh nginx+nchan (bench/nchan.conf, 2 workers), runs `tryvoha-bench` against each
# (N subscribers on one region/channel, 1 warm-up + M measured messages), stops the server,
# and at the end prints every report and the ratios tryvoha ÷ nchan.
#
# Settings (environment):  SIZES="10000 19000"  REPS=2  M=20  RESULTS=target/fanout/<time>
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
QUIET_WAIT=${QUIET_WAIT:-120}
RESULTS=${RESULTS:-target/fanout/$(date -u +%Y%m%dT%H%M%SZ)}
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
TRYVOHA_PORT=8080
NCHAN_PORT=8090
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
if ! [ -w /proc/sys/net/core/somaxconn ]; then
    echo "fanout: cannot write net.core.somaxconn (run as root)" >&2
    exit 1
fi
for port in $TRYVOHA_PORT $NCHAN_PORT; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
        echo "fanout: something already listens on 127.0.0.1:$port; stop it first" >&2
        exit 1
    fi
done

prepare_binaries "$repo"
mkdir -p "$RESULTS"
old_somaxconn=$(cat /proc/sys/net/core/somaxconn)
server_pid=""
nginx_prefix=""

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
trap cleanup EXIT
trap 'exit 130' INT TERM

machine() {
    machine_lines
    echo "tryvoha binary: $tryvoha_source"
    echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), nchan: $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null || echo unknown)"
    echo "open files: $(ulimit -n); somaxconn for the run: 65535 (was $old_somaxconn)"
}

run_tryvoha() { # n, label
    local n=$1 label=$2 token
    wait_for_quiet
    token="bench-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    TRYVOHA_ADMIN_TOKEN=$token TRYVOHA_LOG=warn \
        "$tryvoha_bin" serve --listen "127.0.0.1:$TRYVOHA_PORT" --data "$work/tryvoha-$label-$n" \
        --max-connections-per-client 0 --rate-limit 0 \
        > "$RESULTS/$n-$label-tryvoha.server.log" 2>&1 &
    server_pid=$!
    wait_for_url "http://127.0.0.1:$TRYVOHA_PORT/healthz"
    TRYVOHA_ADMIN_TOKEN=$token timeout 900 "$bench_bin" target=tryvoha n="$n" m="$M" label="$label" \
        server="127.0.0.1:$TRYVOHA_PORT" server_pid="$server_pid" out="$RESULTS/$n-$label-tryvoha.json" \
        | tee "$RESULTS/$n-$label-tryvoha.txt"
    stop_servers
}

run_nchan() { # n, label
    local n=$1 label=$2 i
    wait_for_quiet
    nginx_prefix="$work/nchan-$label-$n"
    mkdir -p "$nginx_prefix/logs" "$nginx_prefix/tmp"
    nginx -q -t -p "$nginx_prefix/" -e logs/error.log -c "$repo/bench/nchan.conf"
    nginx -p "$nginx_prefix/" -e logs/error.log -c "$repo/bench/nchan.conf"
    for i in $(seq 1 100); do [ -s "$nginx_prefix/nginx.pid" ] && break; sleep 0.1; done
    wait_for_url "http://127.0.0.1:$NCHAN_PORT/nchan_status"
    timeout 900 "$bench_bin" target=nchan n="$n" m="$M" label="$label" payload="$PAYLOAD" \
        server="127.0.0.1:$NCHAN_PORT" server_pid="$(cat "$nginx_prefix/nginx.pid")" \
        out="$RESULTS/$n-$label-nchan.json" | tee "$RESULTS/$n-$label-nchan.txt"
    cp "$nginx_prefix/logs/error.log" "$RESULTS/$n-$label-nchan.server.log" 2>/dev/null || true
    stop_servers
}

ulimit -n 20000
echo 65535 > /proc/sys/net/core/somaxconn
machine | tee "$RESULTS/machine.txt"
for rep in $(seq 1 "$REPS"); do
    for n in $SIZES; do
        # Alternate which server goes first, so neither always runs on the warmer machine.
        if [ $((rep % 2)) -eq 1 ]; then
            run_tryvoha "$n" "r$rep"; run_nchan "$n" "r$rep"
        else
            run_nchan "$n" "r$rep"; run_tryvoha "$n" "r$rep"
        fi
    done
done
echo
"$bench_bin" summary dir="$RESULTS" | tee "$RESULTS/summary.md"
echo
echo "fanout: results in $RESULTS"
