#!/usr/bin/env bash
# History benchmark: importing official_data_en.csv (43,031 rows) and statistics queries over
# the whole range, on a release build. Usage (from the project root):
#   bench/history.sh [path/to/shared/data]
# Needs hyperfine and curl (Debian packages). Prints the figures recorded in docs/BENCHMARKS.md.
set -euo pipefail
shared=${1:-../shared/data}
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)"; exit 1; }
cargo build --release -q -p tryvoha
bin=$PWD/target/release/tryvoha
work=$(mktemp -d /tmp/tryvoha-history-bench.XXXXXX)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== import: official_data_en.csv into an empty data directory"
hyperfine --warmup 1 --runs 10 --prepare "rm -rf $work/import" \
  "$bin import history $shared/alerts/official_data_en.csv --data $work/import --skip-invalid"

echo "== statistics over the whole range (official + volunteer imported: 97,544 records)"
"$bin" import history "$shared/alerts/official_data_en.csv" --data "$work/data" --skip-invalid
"$bin" import history "$shared/alerts/volunteer_data_en.csv" --data "$work/data"
port=18765
TRYVOHA_ADMIN_TOKEN=bench-admin-token-0123456789 TRYVOHA_LOG=warn "$bin" serve --listen 127.0.0.1:$port --data "$work/data" --rate-limit 0 &
server=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
# Request to last byte as curl measures it (time_total), 3 warm-up and 30 measured requests.
for path in /api/v1/stats/regions/14 /api/v1/stats/regions/711 /api/v1/stats/summary "/api/v1/history.csv?regions=14"; do
  for _ in 1 2 3; do curl -sf -o /dev/null "http://127.0.0.1:$port$path"; done
  for _ in $(seq 30); do curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$path"; done | sort -n |
    awk -v path="$path" '{t[NR]=$1*1000} END {printf "%s: median %.1f ms, min %.1f ms, max %.1f ms over %d requests\n", path, t[int((NR+1)/2)], t[1], t[NR], NR}'
done
