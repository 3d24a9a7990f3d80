#!/usr/bin/env bash
# Geography benchmarks: the in-memory lookups (locate among all hromadas, nearest 5 of 10,000
# shelters) and the HTTP throughput of /api/v1/locate with wrk. From the project root:
#   bench/geography.sh
# Needs wrk (Debian package). Prints the figures recorded in docs/BENCHMARKS.md.
set -euo pipefail
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
echo "== in-memory lookups"
cargo run --release -q -p tryvoha-geo --example lookup_bench
cargo build --release -q -p tryvoha
work=$(mktemp -d /tmp/tryvoha-geo-bench.XXXXXX)
port=18767
TRYVOHA_ADMIN_TOKEN=bench-admin-token-0123456789 TRYVOHA_LOG=warn target/release/tryvoha serve --listen 127.0.0.1:$port --data "$work" --rate-limit 0 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
echo "== HTTP: /api/v1/locate over the 53 checkpoints, 2 wrk threads, 64 connections, 10 s"
wrk -t2 -c64 -d10s --latency -s bench/locate.lua http://127.0.0.1:$port
