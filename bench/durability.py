#!/usr/bin/env python3
"""The writers and the checker of bench/powerloss.sh and bench/crash.sh.

  durability.py drive BASE TOKEN SECONDS ACKS REGIONS_OFFSET
      Eight writers, each on regions of its own, declare, update and cancel alerts, send CAP
      messages and create and revoke tokens for SECONDS (or until the server is gone). Every
      write the server acknowledged (2xx) is appended to ACKS as one JSON line, and every write
      sent as an "attempt" line first, so that the checker knows which were in flight.

  durability.py check BASE TOKEN ACKS [SINCE_LINE]
      Reads the log (every page of /api/v1/events; with SINCE_LINE, the pages from the first
      event acknowledged on that line of ACKS or later), the active alerts and the tokens, and counts
      what the acknowledged writes say must be there and is not: an event missing or different
      at its seq, a gap in the log, an alert active or not as its last acknowledged write left
      it (unless a later write of it was in flight), a token missing or not revoked. Prints one
      JSON line: {"events": N, "acknowledged": M, "lost": L, "problems": [...]}.
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

WRITERS = 8
KINDS = ["air_raid", "artillery_shelling", "urban_fights", "chemical", "nuclear"]


class Api:
    def __init__(self, base, token):
        url = urllib.parse.urlparse(base)
        self.host, self.port, self.token = url.hostname, url.port, token
        self.conn = None

    def call(self, method, path, body=None, content_type="application/json"):
        """(status, parsed body); raises OSError when the server is gone."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        headers = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            headers["Content-Type"] = content_type
        try:
            self.conn.request(method, path, body=data, headers=headers)
            answer = self.conn.getresponse()
            raw = answer.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            self.conn = None
            raise OSError(str(error)) from error
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return answer.status, parsed


def cap_message(identifier, region):
    sent = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{identifier}</identifier><sender>powerloss.bench</sender><sent>{sent}</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope>
<info><language>en-US</language><category>Safety</category><event>Air raid alert</event><urgency>Immediate</urgency>
<severity>Extreme</severity><certainty>Observed</certainty><headline>Take shelter</headline>
<area><areaDesc>here</areaDesc><geocode><valueName>tryvoha:region</valueName><value>{region}</value></geocode></area>
</info></alert>""".encode()


def drive(base, token, seconds, acks_path, offset):
    api = Api(base, token)
    try:
        status, body = api.call("GET", "/api/v1/regions?level=hromada")
        hromadas = [r["id"] for r in body["regions"]]
        status, body = api.call("GET", "/api/v1/alerts/active")
        standing = [(a["id"], a["region_id"]) for a in body["alerts"]]
    except OSError:
        return  # cut before the first write: nothing was acknowledged
    lock = threading.Lock()
    acks = open(acks_path, "a")
    deadline = time.time() + seconds
    gone = threading.Event()

    def note(line):
        with lock:
            acks.write(json.dumps(line) + "\n")
            acks.flush()

    def writer(index):
        api = Api(base, token)
        rng = random.Random(f"{offset}-{index}-{time.time()}")
        # Regions of its own (this round's slice): no two writers' alerts ever merge.
        mine = [r for i, r in enumerate(hromadas) if i % WRITERS == index]
        rng.shuffle(mine)
        # The alerts earlier rounds left on its regions are its to update and cancel too.
        regions = set(mine)
        active = [alert for alert, region in standing if region in regions]
        tokens, next_region, n = [], 0, 0
        while time.time() < deadline and not gone.is_set():
            n += 1
            roll = rng.random()
            try:
                if roll < 0.35 or not active:
                    region = mine[(offset + next_region) % len(mine)]
                    next_region += 1
                    note({"attempt": "declare", "region": region})
                    kind = rng.choice(KINDS)
                    status, body = api.call("POST", "/api/v1/alerts", {"region_id": region, "kind": kind})
                    if status == 201:
                        active.append(body["id"])
                        note({"op": "declare", "alert": body["id"], "seq": body["seq"]})
                elif roll < 0.55:
                    alert = rng.choice(active)
                    level = rng.choice(["red", "yellow"])
                    note({"attempt": "update", "alert": alert})
                    status, body = api.call("PATCH", f"/api/v1/alerts/{alert}", {"level": level})
                    if status == 200:
                        note({"op": "update", "alert": alert, "seq": body["seq"]})
                elif roll < 0.75:
                    alert = active.pop(rng.randrange(len(active)))
                    note({"attempt": "cancel", "alert": alert})
                    status, body = api.call("POST", f"/api/v1/alerts/{alert}/cancel", {})
                    if status == 200:
                        note({"op": "cancel", "alert": alert, "seq": body["seq"]})
                elif roll < 0.85:
                    region = mine[(offset + next_region) % len(mine)]
                    next_region += 1
                    identifier = f"bench-{offset}-{index}-{n}"
                    note({"attempt": "cap", "region": region})
                    status, body = api.call("POST", "/api/v1/cap", cap_message(identifier, region), "application/cap+xml")
                    if status == 201:
                        for alert in body["alerts"]:
                            active.append(alert["id"])
                            note({"op": "declare", "alert": alert["id"], "seq": alert["seq"], "via": "cap"})
                elif roll < 0.92 or not tokens:
                    note({"attempt": "token"})
                    status, body = api.call("POST", "/api/v1/tokens", {"name": f"bench-{index}-{n}", "role": "reader"})
                    if status == 201:
                        tokens.append(body["id"])
                        note({"op": "token", "token": body["id"]})
                else:
                    victim = tokens.pop(rng.randrange(len(tokens)))
                    note({"attempt": "revoke", "token": victim})
                    status, body = api.call("DELETE", f"/api/v1/tokens/{victim}")
                    if status in (200, 204):
                        note({"op": "revoke", "token": victim})
            except OSError:
                gone.set()
                return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    acks.close()


def all_events(api, after=0):
    events = []
    while True:
        status, body = api.call("GET", f"/api/v1/events?after={after}&limit=1000")
        if status != 200:
            raise SystemExit(f"cannot read the log: {status} {body}")
        events += body["events"]
        if not body["events"]:
            return events
        after = body["next_after"]


def check(base, token, acks_path, since_line=0):
    """Every acknowledged write's state; the events of those acknowledged from line
    `since_line` of ACKS on (the earlier ones were checked before; a full check passes 0)."""
    api = Api(base, token)
    lines = [json.loads(line) for line in open(acks_path)]
    recent = [entry["seq"] for entry in lines[since_line:] if "seq" in entry]
    after = min(recent) - 1 if since_line and recent else 0
    if since_line and not recent:
        after = None
    events = all_events(api, after) if after is not None else []
    problems = []
    seqs = [e["seq"] for e in events]
    start = (after or 0) + 1
    if seqs != list(range(start, start + len(seqs))):
        problems.append(f"the log is not gap-free after {after}: {len(seqs)} events, last {seqs[-1] if seqs else None}")
    by_seq = {e["seq"]: e for e in events}
    status, body = api.call("GET", "/api/v1/alerts/active")
    active = {a["id"] for a in body["alerts"]}
    status, body = api.call("GET", "/api/v1/tokens")
    tokens = {t["id"]: t for t in body["tokens"]}
    acknowledged, lost = 0, 0
    last_ack, in_flight_alerts, token_acks, token_attempts = {}, set(), {}, set()
    pending_alert_attempts = {}
    # An alert whose acknowledged event is missing is counted once, not again for its state.
    missing_alerts = set()
    for number, entry in enumerate(lines):
        checked = number >= since_line
        if "attempt" in entry:
            if "alert" in entry:
                pending_alert_attempts[entry["alert"]] = entry["attempt"]
            if "token" in entry:
                token_attempts.add(entry["token"])
            continue
        acknowledged += 1
        op = entry["op"]
        if op in ("declare", "update", "cancel"):
            alert = entry["alert"]
            pending_alert_attempts.pop(alert, None)
            event = by_seq.get(entry["seq"])
            want = {"declare": "declared", "update": "updated", "cancel": "cancelled"}[op]
            # An update that changed nothing answers with the alert's last event: any of its own.
            matches = not checked or (event is not None and event.get("alert", {}).get("id") == alert and (
                event["type"] == want or op == "update"))
            if not matches:
                lost += 1
                missing_alerts.add(alert)
                problems.append(f"acknowledged {op} of alert {alert} at seq {entry['seq']}: the log has {event and (event['type'], event.get('alert', {}).get('id'))}")
            last_ack[alert] = op
        elif op == "token":
            token_acks[entry["token"]] = "created"
            token_attempts.discard(entry["token"])
        elif op == "revoke":
            token_acks[entry["token"]] = "revoked"
            token_attempts.discard(entry["token"])
    in_flight_alerts = set(pending_alert_attempts)
    for alert, op in last_ack.items():
        if alert in in_flight_alerts or alert in missing_alerts:
            continue
        should_be_active = op != "cancel"
        if should_be_active != (alert in active):
            lost += 1
            problems.append(f"alert {alert}: last acknowledged {op}, but it is {'active' if alert in active else 'not active'}")
    for token_id, state in token_acks.items():
        if token_id in token_attempts:
            continue
        stored = tokens.get(token_id)
        if stored is None or (state == "revoked") != (stored.get("revoked_at") is not None):
            lost += 1
            problems.append(f"token {token_id}: acknowledged {state}, stored {stored}")
    print(json.dumps({"events": len(events), "acknowledged": acknowledged, "lost": lost, "problems": problems[:20]}))


if __name__ == "__main__":
    if sys.argv[1] == "drive":
        drive(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    else:
        raise SystemExit(__doc__)
