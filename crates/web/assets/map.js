// tryvoha: the map and region pages' own part: the regions a user picked, and a sound and a
// browser notification when one of them comes under alert (after the user turned them on,
// which is the gesture browsers require; both choices are remembered in this browser).
"use strict";
(function () {
  const TV = window.TV;
  const WATCH = "tryvoha.watch", NOTIFY = "tryvoha.notify";
  const read = () => { try { return JSON.parse(localStorage.getItem(WATCH) || "[]").map(Number); } catch (e) { return []; } };
  // Push (push.js) follows the same list: it hears of every change.
  const write = (ids) => {
    localStorage.setItem(WATCH, JSON.stringify([...new Set(ids)]));
    window.dispatchEvent(new Event("tryvoha:watch"));
  };
  TV.watched = read;
  TV.watch = (ids) => { write(ids); render(); };
  let audio = null;

  function beep() {
    if (!audio) return;
    const now = audio.currentTime;
    for (let i = 0; i < 3; i++) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, now + i * 0.5);
      gain.gain.setValueAtTime(0, now + i * 0.5 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.5);
      osc.stop(now + i * 0.5 + 0.35);
    }
  }
  function enable() {
    localStorage.setItem(NOTIFY, "on");
    try { audio = audio || new AudioContext(); } catch (e) { audio = null; }
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
    render();
  }

  // A picked region counts when it, or what contains it, or what it contains comes under a
  // real alert: worked out from the alerts, not from the shapes on this page (a picked oblast
  // may not be drawn here, and an alert on one of its raions makes it only partial).
  let heard = null;
  TV.onFrame.push(() => {
    const watched = read();
    const now = new Map(watched.map((id) => [id, new Set([...TV.active.values()]
      .filter((a) => a.status === "actual" && TV.bearsOn(a, id)).map((a) => a.id))]));
    const before = heard;
    heard = now;
    if (!before || localStorage.getItem(NOTIFY) !== "on") return;
    for (const [id, alerts] of now) {
      const fresh = [...alerts].filter((a) => !(before.get(id) || new Set()).has(a));
      if (!fresh.length) continue;
      beep();
      if ("Notification" in window && Notification.permission === "granted") {
        const alert = TV.active.get(fresh[0]);
        const title = TV.name(id) + " — " + TV.words.states[TV.stateOf(id)];
        const body = (TV.words.kinds[alert.kind] || alert.kind) + " — " + TV.name(alert.region_id);
        const n = new Notification(title, { body, tag: "tryvoha-" + id });
        n.onclick = () => { window.location.href = "/regions/" + id; };
      }
    }
  });

  function render() {
    const list = document.getElementById("watch-list");
    if (list) {
      list.replaceChildren(...read().map((id) => {
        const li = TV.el("li", null, TV.name(id) + " ");
        const remove = TV.el("button", null, "×");
        remove.type = "button";
        remove.setAttribute("aria-label", "−");
        remove.onclick = () => { write(read().filter((x) => x !== id)); render(); };
        li.append(remove);
        return li;
      }));
    }
    const button = document.getElementById("notify-enable");
    if (button) button.disabled = localStorage.getItem(NOTIFY) === "on" && (!("Notification" in window) || Notification.permission !== "default");
    const here = document.getElementById("watch-this");
    if (here) here.setAttribute("aria-pressed", String(read().includes(Number(here.dataset.region))));
  }

  TV.whenReady(() => {
    const select = document.getElementById("watch-select");
    if (select) {
      const oblasts = Object.keys(TV.table).filter((id) => TV.table[id][1] === "oblast").sort((a, b) => TV.name(a).localeCompare(TV.name(b)));
      select.replaceChildren(...oblasts.map((id) => { const o = TV.el("option", null, TV.name(id)); o.value = id; return o; }));
      document.getElementById("watch-add").onclick = () => { write([...read(), Number(select.value)]); render(); };
    }
    render();
  });
  const enableButton = document.getElementById("notify-enable");
  if (enableButton) enableButton.onclick = enable;
  const here = document.getElementById("watch-this");
  if (here) here.onclick = () => {
    const id = Number(here.dataset.region), ids = read();
    write(ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id]);
    if (!ids.includes(id)) enable();
    render();
  };
  if (localStorage.getItem(NOTIFY) === "on") {
    // Sound needs a gesture in this page too: the first click or key brings it back.
    const resume = () => { try { audio = audio || new AudioContext(); } catch (e) { audio = null; } };
    window.addEventListener("pointerdown", resume, { once: true });
    window.addEventListener("keydown", resume, { once: true });
  }
})();
