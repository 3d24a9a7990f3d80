#!/usr/bin/env bash
# Crash loop: eight writers declaring, updating, cancelling, sending CAP and changing tokens,
# and the server SIGKILLed at a random moment, KILLS times, each followed by a restart on the
# same data directory and the check that every write it acknowledged is there, in a gap-free
# log, with the same active alerts and tokens.
#
#   KILLS=1000 bench/crash.sh
#
# Ends with one line:
#   crash: N kills, M acknowledged, L lost
# and exits non-zero when L > 0 (or when the run itself failed).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=crash
. bench/common.sh

KILLS=${KILLS:-1000}
PORT=${PORT:-18732}
TOKEN=tv_crash_admin_$RANDOM$RANDOM

# TRYVOHA_BIN names a binary already built (the test suite's short run).
[ -n "${TRYVOHA_BIN:-}" ] || cargo build --release -q -p tryvoha
work=$(mktemp -d /tmp/tryvoha-crash.XXXXXX)
cp "${TRYVOHA_BIN:-target/release/tryvoha}" "$work/tryvoha"
data=$work/data acks=$work/acks.jsonl
mkdir -p "$data"
: >"$acks"
server_pid=
trap '[ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null || true' EXIT

start_server() {
    TRYVOHA_ADMIN_TOKEN=$TOKEN "$work/tryvoha" serve --listen 127.0.0.1:$PORT --data "$data" >>"$work/server.log" 2>&1 &
    server_pid=$!
    wait_for_url "http://127.0.0.1:$PORT/healthz" || { tail -20 "$work/server.log" >&2; exit 1; }
}

lost=0 acknowledged=0
start_server
for round in $(seq 1 "$KILLS"); do
    seconds=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + (r % 900) / 1000 }')
    python3 bench/durability.py drive "http://127.0.0.1:$PORT" "$TOKEN" 30 "$acks" "$round" &
    driver=$!
    sleep "$seconds"
    kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    wait "$driver" 2>/dev/null || true
    start_server
    result=$(python3 bench/durability.py check "http://127.0.0.1:$PORT" "$TOKEN" "$acks")
    lost=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])')
    acknowledged=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["acknowledged"])')
    echo "kill $round/$KILLS after ${seconds}s: $result" >>"$work/rounds.log"
    if [ "$lost" != 0 ]; then
        echo "$result" >&2
        break
    fi
done
kills=$(wc -l <"$work/rounds.log")
echo "rounds: $work/rounds.log" >&2
echo "crash: $kills kills, $acknowledged acknowledged, $lost lost"
[ "$lost" = 0 ]
