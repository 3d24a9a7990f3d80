#!/usr/bin/env python3
"""A webhook receiver as a user would write one, independent of tryvoha's code: it checks
Tryvoha-Signature (HMAC-SHA256 over "<t>.<raw body>", compared in constant time, t within five
minutes) and writes one JSON line per request to OUT.

    receiver.py PORT SECRET OUT [--fail-first N] [--status CODE] [--redirect URL]

--fail-first N answers 500 to the first N requests; --status answers CODE to every request;
--redirect answers 302 to URL. Python's standard library only."""
import hashlib, hmac, http.server, json, sys, time

port, secret, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
args = sys.argv[4:]
fail_first = int(args[args.index("--fail-first") + 1]) if "--fail-first" in args else 0
status = int(args[args.index("--status") + 1]) if "--status" in args else 200
redirect = args[args.index("--redirect") + 1] if "--redirect" in args else None
seen = {"requests": 0}


def verified(header, body):
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        want = hmac.new(secret, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, parts["v1"]) and abs(time.time() - t) < 300
    except Exception:
        return False


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen["requests"] += 1
        answer = 500 if seen["requests"] <= fail_first else (302 if redirect else status)
        with open(out, "a") as f:
            f.write(json.dumps({
                "event_id": self.headers.get("Tryvoha-Event-Id"),
                "verified": verified(self.headers.get("Tryvoha-Signature", ""), body),
                "answered": answer,
                "headers": {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("x-webhook-")},
                "body": body.decode(errors="replace"),
            }) + "\n")
        self.send_response(answer)
        if redirect:
            self.send_header("Location", redirect)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
