"""Web Push and the installable app in a real Chromium, driven by Playwright: run by
tests/api/browser_push.rs, which starts the server (allowing the local push service
web-push-testing) and web-push-testing itself. Prints one line `RESULT <json>`; the Rust test
asserts on it.

A browser's own push service (Google's, for Chromium) is not reachable from this machine, so
the one call that would reach it, PushManager.subscribe, is replaced in the page by one that
hands out a subscription of web-push-testing, made with the server's VAPID key. Everything
else is the browser's own: the service worker registers and controls the page, the page posts
the subscription to the API, the server sends through web-push-testing (which checks VAPID and
decrypts), and the decrypted message is handed to the service worker as a push message (the
DevTools protocol's ServiceWorker.deliverPushMessage), which shows the notification."""
import json, sys, time, urllib.request
from playwright.sync_api import sync_playwright

BASE, ADMIN, PUSH, SHOTS = sys.argv[1:5]
CHROMIUM = sys.argv[5] if len(sys.argv) > 5 else "/usr/bin/chromium"
# Bila Tserkva, a hromada of Kyiv oblast (Kyiv City itself has no hromadas in the registry).
BILA_TSERKVA = {"latitude": 49.7968, "longitude": 30.1311}
out = {}


def call(url, body=None, token=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        return json.loads(text) if text.startswith(("{", "[")) else text


def subscriptions():
    metrics = call(BASE + "/metrics")
    line = next((l for l in metrics.splitlines() if l.startswith("tryvoha_push_subscriptions ")), "")
    return int(line.split()[1]) if line else None


def messages(client_hash, more_than):
    """The messages web-push-testing received and decrypted, once there are more than before."""
    for _ in range(100):
        got = call(PUSH + "/get-notifications", {"clientHash": client_hash})["data"]["messages"]
        if len(got) > more_than:
            return got
        time.sleep(0.1)
    return got


def notifications(page):
    return page.evaluate("""() => navigator.serviceWorker.ready.then((r) => r.getNotifications())
        .then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, seq: n.data && n.data.seq })))""")


def wait_notification(page, wanted):
    for _ in range(50):
        shown = notifications(page)
        if any(wanted(n) for n in shown):
            return shown
        time.sleep(0.1)
    return notifications(page)


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
    context = browser.new_context(locale="en-GB", geolocation=BILA_TSERKVA)
    context.grant_permissions(["notifications", "geolocation"], origin=BASE)
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The installable app: a manifest whose icons load, and a worker that controls the page.
    page.goto(BASE + "/regions/31?lang=en", wait_until="networkidle")
    manifest_url = page.evaluate("() => document.querySelector('link[rel=manifest]').href")
    manifest = call(manifest_url)
    out["manifest"] = {"display": manifest.get("display"), "start_url": manifest.get("start_url")}
    out["icons"] = []
    for icon in manifest.get("icons", []):
        with urllib.request.urlopen(BASE + icon["src"], timeout=10) as response:
            out["icons"].append([icon["sizes"], response.headers.get("Content-Type"), len(response.read())])
    out["worker"] = page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.active && r.active.scriptURL)")
    page.reload(wait_until="networkidle")
    out["controlled"] = page.evaluate("() => !!navigator.serviceWorker.controller")

    # The browser's own subscribe reaches for a push service this machine cannot reach: the
    # page says so instead of breaking.
    page.click("#watch-this")
    page.click("#push-on")
    page.wait_for_selector("#push-status:not([data-state=working]):not([data-state=off])", timeout=20000)
    out["without_push_service"] = page.get_attribute("#push-status", "data-state")

    # Now with web-push-testing standing in for the browser's push service.
    key = call(BASE + "/api/v1/push/vapid-key")["public_key"]
    made = call(PUSH + "/subscribe", {"applicationServerKey": key})["data"]
    client_hash = made["clientHash"]
    subscription = {"endpoint": made["endpoint"], "expirationTime": None, "keys": made["keys"]}
    page.add_init_script("""(() => {
      const json = %s;
      let current = null;
      const toBase64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
      PushManager.prototype.subscribe = async function (options) {
        window.__applicationServerKey = toBase64url(options.applicationServerKey);
        current = { endpoint: json.endpoint, expirationTime: null, toJSON: () => json, unsubscribe: async () => { current = null; return true; } };
        return current;
      };
      PushManager.prototype.getSubscription = async function () { return current; };
    })();""" % json.dumps(subscription))
    page.reload(wait_until="networkidle")
    page.click("#push-on")
    page.wait_for_selector("#push-status[data-state=on]", timeout=10000)
    out["application_server_key_is_the_servers"] = page.evaluate("() => window.__applicationServerKey") == key
    out["status_on"] = page.text_content("#push-status")
    out["subscriptions_after_on"] = subscriptions()

    # "Add my location": the hromada there joins the list; the same subscription is renewed
    # with both.
    page.click("#push-locate")
    page.wait_for_function("() => JSON.parse(localStorage.getItem('tryvoha.watch') || '[]').length === 2", timeout=10000)
    page.wait_for_function("() => document.getElementById('push-status').textContent.includes(',')", timeout=10000)
    out["watched"] = page.evaluate("() => JSON.parse(localStorage.getItem('tryvoha.watch'))")
    out["subscriptions_after_location"] = subscriptions()

    # Declared: the push service gets it, and the worker shows it.
    cdp = context.new_cdp_session(page)
    registrations = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda e: registrations.update({r["scopeURL"]: r["registrationId"] for r in e["registrations"]}))
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if registrations:
            break
        page.wait_for_timeout(100)  # lets Playwright hand over the protocol's events
    registration = registrations.get(BASE + "/") or next(iter(registrations.values()), None)

    def deliver(payload):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": BASE, "registrationId": registration, "data": payload})

    real = call(BASE + "/api/v1/alerts", {"region_id": 31, "kind": "air_raid", "threats": ["ballistic_missiles"]}, ADMIN)
    got = messages(client_hash, 0)
    out["pushed"] = len(got)
    deliver(got[-1])
    shown = wait_notification(page, lambda n: n["tag"] == "31-air_raid")
    out["alert_notification"] = shown

    # The same message again (a repeat after a crash): still one notification, unchanged.
    deliver(got[-1])
    time.sleep(0.5)
    out["after_repeat"] = notifications(page)

    # An exercise says so first in its title.
    call(BASE + "/api/v1/alerts", {"region_id": 31, "kind": "chemical", "status": "exercise"}, ADMIN)
    got = messages(client_hash, len(got))
    deliver(got[-1])
    out["exercise_notification"] = wait_notification(page, lambda n: n["title"].startswith("EXERCISE"))

    # The all-clear takes the region's place.
    call(f"{BASE}/api/v1/alerts/{real['id']}/cancel", {}, ADMIN)
    got = messages(client_hash, len(got))
    deliver(got[-1])
    out["all_clear_notification"] = wait_notification(page, lambda n: n["title"].startswith("All clear"))
    # A quick series of changes to the list ends as the last of them at the server.
    page.evaluate("() => { const ids = TV.watched(); TV.watch([...ids, 8]); TV.watch([...ids, 8, 9]); TV.watch(ids); }")
    page.wait_for_timeout(1500)
    page.wait_for_selector("#push-status[data-state=on]", timeout=10000)
    out["status_after_quick_changes"] = page.text_content("#push-status")
    page.screenshot(path=f"{SHOTS}/push-region.png")

    # Offline: the page comes from the worker's copy and says how old its state is.
    context.set_offline(True)
    page.goto(BASE + "/regions/31?lang=en")
    page.wait_for_selector("#freshness[data-freshness=stale]", timeout=10000)
    out["offline"] = {
        "title": page.text_content("h1"),
        "freshness": page.text_content("#freshness"),
        "saved_copy": page.get_attribute("#freshness", "data-saved-copy"),
    }
    page.screenshot(path=f"{SHOTS}/push-offline.png")
    context.set_offline(False)

    # Turning it off removes the subscription at the server.
    page.goto(BASE + "/regions/31?lang=en", wait_until="networkidle")
    page.click("#push-on")
    page.wait_for_selector("#push-status[data-state=on]", timeout=10000)
    page.click("#push-off")
    page.wait_for_selector("#push-status[data-state=off]", timeout=10000)
    out["subscriptions_after_off"] = subscriptions()
    out["errors"] = errors
    browser.close()

print("RESULT " + json.dumps(out), flush=True)
