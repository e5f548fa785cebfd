// Public alerts: the live banner and Web Push subscription on /alerts, and the operators'
// compose / preview / approve / update / cancel page on /console/alerts. The map draws the
// city's own district GeoJSON (no tile server), as the console does.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("i18n").textContent);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function sevLabel(severity) {
    return T["alerts_sev_" + String(severity || "unknown").toLowerCase()] || severity;
  }

  // ------------------------------------------------------------------ public page

  function publicPage(root) {
    const lang = root.dataset.lang;
    const list = document.getElementById("alerts-list");
    const live = document.getElementById("alerts-live");
    const select = document.getElementById("alerts-district");
    const stateEl = document.getElementById("alerts-subscribe-state");
    const unsubscribe = document.getElementById("alerts-unsubscribe");
    const shown = new Map();
    let source = null;
    let place = { district: select.value || null, lat: null, lon: null };
    const PLACE_KEY = "ss_alerts_place";  // the place this phone subscribed for, remembered
    let remembered = null;
    try { remembered = JSON.parse(window.localStorage.getItem(PLACE_KEY) || "null"); } catch (error) { remembered = null; }
    if (remembered && !root.dataset.district) {
      place = remembered;
      if (place.district) select.value = place.district;
    }

    function headline(alert) { return lang === "ko" ? alert.headline_ko : alert.headline_en; }

    function render() {
      list.textContent = "";
      const box = el("div", "alerts-banner");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", T.alerts_banner_label);
      const now = new Date();
      shown.forEach(function (alert, id) { if (alert.expires && new Date(alert.expires) <= now) shown.delete(id); });
      if (!shown.size) box.append(el("p", "alerts-none", T.alerts_none));
      Array.from(shown.values()).sort(function (a, b) { return b.alert_id - a.alert_id; }).forEach(function (alert) {
        const item = el("article", "alert-item sev-" + String(alert.severity).toLowerCase());
        item.dataset.alertId = alert.alert_id;
        item.append(el("strong", "alert-sev", sevLabel(alert.severity)), el("span", "alert-headline", headline(alert)));
        if (alert.msg_type === "Update") item.append(el("span", "badge", T.alerts_update));
        box.append(item);
      });
      list.append(box);
    }

    function connect() {
      if (source) source.close();
      const query = new URLSearchParams();
      if (place.lat !== null) { query.set("lat", place.lat); query.set("lon", place.lon); }
      else if (place.district) query.set("district", place.district);
      shown.clear();
      source = new EventSource("/api/v1/stream/alerts?" + query.toString());
      source.onopen = function () { live.textContent = T.alerts_live_on; live.dataset.state = "on"; };
      source.onerror = function () { live.textContent = T.alerts_live_off; live.dataset.state = "off"; };
      source.onmessage = function (message) {
        const body = JSON.parse(message.data);
        const alert = body.alert;
        if (body.type === "safety.alert.cancelled.v1") shown.delete(alert.alert_id);
        else shown.set(alert.alert_id, alert);
        render();
      };
    }

    async function pushSubscription() {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("unsupported");
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      const existing = await registration.pushManager.getSubscription();
      if (existing) return existing;
      const key = await (await fetch("/api/v1/push/vapid-public-key")).json();
      const raw = atob(key.public_key.replace(/-/g, "+").replace(/_/g, "/"));
      const bytes = Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
      return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
    }

    async function subscribe() {
      if (!place.district && place.lat === null) { stateEl.textContent = T.alerts_pick_place; return; }
      let subscription;
      try {
        subscription = await pushSubscription();
      } catch (error) {
        const denied = window.Notification && window.Notification.permission === "denied";
        stateEl.textContent = denied ? T.alerts_push_denied : T.alerts_push_unsupported;
        return;
      }
      const body = Object.assign(subscription.toJSON(), { scope: "alerts", language: lang });
      if (place.lat !== null) { body.lat = place.lat; body.lon = place.lon; }
      else body.district_codes = [place.district];
      const answer = await fetch("/api/v1/push/subscriptions", {
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf }, body: JSON.stringify(body),
      });
      stateEl.textContent = answer.ok ? T.alerts_subscribed : T.alerts_error + ": " + (await answer.json()).detail;
      unsubscribe.hidden = !answer.ok;
      if (answer.ok) window.localStorage.setItem(PLACE_KEY, JSON.stringify(place));
    }

    select.addEventListener("change", function () {
      place = { district: select.value || null, lat: null, lon: null };
      connect();
    });
    document.getElementById("alerts-subscribe").addEventListener("click", subscribe);
    function locate(quietly) {
      if (!navigator.geolocation) { if (!quietly) stateEl.textContent = T.alerts_location_failed; return; }
      if (!quietly) stateEl.textContent = T.alerts_locating;
      navigator.geolocation.getCurrentPosition(function (position) {
        place = { district: null, lat: +position.coords.latitude.toFixed(3), lon: +position.coords.longitude.toFixed(3) };
        connect();
        subscribe();
      }, function () { if (!quietly) stateEl.textContent = T.alerts_location_failed; }, { maximumAge: 600000, timeout: 15000 });
    }
    document.getElementById("alerts-locate").addEventListener("click", function () { locate(false); });
    // A phone subscribed by location tells where it is now each time the page is opened.
    if (remembered && remembered.lat !== null && !root.dataset.district && navigator.permissions) {
      navigator.permissions.query({ name: "geolocation" }).then(function (status) {
        if (status.state === "granted") locate(true);
      });
    }
    unsubscribe.addEventListener("click", async function () {
      const registration = await navigator.serviceWorker.getRegistration("/");
      const subscription = registration && (await registration.pushManager.getSubscription());
      if (subscription) {
        await fetch("/api/v1/push/subscriptions/delete", {
          method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
          body: JSON.stringify({ endpoint: subscription.endpoint }),
        });
        await subscription.unsubscribe();
      }
      stateEl.textContent = T.alerts_unsubscribed;
      unsubscribe.hidden = true;
      window.localStorage.removeItem(PLACE_KEY);
    });
    connect();
    setInterval(function () { if (shown.size) render(); }, 30000);  // expired alerts leave the banner
  }

  // ------------------------------------------------------------------ console page

  function consolePage(root) {
    const lang = root.dataset.lang;
    const mayIssue = root.dataset.mayIssue === "yes";
    const form = document.getElementById("alert-form");
    const stateEl = document.getElementById("alert-form-state");
    const clock = new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", {
      timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    });
    let editing = null;
    const districtName = {};
    document.querySelectorAll('#district-picks input[name="districts"]').forEach(function (box) {
      districtName[box.value] = box.parentElement.textContent.trim();
    });

    async function api(method, url, body) {
      const options = { method: method, headers: { Accept: "application/json", "X-CSRF-Token": root.dataset.csrf } };
      if (body !== undefined) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(body);
      }
      const answer = await fetch(url, options);
      const text = await answer.text();
      let data = text;
      try { data = JSON.parse(text); } catch (error) { /* XML or empty */ }
      if (!answer.ok) {
        const problem = typeof data === "object" ? data : {};
        throw new Error((problem.field ? problem.field + ": " : "") + (problem.detail || problem.title || answer.status));
      }
      return data;
    }

    function say(text, bad) {
      stateEl.textContent = text;
      stateEl.className = bad ? "error" : "ok";
    }

    // ---- area picking on the map
    let districtLayers = {};
    let shape = null;
    let polygonPoints = [];
    const map = mayIssue ? L.map("alerts-map", { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 16 }) : null;

    function areaKind() { return form.querySelector('input[name="area_kind"]:checked').value; }

    function pickedDistricts() {
      return Array.from(form.querySelectorAll('input[name="districts"]:checked')).map(function (box) { return box.value; });
    }

    function paint() {
      const picked = new Set(pickedDistricts());
      Object.keys(districtLayers).forEach(function (code) {
        const on = areaKind() === "districts" && picked.has(code);
        districtLayers[code].setStyle({ fillColor: on ? "#dc2626" : "#cbd5e1", fillOpacity: on ? 0.55 : 0.35 });
      });
      if (shape) { map.removeLayer(shape); shape = null; }
      if (areaKind() === "circle") {
        const found = /^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s+([\d.]+)\s*$/.exec(document.getElementById("area-circle").value);
        if (found) shape = L.circle([+found[1], +found[2]], { radius: +found[3] * 1000, color: "#dc2626" }).addTo(map);
      } else if (areaKind() === "polygon" && polygonPoints.length) {
        shape = L.polygon(polygonPoints, { color: "#dc2626" }).addTo(map);
      }
    }

    function area() {
      const kind = areaKind();
      if (kind === "districts") return { districts: pickedDistricts() };
      if (kind === "circle") return { circle: document.getElementById("area-circle").value.trim() };
      return { polygon: document.getElementById("area-polygon").value.trim() };
    }

    if (map) {
      fetch("/api/v1/districts.geojson").then(function (r) { return r.json(); }).then(function (geojson) {
        const layer = L.geoJSON(geojson, {
          style: function () { return { color: "#334155", weight: 1, fillColor: "#cbd5e1", fillOpacity: 0.35 }; },
          onEachFeature: function (feature, part) {
            districtLayers[feature.properties.code] = part;
            part.bindTooltip(lang === "ko" ? feature.properties.name_ko : feature.properties.name_en);
            part.on("click", function (e) {
              if (areaKind() !== "districts") { mapClick(e); return; }
              const box = form.querySelector('input[name="districts"][value="' + feature.properties.code + '"]');
              box.checked = !box.checked;
              paint();
            });
          },
        }).addTo(map);
        map.fitBounds(layer.getBounds());
        paint();
      });
      map.on("click", mapClick);
    }

    function mapClick(e) {
      const point = [+e.latlng.lat.toFixed(5), +e.latlng.lng.toFixed(5)];
      if (areaKind() === "circle") {
        const radius = (/\s([\d.]+)\s*$/.exec(document.getElementById("area-circle").value) || [0, "2"])[1];
        document.getElementById("area-circle").value = point[0] + "," + point[1] + " " + radius;
      } else if (areaKind() === "polygon") {
        polygonPoints.push(point);
        const ring = polygonPoints.concat([polygonPoints[0]]);
        document.getElementById("area-polygon").value = ring.map(function (p) { return p[0] + "," + p[1]; }).join(" ");
      }
      paint();
    }

    function draft() {
      const data = new FormData(form);
      const body = { area: area() };
      ["event", "category", "severity", "urgency", "certainty", "headline_ko", "headline_en", "description_ko",
       "description_en", "instruction_ko", "instruction_en", "status"].forEach(function (name) { body[name] = data.get(name); });
      body.response_type = data.get("response_type") || null;
      body.expires_minutes = data.get("expires_minutes") ? Number(data.get("expires_minutes")) : null;
      return body;
    }

    function stopEditing() {
      editing = null;
      document.getElementById("compose-mode").hidden = true;
      document.getElementById("alert-issue").hidden = false;
      document.getElementById("alert-update-save").hidden = true;
      document.getElementById("alert-update-stop").hidden = true;
    }

    function edit(alert) {
      editing = alert.id;
      ["event", "category", "severity", "urgency", "certainty", "headline_ko", "headline_en", "description_ko",
       "description_en", "instruction_ko", "instruction_en"].forEach(function (name) { form.elements[name].value = alert[name] || ""; });
      const mode = document.getElementById("compose-mode");
      mode.textContent = T.alerts_editing + " #" + alert.id;
      mode.hidden = false;
      document.getElementById("alert-issue").hidden = true;
      document.getElementById("alert-update-save").hidden = false;
      document.getElementById("alert-update-stop").hidden = false;
      form.elements.headline_ko.focus();
    }

    if (form) {
      form.querySelectorAll('input[name="area_kind"]').forEach(function (radio) {
        radio.addEventListener("change", function () {
          document.getElementById("area-hint").textContent = T["alerts_area_hint_" + areaKind()];
          polygonPoints = [];
          paint();
        });
      });
      form.querySelectorAll('input[name="districts"]').forEach(function (box) { box.addEventListener("change", paint); });
      document.getElementById("area-circle").addEventListener("input", paint);
      document.getElementById("alert-preview").addEventListener("click", async function () {
        try {
          document.getElementById("cap-preview").textContent = await api("POST", "/api/v1/alerts/preview", draft());
          document.getElementById("cap-preview-box").open = true;
          say("");
        } catch (error) { say(T.alerts_error + ": " + error.message, true); }
      });
      form.addEventListener("submit", async function (e) {
        e.preventDefault();
        try {
          const alert = await api("POST", "/api/v1/alerts", draft());
          say(alert.state === "pending" ? T.alerts_pending_note : T.alerts_issued + " #" + alert.id);
          refresh();
        } catch (error) { say(T.alerts_error + ": " + error.message, true); }
      });
      document.getElementById("alert-update-save").addEventListener("click", async function () {
        const body = draft();
        delete body.status;
        if (areaKind() === "districts" && !body.area.districts.length) delete body.area;
        try {
          await api("PATCH", "/api/v1/alerts/" + editing, body);
          say(T.alerts_updated + " #" + editing);
          stopEditing();
          refresh();
        } catch (error) { say(T.alerts_error + ": " + error.message, true); }
      });
      document.getElementById("alert-update-stop").addEventListener("click", stopEditing);
    }

    function button(label, action) {
      const b = el("button", "small", label);
      b.type = "button";
      b.addEventListener("click", action);
      return b;
    }

    async function act(url, message, body) {
      try {
        await api("POST", url, body || {});
        say(message);
      } catch (error) { say(T.alerts_error + ": " + error.message, true); }
      refresh();
    }

    function row(cells) {
      const tr = el("tr");
      cells.forEach(function (cell) {
        const td = el("td");
        if (cell instanceof Node) td.append(cell); else td.textContent = cell;
        tr.append(td);
      });
      return tr;
    }

    async function refresh() {
      const [pending, recent] = await Promise.all([api("GET", "/api/v1/alerts/pending"), api("GET", "/api/v1/alerts/recent")]);
      const pendingRows = document.getElementById("pending-rows");
      pendingRows.textContent = "";
      pending.forEach(function (alert) {
        const actions = el("span");
        if (mayIssue) {
          actions.append(button(T.alerts_approve, function () { act("/api/v1/alerts/" + alert.id + "/approve", T.alerts_approved + " #" + alert.id); }),
            button(T.alerts_reject, function () { act("/api/v1/alerts/" + alert.id + "/reject", T.alerts_rejected + " #" + alert.id); }));
        }
        const tr = row([String(alert.id), lang === "ko" ? alert.headline_ko : alert.headline_en, sevLabel(alert.severity), alert.issued_by, actions]);
        tr.dataset.alertId = alert.id;
        pendingRows.append(tr);
      });
      const recentRows = document.getElementById("recent-rows");
      recentRows.textContent = "";
      recent.forEach(function (alert) {
        const actions = el("span");
        const active = alert.state === "active" && !alert.expired;
        if (mayIssue && active) {
          actions.append(button(T.alerts_update, function () { edit(alert); }),
            button(T.alerts_cancel, function () {
              if (window.confirm(T.alerts_cancel_confirm)) act("/api/v1/alerts/" + alert.id + "/cancel", T.alerts_cancelled + " #" + alert.id);
            }));
        }
        if (alert.sent_at) {
          const link = el("a", "", "CAP");
          link.href = alert.cap_url;
          actions.append(link);
        }
        const places = alert.city_wide ? T.alerts_all_districts
          : alert.district_codes.map(function (code) { return districtName[code] || code; }).join(", ");
        const state = alert.state === "active" && alert.expired ? "expired" : alert.state;
        const tr = row([String(alert.id), T["alerts_state_" + state] || state, lang === "ko" ? alert.headline_ko : alert.headline_en,
          sevLabel(alert.severity), places, clock.format(new Date(alert.expires_at)), actions]);
        tr.dataset.alertId = alert.id;
        tr.dataset.state = state;
        recentRows.append(tr);
      });
    }

    refresh();
    setInterval(refresh, 5000);
  }

  const publicRoot = document.getElementById("alerts-public");
  if (publicRoot) publicPage(publicRoot);
  const consoleRoot = document.getElementById("alerts-console");
  if (consoleRoot) consolePage(consoleRoot);
})();
