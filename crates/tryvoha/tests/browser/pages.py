"""The web pages in a real Chromium, driven by Playwright: run by tests/api/browser.rs, which
starts the server and answers this script's requests on stdin (`RESTART`: kill the server and
start it again on the same port and data). Prints one line `RESULT <json>` at the end; the Rust
test asserts on it. Screenshots go to the directory given."""
import json, sys, urllib.request
from playwright.sync_api import sync_playwright

BASE, ADMIN, OPERATOR, SHOTS = sys.argv[1:5]
CHROMIUM = sys.argv[5] if len(sys.argv) > 5 else "/usr/bin/chromium"
out = {}


def api(method, path, body=None, token=ADMIN):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def ask(line):
    print(line, flush=True)
    return sys.stdin.readline().strip()


def state(page, region):
    return page.evaluate(f'() => (document.querySelector(\'path[data-region-id="{region}"]\') || {{}}).dataset?.state')


def wait_state(page, region, wanted, timeout=5000):
    try:
        page.wait_for_selector(f'path[data-region-id="{region}"][data-state="{wanted}"]', timeout=timeout)
        return True
    except Exception:
        return False


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="uk-UA")
    errors = []

    def watched(new_page):
        """A page whose script errors are collected."""
        new_page.on("pageerror", lambda e: errors.append(str(e)))
        return new_page

    page = watched(context.new_page())
    page.goto(BASE + "/", wait_until="networkidle")
    page.wait_for_selector('#freshness[data-freshness="live"]', timeout=5000)
    out["shapes"] = page.locator("svg#map path[data-region-id]").count()
    page.screenshot(path=f"{SHOTS}/map.png")

    # Declared through the API: the region turns to alert without a reload; the all-clear back.
    alert = api("POST", "/api/v1/alerts", {"region_id": 8, "kind": "air_raid"})
    out["live_alert"] = wait_state(page, 8, "alert")
    out["listed"] = page.locator("#alert-list li").count()
    api("POST", f"/api/v1/alerts/{alert['id']}/cancel", {})
    out["live_clear"] = wait_state(page, 8, "clear")

    # A time to shelter: an alert declared there arrives with a countdown that ticks each second.
    api("PATCH", "/api/v1/regions/8", {"shelter_within_s": 90})
    timed = api("POST", "/api/v1/alerts", {"region_id": 8, "kind": "air_raid"})
    wait_state(page, 8, "alert")
    countdown = page.locator(f'#alert-list li[data-alert-id="{timed["id"]}"] .countdown')
    first = countdown.inner_text()
    page.wait_for_timeout(2100)
    out["countdown"] = [first, countdown.inner_text()]
    api("POST", f"/api/v1/alerts/{timed['id']}/cancel", {})
    api("PATCH", "/api/v1/regions/8", {"shelter_within_s": None})
    wait_state(page, 8, "clear")

    # A dropped stream: the server is killed and started again, and a declaration lands before
    # the page has reconnected; the page resumes by its last id and shows it.
    page.evaluate("""() => { const f = document.getElementById('freshness'); window.__fresh = [];
        new MutationObserver(() => window.__fresh.push(f.dataset.freshness)).observe(f, { attributes: true }); }""")
    frames_before = len(page.evaluate("() => TV.recent"))
    out["restart"] = ask("RESTART")
    out["resumed_alert"] = wait_state(page, 12, "alert", timeout=10000)
    # What came after the drop: the missed event itself, not a fresh snapshot.
    out["frames_after_restart"] = page.evaluate("() => TV.recent")[frames_before:]
    out["freshness_seen"] = sorted(set(page.evaluate("() => window.__fresh")))
    try:
        page.wait_for_selector('#freshness[data-freshness="live"]', timeout=5000)
        out["live_again"] = True
    except Exception:
        out["live_again"] = page.locator("#freshness").get_attribute("data-freshness")

    # Operator text is text.
    api("POST", "/api/v1/alerts", {"region_id": 5, "kind": "air_raid",
                                   "message": {"uk": '<img src=x onerror="window.__xss=1">', "en": "<script>window.__xss=2</script>"}})
    out["xss"] = []
    for path in ("/", "/regions/5"):
        page.goto(BASE + path, wait_until="networkidle")
        page.wait_for_timeout(300)
        out["xss"].append(page.evaluate("() => window.__xss || 0"))
    out["xss_text_shown"] = '<img src=x onerror="window.__xss=1">' in page.locator("#alert-list").inner_text()

    # With scripts off, the first response shows the truth.
    quiet = browser.new_context(java_script_enabled=False)
    still = watched(quiet.new_page())
    still.goto(BASE + "/", wait_until="load")
    out["no_script_state"] = still.get_attribute('path[data-region-id="12"]', "data-state")
    out["no_script_list"] = still.locator("#alert-list li").count()
    quiet.close()

    # The console: exercise and live look different; live needs the word; out of scope refused.
    console = watched(context.new_page())
    console.on("dialog", lambda d: d.accept())
    console.goto(BASE + "/console", wait_until="networkidle")
    console.fill("#token", OPERATOR)
    console.click("#sign-in button[type=submit]")
    console.wait_for_selector("#declare:not([hidden])", timeout=5000)
    out["whoami"] = console.locator("#whoami").inner_text()
    exercise_look = console.evaluate("() => [document.body.className, getComputedStyle(document.body).backgroundColor, document.getElementById('mode-banner').textContent]")
    console.screenshot(path=f"{SHOTS}/console-exercise.png")
    console.click("#mode-switch")
    live_look = console.evaluate("() => [document.body.className, getComputedStyle(document.body).backgroundColor, document.getElementById('mode-banner').textContent]")
    console.screenshot(path=f"{SHOTS}/console-live.png")
    out["exercise_look"], out["live_look"] = exercise_look, live_look

    def pick(query, region):
        console.fill("#region-search", query)
        console.check(f'#region-options input[value="{region}"]')

    pick("Київська обл", 14)
    console.click("#review")
    console.wait_for_selector("#confirm[open]")
    out["confirm_text"] = console.locator("#confirm-text").inner_text()
    out["send_disabled_before_word"] = console.is_disabled("#confirm-send")
    console.fill("#confirm-word", "ТРИВОГА")
    out["send_disabled_after_word"] = console.is_disabled("#confirm-send")
    console.click("#confirm-send")
    console.wait_for_function("() => document.getElementById('console-status').textContent.length > 0", timeout=5000)
    out["declare_status"] = console.locator("#console-status").inner_text()
    active = api("GET", "/api/v1/alerts/active")
    live14 = [a for a in active["alerts"] if a["region_id"] == 14]
    out["declared_live"] = [a["status"] for a in live14]
    console.wait_for_selector("#console-alerts li button.cancel", timeout=5000)
    console.click("#console-alerts li button.cancel")
    console.wait_for_function("() => !document.querySelector('#console-alerts li')", timeout=5000)
    out["cancelled"] = not any(a["region_id"] == 14 for a in api("GET", "/api/v1/alerts/active")["alerts"])
    # The all-clear was a mistake: one action undoes it.
    try:
        console.wait_for_selector("#console-events button.reinstate", timeout=5000)
        console.click("#console-events button.reinstate")
        console.wait_for_function("() => document.querySelector('#console-alerts li')", timeout=5000)
        out["reinstated"] = any(a["region_id"] == 14 for a in api("GET", "/api/v1/alerts/active")["alerts"])
    except Exception as e:
        out["reinstated"] = "no: " + str(e)[:200]
    # The update: level and threats changed from the console.
    try:
        console.click("#console-alerts li details.change summary")
        console.select_option("#console-alerts li details.change select", "yellow")
        console.check('#console-alerts li details.change input[value="drones"]')
        console.evaluate("() => { document.getElementById('console-status').textContent = ''; }")
        console.click("#console-alerts li details.change button")
        console.wait_for_function("() => document.getElementById('console-status').textContent.length > 0", timeout=5000)
        updated = [a for a in api("GET", "/api/v1/alerts/active")["alerts"] if a["region_id"] == 14]
        out["updated"] = [[a["level"], a["threats"]] for a in updated]
        console.click("#console-alerts li details.change summary")
    except Exception as e:
        out["updated"] = "no: " + str(e)[:200]
    # Outside the token's regions: the server refuses, whatever the page sends.
    events_before = len(api("GET", "/api/v1/events?after=0&limit=1000")["events"])
    console.click("#mode-switch")  # back to exercise
    pick("Волинська", 8)
    console.click("#review")
    console.wait_for_selector("#confirm[open]")
    console.click("#confirm-send")
    console.wait_for_function("() => document.getElementById('console-status').classList.contains('error')", timeout=5000)
    out["out_of_scope_status"] = console.locator("#console-status").inner_text()
    out["events_unchanged"] = len(api("GET", "/api/v1/events?after=0&limit=1000")["events"]) == events_before
    # In exercise mode, inside the token's regions: declared as an exercise.
    console.fill("#region-search", "Волинська")
    console.uncheck('#region-options input[value="8"]')
    pick("Київська обл", 14)
    console.evaluate("() => { document.getElementById('console-status').textContent = ''; }")
    console.click("#review")
    console.wait_for_selector("#confirm[open]")
    out["exercise_confirm"] = console.locator("#confirm-text").inner_text()
    console.click("#confirm-send")
    console.wait_for_function("() => document.getElementById('console-status').textContent.length > 0", timeout=5000)
    out["exercise_statuses"] = sorted(a["status"] for a in api("GET", "/api/v1/alerts/active")["alerts"] if a["region_id"] == 14)

    # The shelter finder from the browser's location (Khreshchatyk station), in Kyiv under alert.
    api("POST", "/api/v1/alerts", {"region_id": 31, "kind": "air_raid"})
    finder_context = browser.new_context(geolocation={"latitude": 50.4475, "longitude": 30.5236}, permissions=["geolocation"], locale="en-GB")
    finder = watched(finder_context.new_page())
    finder.goto(BASE + "/shelters", wait_until="networkidle")
    finder.click("#use-location")
    finder.wait_for_selector("#shelter-list li", timeout=5000)
    out["nearest"] = finder.locator("#shelter-list li").first.inner_text()
    out["shelter_warning_shown"] = finder.is_visible("#shelter-warning")
    finder.screenshot(path=f"{SHOTS}/shelters.png")

    # A region picked on its page rings and notifies when it comes under alert (the browser's
    # Notification is recorded; permission granted as after the user's click).
    notified_context = browser.new_context(permissions=["notifications"])
    notified_context.add_init_script("""(() => { window.__notes = []; const Real = window.Notification;
        function Recorded(title, options) { window.__notes.push(title); return new Real(title, options); }
        Recorded.permission = "granted"; Recorded.requestPermission = async () => "granted";
        window.Notification = Recorded; })()""")
    watcher = watched(notified_context.new_page())
    watcher.goto(BASE + "/regions/9", wait_until="networkidle")
    watcher.wait_for_selector('#freshness[data-freshness="live"]', timeout=5000)
    watcher.click("#watch-this")
    out["watching"] = watcher.evaluate("() => localStorage.getItem('tryvoha.watch')")
    api("POST", "/api/v1/alerts", {"region_id": 9, "kind": "air_raid"})
    try:
        watcher.wait_for_function("() => window.__notes.length > 0", timeout=5000)
    except Exception:
        pass
    out["notifications"] = watcher.evaluate("() => window.__notes")
    notified_context.close()

    # A 360 px phone: no horizontal scroll on any page.
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    small = watched(phone.new_page())
    out["phone_widths"] = {}
    for path in ("/", "/regions/31", "/shelters", "/console"):
        small.goto(BASE + path, wait_until="networkidle")
        out["phone_widths"][path] = small.evaluate("() => document.documentElement.scrollWidth")
    small.goto(BASE + "/", wait_until="networkidle")
    small.screenshot(path=f"{SHOTS}/phone.png", full_page=True)
    out["page_errors"] = errors
    browser.close()

print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)
