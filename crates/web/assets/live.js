// tryvoha: keeps a server-rendered page live from the event stream. The page already shows the
// state as of its rendering; this follows GET /api/v1/stream (resuming by Last-Event-ID after a
// drop, as EventSource does), keeps the active alerts, works out each region's state the way
// the server does (only `actual` alerts count; a region is `alert` when an alert covers it or
// an ancestor, `partial` when one covers a descendant) and redraws. Every text from outside is
// set with textContent, never as markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const words = data.words;
  const TV = (window.TV = { data, words, active: new Map(), table: null });

  // "Europe/Kiev" is the name every browser's time-zone data knows ("Kyiv" only since 2022).
  let zone = "Europe/Kyiv";
  try { new Intl.DateTimeFormat("en-GB", { timeZone: zone }); } catch (e) { zone = "Europe/Kiev"; }
  TV.kyiv = function (iso, withDay) {
    const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (withDay) Object.assign(options, { day: "2-digit", month: "2-digit" });
    const parts = {};
    for (const p of new Intl.DateTimeFormat("en-GB", options).formatToParts(new Date(iso))) parts[p.type] = p.value;
    const time = parts.hour + ":" + parts.minute;
    return withDay ? parts.day + "." + parts.month + " " + time : time;
  };
  TV.lasted = function (seconds) {
    const minutes = Math.max(0, Math.floor(seconds / 60));
    if (minutes < 60) return minutes + " " + words.min;
    return Math.floor(minutes / 60) + " " + words.h + " " + String(minutes % 60).padStart(2, "0") + " " + words.min;
  };
  TV.name = function (id) {
    const row = TV.table && TV.table[id];
    if (!row) return String(id);
    return data.lang === "en" ? row[3] : row[2];
  };
  function ancestors(id) {
    const out = [];
    let row = TV.table && TV.table[id];
    while (row && row[0] != null && out.length < 8) {
      out.push(row[0]);
      row = TV.table[row[0]];
    }
    return out;
  }

  // The state of a region from the active alerts: the server's rule (core::AlertBook).
  let sets = null; // worked out once per change of the active alerts
  TV.stateOf = function (id) {
    if (!sets) {
      sets = { on: new Set(), below: new Set() };
      for (const alert of TV.active.values()) {
        if (alert.status !== "actual") continue;
        sets.on.add(alert.region_id);
        for (const a of ancestors(alert.region_id)) sets.below.add(a);
      }
    }
    const { on, below } = sets;
    id = Number(id);
    if (on.has(id) || ancestors(id).some((a) => on.has(a))) return "alert";
    return below.has(id) ? "partial" : "clear";
  };
  TV.bearsOn = function (alert, id) {
    id = Number(id);
    return alert.region_id === id || ancestors(id).includes(alert.region_id) || ancestors(alert.region_id).includes(id);
  };

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text != null) e.textContent = text;
    return e;
  }
  TV.el = el;

  // One alert as the server renders it (web::alerts::alert_item).
  TV.alertItem = function (alert) {
    const li = el("li", "alert " + alert.status + " level-" + alert.level);
    li.dataset.alertId = alert.id;
    li.dataset.alertRegion = alert.region_id;
    if (alert.status !== "actual") {
      li.append(el("strong", "marker", alert.status === "exercise" ? words.exercise : words.test), " ");
    }
    li.append(el("strong", "kind", words.kinds[alert.kind] || alert.kind), " — ");
    const link = el("a", null, TV.name(alert.region_id));
    link.href = "/regions/" + alert.region_id;
    li.append(link);
    const meta = el("span", "meta", words.level + ": " + (words.levels[alert.level] || alert.level));
    if (alert.threats && alert.threats.length) {
      meta.append(" · " + words.threats + ": " + alert.threats.map((t) => words.threat_names[t] || t).join(", "));
    }
    const time = el("time", null, TV.kyiv(alert.started_at, true));
    time.dateTime = alert.started_at;
    const lasted = el("span", "duration", "");
    lasted.dataset.since = alert.started_at;
    meta.append(" · " + words.since + " ", time, " (", lasted, ")");
    li.append(meta);
    if (alert.shelter_within_s != null && alert.finished_at == null) {
      const until = new Date(Date.parse(alert.started_at) + alert.shelter_within_s * 1000).toISOString();
      const p = el("p", "shelter-time");
      const countdown = el("span", "countdown", countdownText(until, Date.now()));
      countdown.dataset.until = until;
      p.append(el("strong", null, words.time_to_shelter + ":"), " ", countdown);
      li.append(p);
    }
    const text = (t) => t && (t[data.lang] || t[data.lang === "en" ? "uk" : "en"]);
    if (text(alert.message)) li.append(el("p", "message", text(alert.message)));
    if (text(alert.instruction)) {
      const p = el("p", "instruction");
      p.append(el("strong", null, words.instruction + ":"), " " + text(alert.instruction));
      li.append(p);
    }
    return li;
  };
  TV.ordered = function (alerts) {
    return alerts.sort((a, b) => (a.status !== "actual") - (b.status !== "actual") || (b.started_at > a.started_at ? 1 : b.started_at < a.started_at ? -1 : a.id - b.id));
  };

  // The time left to reach a shelter, m:ss, or that it is up (web::alerts::shelter_countdown).
  function countdownText(until, now) {
    const left = Math.floor((Date.parse(until) - now) / 1000);
    return left > 0 ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : words.in_shelter_now;
  }

  function tick() {
    const now = Date.now();
    if (freshness && freshness.dataset.freshness === "stale") setFreshness("stale");
    for (const span of document.querySelectorAll(".duration[data-since]")) {
      span.textContent = TV.lasted((now - Date.parse(span.dataset.since)) / 1000);
    }
  }

  // Every second, for the seconds people have to reach a shelter.
  function tickCountdowns() {
    const now = Date.now();
    for (const span of document.querySelectorAll(".countdown[data-until]")) {
      span.textContent = countdownText(span.dataset.until, now);
    }
  }

  function redraw() {
    const drills = [...TV.active.values()].filter((a) => a.status !== "actual");
    for (const shape of document.querySelectorAll("[data-region-id]")) {
      const id = shape.dataset.regionId;
      const state = TV.stateOf(id);
      shape.dataset.state = state;
      shape.classList.remove("s-alert", "s-partial", "s-clear");
      shape.classList.add("s-" + state);
      shape.classList.toggle("drill", drills.some((a) => TV.bearsOn(a, id)));
      const title = shape.querySelector("title");
      if (title) title.textContent = TV.name(id) + " — " + words.states[state];
      else if (shape.classList.contains("state-badge")) shape.textContent = words.states[state];
    }
    const list = document.getElementById("alert-list");
    if (list) {
      const region = data.region;
      const shown = TV.ordered([...TV.active.values()].filter((a) => region == null || TV.bearsOn(a, region)));
      list.replaceChildren(...shown.map(TV.alertItem));
      const none = document.getElementById("no-alerts");
      if (none) none.hidden = shown.length > 0;
    }
    const under = document.getElementById("under-alert");
    if (under && TV.table) {
      const oblasts = Object.keys(TV.table).filter((id) => TV.table[id][1] === "oblast" && TV.stateOf(id) !== "clear");
      oblasts.sort((a, b) => TV.name(a).localeCompare(TV.name(b)));
      under.replaceChildren(...oblasts.map((id) => {
        const li = el("li");
        li.dataset.underRegion = id;
        li.dataset.state = TV.stateOf(id);
        const a = el("a", null, TV.name(id));
        a.href = "/regions/" + id;
        li.append(a, " — " + words.states[TV.stateOf(id)]);
        return li;
      }));
      const nobody = document.getElementById("nobody-under-alert");
      if (nobody) nobody.hidden = oblasts.length > 0;
    }
    tick();
  }

  // The freshness line: live, reconnecting…, or stale since the last moment it was live, with
  // its age. A page that was never live here (a copy the service worker kept, opened offline)
  // says how old the state it shows is: it was drawn at `rendered_at`.
  const freshness = document.getElementById("freshness");
  const renderedAt = Date.parse(data.rendered_at) || Date.now();
  let liveAt = null, staleTimer = null;
  function setFreshness(state) {
    if (!freshness) return;
    freshness.dataset.freshness = state;
    if (state === "live") freshness.textContent = words.live;
    else if (state === "reconnecting") freshness.textContent = words.reconnecting;
    else {
      const since = liveAt || renderedAt;
      const age = " (" + TV.lasted((Date.now() - since) / 1000) + " " + words.ago + ")";
      freshness.textContent = (liveAt ? words.stale_since : words.saved_copy) + " " + TV.kyiv(new Date(since).toISOString()) + age;
      freshness.dataset.savedCopy = String(!liveAt);
    }
  }
  function live() { liveAt = Date.now(); clearTimeout(staleTimer); staleTimer = null; setFreshness("live"); }
  function lost() {
    if (freshness && freshness.dataset.freshness === "stale") return;
    const kept = data.saved_copy || navigator.onLine === false || Date.now() - renderedAt > 90000;
    if (liveAt == null && kept) return setFreshness("stale");
    setFreshness("reconnecting");
    // Counted from the moment the page stopped being live, not from each failed attempt.
    if (staleTimer == null) staleTimer = setTimeout(() => setFreshness("stale"), 20000);
  }

  // Hooks called after every frame is applied (the console's lists, the notifications).
  TV.onFrame = [];
  TV.recent = [];
  let pending = [];
  function apply(frame) {
    sets = null;
    TV.recent = TV.recent.concat(frame.type).slice(-20);
    if (frame.type === "snapshot" || frame.type === "reset") {
      TV.active = new Map(frame.alerts.map((a) => [a.id, a]));
    } else if (frame.alert) {
      if ((frame.type === "declared" || frame.type === "updated") && !frame.alert.finished_at) TV.active.set(frame.alert.id, frame.alert);
      else TV.active.delete(frame.alert.id);
    }
  }
  function applied() {
    redraw();
    for (const f of TV.onFrame) f();
  }
  let lastId = null, retries = 0;
  function connect() {
    const query = [];
    if (data.region != null) query.push("regions=" + data.region);
    // A stream opened anew (after the browser gave up retrying) resumes where the last one was.
    if (lastId != null) query.push("after=" + lastId);
    const source = new EventSource("/api/v1/stream" + (query.length ? "?" + query.join("&") : ""));
    TV.source = source;
    const handle = (event) => {
      live();
      if (event.lastEventId) lastId = event.lastEventId;
      const frame = JSON.parse(event.data);
      if (!TV.table) { pending.push(frame); return; }
      apply(frame);
      applied();
    };
    for (const type of ["snapshot", "reset", "declared", "updated", "cancelled", "expired"]) source.addEventListener(type, handle);
    source.onopen = () => { retries = 0; live(); };
    source.onerror = () => {
      // EventSource reconnects by itself (after `retry:`), sending the last id it saw. Once it
      // gives up (an error answer), a new one starts after a growing, jittered pause, so that a
      // server in trouble is not hit by every page at once.
      lost();
      if (source.readyState === EventSource.CLOSED) {
        const pause = Math.min(30000, 1000 * 2 ** retries++) * (0.5 + Math.random());
        setTimeout(connect, pause);
      }
    };
  }
  TV.reconnect = function () { if (TV.source) TV.source.close(); lost(); connect(); };

  // The heartbeats are comments, which a page never sees: a connection that died without
  // closing would look live for ever. On a page that hears every event, the server's head
  // moving past what the page has seen (twice in a row) says the stream is stuck.
  let behind = 0;
  if (data.region == null) {
    setInterval(() => {
      fetch("/healthz").then((r) => r.json()).then((health) => {
        const head = Number(health.last_seq ?? health.seq ?? 0);
        behind = lastId != null && head > Number(lastId) ? behind + 1 : 0;
        if (behind >= 2) { behind = 0; TV.reconnect(); }
      }).catch(() => lost());
    }, 30000);
  }

  // The region table, retried until it loads: without it no frame can be drawn.
  function loadTable(attempt) {
    fetch(data.regions_url).then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); }).then((table) => {
      TV.table = table;
      for (const frame of pending) apply(frame);
      if (pending.length) applied();
      pending = [];
      for (const f of TV.ready || []) f();
    }).catch(() => {
      lost();
      setTimeout(() => loadTable(attempt + 1), Math.min(30000, 1000 * 2 ** attempt));
    });
  }
  loadTable(0);
  TV.whenReady = function (f) { if (TV.table) f(); else (TV.ready = TV.ready || []).push(f); };
  if (!data.no_stream) connect();
  setInterval(tick, 15000);
  setInterval(tickCountdowns, 1000);
})();
