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
LAST=$KILLS
PORT=${PORT:-18732}
TOKEN=tv_crash_admin_$RANDOM$RANDOM

# TRYVOHA_BIN names a binary already built (the test suite's short run).
[ -n "${TRYVOHA_BIN:-}" ] || cargo build --release -q -p tryvoha
work=$(mktemp -d /tmp/tryvoha-crash.XXXXXX)
cp "${TRYVOHA_BIN:-target/release/tryvoha}" "$work/tryvoha"
data=$work/data acks=$work/acks.jsonl
mkdir -p "$data"
: >"$acks"
# The shell's own notices (a killed job's "Killed") go to a log: the last line of the output
# is the figures. Fatal messages go to the original stderr, fd 3.
exec 3>&2 2>>"$work/shell.log"
server_pid=
trap '[ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null || true' EXIT

start_server() {
    TRYVOHA_ADMIN_TOKEN=$TOKEN "$work/tryvoha" serve --listen 127.0.0.1:$PORT --data "$data" >>"$work/server.log" 2>&1 &
    server_pid=$!
    wait_for_url "http://127.0.0.1:$PORT/healthz" || { tail -20 "$work/server.log" >&3; exit 1; }
}

lost=0 acknowledged=0 checked_lines=0
start_server
for round in $(seq 1 "$KILLS"); do
    seconds=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + (r % 900) / 1000 }')
    python3 bench/durability.py drive "http://127.0.0.1:$PORT" "$TOKEN" 30 "$acks" "$round" 2>>"$work/driver.log" &
    driver=$!
    sleep "$seconds"
    kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    wait "$driver" 2>/dev/null || true
    start_server
    # Each round's writes are checked against the log; the whole log every 50 rounds and last.
    since=$checked_lines
    if [ $((round % 50)) = 0 ] || [ "$round" = "$LAST" ]; then since=0; fi
    result=$(python3 bench/durability.py check "http://127.0.0.1:$PORT" "$TOKEN" "$acks" "$since")
    checked_lines=$(wc -l <"$acks")
    lost=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])')
    acknowledged=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["acknowledged"])')
    echo "kill $round/$KILLS after ${seconds}s: $result" >>"$work/rounds.log"
    if [ "$lost" != 0 ]; then
        echo "$result"
        break
    fi
done
kills=$(wc -l <"$work/rounds.log")
# The last line is the figures (outside checks read it): everything else comes before.
echo "rounds: $work/rounds.log"
echo "crash: $kills kills, $acknowledged acknowledged, $lost lost"
[ "$lost" = 0 ]
