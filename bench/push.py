#!/usr/bin/env python3
"""The Web Push benchmark (docs/push.md), tryvoha beside a reference sender, against one push
sink on loopback (`tryvoha-bench push-sink`, which checks VAPID and decrypts a sample).

For each N in SIZES (default "10000 100000") and each of ROUNDS (default 1) rounds:
  tryvoha    a fresh data directory with N subscriptions to Kyiv city (region 31), written into
             its SQLite store directly (the API allows 20 changes a minute per client); one
             declaration on region 31; the time from the declaration's request to the sink's
             last acceptance, tryvoha's CPU (utime+stime) over it, its memory, the sink's CPU.
  reference  the npm web-push (bench/push_reference.mjs) sends the same N subscriptions the same
             payload (the frame the sink decrypted from tryvoha) with the same VAPID key; timed
             from its start signal to the sink's last acceptance.
Both times are CLOCK_MONOTONIC: Python's, the sink's and Node's hrtime read the same clock.

Settings (environment): SIZES, ROUNDS, IN_FLIGHT (128: the reference's requests at once, as
tryvoha's per push service), REFERENCE_WORKERS (0: one Node worker thread per CPU),
QUIET_WAIT (60: seconds to wait, before each phase, for a second with under 0.25 CPUs busy).
Prints a table and one JSON line per N; exits 1 if any check failed. bench/push.sh installs
web-push, builds, and runs this.
"""
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

from channels import ADMIN, ROOT, free_port, wait_port
from push_measure import Usage, machine_info, problems, result, wait_quiet

SIZES = [int(n) for n in os.environ.get("SIZES", "10000 100000").split()]
ROUNDS = int(os.environ.get("ROUNDS", "1"))
IN_FLIGHT = int(os.environ.get("IN_FLIGHT", "128"))
REFERENCE_WORKERS = int(os.environ.get("REFERENCE_WORKERS", "0"))
REGION = 31
# The server's default VAPID `sub`; the reference signs with the same.
CONTACT = "mailto:operator@tryvoha.invalid"
FILTER = json.dumps({"regions": [REGION], "kinds": [], "statuses": [], "lang": "uk"}, separators=(",", ":"))
children = []


def start(argv, **kwargs):
    child = subprocess.Popen(argv, **kwargs)
    children.append(child)
    return child


def stop(child):
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if child in children:
        children.remove(child)


def http(method, url, body=None, token=False):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + ADMIN)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read().decode()


class Sink:
    def __init__(self, exe, keys):
        self.child = start([exe, "push-sink", f"keys={keys}"], stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.child.stdout.readline())
        self.origin, self.pid = hello["origin"], self.child.pid

    def stats(self):
        return json.loads(http("GET", self.origin + "/stats"))

    def reset(self):
        http("POST", self.origin + "/reset")

    def wait_accepted(self, n, timeout):
        end = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats["accepted"] >= n or time.monotonic() > end:
                return stats
            time.sleep(0.02)


class Tryvoha:
    def __init__(self, exe, data, env=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ, TRYVOHA_ADMIN_TOKEN=ADMIN, TRYVOHA_LOG="warn", **(env or {}))
        self.child = start([exe, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", data],
                           env=environment, stdout=subprocess.DEVNULL)
        self.pid = self.child.pid
        wait_port(self.port)
        # It listens before it opens the store: ready is when it answers.
        end = time.monotonic() + 60
        while True:
            try:
                self.metrics()
                break
            except OSError:
                if time.monotonic() > end or self.child.poll() is not None:
                    raise SystemExit(f"tryvoha on {self.base} does not answer")
                time.sleep(0.1)

    def metrics(self):
        """`subscriptions` and the push requests by outcome (`sent`, `accepted`, `failed`, …)."""
        values = {}
        for line in http("GET", self.base + "/metrics").splitlines():
            name, _, value = line.rpartition(" ")
            if name == "tryvoha_push_subscriptions":
                values["subscriptions"] = int(float(value))
            elif name.startswith('tryvoha_push_requests_total{outcome="'):
                values[name.split('"')[1]] = int(float(value))
        return values


def seed(data, n, keys, origin):
    """N subscriptions straight into the store the server made, as the API would have written them."""
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = ((f"{origin}/push/{i}", keys[i % len(keys)]["p256dh"], keys[i % len(keys)]["auth"], FILTER, created, 0)
            for i in range(n))
    db = sqlite3.connect(os.path.join(data, "tryvoha.db"))
    with db:
        db.executemany("INSERT INTO push_subscriptions (endpoint, p256dh, auth, filter, created_at, delivered_seq)"
                       " VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.close()


def run_tryvoha(exe, work, n, sink, keys):
    data = tempfile.mkdtemp(prefix="data-", dir=work)
    stop(Tryvoha(exe, data).child)  # the schema, the signing and VAPID keys
    seed(data, n, keys, sink.origin)
    server = Tryvoha(exe, data, {"TRYVOHA_PUSH_ALLOW_ENDPOINTS": sink.origin + "/push/"})
    try:
        end = time.monotonic() + 60
        while server.metrics().get("subscriptions") != n:
            if time.monotonic() > end:
                raise SystemExit(f"tryvoha does not show {n} push subscriptions")
            time.sleep(0.1)
        vapid = {"subject": CONTACT, "publicKey": json.loads(http("GET", server.base + "/api/v1/push/vapid-key"))[
            "public_key"], "privateKey": open(os.path.join(data, "vapid-key")).read().strip()}
        quiet = wait_quiet()
        sink.reset()
        before = Usage(server.pid, sink.pid)
        declared = time.monotonic_ns()
        http("POST", server.base + "/api/v1/alerts", {"region_id": REGION, "kind": "air_raid"}, token=True)
        answered = time.monotonic_ns()
        stats = sink.wait_accepted(n, 30 + n / 1000)
        after = Usage(server.pid, sink.pid)
        # What follows the last acceptance: the progress written to the store (every 0.5 s).
        time.sleep(1.0)
        settled = Usage(server.pid, sink.pid)
        metrics = server.metrics()
    finally:
        stop(server.child)
    shutil.rmtree(data, ignore_errors=True)
    cpu = after.sender_s - before.sender_s
    ours = result("tryvoha", n, stats, declared, before, after, cpu, cpu, after.hwm_kib, quiet)
    ours["declare_answer_ms"] = round((answered - declared) / 1e6, 1)
    ours["cpu_us_per_push_with_progress"] = round((settled.sender_s - before.sender_s) * 1e6 / n, 1)
    ours["rss_before_mib"], ours["rss_after_mib"] = before.rss_mib, after.rss_mib
    ours["requests"] = {k: v for k, v in metrics.items() if k != "subscriptions"}
    ours["problems"] = problems(stats, n, vapid["publicKey"], None)
    if ours["requests"].get("accepted") != n or ours["requests"].get("failed"):
        ours["problems"].append(f"tryvoha's own count: {ours['requests']}")
    return ours, vapid, (stats.get("sample") or {}).get("body")


def run_reference(node_script, work, n, sink, keys, payload, vapid):
    job = os.path.join(work, f"job-{n}.json")
    with open(job, "w") as out:
        json.dump({"subscriptions": [{"endpoint": f"{sink.origin}/push/{i}", "keys": {
            "p256dh": keys[i % len(keys)]["p256dh"], "auth": keys[i % len(keys)]["auth"]}} for i in range(n)],
            "payload": payload, "vapid": vapid, "ttl": 600, "urgency": "high", "topic": f"{REGION}-air_raid",
            "in_flight": IN_FLIGHT, "workers": REFERENCE_WORKERS}, out)
    quiet = wait_quiet()
    sink.reset()
    before = Usage(None, sink.pid)
    child = start(["node", node_script, job], stdout=subprocess.PIPE, text=True)
    out, _ = child.communicate(timeout=120 + n / 100)
    stop(child)
    if child.returncode != 0 or not out.strip():
        raise SystemExit(f"the reference sender failed (exit {child.returncode})")
    report = json.loads(out.strip().splitlines()[-1])
    stats = sink.wait_accepted(n, 10)
    after = Usage(None, sink.pid)
    # Node's startup and the reading of its job count as its own, not as "other".
    theirs = result(report["sender"], n, stats, report["start_ns"], before, after, report["cpu_ms"] / 1e3,
                    report["cpu_total_ms"] / 1e3, report["max_rss_kib"], quiet)
    theirs.update(workers=report["workers"], in_flight=report["in_flight"], statuses=report["statuses"],
                  elapsed_ms=round(report["elapsed_ms"], 1), cpu_total_ms=round(report["cpu_total_ms"]))
    theirs["problems"] = problems(stats, n, vapid["publicKey"], payload) + [f"error: {e}" for e in report["errors"]]
    os.remove(job)
    return theirs


def table_row(round_number, r):
    cell = lambda v, f: f.format(v) if v is not None else "-"
    return (f"{r['n']:>7}  {r['sender']:<15} {round_number:>5}  {cell(r['time_to_all_ms'], '{:>9.0f} ms')}"
            f"  {cell(r['pushes_per_s'], '{:>8.0f}')}  {cell(r['cpu_us_per_push'], '{:>7.0f} µs')}"
            f"  {cell(r['hwm_mib'], '{:>6.0f}')}  {cell(r['sink_cpu_us_per_push'], '{:>7.1f} µs')}"
            f"  {r['other_cpu_ms']:>7.0f} ms  {'ok' if not r['problems'] else '; '.join(r['problems'])}")


def median_time(rounds, side):
    times = [r[side]["time_to_all_ms"] for r in rounds if r[side] and r[side]["time_to_all_ms"] is not None]
    return statistics.median(times) if times else None


def main():
    work = tempfile.mkdtemp(prefix="tryvoha-push-bench-")
    node_script = os.path.join(ROOT, "bench", "push_reference.mjs")
    try:
        # Run copies: a build started meanwhile in this workspace must not swap binaries mid-run.
        exe = shutil.copy(os.path.join(ROOT, "target", "release", "tryvoha"), work)
        bench = shutil.copy(os.path.join(ROOT, "target", "release", "tryvoha-bench"), work)
        keys_file = os.path.join(work, "keys.json")
        subprocess.run([bench, "push-keys", f"out={keys_file}", "count=8"], check=True)
        keys = json.load(open(keys_file))["keys"]
        sink = Sink(bench, keys_file)
        for line in machine_info():
            print("#", line)
        print(f"# sink {sink.origin} (pid {sink.pid}); reference in flight {IN_FLIGHT}, workers "
              f"{REFERENCE_WORKERS or 'one per CPU'}; target: N/5000 s\n")
        print(f"{'N':>7}  {'sender':<15} {'round':>5}  {'time to all':>12}  {'pushes/s':>8}  {'CPU/push':>10}"
              f"  {'HWM MiB':>6}  {'sink/push':>10}  {'other CPU':>10}  checks", flush=True)
        failed = False
        for n in SIZES:
            rounds = []
            for round_number in range(1, ROUNDS + 1):
                ours, vapid, payload = run_tryvoha(exe, work, n, sink, keys)
                print(table_row(round_number, ours), flush=True)
                reference = None
                if payload is None:
                    ours["problems"].append("no decrypted sample: nothing to give the reference")
                else:
                    reference = run_reference(node_script, work, n, sink, keys, payload, vapid)
                    print(table_row(round_number, reference), flush=True)
                failed |= bool(ours["problems"]) or reference is None or bool(reference["problems"])
                rounds.append({"tryvoha": ours, "reference": reference})
            ours_ms, theirs_ms = median_time(rounds, "tryvoha"), median_time(rounds, "reference")
            target_ms = n / 5000 * 1000
            print(json.dumps({"n": n, "target_ms": target_ms, "tryvoha_median_ms": ours_ms,
                              "reference_median_ms": theirs_ms,
                              "meets_target": ours_ms is not None and ours_ms <= target_ms,
                              "faster_than_reference": None if None in (ours_ms, theirs_ms) else ours_ms < theirs_ms,
                              "rounds": rounds}), flush=True)
        return 1 if failed else 0
    finally:
        for child in list(children):
            stop(child)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    # A SIGTERM or Ctrl-C unwinds through main's `finally`, which stops every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
