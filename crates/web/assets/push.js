// tryvoha: Web Push from the map and region pages. The regions the user picked (map.js keeps
// them) are subscribed at the server with this browser's push subscription, so the phone is
// woken for an alert on them even when no page is open; each change of the list renews the
// subscription (the same endpoint replaces its filter), an empty list removes it. "Add my
// location" adds the hromada the browser's position is in (GET /api/v1/locate), which also
// hears its raion and oblast. The service worker (/sw.js) shows the messages and keeps the
// pages for offline use; it is registered on every visit.
"use strict";
(function () {
  const TV = window.TV, words = TV.data.push_words;
  const ON = "tryvoha.push";
  const status = document.getElementById("push-status");
  const say = (text, state) => { if (status) { status.textContent = text; status.dataset.state = state; } };
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
    // The worker speaks the page's language: it reads it from here when a message comes.
    if ("caches" in window) {
      caches.open("tryvoha-settings").then((c) => c.put("/settings", new Response(JSON.stringify({ lang: TV.data.lang }))));
    }
  }

  const bytes = (base64url) => {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  };
  async function problem(response) {
    const body = await response.json().catch(() => ({}));
    return new Error(body.detail || body.title || String(response.status));
  }
  async function subscription(create) {
    const registration = await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing || !create) return existing;
    const answer = await fetch("/api/v1/push/vapid-key");
    if (!answer.ok) throw await problem(answer);
    const key = (await answer.json()).public_key;
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
  }

  // Tells the server what this browser wants now: the picked regions, or nothing.
  async function sync(create) {
    const regions = TV.watched();
    const sub = await subscription(create && regions.length > 0);
    if (!sub) return regions.length ? say(words.off, "off") : say(words.pick_region, "off");
    const json = sub.toJSON();
    if (!regions.length) {
      await fetch("/api/v1/push/subscriptions", {
        method: "DELETE", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ endpoint: json.endpoint, auth: json.keys.auth }),
      });
      localStorage.removeItem(ON);
      return say(words.pick_region, "off");
    }
    const answer = await fetch("/api/v1/push/subscriptions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ subscription: json, regions, lang: TV.data.lang }),
    });
    if (!answer.ok) throw await problem(answer);
    localStorage.setItem(ON, "on");
    say(words.on + " " + regions.map(TV.name).join(", "), "on");
  }
  const failed = (error) => say(words.failed + " " + (error && error.message ? error.message : error), "failed");

  async function turnOn() {
    if (!supported) return say(words.unsupported, "unsupported");
    if (!TV.watched().length) return say(words.pick_region, "off");
    if ((await Notification.requestPermission()) !== "granted") return say(words.denied, "denied");
    say(words.working, "working");
    await sync(true).catch(failed);
  }
  async function turnOff() {
    const sub = supported ? await subscription(false).catch(() => null) : null;
    if (sub) {
      const json = sub.toJSON();
      await fetch("/api/v1/push/subscriptions", {
        method: "DELETE", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ endpoint: json.endpoint, auth: json.keys.auth }),
      }).catch(() => {});
      await sub.unsubscribe().catch(() => {});
    }
    localStorage.removeItem(ON);
    say(words.off, "off");
  }
  function addLocation() {
    if (!("geolocation" in navigator)) return say(words.no_location, "failed");
    say(words.working, "working");
    navigator.geolocation.getCurrentPosition((position) => {
      const { latitude, longitude } = position.coords;
      fetch(`/api/v1/locate?lat=${latitude}&lon=${longitude}`).then(async (r) => {
        if (!r.ok) throw await problem(r);
        const place = await r.json();
        const found = place.hromada || place.raion || place.oblast;
        TV.watch([...TV.watched(), found.id]);
        if (localStorage.getItem(ON) !== "on") say(words.added + " " + TV.name(found.id), "off");
      }).catch(failed);
    }, () => say(words.no_location, "failed"), { timeout: 15000, maximumAge: 600000 });
  }

  const button = (id, action) => { const b = document.getElementById(id); if (b) b.onclick = () => { action(); }; };
  button("push-on", turnOn);
  button("push-off", turnOff);
  button("push-locate", addLocation);
  window.addEventListener("tryvoha:watch", () => { if (localStorage.getItem(ON) === "on") sync(false).catch(failed); });
  TV.whenReady(() => {
    if (!supported) say(words.unsupported, "unsupported");
    else if (localStorage.getItem(ON) === "on") sync(false).catch(failed);
    else say(words.off, "off");
  });
})();
