"""Memory per idle SSE subscriber on each path: N streams opened on fresh connections (the direct
path) or each after a GET /healthz on the same kept-alive connection (through hyper, as a browser
that reuses a connection does); prints the server's VmRSS growth per subscriber.

    python3 bench/stream_paths.py PORT PID N direct|keepalive
(run the server with --max-connections-per-client 0 --rate-limit 0, and ulimit -n above N)
"""
import socket, sys, time

port, pid, n, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def subscriber():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if mode == "keepalive":
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(65536)
    s.sendall(b"GET /api/v1/stream?regions=31 HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b'"regions"' not in got:
        got += s.recv(65536)
    return s


for _ in range(50):
    subscriber().close()
time.sleep(1)
before = rss()
held = [subscriber() for _ in range(n)]
time.sleep(2)
print(f"{mode}: {n} idle subscribers, {(rss() - before) / n:.2f} KiB each")
