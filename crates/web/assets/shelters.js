// tryvoha: the shelter finder. The browser's location (or a click on the map) becomes a point;
// the nearest shelters come from GET /api/v1/shelters/nearest and the point's region and state
// from GET /api/v1/locate; a region under alert puts the warning first.
"use strict";
(function () {
  const TV = window.TV, data = TV.data, words = data.shelter_words;
  const COMPASS = {
    uk: ["північ", "північний схід", "схід", "південний схід", "південь", "південний захід", "захід", "північний захід"],
    en: ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"],
  };
  const rad = (d) => (d * Math.PI) / 180;
  function bearing(lat1, lon1, lat2, lon2) {
    const y = Math.sin(rad(lon2 - lon1)) * Math.cos(rad(lat2));
    const x = Math.cos(rad(lat1)) * Math.sin(rad(lat2)) - Math.sin(rad(lat1)) * Math.cos(rad(lat2)) * Math.cos(rad(lon2 - lon1));
    return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
  }
  const compass = (deg) => COMPASS[data.lang][Math.floor(((deg % 360) + 22.5) / 45) % 8];
  const status = document.getElementById("located");
  const warning = document.getElementById("shelter-warning");
  const results = document.getElementById("shelter-results");

  async function find(lat, lon) {
    document.getElementById("lat").value = lat.toFixed(5);
    document.getElementById("lon").value = lon.toFixed(5);
    const [near, place] = await Promise.all([
      fetch(`/api/v1/shelters/nearest?lat=${lat}&lon=${lon}&limit=10&include_full=true`).then((r) => r.json()),
      fetch(`/api/v1/locate?lat=${lat}&lon=${lon}`).then((r) => (r.ok ? r.json() : null)),
    ]);
    const region = place && (place.hromada || place.raion || place.oblast);
    const underAlert = [place && place.hromada, place && place.raion, place && place.oblast].some((r) => r && r.state === "alert");
    warning.hidden = !underAlert;
    status.hidden = !region;
    if (region) status.textContent = (data.lang === "en" ? region.name_en : region.name_uk) + " — " + TV.words.states[region.state];
    const shelters = (near && near.shelters) || [];
    if (!shelters.length) { results.replaceChildren(TV.el("p", "note", words.none)); return; }
    const list = TV.el("ol", "shelters");
    list.id = "shelter-list";
    for (const s of shelters) {
      const li = TV.el("li", "shelter");
      li.append(TV.el("strong", null, (data.lang === "en" && s.name_en) || s.name_uk));
      const meta = `${words.distance}: ${Math.round(s.distance_m)} m · ${words.walk}: ${Math.ceil(s.walking_minutes)} ${words.minutes} · ${compass(bearing(lat, lon, s.lat, s.lon))}` + (s.wheelchair ? " · ♿" : "");
      const meta_el = TV.el("span", "meta", meta);
      if (s.status) {
        // Closed shelters never come; a full one is listed, marked, with how old the word is.
        const full = s.status.status === "full";
        const inside = s.status.occupancy != null ? ` (${s.status.occupancy})` : "";
        meta_el.append(" · ", TV.el("span", `status status-${full ? "full" : "open"}`, (full ? words.full : words.open) + inside),
          `, ${words.reported} ${Math.floor(s.status.age_s / 60)} ${words.ago}`);
      }
      li.append(" ", meta_el);
      if (s.address) { li.append(document.createElement("br"), TV.el("span", "address", s.address)); }
      list.append(li);
    }
    results.replaceChildren(list);
  }

  document.getElementById("use-location").onclick = () => {
    navigator.geolocation.getCurrentPosition(
      (p) => find(p.coords.latitude, p.coords.longitude),
      (e) => { status.hidden = false; status.textContent = e.message; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  };
  document.querySelector("form.locate").addEventListener("submit", (e) => {
    const lat = parseFloat(document.getElementById("lat").value), lon = parseFloat(document.getElementById("lon").value);
    if (Number.isFinite(lat) && Number.isFinite(lon)) { e.preventDefault(); find(lat, lon); }
  });
  const map = document.getElementById("pick-map");
  map.addEventListener("click", (e) => {
    // Enter on a region's link has no point to search from: it opens the region's page.
    if (e.detail === 0) return;
    e.preventDefault();
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(map.getScreenCTM().inverse());
    const q = data.projection;
    const lon = q.west + (p.x - q.margin) / (q.squeeze * q.scale);
    const lat = q.north - (p.y - q.margin) / q.scale;
    find(lat, lon);
  });
})();
