#!/usr/bin/env bash
# Power loss: the server's data directory on a filesystem that keeps every write in memory
# until it is fsynced (crates/powerloss, FUSE), eight writers declaring, updating, cancelling,
# sending CAP and changing tokens, and the power cut at a random moment: the server killed and
# every unsynced write dropped (every other cut also tears the last write in half). Then the
# server starts again on what survived, and every write it acknowledged before the cut must
# be there, in a gap-free log, with the same active alerts and tokens.
#
#   CUTS=200 bench/powerloss.sh          # the production settings: 0 lost
#   CUTS=5 SYNC=off bench/powerloss.sh   # synchronous=OFF (test-only): the harness catches it
#   PORT=N                               # the server's port (default 18731)
#
# Needs root (FUSE), python3 and curl. Ends with one line:
#   powerloss: N cuts, M acknowledged, L lost
# and exits non-zero when L > 0 (or when the run itself failed).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=powerloss
. bench/common.sh

CUTS=${CUTS:-200}
LAST=$CUTS
SYNC=${SYNC:-full}
PORT=${PORT:-18731}
TOKEN=tv_powerloss_admin_$RANDOM$RANDOM
case "$SYNC" in full | off) ;; *) echo "SYNC is full or off, not $SYNC" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "powerloss: FUSE mounts need root" >&2; exit 2; }
[ -e /dev/fuse ] || { echo "powerloss: no /dev/fuse" >&2; exit 2; }

# TRYVOHA_BIN and POWERLOSS_FS name binaries already built (the test suite's short run).
if [ -z "${TRYVOHA_BIN:-}" ] || [ -z "${POWERLOSS_FS:-}" ]; then
    cargo build --release -q -p tryvoha -p tryvoha-powerloss
fi
work=$(mktemp -d /tmp/tryvoha-powerloss.XXXXXX)
cp "${TRYVOHA_BIN:-target/release/tryvoha}" "$work/tryvoha"
cp "${POWERLOSS_FS:-target/release/powerloss-fs}" "$work/powerloss-fs"
below=$work/below mnt=$work/mnt acks=$work/acks.jsonl
mkdir -p "$below" "$mnt"
: >"$acks"
# The shell's own notices (a killed job's "Killed") go to a log: the last line of the output
# is the figures. Fatal messages go to the original stderr, fd 3.
exec 3>&2 2>>"$work/shell.log"
server_pid= fs_pid=
cleanup() {
    [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null || true
    [ -n "$fs_pid" ] && kill -TERM "$fs_pid" 2>/dev/null || true
    umount -l "$mnt" 2>/dev/null || true
}
trap cleanup EXIT

mount_fs() { # tear: the cut tears the last write
    local tear=$1 i
    "$work/powerloss-fs" "$below" "$mnt" $tear >>"$work/fs.log" 2>&1 &
    fs_pid=$!
    for i in $(seq 1 100); do
        grep -qs " $mnt fuse" /proc/mounts && return 0
        sleep 0.05
    done
    echo "powerloss: the filesystem did not mount; see $work/fs.log" >&3
    exit 1
}

start_server() {
    local env=()
    [ "$SYNC" = off ] && env=(TRYVOHA_TEST_UNSAFE_SQLITE_SYNCHRONOUS_OFF=1)
    env "${env[@]}" TRYVOHA_ADMIN_TOKEN=$TOKEN "$work/tryvoha" serve --listen 127.0.0.1:$PORT --data "$mnt" \
        >>"$work/server.log" 2>&1 &
    server_pid=$!
    wait_for_url "http://127.0.0.1:$PORT/healthz" || { tail -20 "$work/server.log" >&3; exit 1; }
}

cut() {
    # The power goes: the server dies where it stands, and so does the disk's cache.
    kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    kill -TERM "$fs_pid"; wait "$fs_pid" 2>/dev/null || true; fs_pid=
    umount -l "$mnt" 2>/dev/null || true
}

lost=0 acknowledged=0 checked_lines=0
for round in $(seq 1 "$CUTS"); do
    tear=; [ $((round % 2)) = 0 ] && tear=--tear
    mount_fs "$tear"
    start_server
    # Before the cut: whatever ran a fraction of a second to a second and a half.
    seconds=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + (r % 1300) / 1000 }')
    python3 bench/durability.py drive "http://127.0.0.1:$PORT" "$TOKEN" 30 "$acks" "$round" 2>>"$work/driver.log" &
    driver=$!
    sleep "$seconds"
    cut
    wait "$driver" 2>/dev/null || true
    # After it: what survived, checked against everything acknowledged so far.
    mount_fs ""
    start_server
    # Each round's writes are checked against the log; the whole log every 50 rounds and last.
    since=$checked_lines
    if [ $((round % 50)) = 0 ] || [ "$round" = "$LAST" ]; then since=0; fi
    result=$(python3 bench/durability.py check "http://127.0.0.1:$PORT" "$TOKEN" "$acks" "$since")
    checked_lines=$(wc -l <"$acks")
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    kill -TERM "$fs_pid"; wait "$fs_pid" 2>/dev/null || true; fs_pid=
    umount -l "$mnt" 2>/dev/null || true
    lost=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])')
    acknowledged=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["acknowledged"])')
    echo "cut $round/$CUTS after ${seconds}s${tear:+ (torn)}: $result" >>"$work/rounds.log"
    if [ "$lost" != 0 ]; then
        echo "$result"
        break
    fi
done
cuts=$(wc -l <"$work/rounds.log")
# The last line is the figures (outside checks read it): everything else comes before.
echo "rounds: $work/rounds.log"
echo "powerloss: $cuts cuts, $acknowledged acknowledged, $lost lost"
[ "$lost" = 0 ]
