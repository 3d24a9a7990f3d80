// tryvoha: the operator console. The token lives in sessionStorage and goes out as a bearer
// header; the server decides what it may do. Exercise and live modes look different on every
// screen, the confirmation says in words what will be sent, and a live alert needs the word
// typed. Active alerts come from the same stream as the map (live.js); recent events of the
// token's regions from the stream resumed a little before now.
"use strict";
(function () {
  const TV = window.TV, data = TV.data, w = data.console_words;
  const $ = (id) => document.getElementById(id);
  const TOKEN = "tryvoha.token", MODE = "tryvoha.mode";
  let me = null, picked = new Set(), recent = [];

  // Exercise unless the operator switched to live in this tab.
  const mode = () => (sessionStorage.getItem(MODE) === "live" ? "live" : "exercise");
  function showMode() {
    const live = mode() === "live";
    document.body.classList.toggle("mode-live", live);
    document.body.classList.toggle("mode-exercise", !live);
    $("mode-banner").textContent = live ? w.mode_live : w.mode_exercise;
    $("mode-switch").textContent = live ? w.switch_to_exercise : w.switch_to_live;
  }
  $("mode-switch").onclick = () => { sessionStorage.setItem(MODE, mode() === "live" ? "exercise" : "live"); showMode(); };
  showMode();

  function say(text, error) { const s = $("console-status"); s.textContent = text; s.classList.toggle("error", !!error); }
  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN) };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; headers["Idempotency-Key"] = crypto.randomUUID(); }
    const response = await fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await response.json().catch(() => null);
    if (!response.ok) throw new Error(w.refused + ": " + ((json && (json.detail || json.title)) || response.status));
    return json;
  }
  // What the server will allow, so that the page offers only that (the server still decides).
  const mayAct = (regionId) => me && (me.role === "admin" || (me.role === "operator" && (me.regions || []).some((r) => isWithin(regionId, r))));
  function isWithin(id, ancestor) {
    for (let i = 0; id != null && i < 8; i++) {
      if (Number(id) === Number(ancestor)) return true;
      id = TV.table[id] ? TV.table[id][0] : null;
    }
    return false;
  }

  async function signIn(token) {
    sessionStorage.setItem(TOKEN, token);
    try {
      me = await api("GET", "/tokens/self");
    } catch (e) { sessionStorage.removeItem(TOKEN); me = null; say(e.message, true); return; }
    const scope = me.role === "admin" ? "*" : (me.regions || []).map((r) => TV.name(r)).join(", ");
    $("whoami").textContent = `${me.name} · ${me.role} · ${w.regions}: ${scope || w.none}`;
    $("sign-in").hidden = true;
    for (const id of ["signed-in", "active", "recent"]) $(id).hidden = false;
    $("declare").hidden = me.role === "reader";
    say("");
    followRecent();
    drawActive();
  }
  $("sign-in").addEventListener("submit", (e) => { e.preventDefault(); TV.whenReady(() => signIn($("token").value.trim())); });
  $("sign-out").onclick = () => { sessionStorage.removeItem(TOKEN); location.reload(); };

  // Regions: a searchable list (names in both languages, KATOTTG codes, ids) and the map.
  function drawPicked() {
    $("picked").textContent = picked.size ? [...picked].map(TV.name).join(", ") : "—";
    for (const shape of document.querySelectorAll("#console-map [data-region-id]")) shape.classList.toggle("picked", picked.has(Number(shape.dataset.regionId)));
    for (const box of document.querySelectorAll("#region-options input")) box.checked = picked.has(Number(box.value));
  }
  function toggle(id) { id = Number(id); picked.has(id) ? picked.delete(id) : picked.add(id); drawPicked(); }
  $("region-search").addEventListener("input", () => {
    const q = $("region-search").value.trim().toLowerCase();
    const hits = q.length < 2 ? [] : Object.entries(TV.table).filter(([id, r]) =>
      id === q || (r[2] && r[2].toLowerCase().includes(q)) || (r[3] && r[3].toLowerCase().includes(q)) || (r[4] && r[4].toLowerCase().includes(q))).slice(0, 40);
    $("region-options").replaceChildren(...hits.map(([id, r]) => {
      const li = TV.el("li"), label = TV.el("label"), box = document.createElement("input");
      box.type = "checkbox"; box.value = id; box.checked = picked.has(Number(id));
      box.onchange = () => toggle(id);
      label.append(box, ` ${r[2]} / ${r[3]} (${r[1]}${r[4] ? ", " + r[4] : ""})`);
      li.append(label);
      return li;
    }));
  });
  $("console-map").addEventListener("click", (e) => {
    // The region's link (a path's parent): a click or Enter on it picks the region.
    const link = e.target.closest("a[data-region-link]");
    e.preventDefault();
    if (link) toggle(link.dataset.regionLink);
  });

  // Review: the declaration in words, then a different action for live than for exercise.
  function declaration() {
    const text = (uk, en) => { const t = {}; if ($(uk).value.trim()) t.uk = $(uk).value.trim(); if ($(en).value.trim()) t.en = $(en).value.trim(); return Object.keys(t).length ? t : undefined; };
    const body = {
      region_ids: [...picked], kind: $("kind").value, level: $("level").value,
      status: mode() === "live" ? "actual" : "exercise",
      threats: [...document.querySelectorAll("input[name=threat]:checked")].map((b) => b.value),
      message: text("message-uk", "message-en"), instruction: text("instruction-uk", "instruction-en"),
    };
    const minutes = parseInt($("expires").value, 10);
    if (minutes > 0) body.expires_at = new Date(Date.now() + minutes * 60000).toISOString();
    return body;
  }
  function describe(body) {
    const status = body.status === "actual" ? w.mode_live : w.mode_exercise;
    const threats = body.threats.length ? " · " + TV.words.threats + ": " + body.threats.map((t) => TV.words.threat_names[t]).join(", ") : "";
    return `${status}. ${TV.words.kinds[body.kind]} · ${TV.words.level}: ${TV.words.levels[body.level]}${threats} · ${w.regions} (${body.region_ids.length}): ${body.region_ids.map(TV.name).join(", ")}`;
  }
  $("declare").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!picked.size) { say(w.pick_regions, true); return; }
    const body = declaration(), live = body.status === "actual";
    $("confirm-text").textContent = describe(body);
    $("confirm-live").hidden = !live;
    $("confirm-word").value = "";
    const send = $("confirm-send");
    send.textContent = live ? w.send_live : w.send_exercise;
    send.disabled = live;
    $("confirm-word").oninput = () => { send.disabled = $("confirm-word").value.trim().toUpperCase() !== w.confirm_live_word.toUpperCase(); };
    send.onclick = async () => {
      $("confirm").close();
      try {
        const answer = await api("POST", "/alerts", body);
        say(w.done + ": " + answer.alerts.map((a) => "#" + a.id + " " + TV.name(a.region_id)).join(", "));
        picked.clear(); drawPicked();
      } catch (err) { say(err.message, true); }
    };
    $("confirm").showModal();
  });
  $("confirm-back").onclick = () => $("confirm").close();

  // Active alerts of the token's regions, each with its update and its all-clear at hand.
  function drawActive() {
    // Not while an update is being written: its fields would be lost. Closing it redraws.
    if (!me || document.querySelector("#console-alerts details.change[open]")) return;
    const mine = TV.ordered([...TV.active.values()].filter((a) => mayAct(a.region_id)));
    $("console-alerts").replaceChildren(...mine.map((shown) => {
      let alert = shown;
      const li = TV.alertItem(alert);
      // The update: level, threats and texts, sent only where they changed.
      const change = TV.el("details", "change");
      change.append(TV.el("summary", null, w.update));
      change.addEventListener("toggle", () => { if (!change.open) drawActive(); });
      const level = document.createElement("select");
      for (const l of ["red", "yellow"]) { const o = TV.el("option", null, TV.words.levels[l]); o.value = l; o.selected = alert.level === l; level.append(o); }
      change.append(level);
      const threats = Object.keys(TV.words.threat_names).map((t) => {
        const label = TV.el("label", "check"), box = document.createElement("input");
        box.type = "checkbox"; box.value = t; box.checked = (alert.threats || []).includes(t);
        label.append(box, " " + TV.words.threat_names[t]);
        change.append(" ", label);
        return box;
      });
      const texts = {};
      for (const [field, lang, key] of [["message", "uk", "message_uk"], ["message", "en", "message_en"], ["instruction", "uk", "instruction_uk"], ["instruction", "en", "instruction_en"]]) {
        const label = TV.el("label", "wide", w[key] + " "), area = document.createElement("textarea");
        area.rows = 2; area.maxLength = 2000; area.value = (alert[field] && alert[field][lang]) || "";
        label.append(area);
        change.append(label);
        texts[field + "." + lang] = area;
      }
      const update = TV.el("button", null, w.update);
      update.type = "button";
      update.onclick = async () => {
        // What the alert is now: an earlier update from this form may have changed it.
        alert = TV.active.get(alert.id) || alert;
        const body = {};
        if (level.value !== alert.level) body.level = level.value;
        const picked = threats.filter((b) => b.checked).map((b) => b.value);
        if ([...picked].sort().join() !== [...(alert.threats || [])].sort().join()) body.threats = picked;
        for (const field of ["message", "instruction"]) {
          const uk = texts[field + ".uk"].value.trim(), en = texts[field + ".en"].value.trim();
          const before = alert[field] || {};
          if (uk !== (before.uk || "") || en !== (before.en || "")) { body[field] = {}; if (uk) body[field].uk = uk; if (en) body[field].en = en; }
        }
        if (!Object.keys(body).length) return;
        try { await api("PATCH", "/alerts/" + alert.id, body); say(w.done); } catch (e) { say(e.message, true); }
      };
      change.append(update);
      const cancel = TV.el("button", "cancel", w.cancel);
      cancel.type = "button";
      cancel.onclick = async () => {
        if (!confirm(`${w.cancel_confirm}: ${TV.words.kinds[alert.kind]} — ${TV.name(alert.region_id)}${alert.status === "actual" ? "" : " (" + w.mode_exercise + ")"}?`)) return;
        try { await api("POST", "/alerts/" + alert.id + "/cancel", {}); say(w.done); } catch (e) { say(e.message, true); }
      };
      li.append(cancel, change);
      return li;
    }));
  }
  TV.onFrame.push(drawActive);

  // The last events of the token's regions; an all-clear among them can be undone.
  function followRecent() {
    const regions = me.role === "admin" ? "" : "&regions=" + (me.regions || []).slice(0, 512).join(",");
    const source = new EventSource(`/api/v1/stream?after=${Math.max(0, data.seq - 30)}${regions}`);
    const onEvent = (e) => { recent.unshift(JSON.parse(e.data)); recent = recent.slice(0, 30); drawRecent(); };
    for (const type of ["declared", "updated", "cancelled", "expired"]) source.addEventListener(type, onEvent);
  }
  function drawRecent() {
    $("console-events").replaceChildren(...recent.map((event) => {
      const a = event.alert;
      const li = TV.el("li", null, `#${event.seq} ${TV.kyiv(event.at, true)} ${event.type}: ${TV.words.kinds[a.kind]} — ${TV.name(a.region_id)}${a.status === "actual" ? "" : " (" + a.status + ")"}`);
      const reinstated = [...TV.active.values()].some((x) => x.reinstates === a.id);
      if (event.type === "cancelled" && !reinstated && mayAct(a.region_id)) {
        const undo = TV.el("button", "reinstate", w.reinstate);
        undo.type = "button";
        undo.onclick = async () => { try { await api("POST", "/alerts/" + a.id + "/reinstate", {}); say(w.done); } catch (e) { say(e.message, true); } };
        li.append(" ", undo);
      }
      return li;
    }));
  }

  const saved = sessionStorage.getItem(TOKEN);
  if (saved) TV.whenReady(() => signIn(saved));
})();
