#!/usr/bin/env bash
# Slow readers of the history export: do 200 anonymous clients reading history.json at 1 KB/s
# slow down declarations and /healthz, or make the server's memory grow?
#
#   bench/slow_readers.sh                  # 200 readers, 20 s settle
#   READERS=50 SETTLE=10 bench/slow_readers.sh
#   TRYVOHA_BIN=path SHARED=../shared/data bench/slow_readers.sh
#
# Imports the official history (official_data_en.csv, 43,030 records) into a temporary data
# directory, starts a release tryvoha on it (built if TRYVOHA_BIN is not given) with the
# per-client limits off (every reader is on 127.0.0.1), and measures three phases:
#
#   baseline   no readers
#   limit10k   READERS x `curl --limit-rate 1k` of history.json?from=2022-01-01T00:00:00Z&limit=10000
#   default    READERS x the same without `limit` (the default page of 1,000 records)
#
# In each attack phase the readers connect, SETTLE seconds pass (VmRSS sampled every second),
# then the figures are taken while the readers are still reading: WRITES declarations and as many
# cancellations (admin token, Kyiv oblast, each on a fresh connection, time to the whole answer),
# as many GET /healthz, VmRSS and VmHWM (peak RSS since start) from /proc/PID/status.
# No reader can finish meanwhile (a page is 0.29-2.9 MB, read at 1 KB/s).
#
# One line per phase. Exit status 1 when, in an attack phase:
#   - the write p50 or the /healthz p50 is above max(10 x its baseline p50, 20 ms)
#     (the floor keeps a 1 ms baseline on a shared machine from failing on scheduling noise), or
#   - the peak RSS (VmHWM) is above the baseline VmRSS + 1 MiB per reader (a server that held
#     each reader's 10,000-record page, 2.9 MB, would need ~2.8 MiB per reader), or
#   - fewer than READERS readers are still reading (a curl still running) after the figures.
# Needs curl, ss and python3 (standard library). Loopback only; every wait is bounded; the
# whole run is stopped after 170 s; the server and every reader are stopped by pid.
set -euo pipefail

cd "$(dirname "$0")/.."
READERS=${READERS:-200}
SETTLE=${SETTLE:-20}
WRITES=${WRITES:-50}
SHARED=${SHARED:-../shared/data}  # the shared data beside the project
port=18771
base=http://127.0.0.1:$port
bin=${TRYVOHA_BIN:-target/release/tryvoha}
[ -n "${TRYVOHA_BIN:-}" ] || cargo build --release -q -p tryvoha
ulimit -n $((READERS * 2 + 1024)) 2>/dev/null || true

work=$(mktemp -d /tmp/tryvoha-slow-readers.XXXXXX)
server=""
readers=()
watchdog=""
measurer=""
stop_readers() {
    if [ ${#readers[@]} -gt 0 ]; then
        kill "${readers[@]}" 2>/dev/null || true
        wait "${readers[@]}" 2>/dev/null || true
    fi
    readers=()
}
cleanup() {
    if [ -n "$measurer" ]; then
        kill "$measurer" 2>/dev/null || true
    fi
    stop_readers
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ -n "$watchdog" ]; then
        kill "$watchdog" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "slow_readers: stopped after 170 s" >&2; exit 2' USR1
(
    sleep 170 &
    sleeper=$!
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    wait "$sleeper" && kill -USR1 $$
) &
watchdog=$!

"$bin" import history "$SHARED/alerts/official_data_en.csv" --data "$work/data" --skip-invalid >"$work/import.log" 2>&1 ||
    { cat "$work/import.log"; exit 1; }
admin=bench-admin-token-0123456789
TRYVOHA_ADMIN_TOKEN=$admin TRYVOHA_LOG=warn "$bin" serve --listen 127.0.0.1:$port --data "$work/data" \
    --rate-limit 0 --max-connections-per-client 0 &
server=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { echo "the server did not start"; exit 1; }

cat >"$work/measure.py" <<'EOF'
"""One phase: settle (sampling VmRSS), then time writes and /healthz; print one line, and the
figures as JSON on the last line for the shell to compare."""
import http.client, json, sys, time

phase, pid, port, settle, writes, admin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
deadline = time.monotonic() + settle + 40  # the phase's own bound, whatever the server does

def status_kib(field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])

def request(method, path, body=None):
    """Milliseconds to the whole answer on a fresh connection, and the answer."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Connection": "close"}
    if body is not None:
        headers.update({"Authorization": f"Bearer {admin}", "Content-Type": "application/json"})
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status not in (200, 201):
        raise SystemExit(f"{phase}: {method} {path} answered {response.status}: {data[:300]!r}")
    return elapsed, data

def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]

samples = []
for _ in range(settle):
    samples.append(status_kib("VmRSS"))
    time.sleep(1)

def write_pair():
    declared_ms, data = request("POST", "/api/v1/alerts", json.dumps({"region_id": 14, "kind": "air_raid"}))
    cancelled_ms, _ = request("POST", f"/api/v1/alerts/{json.loads(data)['id']}/cancel", "")
    return [declared_ms, cancelled_ms]

for _ in range(3):  # not counted: the first writes of a fresh server warm its caches
    write_pair()
write_ms, health_ms = [], []
for _ in range(writes):
    if time.monotonic() > deadline:
        break
    write_ms += write_pair()
    ms, _ = request("GET", "/healthz")
    health_ms.append(ms)

rss, hwm = status_kib("VmRSS"), status_kib("VmHWM")
trace = " -> ".join(f"{s // 1024}" for s in samples[:: max(1, len(samples) // 5)]) if samples else "-"
print(f"{phase}: writes ({len(write_ms) // 2} declarations + {len(write_ms) // 2} cancellations) "
      f"p50 {quantile(write_ms, 0.5):.1f} ms, p99 {quantile(write_ms, 0.99):.1f} ms, "
      f"max {max(write_ms):.1f} ms; /healthz p50 {quantile(health_ms, 0.5):.1f} ms, "
      f"p99 {quantile(health_ms, 0.99):.1f} ms, max {max(health_ms):.1f} ms; "
      f"VmRSS {rss // 1024} MiB (settle {trace} MiB), peak VmHWM {hwm // 1024} MiB")
print(json.dumps({"write_p50": quantile(write_ms, 0.5), "health_p50": quantile(health_ms, 0.5),
                  "rss_kib": rss, "hwm_kib": hwm}))
EOF

# Connections the server still holds open. A reader of the default page can outlive its
# connection: the whole 293 KB page fits in the loopback socket buffers, so the server has
# written all of it and, 30 s later, closes the idle connection (the data still reaches curl).
connected() {
    ss -tnH state established "( sport = :$port )" | wc -l
}

# Readers still reading: a reader refused or cut by the server would have exited.
reading() {
    local alive=0 pid
    for pid in "${readers[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then alive=$((alive + 1)); fi
    done
    echo "$alive"
}

# Runs a phase (in the background, so that the watchdog can stop it), prints its line with the
# readers still connected at its end, and leaves its figures in $work/PHASE.json.
measure() {
    python3 "$work/measure.py" "$1" "$server" "$port" "$2" "$WRITES" "$admin" >"$work/$1.out" &
    measurer=$!
    wait "$measurer" || { cat "$work/$1.out"; exit 1; }
    measurer=""
    # The measuring connections are closed by now: what is still established is the readers.
    echo "$(head -n -1 "$work/$1.out"); $(reading) readers reading, $(connected) connections open"
    tail -n 1 "$work/$1.out" >"$work/$1.json"
}

measure baseline 2
echo "history: $(curl -sf "$base/api/v1/history.json?from=2022-01-01T00:00:00Z&limit=10000" | wc -c) bytes in a" \
    "10,000-record page, $(curl -sf "$base/api/v1/history.json?from=2022-01-01T00:00:00Z" | wc -c) in a default page"

failed=0
for phase in limit10k default; do
    query="from=2022-01-01T00:00:00Z"
    [ "$phase" = limit10k ] && query="$query&limit=10000"
    for _ in $(seq "$READERS"); do
        curl -s --limit-rate 1k --max-time 120 -o /dev/null "$base/api/v1/history.json?$query" &
        readers+=($!)
    done
    measure "$phase" "$SETTLE"
    python3 - "$work/baseline.json" "$work/$phase.json" "$phase" "$(reading)" "$READERS" <<'EOF' || failed=1
import json, sys
base, attack = (json.load(open(path)) for path in sys.argv[1:3])
phase, connected, readers = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ok = True
for key, name in (("write_p50", "write p50"), ("health_p50", "/healthz p50")):
    bound = max(10 * base[key], 20.0)
    if attack[key] > bound:
        print(f"{phase}: FAIL: {name} {attack[key]:.1f} ms > {bound:.1f} ms"); ok = False
rss_bound = base["rss_kib"] + readers * 1024
if attack["hwm_kib"] > rss_bound:
    print(f"{phase}: FAIL: peak RSS {attack['hwm_kib'] // 1024} MiB > {rss_bound // 1024} MiB"); ok = False
if connected < readers:
    print(f"{phase}: FAIL: only {connected} of {readers} readers still reading"); ok = False
sys.exit(0 if ok else 1)
EOF
    stop_readers
done
[ "$failed" = 0 ] && echo "slow_readers: within bounds" || echo "slow_readers: FAILED"
exit "$failed"
