// tryvoha: Web Push from the map and region pages. The regions the user picked (map.js keeps
// them) are subscribed at the server with this browser's push subscription, so the phone is
// woken for an alert on them even when no page is open; each change of the list renews the
// subscription (the same endpoint replaces its filter), an empty list removes it. Changes are
// sent one at a time, the newest list last (a quick series of taps is one request), and a
// refusal for rate is tried again when the server says. "Add my location" adds the hromada the
// browser's position is in (GET /api/v1/locate), which also hears its raion and oblast. The
// service worker (/sw.js) shows the messages and keeps the pages for offline use; it is
// registered on every visit.
"use strict";
(function () {
  const TV = window.TV, words = TV.data.push_words;
  const ON = "tryvoha.push";
  const status = document.getElementById("push-status");
  const say = (text, state) => { if (status) { status.textContent = text; status.dataset.state = state; } };
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  // What the worker needs when a message comes or the subscription is replaced: the page's
  // language and the regions last subscribed.
  const remember = (regions) => {
    if (!("caches" in window)) return Promise.resolve();
    const settings = JSON.stringify({ lang: TV.data.lang, regions });
    return caches.open("tryvoha-settings").then((c) => c.put("/settings", new Response(settings))).catch(() => {});
  };
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});

  const bytes = (base64url) => {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  };
  class Refused extends Error {
    constructor(message, retryAfter) { super(message); this.retryAfter = retryAfter; }
  }
  async function checked(response) {
    if (response.ok) return response;
    const body = await response.json().catch(() => ({}));
    const retry = response.status === 429 ? Number(response.headers.get("Retry-After")) || 5 : null;
    throw new Refused(body.detail || body.title || String(response.status), retry);
  }
  async function subscription(create) {
    const registration = await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing || !create) return existing;
    const key = (await (await checked(await fetch("/api/v1/push/vapid-key"))).json()).public_key;
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
  }
  const send = (method, body) => fetch("/api/v1/push/subscriptions", {
    method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }).then(checked);

  // Tells the server what this browser wants now: the picked regions, or nothing.
  async function sync(create) {
    const regions = TV.watched();
    const sub = await subscription(create && regions.length > 0);
    if (!sub) return regions.length ? say(words.off, "off") : say(words.pick_region, "off");
    const json = sub.toJSON();
    if (!regions.length) {
      await send("DELETE", { endpoint: json.endpoint, auth: json.keys.auth }).catch((e) => {
        if (!String(e.message).includes("no subscription")) throw e;
      });
      localStorage.removeItem(ON);
      await remember([]);
      return say(words.pick_region, "off");
    }
    await send("POST", { subscription: json, regions, lang: TV.data.lang });
    localStorage.setItem(ON, "on");
    await remember(regions);
    say(words.on + " " + regions.map(TV.name).join(", "), "on");
  }

  // One sync at a time; changes made meanwhile are sent once it is done, as one.
  let running = null, again = false, timer = null;
  function queueSync(create, delay) {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (running) { again = true; return; }
      running = sync(create).catch((error) => {
        if (error instanceof Refused && error.retryAfter != null) {
          say(words.failed + " " + error.message, "failed");
          queueSync(false, error.retryAfter * 1000);
        } else {
          say(words.failed + " " + (error && error.message ? error.message : error), "failed");
        }
      }).finally(() => {
        running = null;
        if (again) { again = false; queueSync(false, 0); }
      });
    }, delay);
  }

  async function turnOn() {
    if (!supported) return say(words.unsupported, "unsupported");
    if (!TV.watched().length) return say(words.pick_region, "off");
    if ((await Notification.requestPermission()) !== "granted") return say(words.denied, "denied");
    say(words.working, "working");
    queueSync(true, 0);
  }
  async function turnOff() {
    const sub = supported ? await subscription(false).catch(() => null) : null;
    if (sub) {
      const json = sub.toJSON();
      const removed = await send("DELETE", { endpoint: json.endpoint, auth: json.keys.auth }).then(() => true, (e) => e);
      if (removed !== true && !String(removed.message).includes("no subscription")) {
        return say(words.failed + " " + removed.message, "failed");
      }
      await sub.unsubscribe().catch(() => {});
    }
    localStorage.removeItem(ON);
    await remember([]);
    say(words.off, "off");
  }
  function addLocation() {
    if (!("geolocation" in navigator)) return say(words.no_location, "failed");
    say(words.working, "working");
    navigator.geolocation.getCurrentPosition((position) => {
      const { latitude, longitude } = position.coords;
      fetch(`/api/v1/locate?lat=${latitude}&lon=${longitude}`).then(checked).then((r) => r.json()).then((place) => {
        const found = place.hromada || place.raion || place.oblast;
        if (!found) return say(words.no_location, "failed");
        TV.watch([...TV.watched(), found.id]);
        if (localStorage.getItem(ON) !== "on") say(words.added + " " + TV.name(found.id), "off");
      }).catch((error) => say(words.failed + " " + error.message, "failed"));
    }, () => say(words.no_location, "failed"), { timeout: 15000, maximumAge: 600000 });
  }

  const button = (id, action) => { const b = document.getElementById(id); if (b) b.onclick = () => { action(); }; };
  button("push-on", turnOn);
  button("push-off", turnOff);
  button("push-locate", addLocation);
  // Turned on before: kept in step, and subscribed again if the browser lost its subscription.
  const granted = () => supported && Notification.permission === "granted";
  window.addEventListener("tryvoha:watch", () => { if (localStorage.getItem(ON) === "on") queueSync(granted(), 500); });
  TV.whenReady(() => {
    if (!supported) say(words.unsupported, "unsupported");
    else if (localStorage.getItem(ON) === "on") queueSync(granted(), 0);
    else say(words.off, "off");
  });
})();
