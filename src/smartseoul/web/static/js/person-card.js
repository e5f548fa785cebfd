// The control room's card of a protected person: the newest fix (a report without GPS is said
// plainly, never drawn as a fix), today's path, the alarms (the operator can take one in hand)
// and who can help nearby. Every read carries the reason the operator gave, so it is recorded.
(function () {
  "use strict";
  const root = document.getElementById("person-card");
  if (!root) return;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const lang = root.dataset.lang;
  const base = "/api/v1/tracking/persons/" + root.dataset.person;
  const query = "?reason=" + encodeURIComponent(root.dataset.reason);
  const clock = new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", {
    timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const mapEl = document.getElementById("map");
  const map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 18 });
  map.setView([37.5665, 126.978], 11);
  map.createPane("top").style.zIndex = 450;
  const layer = L.layerGroup().addTo(map);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function when(iso) { return clock.format(new Date(iso)) + " KST"; }
  function ago(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    return T.card_minutes_ago.replace("{n}", minutes);
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
  }

  document.querySelectorAll("time.card-seen").forEach(function (t) { t.textContent = when(t.dateTime); });

  fetch("/api/v1/districts.geojson", { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (geo) {
      L.geoJSON(geo, {
        style: function () { return { color: "#6b7280", weight: 1, fillColor: "#e5e7eb", fillOpacity: 0.9 }; },
        interactive: false,
      }).addTo(map).bringToBack();
      mapEl.dataset.ready = String(geo.features.length);
    });

  function showFix(data) {
    const box = document.getElementById("fix");
    const latest = data.latest;
    const gps = latest && latest.valid && latest.lat !== null ? latest : data.last_gps_fix;
    const parts = [];
    if (latest && !(latest.valid && latest.lat !== null)) {
      parts.push(el("p", "app-warning", T.app_no_fix + " " + when(latest.time)));
    }
    if (gps) {
      parts.push(el("p", "app-age", T.app_fix_gps + " · " + ago(gps.time) + " (" + when(gps.time) + ")"));
      L.circleMarker([gps.lat, gps.lon], {
        radius: 8, pane: "top", color: "#fff", weight: 3, fillColor: "#b91c1c", fillOpacity: 1, className: "card-marker",
      }).addTo(layer);
      map.setView([gps.lat, gps.lon], 15, { animate: false });
      mapEl.dataset.marker = gps.lat.toFixed(5) + "," + gps.lon.toFixed(5);
    } else if (!latest) {
      parts.push(el("p", "", T.app_no_position));
    }
    box.replaceChildren.apply(box, parts);
    box.dataset.state = gps ? (gps === latest ? "gps" : "no-fix") : "none";
  }

  function showPath(data) {
    const points = data.path.coordinates.map(function (c) { return [c[1], c[0]]; });
    if (points.length > 1) {
      L.polyline(points, { color: "#0b3d91", weight: 4, opacity: 0.8, className: "card-path", interactive: false }).addTo(layer);
    }
    document.getElementById("path-summary").textContent = T.app_path_today + ": " + T.app_path_points.replace("{n}", points.length);
  }

  function acknowledge(alarm, button) {
    button.disabled = true;
    fetch(base + "/alarms/" + alarm.id + "/acknowledge", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": root.dataset.csrf, Accept: "application/json" },
    }).then(function (r) { if (!r.ok) throw new Error(String(r.status)); return loadAlarms(); })
      .catch(function (e) { button.disabled = false; button.textContent = T.app_load_failed + " (" + e.message + ")"; });
  }

  function showAlarms(alarms) {
    const list = document.getElementById("alarms");
    list.replaceChildren();
    if (!alarms.length) list.append(el("li", "empty", T.app_no_alarms));
    alarms.forEach(function (a) {
      const li = el("li", "app-alarm");
      li.dataset.type = a.type;
      li.append(el("strong", "", T["alarm_" + a.type] || a.type), " " + when(a.time) + " (" + ago(a.time) + ")");
      if (a.position_is_last_known) li.append(el("span", "app-note", " · " + T.card_last_known));
      if (a.acknowledged_at) {
        li.dataset.acknowledged = "true";
        li.append(el("span", "app-acked", " ✓ " + T.app_acked));
      } else {
        const button = el("button", "secondary card-ack", T.card_ack);
        button.type = "button";
        button.addEventListener("click", function () { acknowledge(a, button); });
        li.append(" ", button);
      }
      list.append(li);
    });
  }

  function showHelp(data) {
    const list = document.getElementById("help");
    list.replaceChildren();
    data.police.forEach(function (p) {
      const li = el("li", "card-police");
      li.append(el("strong", "", T.card_police), " " + p.name_ko);
      list.append(li);
    });
    data.schools.forEach(function (s) {
      const li = el("li", "card-school");
      li.append(el("strong", "", T.card_school_guard), " " + (lang === "ko" ? s.name_ko : s.name_en) + " · " + s.distance_m + " m");
      list.append(li);
      L.circleMarker([s.lat, s.lon], { radius: 6, color: "#166534", weight: 2, fillOpacity: 0.6, className: "card-school-marker" })
        .bindTooltip(lang === "ko" ? s.name_ko : s.name_en).addTo(layer);
    });
    if (!list.children.length) list.append(el("li", "empty", T.app_no_position));
    // the person and the help around them, all in view
    const spots = data.schools.map(function (s) { return [s.lat, s.lon]; });
    if (data.from && data.from.lat !== null) spots.push([data.from.lat, data.from.lon]);
    if (spots.length > 1) map.fitBounds(spots, { padding: [30, 30], maxZoom: 16, animate: false });
  }

  function loadAlarms() { return get(base + "/alarms" + query).then(showAlarms); }

  get(base + "/latest" + query).then(showFix)
    .then(function () { return get(base + "/path" + query).then(showPath); })
    .then(loadAlarms)
    .then(function () { return get(base + "/nearby" + query).then(showHelp); })
    .then(function () { root.dataset.loaded = "1"; })
    .catch(function (e) { root.dataset.error = e.message; });
})();
