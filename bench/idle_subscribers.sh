#!/usr/bin/env bash
# Memory per idle live subscriber, WebSocket and SSE: the server's VmRSS (from /proc) before and
# after N subscribers connect and receive their snapshot, divided by N.
#
#   bench/idle_subscribers.sh            # N=5000, both transports
#   N=10000 TRANSPORTS=ws bench/idle_subscribers.sh
#   TRYVOHA_BIN=path bench/idle_subscribers.sh
#
# Starts a release tryvoha (built if TRYVOHA_BIN is not given) on a temporary data directory
# for each transport, with the per-client limits off (every subscriber comes from 127.0.0.1).
# Needs python3 (standard library only) and an open-file limit above 2 N. Loopback only; every
# wait is bounded; the server is stopped by pid.
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-5000}
TRANSPORTS=${TRANSPORTS:-"ws sse"}
port=18769
bin=${TRYVOHA_BIN:-target/release/tryvoha}
[ -n "${TRYVOHA_BIN:-}" ] || cargo build --release -q -p tryvoha
ulimit -n $((2 * N + 1024))

work=$(mktemp -d /tmp/tryvoha-idle-bench.XXXXXX)
server=""
stop() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    server=""
}
trap 'stop; rm -rf "$work"' EXIT

for transport in $TRANSPORTS; do
    rm -rf "$work/data"
    TRYVOHA_ADMIN_TOKEN=bench-admin-token-0123456789 TRYVOHA_LOG=warn "$bin" serve \
        --listen 127.0.0.1:$port --data "$work/data" --max-connections-per-client 0 --rate-limit 0 &
    server=$!
    for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
    python3 - "$server" "$port" "$N" "$transport" <<'EOF'
import socket, sys, time

pid, port, n, transport = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def rss_kib():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

WS = (b"GET /api/v1/ws?regions=31 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
SSE = b"GET /api/v1/stream?regions=31 HTTP/1.1\r\nHost: x\r\n\r\n"

def subscribe():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(WS if transport == "ws" else SSE)
    got = b""
    # Until the snapshot has arrived: it names its region.
    while b'"regions"' not in got:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit(f"the server closed a {transport} subscriber: {got[:200]!r}")
        got += chunk
    return s

warm = [subscribe() for _ in range(50)]  # the runtime's and allocator's first growth
for s in warm:
    s.close()
time.sleep(1)
before = rss_kib()
subscribers = [subscribe() for _ in range(n)]
time.sleep(2)
after = rss_kib()
print(f"{transport}: {n} idle subscribers, VmRSS {before} KiB -> {after} KiB: "
      f"{(after - before) / n:.2f} KiB per subscriber")
EOF
    stop
done
