// The guardian's mobile app: the list of linked persons, and one person's latest GPS fix, today's
// path, recent alarms and the ledger of who read the location. Every read of a location passes
// reason=guardian app, so that the read is recorded; a report without a GPS fix is never drawn as one.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const home = document.getElementById("app-home");
  const personEl = document.getElementById("app-person");
  const root = home || personEl;
  if (!root) return;
  const lang = root.dataset.lang;
  const locale = lang === "ko" ? "ko-KR" : "en-GB";
  const REFRESH_MS = 30000;
  const clock = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return String(values[k]); });
  }

  // "3분 전" / "3 min ago"
  function ago(iso) {
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 10) return T.ago_now;
    if (s < 60) return fill(T.ago_seconds, { n: Math.floor(s) });
    if (s < 3600) return fill(T.ago_minutes, { n: Math.floor(s / 60) });
    if (s < 86400) return fill(T.ago_hours, { n: Math.floor(s / 3600) });
    return fill(T.ago_days, { n: Math.floor(s / 86400) });
  }

  function timeEl(iso) {
    const el = document.createElement("time");
    el.dateTime = iso;
    el.textContent = clock.format(new Date(iso)) + " KST";
    return el;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        throw new Error("401");
      }
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
  }

  // ---------------------------------------------------------------- /app: the linked persons
  function renderPersons(persons) {
    const list = document.getElementById("persons");
    const state = document.getElementById("persons-state");
    list.replaceChildren();
    state.textContent = persons.length ? "" : T.app_no_persons;
    state.hidden = persons.length > 0;
    persons.forEach(function (p) {
      const li = el("li", "app-person");
      li.dataset.person = String(p.id);
      const link = el("a", "app-person-link");
      link.href = "/app/persons/" + p.id;
      link.append(el("span", "app-person-name", p.display_name), " ",
        el("span", "app-category", T["category_" + p.category] || p.category));
      const facts = el("dl", "app-facts");
      const battery = p.battery_pct === null ? T.app_unknown : p.battery_pct + "%";
      const seen = p.last_seen_at ? ago(p.last_seen_at) : T.app_never_seen;
      [["battery", T.app_battery, battery], ["last-seen", T.app_last_seen, seen]].forEach(function (f) {
        const dd = el("dd", "", f[2]);
        dd.dataset.field = f[0];
        facts.append(el("dt", "", f[1]), dd);
      });
      li.append(link, facts);
      list.append(li);
    });
  }

  function loadPersons() {
    getJSON("/api/v1/tracking/my/persons").then(renderPersons).catch(function (err) {
      const state = document.getElementById("persons-state");
      state.hidden = false;
      state.textContent = T.app_load_failed + " (" + err.message + ")";
    });
  }

  if (home) {
    setupPush();
    loadPersons();
    setInterval(loadPersons, REFRESH_MS);
    return;
  }

  // ---------------------------------------------------------------- alerts on this phone (Web Push)
  function keyBytes(base64url) {
    const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  function setupPush() {
    const box = document.getElementById("push");
    if (!box) return;
    const button = document.getElementById("push-on");
    const state = document.getElementById("push-state");
    function show(name, text) { box.dataset.state = name; state.textContent = text || ""; button.hidden = name !== "off"; }
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.isSecureContext) {
      show("unsupported", T.app_push_unsupported);
      return;
    }
    function save(subscription) {
      const body = Object.assign(subscription.toJSON(), { scope: "guardian", language: lang });
      return fetch("/api/v1/push/subscriptions", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify(body),
      }).then(function (r) { if (!r.ok) throw new Error(String(r.status)); });
    }
    navigator.serviceWorker.register("/sw.js").then(function (registration) {
      box.dataset.worker = "registered";
      return registration.pushManager.getSubscription().then(function (existing) {
        if (existing) return save(existing).then(function () { show("on", T.app_push_enabled); });
        if (Notification.permission === "denied") return show("denied", T.app_push_denied);
        show("off");
        button.addEventListener("click", function () {
          Notification.requestPermission().then(function (permission) {
            if (permission !== "granted") return show("denied", T.app_push_denied);
            return getJSON("/api/v1/push/vapid-public-key").then(function (key) {
              return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key.public_key) });
            }).then(save).then(function () { show("on", T.app_push_enabled); });
          }).catch(function (e) { show("off", T.app_load_failed + " (" + e.message + ")"); });
        });
      });
    }).catch(function (e) { show("unsupported", T.app_push_unsupported + " (" + e.message + ")"); });
  }
  setupPush();

  // ---------------------------------------------------------------- /app/persons/{id}
  const personId = personEl.dataset.person;
  const query = "?reason=" + encodeURIComponent(personEl.dataset.reason);
  const base = "/api/v1/tracking/persons/" + personId;
  const me = personEl.dataset.me;
  const mapEl = document.getElementById("map");
  const fixBox = document.getElementById("fix");
  const map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 18 });
  map.createPane("person").style.zIndex = 450;
  const pathLayer = L.layerGroup().addTo(map);
  const fixLayer = L.layerGroup().addTo(map);
  let centred = false;
  let cityBounds = null;

  fetch("/api/v1/districts.geojson", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (geo) {
      const layer = L.geoJSON(geo, {
        style: function () { return { color: "#6b7280", weight: 1, fillColor: "#e5e7eb", fillOpacity: 0.9 }; },
        interactive: false,
      }).addTo(map);
      cityBounds = layer.getBounds();
      if (!centred) map.fitBounds(cityBounds, { padding: [4, 4], animate: false });
      mapEl.dataset.ready = String(geo.features.length);
    })
    .catch(function (err) { mapEl.dataset.error = err.message; });
  map.setView([37.5665, 126.978], 11);

  function drawFix(gps) {
    fixLayer.clearLayers();
    const where = [gps.lat, gps.lon];
    if (gps.accuracy_m) {
      L.circle(where, {
        radius: gps.accuracy_m, pane: "person", color: "#0b3d91", weight: 1, fillOpacity: 0.2,
        className: "app-accuracy", interactive: false,
      }).addTo(fixLayer);
    }
    L.circleMarker(where, {
      radius: 7, pane: "person", color: "#fff", weight: 3, fillColor: "#0b3d91", fillOpacity: 1,
      className: "app-marker",
    }).bindTooltip(T.app_fix_gps + " · " + ago(gps.time), {
      permanent: true, direction: "top", offset: [0, -10], className: "app-fix-label",
    }).addTo(fixLayer);
    mapEl.dataset.marker = gps.lat.toFixed(5) + "," + gps.lon.toFixed(5);
    if (!centred) {
      map.setView(where, 15, { animate: false });
      centred = true;
    }
  }

  function renderLatest(data) {
    const latest = data.latest;
    const gpsNow = latest && latest.valid && latest.lat !== null && latest.lon !== null;
    const gps = gpsNow ? latest : data.last_gps_fix;
    const parts = [];
    if (!latest) {
      parts.push(el("p", "app-state", T.app_no_position));
      fixBox.dataset.state = "none";
    } else if (!gpsNow) {
      // the latest report is a cell tower or Wi-Fi guess, or nothing: say so, never draw it as a fix
      const warn = el("p", "app-warning");
      warn.id = "no-fix";
      warn.append(el("strong", "", T.app_no_fix), " ", timeEl(latest.time), " (" + ago(latest.time) + ")");
      parts.push(warn);
      parts.push(el("p", "app-note", gps ? T.app_no_fix_detail : T.app_no_gps_ever));
      fixBox.dataset.state = "no-fix";
    } else {
      fixBox.dataset.state = "gps";
    }
    if (gps) {
      const age = el("p", "app-age");
      age.id = "fix-age";
      age.append(el("strong", "", T.app_fix_gps + " · " + ago(gps.time)), " ", timeEl(gps.time));
      parts.push(age);
      if (gps.accuracy_m) parts.push(el("p", "app-note", T.app_accuracy + " ±" + Math.round(gps.accuracy_m) + " m"));
      drawFix(gps);
    } else {
      fixLayer.clearLayers();
      delete mapEl.dataset.marker;
    }
    fixBox.replaceChildren.apply(fixBox, parts);
  }

  function renderPath(data) {
    pathLayer.clearLayers();
    const points = data.path.coordinates.map(function (c) { return [c[1], c[0]]; });
    if (points.length > 1) {
      L.polyline(points, { color: "#b91c1c", weight: 4, opacity: 0.8, className: "app-path", interactive: false })
        .addTo(pathLayer);
    }
    document.getElementById("path-summary").textContent =
      T.app_path_today + ": " + fill(T.app_path_points, { n: points.length });
  }

  function postJSON(url, body, method) {
    return fetch(url, {
      method: method || "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": personEl.dataset.csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (data) {
        if (!r.ok) { const e = new Error(data.detail || r.status); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  const ACK_KINDS = ["sos", "fall", "removal", "left_school", "not_arrived", "geofence_exit"];

  function ackButton(a) {
    const button = el("button", "app-ack", T.app_ack);
    button.type = "button";
    button.dataset.alarm = a.id;
    button.addEventListener("click", function () {
      button.disabled = true;
      postJSON(base + "/alarms/" + a.id + "/acknowledge").then(refresh).catch(function (e) {
        button.disabled = false;
        button.textContent = T.app_load_failed + " (" + e.message + ")";
      });
    });
    return button;
  }

  function renderAlarms(alarms) {
    const list = document.getElementById("alarms");
    list.replaceChildren();
    if (!alarms.length) list.append(el("li", "empty", T.app_no_alarms));
    alarms.forEach(function (a) {
      const li = el("li", "app-alarm");
      li.dataset.type = a.type;
      li.append(el("strong", "", T["alarm_" + a.type] || a.type), " ", timeEl(a.time), " (" + ago(a.time) + ")");
      if (a.position_is_last_known && a.position_age_s !== null) {
        const then = new Date(Date.parse(a.time) - a.position_age_s * 1000).toISOString();
        li.append(el("span", "app-note", " · " + fill(T.app_alarm_last_known, { age: ago(then) })));
      }
      if (a.acknowledged_at) {
        li.dataset.acknowledged = "true";
        li.append(el("span", "app-acked", " ✓ " + T.app_acked));
      } else if (ACK_KINDS.indexOf(a.type) >= 0) {
        li.append(" ", ackButton(a));
      }
      list.append(li);
    });
  }

  function renderLedger(rows) {
    const body = document.querySelector("#ledger tbody");
    body.replaceChildren();
    rows.forEach(function (r) {
      const tr = el("tr", r.recipient === me ? "mine" : "");
      const when = el("td");
      when.append(timeEl(r.at));
      tr.append(when, el("td", "", r.recipient), el("td", "", T["what_" + r.what] || r.what), el("td", "", r.purpose));
      body.append(tr);
    });
  }

  function failed(target, err) {
    const message = T.app_load_failed + " (" + err.message + ")";
    if (target.tagName === "TBODY") {
      const cell = el("td", "error", message);
      cell.colSpan = 4;
      const row = el("tr");
      row.append(cell);
      target.replaceChildren(row);
    } else {
      target.replaceChildren(el(target.tagName === "UL" ? "li" : "p", "error", message));
    }
  }

  function refresh() {
    // one after the other: the ledger comes last, so that it shows the reads just made
    return getJSON(base + "/latest" + query).then(renderLatest).catch(function (e) { failed(fixBox, e); })
      .then(function () { return getJSON(base + "/path" + query).then(renderPath); })
      .catch(function () { /* the path is a nicety; the fix above says what matters */ })
      .then(function () { return getJSON(base + "/alarms" + query).then(renderAlarms); })
      .catch(function (e) { failed(document.getElementById("alarms"), e); })
      .then(function () { return getJSON(base + "/access-ledger" + query + "&limit=30").then(renderLedger); })
      .catch(function (e) { failed(document.querySelector("#ledger tbody"), e); })
      .then(function () {
        document.getElementById("updated").textContent = T.app_updated + " " + clock.format(new Date()) + " KST.";
        personEl.dataset.loaded = String(Number(personEl.dataset.loaded || 0) + 1);
      });
  }

  // ---------------------------------------------------------------- find now (emergency)
  const findForm = document.getElementById("findnow-form");
  const findResult = document.getElementById("findnow-result");
  document.getElementById("findnow-open").addEventListener("click", function () {
    findForm.hidden = false;
    document.getElementById("findnow-reason").focus();
  });
  document.getElementById("findnow-cancel").addEventListener("click", function () { findForm.hidden = true; });
  findForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const reason = document.getElementById("findnow-reason").value.trim();
    postJSON(base + "/find-now", { reason: reason }).then(function (answer) {
      findForm.hidden = true;
      const lines = [el("strong", "", T.app_findnow_sent)];
      lines.push(el("p", "", answer.devices_asked.length ? T.app_findnow_device_asked : T.app_findnow_device_not_asked));
      if (!answer.position) lines.push(el("p", "", T.app_findnow_no_position));
      findResult.replaceChildren.apply(findResult, lines);
      findResult.dataset.state = "sent";
      refresh();
      if (answer.devices_asked.length) setTimeout(refresh, 15000);
    }).catch(function (e) {
      findResult.replaceChildren(el("p", "error", T.app_load_failed + " (" + e.message + ")"));
    });
  });

  // ---------------------------------------------------------------- live alarms (SSE)
  const liveBox = document.getElementById("live-alert");
  const personName = document.querySelector("h1").firstChild.textContent.trim();
  function onLive(message) {
    const data = JSON.parse(message.data);
    if (String(data.person_id) !== String(personId)) return;
    if (data.type === "tracking.alarm.raised.v1") {
      liveBox.textContent = data.emergency ? fill(T.app_live_sos, { name: personName })
        : fill(T.app_live_alarm, { what: T["alarm_" + data.kind] || data.kind });
      liveBox.dataset.kind = data.kind;
      liveBox.hidden = false;
      if (data.emergency && navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
    }
    refresh();
  }
  if (window.EventSource) {
    const live = new EventSource("/api/v1/stream/guardian");
    live.onmessage = onLive;
    live.onopen = function () { personEl.dataset.live = "open"; };
    live.onerror = function () { personEl.dataset.live = "retrying"; };
  }

  // ---------------------------------------------------------------- safe zones
  const zoneLayer = L.layerGroup().addTo(map);
  const zoneForm = document.getElementById("zone-form");
  const zoneAdd = document.getElementById("zone-add");
  const zoneError = document.getElementById("zone-error");
  let picking = false;
  let picked = null;
  let pickedCircle = null;

  function zoneShape(z) {
    const g = z.geometry;
    const style = { color: "#15803d", weight: 2, fillOpacity: 0.12, className: "app-zone", interactive: false };
    if (z.kind === "circle") return L.circle([g.coordinates[1], g.coordinates[0]], Object.assign({ radius: z.radius_m }, style));
    if (z.kind === "corridor") {
      return L.polyline(g.coordinates.map(function (c) { return [c[1], c[0]]; }), Object.assign({}, style, { weight: 6 }));
    }
    return L.polygon(g.coordinates[0].map(function (c) { return [c[1], c[0]]; }), style);
  }

  function renderZones(zones) {
    const list = document.getElementById("zones");
    list.replaceChildren();
    zoneLayer.clearLayers();
    if (!zones.length) list.append(el("li", "empty", T.app_zones_none));
    zones.forEach(function (z) {
      zoneShape(z).bindTooltip(z.name, { className: "app-zone-label" }).addTo(zoneLayer);
      const li = el("li", "app-zone-item");
      li.dataset.zone = z.id;
      const words = [z.schedule && z.schedule.length ? T.app_zone_schedule_short : T.app_zone_always_short];
      if (z.alert_on_exit) words.push(T.app_zone_alert_exit);
      if (z.alert_on_enter) words.push(T.app_zone_alert_enter);
      li.append(el("strong", "", z.name), " ", el("span", "app-note", words.join(" · ")));
      const remove = el("button", "app-secondary app-zone-remove", T.app_zone_delete);
      remove.type = "button";
      remove.addEventListener("click", function () {
        if (!window.confirm(fill(T.app_zone_delete_confirm, { name: z.name }))) return;
        postJSON(base + "/zones/" + z.id, undefined, "DELETE").then(loadZones);
      });
      li.append(" ", remove);
      list.append(li);
    });
    mapEl.dataset.zones = String(zones.length);
  }

  function loadZones() {
    return getJSON(base + "/zones").then(function (zones) {
      zoneAdd.hidden = false;
      renderZones(zones);
    }).catch(function (e) {
      const list = document.getElementById("zones");
      if (String(e.message).indexOf("403") >= 0) {
        list.replaceChildren();
        document.getElementById("zones-readonly").hidden = false;
      } else {
        failed(list, e);
      }
    });
  }

  function stopPicking() {
    picking = false;
    picked = null;
    if (pickedCircle) { pickedCircle.remove(); pickedCircle = null; }
    zoneForm.hidden = true;
    zoneAdd.hidden = false;
    mapEl.classList.remove("picking");
  }

  zoneAdd.addEventListener("click", function () {
    picking = true;
    zoneForm.hidden = false;
    zoneAdd.hidden = true;
    zoneError.hidden = true;
    mapEl.classList.add("picking");
    mapEl.scrollIntoView({ behavior: "smooth", block: "center" });
  });
  document.getElementById("zone-cancel").addEventListener("click", stopPicking);
  document.getElementById("zone-radius").addEventListener("change", function (event) {
    if (pickedCircle) pickedCircle.setRadius(Number(event.target.value));
  });
  map.on("click", function (event) {
    if (!picking) return;
    picked = event.latlng;
    const radius = Number(document.getElementById("zone-radius").value);
    if (pickedCircle) pickedCircle.remove();
    pickedCircle = L.circle(picked, { radius: radius, color: "#b45309", dashArray: "6 4", className: "app-zone-new" }).addTo(map);
    mapEl.dataset.picked = picked.lat.toFixed(5) + "," + picked.lng.toFixed(5);
  });
  zoneForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!picked) {
      zoneError.textContent = T.app_zone_pick_centre;
      zoneError.hidden = false;
      return;
    }
    const form = new FormData(zoneForm);
    const body = {
      name: String(form.get("name")).trim(), kind: "circle", role: form.get("role"),
      geometry: { type: "Point", coordinates: [picked.lng, picked.lat] },
      radius_m: Number(form.get("radius_m")),
      schedule: form.get("when") === "school" ? [{ days: [0, 1, 2, 3, 4], start: "08:30", end: "15:00" }] : [],
      alert_on_exit: true,
      arrive_by: form.get("arrive_by") || null,
    };
    postJSON(base + "/zones", body).then(function () {
      zoneForm.reset();
      stopPicking();
      return loadZones();
    }).catch(function (e) {
      zoneError.textContent = e.message;
      zoneError.hidden = false;
    });
  });

  refresh();
  loadZones();
  setInterval(refresh, REFRESH_MS);
})();
