"""Server CPU per page: N requests for PATH from T client threads (one new connection per page,
as pages close theirs), against a running server whose pid is given; prints pages per second
and the server's CPU per page (from /proc/PID/stat).

    python3 bench/page_serving.py PORT PID [PATH] [N] [T] [--plain]   # defaults: / 250 4 (gzip)
"""
import http.client, os, sys, threading, time

args = [a for a in sys.argv[1:] if not a.startswith("--")]
port, pid = int(args[0]), int(args[1])
path = args[2] if len(args) > 2 else "/"
n, threads = (int(args[3]) if len(args) > 3 else 250), (int(args[4]) if len(args) > 4 else 4)
headers = {} if "--plain" in sys.argv else {"Accept-Encoding": "gzip"}
ticks = os.sysconf("SC_CLK_TCK")


def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def work():
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.getheader("connection") == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port)


before, start = cpu(), time.time()
workers = [threading.Thread(target=work) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed, used = time.time() - start, cpu() - before
print(f"{path}: {n * threads} pages in {elapsed:.2f} s, {n * threads / elapsed:.0f} per s, "
      f"server CPU {used * 1e6 / (n * threads):.0f} µs per page")
