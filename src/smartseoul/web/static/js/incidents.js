// The incident desk: the queue (keyboard-driven, a beep and a flash for each new incident), the map,
// one incident's page (timeline, live camera tiles, actions) and the agencies' hand-over list.
// Data comes from the JSON API; the Server-Sent-Events hub says when to read it again.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const lang = document.documentElement.lang === "ko" ? "ko" : "en";
  const clock = new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", {
    timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hour12: false,
  });
  const state = document.getElementById("stream-state");

  function t(key) { return T[key] || key; }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function (pair) { node.setAttribute(pair[0], pair[1]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function when(iso) { return iso ? clock.format(new Date(iso)) : "-"; }
  function age(iso) {
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  }
  function title(item) { return lang === "ko" ? item.title_ko : item.title_en; }

  async function api(method, url, body) {
    const options = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) throw new Error(data.detail || data.title || response.status);
    return data;
  }

  function listen(onEvent) {
    function connect() {
      const source = new EventSource("/api/v1/stream/incidents");
      source.onerror = function () {
        if (source.readyState === EventSource.CLOSED) {
          state.textContent = t("stream_closed"); state.className = "badge down";
          onEvent({ type: "safety.reconnect", data: {} });  // read again: something may have been missed
          setTimeout(connect, 10000);
        } else { state.textContent = t("stream_reconnecting"); state.className = "badge"; }
      };
      source.onmessage = function (e) {
        const event = JSON.parse(e.data);
        if (/^safety\.(incident|handover|bell|cameras)\./.test(event.type)) onEvent(event);
      };
      source.onopen = function () {
        state.textContent = t("stream_connected"); state.className = "badge live";
        onEvent({ type: "safety.reconnect", data: {} });
      };
    }
    connect();
  }

  // Reads again at most every 300 ms however many events arrive (a burst is one redraw).
  function throttled(work) {
    let pending = false;
    return function () {
      if (pending) return;
      pending = true;
      setTimeout(function () { pending = false; work(); }, 300);
    };
  }

  // ------------------------------------------------------------ the queue

  function queuePage(desk) {
    const body = document.getElementById("queue");
    const count = document.getElementById("queue-count");
    const mute = document.getElementById("mute");
    const help = document.getElementById("help");
    const helpToggle = document.getElementById("help-toggle");
    const canAct = desk.dataset.canAct === "true";
    let muted = localStorage.getItem("incidents.muted") === "1";
    let audio = null;
    let known = null;
    const unseen = {};  // new since the page opened: flash until acknowledged
    const pageOpened = Date.now();
    let selected = 0;
    let rows = [];
    const markers = {};

    function showMute() {
      mute.textContent = muted ? t("incidents_unmute") : t("incidents_mute");
      mute.setAttribute("aria-pressed", muted ? "true" : "false");
    }
    function beep(priority) {
      if (muted) return;
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = priority <= 1 ? 1046 : 784;
        gain.gain.setValueAtTime(0.2, audio.currentTime);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
        osc.connect(gain).connect(audio.destination);
        osc.start(); osc.stop(audio.currentTime + 0.4);
      } catch (e) { /* no audio device: the flash is the cue */ }
    }

    const map = L.map("incidents-map", { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 17 });
    map.setView([37.5665, 126.978], 11);
    fetch("/api/v1/districts.geojson").then(function (r) { return r.json(); }).then(function (geo) {
      const layer = L.geoJSON(geo, { style: { color: "#1f2937", weight: 1, fillColor: "#e5e7eb", fillOpacity: 0.6 } });
      layer.addTo(map);
      map.fitBounds(layer.getBounds());
    });
    const colours = { 1: "#b91c1c", 2: "#ea580c", 3: "#ca8a04", 4: "#2563eb" };

    function drawMarkers(items) {
      const seen = {};
      items.forEach(function (item) {
        if (item.lat === null) return;
        seen[item.id] = true;
        if (!markers[item.id]) {
          markers[item.id] = L.circleMarker([item.lat, item.lon], { radius: 9, weight: 2, color: "#111827" })
            .addTo(map).on("click", function () { location.href = "/console/incidents/" + item.id; });
        }
        markers[item.id].setStyle({ fillColor: colours[item.priority] || "#6b7280", fillOpacity: 0.9 });
        markers[item.id].bindTooltip("#" + item.id + " " + title(item));
      });
      Object.keys(markers).forEach(function (id) {
        if (!seen[id]) { map.removeLayer(markers[id]); delete markers[id]; }
      });
    }

    function select(index) {
      if (!rows.length) return;
      selected = Math.max(0, Math.min(index, rows.length - 1));
      body.querySelectorAll("tr.current").forEach(function (r) { r.classList.remove("current"); r.setAttribute("aria-selected", "false"); });
      const row = body.children[selected];
      row.classList.add("current");
      row.setAttribute("aria-selected", "true");
      row.focus({ preventScroll: false });
      const marker = markers[rows[selected].id];
      if (marker) marker.openTooltip();
    }

    function render(items) {
      rows = items;
      count.textContent = String(items.length);
      body.innerHTML = "";
      if (!items.length) {
        const tr = el("tr", { class: "empty" }); tr.append(el("td", { colspan: "6" }, t("incidents_none")));
        body.append(tr);
      }
      const fresh = [];
      items.forEach(function (item) {
        const tr = el("tr", { "data-id": item.id, "data-status": item.status, tabindex: "-1", class: "p" + item.priority });
        const arrived = known === null ? new Date(item.opened_at).getTime() >= pageOpened : !known[item.id];
        if (arrived) { unseen[item.id] = true; fresh.push(item); }
        if (unseen[item.id] && item.status === "new") tr.classList.add("fresh");
        if (item.status === "new") tr.classList.add("unacked");
        tr.append(
          el("td", { class: "prio" }, "P" + item.priority),
          el("td", {}, item.id),
          (function () {
            const td = el("td", {});
            td.append(el("a", { href: "/console/incidents/" + item.id }, title(item)));
            if (item.alarm_count > 1) td.append(el("span", { class: "badge" }, "×" + item.alarm_count));
            return td;
          })(),
          el("td", {}, t("incidents_source_" + item.source)),
          el("td", { class: "status" }, t("incidents_status_" + item.status)),
          el("td", { class: "num age", "data-since": item.opened_at }, age(item.opened_at)),
        );
        tr.addEventListener("click", function () { select(rows.indexOf(item)); });
        tr.addEventListener("dblclick", function () { location.href = "/console/incidents/" + item.id; });
        body.append(tr);
      });
      known = {};
      items.forEach(function (item) { known[item.id] = true; });
      if (fresh.length) {
        beep(Math.min.apply(null, fresh.map(function (i) { return i.priority; })));
        document.title = "(" + fresh.length + ") " + t("incidents_new_alert") + " · " + t("incidents_title");
      }
      drawMarkers(items);
      desk.dataset.loaded = "true";
      if (rows.length) {
        selected = Math.min(selected, rows.length - 1);
        body.children[selected].classList.add("current");
      }
    }

    async function load() {
      try { render(await api("GET", "/api/v1/incidents?status=open")); } catch (e) { /* retried on the next event */ }
    }
    const reload = throttled(load);

    async function acknowledgeSelected() {
      if (!canAct || !rows[selected]) return;
      await api("POST", "/api/v1/incidents/" + rows[selected].id + "/acknowledge", {});
      load();
    }

    document.addEventListener("keydown", function (e) {
      if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "j") { select(selected + 1); e.preventDefault(); }
      else if (e.key === "k") { select(selected - 1); e.preventDefault(); }
      else if (e.key === "Enter" && rows[selected]) { location.href = "/console/incidents/" + rows[selected].id; }
      else if (e.key === "a") { acknowledgeSelected(); }
      else if (e.key === "m") { mute.click(); }
      else if (e.key === "?") { helpToggle.click(); }
      else if (e.key === "Escape") { help.hidden = true; helpToggle.setAttribute("aria-expanded", "false"); }
    });
    mute.addEventListener("click", function () {
      muted = !muted; localStorage.setItem("incidents.muted", muted ? "1" : "0"); showMute();
    });
    helpToggle.addEventListener("click", function () {
      help.hidden = !help.hidden; helpToggle.setAttribute("aria-expanded", help.hidden ? "false" : "true");
    });
    window.addEventListener("focus", function () { document.title = t("incidents_title") + " · " + document.title.split(" · ").pop(); });
    setInterval(function () {
      body.querySelectorAll("td.age").forEach(function (td) { td.textContent = age(td.dataset.since); });
    }, 1000);
    showMute();
    listen(reload);
    load();
  }

  // ------------------------------------------------------------ one incident

  function incidentPage(root) {
    const id = root.dataset.id;
    const canAct = root.dataset.canAct === "true";
    const errorBox = document.getElementById("incident-error");
    let current = null;
    let intercomSession = null;

    function fact(dl, key, value) {
      dl.append(el("dt", {}, t(key)), el("dd", { "data-field": key }, value));
    }

    // The spot and its cameras on a small map (camera positions from the cctv registry).
    let spotMap = null;
    const cameraMarkers = {};
    function drawMap(data) {
      if (data.lat === null || typeof L === "undefined") return;
      if (!spotMap) {
        spotMap = L.map("incident-map", { attributionControl: false, minZoom: 10, maxZoom: 19 });
        spotMap.setView([data.lat, data.lon], 17);
        fetch("/api/v1/districts.geojson").then(function (r) { return r.json(); }).then(function (geo) {
          L.geoJSON(geo, { style: { color: "#1f2937", weight: 1, fillColor: "#e5e7eb", fillOpacity: 0.5 } }).addTo(spotMap);
        });
        L.circleMarker([data.lat, data.lon], { radius: 10, color: "#111827", fillColor: "#b91c1c", fillOpacity: 0.9 })
          .addTo(spotMap).bindTooltip("#" + data.id);
      }
      (data.camera_ids || []).forEach(function (camera) {
        if (cameraMarkers[camera]) return;
        cameraMarkers[camera] = true;
        fetch("/api/v1/cameras/" + camera, { credentials: "same-origin" }).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (found) {
          if (!found || typeof found.lat !== "number") return;
          L.polyline([[found.lat, found.lon], [data.lat, data.lon]], { color: "#2563eb", weight: 1, dashArray: "4" }).addTo(spotMap);
          L.circleMarker([found.lat, found.lon], { radius: 6, color: "#1e3a8a", fillColor: "#60a5fa", fillOpacity: 0.9 })
            .addTo(spotMap).bindTooltip("CCTV #" + camera);
        }).catch(function () {});
      });
    }

    function drawTiles(cameraIds) {
      const tiles = document.getElementById("tiles");
      const shown = Array.from(tiles.querySelectorAll("figure")).map(function (f) { return f.dataset.camera; });
      if (cameraIds.length && shown.join() === cameraIds.map(String).join()) return;
      tiles.innerHTML = "";
      if (!cameraIds.length) { tiles.append(el("p", { class: "hint" }, t("incidents_no_cameras"))); return; }
      cameraIds.forEach(function (camera) {
        const figure = el("figure", { class: "tile", "data-camera": camera });
        const img = el("img", {
          src: "/api/v1/cameras/" + camera + "/live.mjpeg?reason=" + encodeURIComponent("incident " + id),
          alt: t("incidents_cameras") + " #" + camera, width: "320", height: "180", loading: "lazy",
        });
        img.addEventListener("error", function () {
          // a camera outside the viewer's sharing policy answers 403: say so instead of a broken image
          // the image stays (hidden) with its address, so the tile still says which view was asked
          figure.classList.add("refused");
          img.hidden = true;
          figure.insertBefore(el("p", { class: "tile-refused" }, t("incidents_tile_refused")), img);
        });
        figure.append(img, el("figcaption", {}, "CCTV #" + camera));
        tiles.append(figure);
      });
    }

    function draw(data) {
      current = data;
      document.getElementById("incident-title").textContent = "#" + data.id + " " + title(data);
      const status = document.getElementById("incident-status");
      status.textContent = "P" + data.priority + " · " + t("incidents_status_" + data.status);
      status.className = "badge p" + data.priority;
      const facts = document.getElementById("incident-facts");
      facts.innerHTML = "";
      fact(facts, "incidents_source", t("incidents_source_" + data.source));
      fact(facts, "incidents_opened_at", when(data.opened_at) + " KST");
      fact(facts, "incidents_district", data.district_code || "-");
      fact(facts, "incidents_place", data.lat === null ? "-" : data.lat.toFixed(5) + ", " + data.lon.toFixed(5));
      fact(facts, "incidents_alarms", data.alarm_count);
      if (data.subject && data.subject.indexOf("person:") === 0) {
        // the protected person's card, read for this incident (the reason goes to their ledger)
        const person = data.subject.slice("person:".length);
        const link = el("a", { href: "/console/persons/" + person + "?reason=" + encodeURIComponent("incident #" + data.id), class: "person-card-link" }, t("card_title") + " #" + person);
        facts.append(el("dt", {}, t("card_title")), el("dd", { "data-field": "person" }, link));
      }
      const flags = [data.school_zone ? t("incidents_school_zone") : "", data.night ? t("incidents_night") : ""].filter(Boolean);
      if (flags.length) fact(facts, "incidents_priority", flags.join(", "));
      if (data.escalation_level) fact(facts, "incidents_escalation", data.escalation_level);
      drawTiles(data.camera_ids || []);
      drawMap(data);
      const handovers = document.getElementById("handovers");
      handovers.innerHTML = "";
      data.handovers.forEach(function (h) {
        const li = el("li", { class: "ho-" + h.status, "data-handover": h.id });
        li.append(el("strong", {}, (lang === "ko" ? h.agency_name_ko : h.agency_name_en) + " "),
          el("span", { class: "ho-status" }, t("incidents_ho_" + h.status)),
          el("span", {}, " · " + t("incidents_attempts") + " " + h.attempts));
        const attempts = el("ol", { class: "attempts" });
        (h.delivery_attempts || []).forEach(function (a) {
          attempts.append(el("li", { class: a.ok ? "ok" : "failed" },
            when(a.at) + " · " + (a.ok ? "OK " + a.status_code : (a.error || t("incidents_delivery_failed")))));
        });
        li.append(attempts);
        handovers.append(li);
      });
      const timeline = document.getElementById("timeline");
      timeline.innerHTML = "";
      data.timeline.forEach(function (entry) {
        const li = el("li", { "data-kind": entry.kind });
        li.append(el("time", { datetime: entry.at }, when(entry.at)), el("span", { class: "kind" }, entry.kind),
          el("span", { class: "actor" }, entry.actor), el("span", { class: "text" }, entry.text));
        timeline.append(li);
      });
      const intercom = document.getElementById("intercom");
      if (intercom) intercom.hidden = !data.bell_id;
    }

    async function load() {
      try { draw(await api("GET", "/api/v1/incidents/" + id)); errorBox.hidden = true; }
      catch (e) { errorBox.textContent = t("incidents_not_found") + " (" + e.message + ")"; errorBox.hidden = false; }
    }
    async function act(method, url, body) {
      try { await api(method, url, body); errorBox.hidden = true; }
      catch (e) { errorBox.textContent = e.message; errorBox.hidden = false; }
      load();
    }

    if (canAct) {
      document.querySelectorAll("#status-buttons button").forEach(function (button) {
        button.addEventListener("click", function () {
          act("POST", "/api/v1/incidents/" + id + "/status", { status: button.dataset.status, note: "" });
        });
      });
      document.getElementById("note-form").addEventListener("submit", function (e) {
        e.preventDefault();
        const input = document.getElementById("note");
        act("POST", "/api/v1/incidents/" + id + "/notes", { text: input.value }).then(function () { input.value = ""; });
      });
      document.getElementById("handover-form").addEventListener("submit", function (e) {
        e.preventDefault();
        act("POST", "/api/v1/incidents/" + id + "/handovers", { agency: document.getElementById("agency").value, reason: "" });
      });
      api("GET", "/api/v1/agencies").then(function (agencies) {
        const select = document.getElementById("agency");
        agencies.forEach(function (a) { select.append(el("option", { value: a.code }, lang === "ko" ? a.name_ko : a.name_en)); });
      }).catch(function () {});
      document.querySelectorAll("#intercom button").forEach(function (button) {
        button.addEventListener("click", async function () {
          try {
            const action = button.dataset.intercom;
            const session = action === "start"
              ? await api("POST", "/api/v1/bells/" + encodeURIComponent(current.bell_id) + "/intercom", { incident_id: Number(id) })
              : await api("POST", "/api/v1/intercom/" + (intercomSession ? intercomSession.id : 0), { action: action, reason: "" });
            intercomSession = session;
            document.getElementById("intercom-state").textContent = session.state;
            errorBox.hidden = true;
          } catch (e) { errorBox.textContent = e.message; errorBox.hidden = false; }
          load();
        });
      });
    }
    const reload = throttled(load);
    listen(function (event) {
      if (event.type === "safety.reconnect" || String(event.data.incident_id) === String(id)) reload();
    });
    load();
  }

  // ------------------------------------------------------------ the agencies' hand-overs

  function handoverPage() {
    const body = document.getElementById("handover-rows");
    async function load() {
      const items = await api("GET", "/api/v1/handovers");
      body.innerHTML = "";
      if (!items.length) {
        const tr = el("tr", { class: "empty" }); tr.append(el("td", { colspan: "6" }, t("incidents_none"))); body.append(tr);
      }
      items.forEach(function (h) {
        const tr = el("tr", { "data-handover": h.id, class: "ho-" + h.status });
        const actions = el("td", {});
        if (h.status === "delivered" || h.status === "pending") {
          const ack = el("button", { type: "button", class: "secondary" }, t("incidents_acknowledge"));
          ack.addEventListener("click", function () { api("POST", "/api/v1/handovers/" + h.id + "/acknowledge", {}).then(load); });
          actions.append(ack);
        }
        if (h.status === "failed") {
          const retry = el("button", { type: "button", class: "secondary" }, t("incidents_retry"));
          retry.addEventListener("click", function () { api("POST", "/api/v1/handovers/" + h.id + "/retry", {}).then(load); });
          actions.append(retry);
        }
        const link = el("td", {});
        link.append(el("a", { href: "/console/incidents/" + h.incident_id }, "#" + h.incident_id));
        tr.append(el("td", {}, h.id), link, el("td", {}, lang === "ko" ? h.agency_name_ko : h.agency_name_en),
          el("td", { class: "ho-status" }, t("incidents_ho_" + h.status) + (h.last_error ? " · " + h.last_error : "")),
          el("td", { class: "num" }, h.attempts), actions);
        body.append(tr);
      });
    }
    listen(throttled(load));
    load();
  }

  const desk = document.querySelector(".desk");
  if (desk) queuePage(desk);
  const incident = document.getElementById("incident");
  if (incident) incidentPage(incident);
  if (document.getElementById("handover-desk")) handoverPage();
})();
