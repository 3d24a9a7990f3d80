// tryvoha's service worker (served at /sw.js, for the whole site). Two jobs:
// 1. Web Push: each message is an event's signed frame (docs/push.md); it is shown as a
//    notification in the language the page subscribed in, one per region and kind (a newer one
//    replaces the older: the all-clear its alert; a drill never replaces a real alert), an
//    exercise or test saying so first in its title; a click opens the region page. A frame
//    already shown (a repeat after a server crash) is shown again silently, never as new.
// 2. Offline: the pages are kept as last fetched, and the assets they name, so the app opens
//    without a network and shows the last known state with its age (live.js says how old).
"use strict";
const CONFIG = /*CONFIG*/ {};
const PAGES = "tryvoha-pages", ASSETS = "tryvoha-assets", SETTINGS = "tryvoha-settings";
// Pages kept: the map levels and the regions a user opens. The oldest kept goes first.
const PAGES_KEPT = 30;
// Pages that are not kept: the API and the console (an operator's page is for the network).
const NOT_KEPT = ["/api/", "/console", "/metrics", "/healthz", "/readyz"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(ASSETS).then((cache) => cache.addAll(CONFIG.assets)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(pruneAssets().then(() => self.clients.claim()));
});

// An asset stays while this build or a kept page names it: a page kept before a deploy still
// opens offline with its own styles and scripts.
async function pruneAssets() {
  const keep = new Set(CONFIG.assets);
  const pages = await caches.open(PAGES);
  for (const request of await pages.keys()) {
    const html = await pages.match(request).then((r) => (r ? r.text() : ""));
    for (const found of html.matchAll(/\/assets\/[\w.-]+/g)) keep.add(found[0]);
  }
  const assets = await caches.open(ASSETS);
  for (const request of await assets.keys()) {
    if (!keep.has(new URL(request.url).pathname)) await assets.delete(request);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/assets/")) {
    // Named by their hash: what is cached is what the name says, for ever.
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) { const copy = response.clone(); caches.open(ASSETS).then((c) => c.put(request, copy)); }
      return response;
    })));
  } else if (request.mode === "navigate" && !NOT_KEPT.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(page(request));
  }
});

// A page from the network whenever it answers well, so the state is current; the kept copy
// when it fails, answers with an error (an overloaded server), or is slow to answer (a
// congested network on an attack night), while the page's own stream brings it up to date.
const SLOW_MS = 4000;
async function page(request) {
  const cache = await caches.open(PAGES);
  const kept = () => cache.match(request, { ignoreVary: true })
    .then((hit) => hit || cache.match("/", { ignoreVary: true }));
  const network = fetch(request).then(async (response) => {
    const html = (response.headers.get("Content-Type") || "").startsWith("text/html");
    if (response.ok && html) {
      await cache.delete(request, { ignoreVary: true });
      await cache.put(request, response.clone());
      const names = await cache.keys();
      for (const old of names.slice(0, Math.max(0, names.length - PAGES_KEPT))) await cache.delete(old);
      return response;
    }
    const hit = response.ok ? null : await kept();
    return hit ? savedCopy(hit) : response;
  });
  const slow = new Promise((resolve) => setTimeout(resolve, SLOW_MS)).then(kept).then((hit) => (hit ? savedCopy(hit) : network));
  try {
    return await Promise.race([network, slow]);
  } catch (e) {
    const hit = await kept();
    return hit ? savedCopy(hit) : Response.error();
  }
}

// A kept page, marked as such in the data its scripts read, so that it says at once that it
// shows the state as of when it was kept (the browser may think it is online meanwhile). Its
// headers are kept, its security policy included.
async function savedCopy(response) {
  const html = (await response.text()).replace('id="page-data">{', 'id="page-data">{"saved_copy":true,');
  const headers = new Headers(response.headers);
  headers.delete("Content-Length");
  headers.delete("Content-Encoding");
  return new Response(html, { status: 200, headers });
}

async function readSettings() {
  const hit = await caches.open(SETTINGS).then((c) => c.match("/settings"));
  const saved = hit ? await hit.json().catch(() => ({})) : {};
  return Object.assign({ lang: "uk", regions: [] }, saved, { lang: CONFIG.words[saved.lang] ? saved.lang : "uk" });
}

async function regionTable() {
  const response = (await caches.match(CONFIG.regions_url)) || (await fetch(CONFIG.regions_url).catch(() => null));
  return response ? response.json().catch(() => ({})) : {};
}

// What the notification says, from the frame (a short frame has no texts, and says less).
function notification(frame, words, table, lang) {
  const alert = frame.alert;
  const row = table[alert.region_id];
  const name = row ? (lang === "en" ? row[3] : row[2]) : String(alert.region_id);
  const ended = frame.type === "cancelled" || frame.type === "expired" || alert.finished_at != null;
  const drill = alert.status === "exercise" ? words.exercise : alert.status === "test" ? words.test : null;
  const kind = words.kinds[alert.kind] || alert.kind;
  let title = (ended ? words.all_clear + ": " + kind : kind) + " — " + name;
  if (frame.type === "updated" && !ended) title += " (" + words.updated + ")";
  if (drill) title = drill + ": " + title;
  const lines = [];
  if (!ended) {
    let line = words.level + ": " + (words.levels[alert.level] || alert.level);
    if (alert.threats && alert.threats.length) {
      line += " · " + words.threats + ": " + alert.threats.map((t) => words.threat_names[t] || t).join(", ");
    }
    lines.push(line);
    if (alert.shelter_within_s === 0) lines.push(words.shelter_now);
    else if (alert.shelter_within_s != null) lines.push(words.shelter_within.replace("{s}", alert.shelter_within_s));
  }
  const text = (t) => t && (t[lang] || t[lang === "en" ? "uk" : "en"]);
  if (text(alert.instruction)) lines.push(words.instruction + ": " + text(alert.instruction));
  else if (text(alert.message)) lines.push(text(alert.message));
  if (drill) lines.push(words.not_real);
  // The same scheme as the push Topic: one per region and kind, drills apart.
  const tag = alert.region_id + "-" + alert.kind + (alert.status === "actual" ? "" : "-" + alert.status);
  return {
    title,
    options: {
      body: lines.join("\n"),
      tag,
      renotify: !ended,
      requireInteraction: !ended && !drill,
      icon: CONFIG.icon,
      badge: CONFIG.icon,
      lang,
      timestamp: Date.parse(frame.at || alert.started_at) || Date.now(),
      data: { seq: frame.seq, url: "/regions/" + alert.region_id },
    },
  };
}

// The newest frame shown per tag, so that a repeat is recognised even after its notification
// was dismissed. A short list: the newest 200 tags.
async function seenBefore(tag, seq) {
  const cache = await caches.open(SETTINGS);
  const hit = await cache.match("/seen");
  const seen = hit ? await hit.json().catch(() => []) : [];
  const before = seen.find((entry) => entry[0] === tag);
  if (before && before[1] >= seq) return true;
  const kept = seen.filter((entry) => entry[0] !== tag).slice(-199).concat([[tag, seq]]);
  await cache.put("/seen", new Response(JSON.stringify(kept)));
  return false;
}

async function show(frame) {
  const { lang } = await readSettings();
  const words = CONFIG.words[lang];
  if (!frame || !frame.alert) {
    return self.registration.showNotification(words.update, { tag: "tryvoha", icon: CONFIG.icon });
  }
  const { title, options } = notification(frame, words, await regionTable(), lang);
  if (await seenBefore(options.tag, frame.seq)) {
    // A notification must be shown for every push; a repeat is shown as it is, quietly.
    const [shown] = await self.registration.getNotifications({ tag: options.tag });
    const quiet = { ...options, renotify: false, silent: true, requireInteraction: false };
    return shown ? self.registration.showNotification(shown.title, { ...quiet, body: shown.body, data: shown.data })
      : self.registration.showNotification(title, quiet);
  }
  return self.registration.showNotification(title, options);
}

self.addEventListener("push", (event) => {
  let frame = null;
  try { frame = event.data ? event.data.json() : null; } catch (e) { frame = null; }
  event.waitUntil(show(frame));
});

// The push service replaced the subscription (it expired, or its keys changed): subscribed
// again with the same server key, for the regions the page last gave.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    const { lang, regions } = await readSettings();
    if (!regions.length) return;
    const options = (event.oldSubscription && event.oldSubscription.options) || { userVisibleOnly: true };
    const subscription = event.newSubscription || (await self.registration.pushManager.subscribe(options));
    await fetch("/api/v1/push/subscriptions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ subscription: subscription.toJSON(), regions, lang }),
    });
  })());
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((open) => {
    const page = open.find((c) => new URL(c.url).pathname === url);
    return page ? page.focus() : self.clients.openWindow(url);
  }));
});
