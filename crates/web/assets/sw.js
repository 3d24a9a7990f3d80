// tryvoha's service worker (served at /sw.js, for the whole site). Two jobs:
// 1. Web Push: each message is an event's signed frame (docs/push.md); it is shown as a
//    notification in the language the page subscribed in, one per region (a newer one replaces
//    the older), an exercise or test saying so first in its title; a click opens the region page.
//    A frame already shown (a repeat after a server crash) is shown again silently, not twice.
// 2. Offline: the pages are kept as last fetched and the hashed assets for good, so the app
//    opens without a network and shows the last known state with its age (live.js says how old).
"use strict";
const CONFIG = /*CONFIG*/ {};
const PAGES = "tryvoha-pages", ASSETS = "tryvoha-assets-" + CONFIG.build, SETTINGS = "tryvoha-settings";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(ASSETS).then((cache) => cache.addAll(CONFIG.assets)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith("tryvoha-assets-") && name !== ASSETS)
    .map((name) => caches.delete(name)))).then(() => self.clients.claim()));
});

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
  } else if (request.mode === "navigate") {
    event.respondWith(page(request));
  }
});

// A page from the network whenever it answers, so the state is current; the kept copy when
// it fails, or when it is slow to answer (a congested network on an attack night), while the
// page's own stream then brings it up to date.
const SLOW_MS = 4000;
async function page(request) {
  const cache = await caches.open(PAGES);
  const network = fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    return response;
  });
  const kept = () => cache.match(request).then((hit) => hit || cache.match("/"));
  const slow = new Promise((resolve) => setTimeout(resolve, SLOW_MS)).then(kept).then((hit) => (hit ? savedCopy(hit) : network));
  try {
    return await Promise.race([network, slow]);
  } catch (e) {
    const hit = await kept();
    return hit ? savedCopy(hit) : Response.error();
  }
}

// A kept page, marked as such in the data its scripts read, so that it says at once that it
// shows the state as of when it was kept (the browser may think it is online meanwhile).
async function savedCopy(response) {
  const html = (await response.text()).replace('id="page-data">{', 'id="page-data">{"saved_copy":true,');
  return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function settings() {
  const hit = await caches.open(SETTINGS).then((c) => c.match("/settings"));
  const saved = hit ? await hit.json().catch(() => ({})) : {};
  return { lang: CONFIG.words[saved.lang] ? saved.lang : "uk" };
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
  let title = (ended ? words.all_clear : words.kinds[alert.kind] || alert.kind) + " — " + name;
  if (frame.type === "updated" && !ended) title += " (" + words.updated + ")";
  if (drill) title = drill + ": " + title;
  const lines = [];
  if (!ended) {
    let line = words.level + ": " + (words.levels[alert.level] || alert.level);
    if (alert.threats && alert.threats.length) {
      line += " · " + words.threats + ": " + alert.threats.map((t) => words.threat_names[t] || t).join(", ");
    }
    lines.push(line);
  }
  const text = (t) => t && (t[lang] || t[lang === "en" ? "uk" : "en"]);
  if (text(alert.instruction)) lines.push(words.instruction + ": " + text(alert.instruction));
  else if (text(alert.message)) lines.push(text(alert.message));
  if (drill) lines.push(words.not_real);
  return {
    title,
    options: {
      body: lines.join("\n"),
      tag: "region-" + alert.region_id,
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

async function show(frame) {
  const { lang } = await settings();
  const words = CONFIG.words[lang];
  if (!frame || !frame.alert) {
    return self.registration.showNotification(words.update, { tag: "tryvoha", icon: CONFIG.icon });
  }
  const { title, options } = notification(frame, words, await regionTable(), lang);
  const shown = await self.registration.getNotifications({ tag: options.tag });
  const seen = shown.find((n) => n.data && n.data.seq >= frame.seq);
  if (seen) {
    // Already on screen (or newer is): shown again as it is, without a sound.
    return self.registration.showNotification(seen.title, { body: seen.body, tag: seen.tag, icon: seen.icon, data: seen.data, renotify: false, silent: true });
  }
  return self.registration.showNotification(title, options);
}

self.addEventListener("push", (event) => {
  let frame = null;
  try { frame = event.data ? event.data.json() : null; } catch (e) { frame = null; }
  event.waitUntil(show(frame));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((open) => {
    const page = open.find((c) => new URL(c.url).pathname === url);
    return page ? page.focus() : self.clients.openWindow(url);
  }));
});
