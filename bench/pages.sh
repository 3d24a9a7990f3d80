#!/usr/bin/env bash
# The web page budgets (docs/BENCHMARKS.md): page weight, requests and time to the state on
# screen per map level under a 1.6 Mbit/s, 300 ms link, and declared → visible on an open page.
#
#   bench/pages.sh                   # REPS=5
#   TRYVOHA_BIN=path REPS=3 bench/pages.sh
#
# Needs Chromium (/usr/bin/chromium) and a Python with playwright (TRYVOHA_BROWSER_PYTHON, as
# .ci/run sets up). Starts a release tryvoha on a temporary data directory with one alert
# declared (Kyiv city), loopback only, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
port=18772
bin=${TRYVOHA_BIN:-target/release/tryvoha}
python=${TRYVOHA_BROWSER_PYTHON:-/tmp/tryvoha-browser-venv/bin/python}
[ -n "${TRYVOHA_BIN:-}" ] || cargo build --release -q -p tryvoha
[ -x "$python" ] || { echo "no Python with playwright at $python (set TRYVOHA_BROWSER_PYTHON)"; exit 1; }
work=$(mktemp -d /tmp/tryvoha-pages-bench.XXXXXX)
server=""
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
admin=bench-admin-token-0123456789
TRYVOHA_ADMIN_TOKEN=$admin TRYVOHA_LOG=warn "$bin" serve --listen 127.0.0.1:$port --data "$work/data" \
    --max-connections-per-client 0 --rate-limit 0 &
server=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
curl -sf -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"region_id": 31, "kind": "air_raid", "message": {"uk": "Загроза балістики", "en": "Ballistic threat"}}' \
    http://127.0.0.1:$port/api/v1/alerts >/dev/null
"$python" bench/pages.py "http://127.0.0.1:$port" "$admin" "$REPS"
