// The operator console: the districts drawn from the city's own GeoJSON (no tile server),
// figures on hover or keyboard focus, and a live ticker fed by Server-Sent Events.
(function () {
  "use strict";
  const mapEl = document.getElementById("map");
  const lang = mapEl.dataset.lang;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const info = document.getElementById("district-info");
  const ticker = document.getElementById("ticker");
  const state = document.getElementById("stream-state");
  const number = new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-GB");
  const clock = new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", {
    timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const layers = {};
  let selected = null;

  const map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 16 });
  // live event dots above the districts, even those that arrive before the shapes are drawn
  map.createPane("events").style.zIndex = 450;
  const colours = ["#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];

  function colour(perThousand, breaks) {
    let i = 0;
    while (i < breaks.length && perThousand > breaks[i]) i++;
    return colours[i];
  }

  function baseStyle(feature) {
    return { color: "#1f2937", weight: 1, fillOpacity: 0.75, fillColor: feature.properties._fill };
  }

  function show(props) {
    const name = lang === "ko" ? props.name_ko : props.name_en;
    info.innerHTML = "";
    const h = document.createElement("h3");
    h.textContent = name;
    const dl = document.createElement("dl");
    [["population", number.format(props.population)], ["cameras", number.format(props.cctv_total)],
     ["cameras_per_1000", props.cctv_per_1000_residents.toFixed(2)], ["area", props.area_km2.toFixed(1)]]
      .forEach(function (pair) {
        const dt = document.createElement("dt"); dt.textContent = T[pair[0]];
        const dd = document.createElement("dd"); dd.textContent = pair[1];
        dd.dataset.field = pair[0];
        dl.append(dt, dd);
      });
    info.append(h, dl);
    info.dataset.code = props.code;
  }

  function highlight(code) {
    if (selected && layers[selected]) layers[selected].setStyle({ weight: 1, color: "#1f2937" });
    document.querySelectorAll("tr[data-code].current").forEach(function (r) { r.classList.remove("current"); });
    selected = code;
    const row = document.querySelector('tr[data-code="' + code + '"]');
    if (row) row.classList.add("current");
    const layer = layers[code];
    if (!layer) return;
    layer.setStyle({ weight: 3, color: "#b91c1c" });
    layer.bringToFront();
    show(layer.feature.properties);
  }

  // A district picked with the keyboard stays shown until the pointer really moves: focusing a row
  // scrolls the page, which slides the map or another row under a resting pointer, and the browser
  // then reports a hover there that nobody made.
  let pointer = null;
  let pinned = null;
  document.addEventListener("mousemove", function (e) { pointer = { x: e.screenX, y: e.screenY }; }, true);

  function byKeyboard(code) {
    pinned = pointer || { x: null, y: null };
    highlight(code);
  }

  function byPointer(code, e) {
    if (pinned) {
      if (pinned.x === null) { pinned = { x: e.screenX, y: e.screenY }; return; }
      if (e.screenX === pinned.x && e.screenY === pinned.y) return;
      pinned = null;
    }
    if (code !== selected) highlight(code);
  }

  // The whole city stays in view when the window changes width (a phone turned, a window resized),
  // until the operator zooms or pans the map themselves.
  let bounds = null;
  let fitting = false;
  let followWindow = true;
  let fittedWidth = 0;

  function fit() {
    if (!bounds) return;
    fitting = true;
    map.fitBounds(bounds, { padding: [8, 8], animate: false });
    fitting = false;
    fittedWidth = mapEl.clientWidth;
  }

  map.on("zoomstart dragstart", function () { if (!fitting) followWindow = false; });
  map.on("resize", function () { if (followWindow && mapEl.clientWidth !== fittedWidth) fit(); });

  function drawLegend(breaks) {
    const box = document.getElementById("map-legend");
    if (!box) return;
    const title = document.createElement("span");
    title.className = "legend-title";
    title.textContent = T.cameras_per_1000;
    const list = document.createElement("ul");
    colours.forEach(function (c, i) {
      const low = i > 0 ? breaks[i - 1].toFixed(2) : null;
      const high = i < breaks.length ? breaks[i].toFixed(2) : null;
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = c;
      item.append(swatch, low === null ? "≤ " + high : high === null ? "> " + low : low + "–" + high);
      list.append(item);
    });
    box.replaceChildren(title, list);
  }

  fetch("/api/v1/districts.geojson", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (geo) {
      const rates = geo.features.map(function (f) { return f.properties.cctv_per_1000_residents; }).sort(function (a, b) { return a - b; });
      const breaks = [1, 2, 3, 4, 5].map(function (k) { return rates[Math.floor(k * rates.length / 6)]; });
      geo.features.forEach(function (f) { f.properties._fill = colour(f.properties.cctv_per_1000_residents, breaks); });
      const layer = L.geoJSON(geo, {
        style: baseStyle,
        onEachFeature: function (feature, lyr) {
          layers[feature.properties.code] = lyr;
          const p = feature.properties;
          lyr.bindTooltip((lang === "ko" ? p.name_ko : p.name_en) + " · " + T.cameras_per_1000 + " " +
            p.cctv_per_1000_residents.toFixed(2), { sticky: true });
          lyr.on("mouseover mousemove", function (e) { byPointer(p.code, e.originalEvent); });
          lyr.on("click", function () { pinned = null; highlight(p.code); });
        },
      }).addTo(map);
      bounds = layer.getBounds();
      fit();
      drawLegend(breaks);
      mapEl.dataset.ready = String(geo.features.length);
    })
    .catch(function (err) { info.textContent = T.map_failed + " (" + err.message + ")"; });

  document.querySelectorAll("tr[data-code]").forEach(function (row) {
    const code = row.dataset.code;
    row.addEventListener("focus", function () { byKeyboard(code); });
    row.addEventListener("mousemove", function (e) { byPointer(code, e); });
    row.addEventListener("keydown", function (e) { if (e.key === "Enter") byKeyboard(code); });
  });

  // ---- live ticker
  const seen = new Set();
  const markers = L.layerGroup().addTo(map);

  function addEvent(payload) {
    if (seen.has(payload.id)) return;
    seen.add(payload.id);
    const empty = ticker.querySelector(".empty");
    if (empty) empty.remove();
    const li = document.createElement("li");
    li.dataset.type = payload.type;
    const time = document.createElement("time");
    time.dateTime = payload.time;
    time.textContent = clock.format(new Date(payload.time));
    const text = document.createElement("span");
    text.textContent = (payload.summary && payload.summary[lang]) || payload.type;
    li.append(time, " ", text);
    const facts = payload.data || {};
    if (payload.type.indexOf("tracking.") === 0 && typeof facts.person_id === "number") {
      // the protected person's card: it asks the operator why before showing anything
      const card = document.createElement("a");
      card.href = "/console/persons/" + facts.person_id;
      card.className = "ticker-card";
      card.textContent = T.card_title;
      li.append(" · ", card);
    }
    ticker.prepend(li);
    while (ticker.children.length > 100) ticker.lastElementChild.remove();
    const d = payload.data || {};
    if (typeof d.lat === "number" && typeof d.lon === "number") {
      // not interactive: an event dot must not steal the pointer from the district under it
      const m = L.circleMarker([d.lat, d.lon], {
        radius: 7, color: "#b91c1c", weight: 2, fillOpacity: 0.6, interactive: false, pane: "events",
      });
      markers.addLayer(m);
      setTimeout(function () { markers.removeLayer(m); }, 60000);
    }
  }

  function connect() {
    const source = new EventSource("/api/v1/stream/events");
    source.onopen = function () { state.textContent = T.stream_connected; state.className = "badge live"; };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        // refused (an expired session, a proxy error): the browser gives up, so try again later
        state.textContent = T.stream_closed;
        state.className = "badge down";
        setTimeout(connect, 10000);
      } else {
        state.textContent = T.stream_reconnecting;
        state.className = "badge";
      }
    };
    source.onmessage = function (e) { addEvent(JSON.parse(e.data)); };
  }
  connect();
})();
