#!/usr/bin/env bash
# Cluster fan-out benchmark: one server with N subscribers beside a cluster of three nodes with
# N each (3N in all, on the same machine), in the same run.
#
#   bench/cluster.sh
#
# For every repetition it runs, in turn (the order alternating):
#   single   one tryvoha on its embedded store, N subscribers;
#   pg       one tryvoha on PostgreSQL with the NATS bus, N subscribers (what cluster mode
#            costs a node before there is a second);
#   cluster  three tryvoha nodes on PostgreSQL and NATS (one cluster name), N subscribers on
#            each; every declaration is made on the first node and must reach all 3N.
# Each is `tryvoha-bench` with 1 warm-up and M measured declarations, one at a time. At the end
# it prints every report and, per repetition, the cluster's time-to-all ÷ the single server's.
#
# Settings (environment):  N=19000  REPS=3  M=20  RESULTS=target/cluster/<time>
#   POSTGRES=postgres://postgres@127.0.0.1:5432/test  (a schema of the run's own, dropped at exit)
#   QUIET_WAIT=120  seconds to wait, before each run, for a second with under 0.25 CPUs busy.
#   TRYVOHA_BIN=path  benchmark this tryvoha binary instead of building the workspace's.
#
# Needs cargo, curl, psql, nats-server (a JetStream server of the run's own, on port 4333) and
# the right to write net.core.somaxconn (raised to 65535 for the run, restored at exit). The
# servers' CPU and memory are the three nodes' together; PostgreSQL's and NATS's CPU counts as
# "other CPU" in the reports. Loopback only; servers are stopped by pid; nothing is left.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
BENCH_NAME=cluster
. bench/common.sh
N=${N:-19000}
REPS=${REPS:-3}
M=${M:-20}
QUIET_WAIT=${QUIET_WAIT:-120}
POSTGRES=${POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
RESULTS=${RESULTS:-target/cluster/$(date -u +%Y%m%dT%H%M%SZ)}
PORTS=(8181 8182 8183)
NATS_PORT=4333

missing=()
for tool in cargo curl psql nats-server python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "cluster: missing: ${missing[*]} (this script installs nothing)" >&2
    exit 1
fi
if ! [ -w /proc/sys/net/core/somaxconn ]; then
    echo "cluster: cannot write net.core.somaxconn (run as root)" >&2
    exit 1
fi
psql "$POSTGRES" -XAtqc 'SELECT 1' >/dev/null || { echo "cluster: cannot reach $POSTGRES" >&2; exit 1; }

prepare_binaries "$repo"
mkdir -p "$RESULTS"
old_somaxconn=$(cat /proc/sys/net/core/somaxconn)
schemas=()
group_pid=""
nats_pid=""

stop_group() { # the servers of one run: SIGTERM each, then their parent
    if [ -n "$group_pid" ]; then
        for pid in $(ps -o pid= --ppid "$group_pid" 2>/dev/null || true); do stop_pid "$pid" TERM; done
        wait "$group_pid" 2>/dev/null || true
        group_pid=""
    fi
}

cleanup() {
    stop_group
    [ -n "$nats_pid" ] && stop_pid "$nats_pid" TERM
    for schema in "${schemas[@]}"; do PGOPTIONS="-c client_min_messages=warning" psql "$POSTGRES" -XAtqc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null || true; done
    echo "$old_somaxconn" > /proc/sys/net/core/somaxconn
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

token="bench-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

# Starts `count` nodes (all on the embedded store when `store` is empty, else on that store and
# the bus) as children of one shell, whose pid the bench samples: the nodes' CPU and memory
# summed.
start_servers() { # label, count, store
    local label=$1 count=$2 store=$3 k
    (
        for k in $(seq 0 $((count - 1))); do
            local args=(serve --listen "127.0.0.1:${PORTS[$k]}" --data "$work/$label-node$k"
                --max-connections-per-client 0 --rate-limit 0)
            if [ -n "$store" ]; then
                args+=(--store "$POSTGRES" --cluster-name "$store" --bus "nats://127.0.0.1:$NATS_PORT")
            fi
            TRYVOHA_ADMIN_TOKEN=$token TRYVOHA_LOG=warn "$tryvoha_bin" "${args[@]}" \
                > "$RESULTS/$label-node$k.server.log" 2>&1 &
        done
        wait
    ) &
    group_pid=$!
    for k in $(seq 0 $((count - 1))); do wait_for_url "http://127.0.0.1:${PORTS[$k]}/healthz"; done
}

run() { # label, kind (single | pg | cluster)
    local label=$1 kind=$2 count=1 store="" subscribers=$N schema servers
    wait_for_quiet
    if [ "$kind" != single ]; then
        schema="bench_cluster_$$_${label//-/_}"
        schemas+=("$schema")
        store=$schema
    fi
    [ "$kind" = cluster ] && count=3 && subscribers=$((3 * N))
    start_servers "$label" "$count" "$store"
    servers=$(for k in $(seq 0 $((count - 1))); do printf '127.0.0.1:%s,' "${PORTS[$k]}"; done)
    TRYVOHA_ADMIN_TOKEN=$token timeout 1200 "$bench_bin" target=tryvoha n="$subscribers" m="$M" label="$label" \
        clients=$((2 * count)) server="127.0.0.1:${PORTS[0]}" subscribe_to="${servers%,}" \
        server_pid="$group_pid" out="$RESULTS/$label.json" | tee "$RESULTS/$label.txt"
    stop_group
}

ulimit -n 20000
echo 65535 > /proc/sys/net/core/somaxconn
mkdir -p "$work/nats"
nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$work/nats" > "$RESULTS/nats.log" 2>&1 &
nats_pid=$!
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && break; sleep 0.1; done
{
    machine_lines
    echo "tryvoha binary: $tryvoha_source"
    echo "postgresql: $(psql "$POSTGRES" -XAtqc 'SHOW server_version'), nats-server: $(nats-server --version)"
    echo "open files: $(ulimit -n) per process; somaxconn for the run: 65535 (was $old_somaxconn)"
} | tee "$RESULTS/machine.txt"
for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) -eq 1 ]; then
        run "r$rep-single" single; run "r$rep-pg" pg; run "r$rep-cluster" cluster
    else
        run "r$rep-cluster" cluster; run "r$rep-pg" pg; run "r$rep-single" single
    fi
done
echo
"$bench_bin" summary dir="$RESULTS" | tee "$RESULTS/summary.md"
python3 - "$RESULTS" <<'PY' | tee -a "$RESULTS/summary.md"
import json, pathlib, statistics, sys
runs = {p.stem: json.loads(p.read_text()) for p in pathlib.Path(sys.argv[1]).glob("*.json")}
print("\n| rep | single time-to-all median ms | pg | cluster (3 nodes) | cluster ÷ single | cluster declare p50 ms | cluster missing / dup / out-of-order |")
print("|---|---|---|---|---|---|---|")
ratios = []
for rep in sorted({name.split("-")[0] for name in runs}):
    single, pg, cluster = (runs.get(f"{rep}-{kind}") for kind in ("single", "pg", "cluster"))
    if not (single and pg and cluster):
        continue
    t = lambda r: r["time_to_all_ms"]["median"]
    ratios.append(t(cluster) / t(single))
    print(f"| {rep} | {t(single):.1f} | {t(pg):.1f} | {t(cluster):.1f} | {ratios[-1]:.2f}× | "
          f"{cluster['publish_ms']['p50']:.1f} | {cluster['missing']} / {cluster['duplicate']} / {cluster['out_of_order']} |")
if ratios:
    print(f"\ncluster ÷ single, median over {len(ratios)} repetitions: {statistics.median(ratios):.2f}× (target ≤ 3.5×)")
PY
echo
echo "cluster: results in $RESULTS"
