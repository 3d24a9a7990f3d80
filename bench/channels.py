#!/usr/bin/env python3
"""The channels' benchmarks (docs/BENCHMARKS.md), against the release binary and a Mosquitto of
its own on a free port.

  channels.py mqtt [ROUNDS]      declare/all-clear on Kyiv city ROUNDS times (default 200): how long
                                 until an MQTT subscriber has the retained state; then the broker is
                                 restarted (no persistence) and the republishing of every region's
                                 state is timed.
  channels.py webhooks [ROUNDS]  100 endpoints: 90 healthy receivers on loopback, and in a second
                                 phase 10 more that accept TCP and never answer. Per declaration:
                                 the API's declare latency, and each healthy receiver's delay after
                                 the declaration was answered. Same run, phase A without the stuck
                                 endpoints, phase B with them.

Needs paho-mqtt (bench/channels.sh makes a virtualenv) and `mosquitto`. Prints one JSON object.
"""
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
EXE = os.path.join(ROOT, "target", "release", "tryvoha")
ADMIN = "bench-admin-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listens on {port}")


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + ADMIN)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def percentiles(values):
    values = sorted(values)
    if not values:
        return {}
    pick = lambda p: values[min(len(values) - 1, int(round(p * (len(values) - 1))))]
    return {"n": len(values), "p50": round(pick(0.5), 2), "p90": round(pick(0.9), 2),
            "p99": round(pick(0.99), 2), "max": round(values[-1], 2)}


class Server:
    def __init__(self, extra, env=None):
        self.dir = tempfile.mkdtemp(prefix="tryvoha-bench-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ, TRYVOHA_ADMIN_TOKEN=ADMIN, TRYVOHA_LOG="warn", **(env or {}))
        self.child = subprocess.Popen(
            [EXE, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", self.dir] + extra,
            env=environment, stdout=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        self.child.terminate()
        self.child.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Broker:
    def __init__(self):
        self.port = free_port()
        self.child = None
        self.start()

    def start(self):
        self.child = subprocess.Popen(["mosquitto", "-p", str(self.port)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        self.child.terminate()
        self.child.wait()


def mqtt(rounds):
    import paho.mqtt.client as paho
    broker = Broker()
    prefix = f"bench{os.getpid()}"
    server = Server(["--mqtt-url", f"mqtt://127.0.0.1:{broker.port}", "--mqtt-prefix", prefix])
    kyiv = f"{prefix}/v1/regions/31/state"
    arrived = {"state": None, "at": 0.0, "states": set(), "first": None, "last": None}
    changed = threading.Condition()

    def on_message(client, userdata, message):
        now = time.perf_counter()
        with changed:
            if message.topic == kyiv:
                arrived["state"] = json.loads(message.payload)["state"]
                arrived["at"] = now
            if message.topic.endswith("/state"):
                arrived["states"].add(message.topic)
                arrived["first"] = arrived["first"] or now
                arrived["last"] = now
            changed.notify_all()

    def subscribe():
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{os.getpid()}-{time.time_ns()}")
        client.on_message = on_message
        client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(f"{prefix}/v1/regions/+/state", qos=0)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        return client

    subscriber = subscribe()
    with changed:
        changed.wait_for(lambda: len(arrived["states"]) >= 1632, timeout=30)

    def until(state):
        with changed:
            if not changed.wait_for(lambda: arrived["state"] == state, timeout=10):
                raise SystemExit(f"no {state} state arrived")
            return arrived["at"]

    from_request, from_answer = [], []
    for _ in range(rounds):
        for action in ("declare", "cancel"):
            sent = time.perf_counter()
            if action == "declare":
                alert = call(server.base, "POST", "/api/v1/alerts", {"region_id": 31, "kind": "air_raid"})
            else:
                call(server.base, "POST", f"/api/v1/alerts/{alert['id']}/cancel", {})
            answered = time.perf_counter()
            at = until("alert" if action == "declare" else "clear")
            from_request.append((at - sent) * 1e3)
            from_answer.append((at - answered) * 1e3)

    # The broker restarts without persistence: every retained state is gone until the server
    # publishes it again.
    broker.stop()
    subscriber.loop_stop()
    with changed:
        arrived["states"], arrived["first"], arrived["last"] = set(), None, None
    down = time.perf_counter()
    time.sleep(1.0)
    broker.start()
    restarted = time.perf_counter()
    # A new subscriber at once (paho's own reconnect waits a second or more): what it receives,
    # retained or live, the server published again after the restart.
    subscriber = subscribe()
    with changed:
        complete = changed.wait_for(lambda: len(arrived["states"]) >= 1632, timeout=60)
    republish = {
        "states": len(arrived["states"]),
        "complete": complete,
        "first_to_last_ms": round((arrived["last"] - arrived["first"]) * 1e3, 1) if arrived["first"] else None,
        "broker_up_to_last_ms": round((arrived["last"] - restarted) * 1e3, 1) if arrived["last"] else None,
        "broker_down_s": round(restarted - down, 2),
    }
    subscriber.loop_stop()
    server.stop()
    broker.stop()
    return {"declare_or_clear_to_retained_state_ms": {"from_request": percentiles(from_request),
                                                      "from_answer": percentiles(from_answer)},
            "republish_after_broker_restart": republish}


def webhooks(rounds):
    received = {}
    lock = threading.Condition()

    class Receiver(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.perf_counter()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with lock:
                received.setdefault(int(self.headers["Tryvoha-Event-Id"]), []).append(now)
                lock.notify_all()

        def log_message(self, *args):
            pass

    healthy = []
    for _ in range(90):
        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        healthy.append(receiver)
    stuck = [socket.socket() for _ in range(10)]
    for s in stuck:
        s.bind(("127.0.0.1", 0))
        s.listen(1024)  # accepts (the kernel's backlog) and never answers
    server = Server([], env={"TRYVOHA_WEBHOOK_ALLOW_PRIVATE": "127.0.0.0/8"})
    for receiver in healthy:
        call(server.base, "POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook"})

    def phase(count):
        declare_ms, delivery_ms, from_request_ms = [], [], []
        for i in range(count):
            sent = time.perf_counter()
            alert = call(server.base, "POST", "/api/v1/alerts", {"region_id": 31, "kind": "air_raid"})
            answered = time.perf_counter()
            declare_ms.append((answered - sent) * 1e3)
            with lock:
                if not lock.wait_for(lambda: len(received.get(alert["seq"], [])) >= 90, timeout=30):
                    raise SystemExit(f"event {alert['seq']} reached {len(received.get(alert['seq'], []))} of 90")
                delivery_ms.extend((at - answered) * 1e3 for at in received[alert["seq"]])
                from_request_ms.extend((at - sent) * 1e3 for at in received[alert["seq"]])
            call(server.base, "POST", f"/api/v1/alerts/{alert['id']}/cancel", {})
            with lock:
                lock.wait_for(lambda: len(received.get(alert["seq"] + 1, [])) >= 90, timeout=30)
        # A delivery often arrives before the declaration's answer reaches the client: both leave
        # the server right after the commit, so "after the answer" can be negative.
        return {"declare_ms": percentiles(declare_ms), "healthy_delivery_after_answer_ms": percentiles(delivery_ms),
                "healthy_delivery_after_request_ms": percentiles(from_request_ms)}

    without_stuck = phase(rounds)
    for s in stuck:
        call(server.base, "POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{s.getsockname()[1]}/hook"})
    with_stuck = phase(rounds)
    server.stop()
    return {"endpoints": {"healthy": 90, "stuck": 10}, "rounds": rounds,
            "A_90_healthy": without_stuck, "B_90_healthy_10_stuck": with_stuck}


if __name__ == "__main__":
    which = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    print(json.dumps({which: mqtt(rounds) if which == "mqtt" else webhooks(rounds)}, indent=1))
