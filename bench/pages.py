"""Page budgets in Chromium (Playwright): for each map level, a cold load of / under network
emulation (1.6 Mbit/s down, 750 kbit/s up, 300 ms round trip): bytes transferred, requests, and
when the state is on screen (first contentful paint, and when the whole HTML, with every
region's state, is parsed); then, on an open page without throttling, the time from a declaration's API
answer to its region's shape turning to `alert`. Prints one JSON line."""
import json, statistics, sys, time, urllib.request
from playwright.sync_api import sync_playwright

BASE, ADMIN, REPS = sys.argv[1], sys.argv[2], int(sys.argv[3])
CHROMIUM = sys.argv[4] if len(sys.argv) > 4 else "/usr/bin/chromium"


def api(method, path, body=None):
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


result = {"levels": {}, "declared_to_visible_ms": []}
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
    for level in ("oblast", "raion", "hromada"):
        runs = []
        for _ in range(REPS):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 300,
                     "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8})
            transferred, requests = [], []
            cdp.on("Network.loadingFinished", lambda e: transferred.append(e["encodedDataLength"]))
            cdp.on("Network.requestWillBeSent", lambda e: requests.append(e["request"]["url"]))
            page.goto(f"{BASE}/?level={level}", wait_until="load")
            page.wait_for_timeout(1500)  # the region table and the stream's first frame
            paint = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
            # The whole state parsed: the last byte of the HTML is in and the document is built.
            parsed = page.evaluate("() => performance.getEntriesByType('navigation')[0].domInteractive")
            # EventSource's bytes never finish loading: what it received so far is not counted.
            runs.append({"bytes": sum(transferred), "requests": len(requests), "first_paint_ms": paint, "state_parsed_ms": parsed})
            context.close()
        result["levels"][level] = {
            "bytes": statistics.median(r["bytes"] for r in runs),
            "requests": statistics.median(r["requests"] for r in runs),
            "first_paint_ms_median": statistics.median(r["first_paint_ms"] for r in runs),
            "state_parsed_ms_median": round(statistics.median(r["state_parsed_ms"] for r in runs)),
            "state_parsed_ms_max": round(max(r["state_parsed_ms"] for r in runs)),
        }
    page = browser.new_page()
    page.goto(BASE + "/", wait_until="networkidle")
    page.wait_for_selector('#freshness[data-freshness="live"]')
    page.evaluate("""() => { window.__flips = {}; new MutationObserver((changes) => { for (const c of changes)
        if (c.target.dataset.state === 'alert') window.__flips[c.target.dataset.regionId] ??= Date.now(); })
        .observe(document.getElementById('map'), { attributes: true, subtree: true, attributeFilter: ['data-state'] }); }""")
    for region in [4, 5, 8, 9, 11, 12, 13, 15, 16, 17][:max(REPS, 3)]:
        alert = api("POST", "/api/v1/alerts", {"region_id": region, "kind": "air_raid"})
        answered = time.time() * 1000
        page.wait_for_selector(f'path[data-region-id="{region}"][data-state="alert"]', timeout=5000)
        flipped = page.evaluate(f"() => window.__flips['{region}']")
        result["declared_to_visible_ms"].append(round(flipped - answered, 1))
        api("POST", f"/api/v1/alerts/{alert['id']}/cancel", {})
    browser.close()
print(json.dumps(result))
