"""What bench/push.py measures and checks: CPU and memory from /proc, the machine's quiet, the
sink's counts turned into a result and a list of problems."""
import os
import subprocess
import time
from datetime import datetime, timezone

from channels import ROOT

TICK = os.sysconf("SC_CLK_TCK")
QUIET_WAIT = float(os.environ.get("QUIET_WAIT", "60"))


def cpu_s(pid):
    """utime + stime of every thread of `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def busy_s():
    """CPU seconds the machine has been busy (all but idle and iowait), every CPU together."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


class Usage:
    """One moment: the sender's CPU and memory (tryvoha's; the reference reports its own), the
    sink's CPU and the whole machine's busy time."""

    def __init__(self, sender_pid, sink_pid):
        self.sender_s = cpu_s(sender_pid) if sender_pid else None
        self.rss_kib = status_kib(sender_pid, "VmRSS") if sender_pid else None
        self.hwm_kib = status_kib(sender_pid, "VmHWM") if sender_pid else None
        self.sink_s = cpu_s(sink_pid)
        self.busy_s = busy_s()

    @property
    def rss_mib(self):
        return round(self.rss_kib / 1024, 1) if self.rss_kib else None


def wait_quiet():
    """Waits up to QUIET_WAIT s for a second with under 0.25 CPUs busy (a build running
    alongside skews every figure); returns the last second's busy CPUs, quiet or not."""
    end = time.monotonic() + QUIET_WAIT
    while True:
        before = busy_s()
        time.sleep(1.0)
        busy = busy_s() - before
        if busy < 0.25 or time.monotonic() > end:
            return round(busy, 2)


def result(sender, n, stats, start_ns, before, after, sender_cpu_s, window_cpu_s, hwm_kib, quiet):
    """One phase. `sender_cpu_s` is the sender's CPU for the sending; `window_cpu_s` what it used
    between `before` and `after`, so that the rest of the machine's busy time is "other"."""
    last, first = stats["last_accepted_ns"], stats["first_accepted_ns"]
    to_all_ms = (last - start_ns) / 1e6 if last and stats["accepted"] >= n else None
    sink_s = after.sink_s - before.sink_s
    sample = stats.get("sample") or {}
    return {
        "sender": sender,
        "n": n,
        "accepted": stats["accepted"],
        "time_to_all_ms": round(to_all_ms, 1) if to_all_ms is not None else None,
        "time_to_first_ms": round((first - start_ns) / 1e6, 1) if first else None,
        "pushes_per_s": round(n / to_all_ms * 1e3) if to_all_ms else None,
        "cpu_ms": round(sender_cpu_s * 1e3),
        "cpu_us_per_push": round(sender_cpu_s * 1e6 / n, 1),
        "hwm_mib": round(hwm_kib / 1024, 1) if hwm_kib else None,
        "sink_cpu_us_per_push": round(sink_s * 1e6 / n, 1),
        "other_cpu_ms": round((after.busy_s - before.busy_s - window_cpu_s - sink_s) * 1e3),
        "busy_cpus_before": quiet,
        "sink": {key: stats[key] for key in ("distinct", "refused", "bad_vapid", "vapid_verified", "decrypted",
                                             "decrypt_failures", "sample_mismatches", "connections")},
        "sample": {"bytes": len(sample.get("body", "").encode()), "ttl": sample.get("ttl"),
                   "urgency": sample.get("urgency"), "topic": sample.get("topic")},
    }


def problems(stats, n, vapid_key, payload):
    """Everything that makes a phase's figures untrustworthy; empty when all is well."""
    found = []
    if stats["accepted"] != n or stats["distinct"] != n:
        found.append(f"accepted {stats['accepted']} ({stats['distinct']} distinct) of {n}")
    for key in ("refused", "bad_vapid", "decrypt_failures", "sample_mismatches"):
        if stats[key]:
            found.append(f"{key} {stats[key]}")
    if stats["last_refusal"]:
        found.append(f"last refusal: {stats['last_refusal']}")
    if not stats["vapid_verified"] or stats["vapid_keys"] != [vapid_key]:
        found.append(f"VAPID verified {stats['vapid_verified']} times, keys {stats['vapid_keys']}")
    sample = stats.get("sample") or {}
    body = sample.get("body") or ""
    if not stats["decrypted"] or '"region_id":31' not in body:
        found.append(f"decrypted {stats['decrypted']}, sample not a frame on region 31: {body[:80]!r}")
    if payload is not None and body != payload:
        found.append("the decrypted sample is not the payload sent")
    if sample.get("urgency") != "high" or sample.get("topic") != "31-air_raid" or not sample.get("ttl"):
        found.append(f"headers: {sample}")
    return found


def machine_info():
    def run(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=20).stdout.strip()
        except OSError:
            return "unknown"
    dirty = "" if subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode == 0 \
        else " (working tree has changes)"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    package = os.environ.get("WEB_PUSH_PREFIX", "/tmp/tryvoha-bench-npm") + "/node_modules/web-push/package.json"
    web_push = run("node", "-p", "require(%r).version" % package)
    return [
        f"date: {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"workspace commit: {run('git', 'rev-parse', '--short', 'HEAD')}{dirty}",
        f"cpu: {cpu}, nproc {os.cpu_count()}; kernel {os.uname().release}",
        f"node {run('node', '--version')}, web-push {web_push}",
    ]
