// The cameras console: the city's own polygons coloured by coverage (no tile server), the 30,000
// cameras clustered by the server per screen cell, the disparity figures, the district table,
// the cameras covering a clicked point, and the import of a national-layout CSV.
(function () {
  "use strict";
  const mapEl = document.getElementById("cctv-map");
  const lang = mapEl.dataset.lang;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const number = new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-GB", { maximumFractionDigits: 2 });
  const metricSel = document.getElementById("cctv-metric");
  const levelSel = document.getElementById("cctv-level");
  const showCameras = document.getElementById("cctv-show-cameras");
  const statusEl = document.getElementById("cctv-status");
  const colours = ["#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  const map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 18 });
  map.createPane("cameras").style.zIndex = 450;
  const cameraLayer = L.layerGroup().addTo(map);
  const nearLayer = L.layerGroup().addTo(map);
  let shapes = null;
  let geo = {};
  let fitted = false;

  function name(p) { return lang === "ko" ? p.name_ko : p.name_en; }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }

  function breaksOf(values) {
    const sorted = values.slice().sort(function (a, b) { return a - b; });
    return [1, 2, 3, 4, 5].map(function (k) { return sorted[Math.min(sorted.length - 1, Math.floor(k * sorted.length / 6))]; });
  }

  function colour(value, breaks) {
    let i = 0;
    while (i < breaks.length && value > breaks[i]) i++;
    return colours[i];
  }

  function legend(metric, breaks) {
    const box = document.getElementById("cctv-legend");
    const title = document.createElement("span");
    title.className = "legend-title";
    title.textContent = T["cctv_metric_" + metric];
    const list = document.createElement("ul");
    colours.forEach(function (c, i) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = c;
      const low = i > 0 ? number.format(breaks[i - 1]) : null;
      const high = i < breaks.length ? number.format(breaks[i]) : null;
      item.append(swatch, low === null ? "≤ " + high : high === null ? "> " + low : low + "–" + high);
      list.append(item);
    });
    box.replaceChildren(title, list);
  }

  function drawChoropleth() {
    const level = levelSel.value;
    const metric = metricSel.value;
    const data = geo[level];
    if (!data) return;
    const values = data.features.map(function (f) { return f.properties[metric] || 0; });
    const breaks = breaksOf(values);
    if (shapes) map.removeLayer(shapes);
    shapes = L.geoJSON(data, {
      style: function (f) {
        return { color: "#1f2937", weight: level === "district" ? 1 : 0.4, fillOpacity: 0.7,
                 fillColor: colour(f.properties[metric] || 0, breaks) };
      },
      onEachFeature: function (f, layer) {
        const p = f.properties;
        layer.bindTooltip(name(p) + " · " + T["cctv_metric_" + metric] + " " + number.format(p[metric] || 0), { sticky: true });
        layer.on("click", function (e) { near(e.latlng); });
      },
    }).addTo(map);
    shapes.bringToBack();
    if (!fitted) { map.fitBounds(shapes.getBounds(), { padding: [8, 8], animate: false }); fitted = true; }
    legend(metric, breaks);
    mapEl.dataset.choropleth = level + ":" + metric + ":" + data.features.length;
    document.getElementById("cctv-report-pdf").href = "/api/v1/cameras/coverage/report.pdf?metric=" + metric;
    disparity(data.disparity, metric);
  }

  function figure(list, key, label, value) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = value; dd.dataset.field = key;
    list.append(dt, dd);
  }

  function disparity(all, metric) {
    const box = document.getElementById("cctv-disparity");
    const d = all[metric];
    box.replaceChildren();
    box.dataset.metric = metric;
    figure(box, "ratio", T.cctv_ratio, d.ratio === null ? "–" : number.format(d.ratio) + "×");
    figure(box, "gini", T.cctv_gini, d.gini === null ? "–" : d.gini.toFixed(3));
    if (d.max) figure(box, "max", T.cctv_highest, name(d.max) + " " + number.format(d.max.value));
    if (d.min) figure(box, "min", T.cctv_lowest, name(d.min) + " " + number.format(d.min.value));
  }

  function city(c) {
    const box = document.getElementById("cctv-city");
    box.replaceChildren();
    figure(box, "cameras", T.cameras, number.format(c.cameras));
    figure(box, "coverage_area_pct", T.cctv_metric_coverage_area_pct, number.format(c.coverage_area_pct) + "%");
    figure(box, "coverage_population_pct", T.cctv_metric_coverage_population_pct, number.format(c.coverage_population_pct) + "%");
    figure(box, "cameras_per_1000", T.cctv_metric_cameras_per_1000, c.cameras_per_1000 === null ? "–" : number.format(c.cameras_per_1000));
  }

  function table(features) {
    const body = document.querySelector("#cctv-table tbody");
    body.replaceChildren();
    features.slice().sort(function (a, b) { return name(a.properties).localeCompare(name(b.properties), lang); })
      .forEach(function (f) {
        const p = f.properties;
        const tr = document.createElement("tr");
        tr.dataset.code = p.code;
        const th = document.createElement("th"); th.scope = "row"; th.textContent = name(p);
        tr.append(th);
        [p.population, p.cameras, p.cameras_per_1000, p.cameras_per_km2, p.coverage_area_pct].forEach(function (v) {
          const td = document.createElement("td"); td.className = "num"; td.textContent = v === null ? "–" : number.format(v);
          tr.append(td);
        });
        body.append(tr);
      });
  }

  function load(level) {
    if (geo[level]) return Promise.resolve(geo[level]);
    return getJSON("/api/v1/cameras/coverage.geojson?level=" + level).then(function (data) { geo[level] = data; return data; });
  }

  function refresh() {
    load(levelSel.value).then(drawChoropleth).catch(failed);
  }

  function failed(err) { statusEl.textContent = T.cctv_failed + " (" + err.message + ")"; }

  // ---- cameras, clustered by the server for the current view
  let pending = 0;
  function drawCameras() {
    if (!showCameras.checked) { cameraLayer.clearLayers(); mapEl.dataset.clusters = "0"; return; }
    const b = map.getBounds();
    const ticket = ++pending;
    const url = "/api/v1/cameras/clusters?zoom=" + Math.round(map.getZoom()) + "&south=" + b.getSouth().toFixed(5) +
      "&west=" + b.getWest().toFixed(5) + "&north=" + b.getNorth().toFixed(5) + "&east=" + b.getEast().toFixed(5);
    getJSON(url).then(function (data) {
      if (ticket !== pending) return;
      cameraLayer.clearLayers();
      let shown = 0;
      data.clusters.forEach(function (c) {
        const size = c.count >= 1000 ? 44 : c.count >= 100 ? 36 : c.count >= 10 ? 30 : 24;
        const icon = L.divIcon({ className: "cctv-cluster", html: "<span>" + number.format(c.count) + "</span>",
                                 iconSize: [size, size] });
        const m = L.marker([c.lat, c.lon], { icon: icon, pane: "cameras", keyboard: false });
        m.on("click", function () { map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 18)); });
        cameraLayer.addLayer(m);
        shown += c.count;
      });
      data.cameras.forEach(function (c) {
        const m = L.circleMarker([c.lat, c.lon], { radius: 4, color: "#0b3d91", weight: 1, fillOpacity: 0.8, pane: "cameras" });
        m.bindTooltip(c.name);
        cameraLayer.addLayer(m);
        shown += 1;
      });
      mapEl.dataset.clusters = String(data.clusters.length);
      mapEl.dataset.camerasShown = String(shown);
      statusEl.textContent = T.cctv_cameras_in_view.replace("{n}", number.format(shown)).replace("{total}", number.format(data.total));
    }).catch(failed);
  }

  // ---- cameras covering a clicked point
  function near(latlng) {
    nearLayer.clearLayers();
    L.circleMarker(latlng, { radius: 6, color: "#b91c1c", weight: 2, fillOpacity: 0.5 }).addTo(nearLayer);
    getJSON("/api/v1/cameras/near?lat=" + latlng.lat.toFixed(6) + "&lon=" + latlng.lng.toFixed(6)).then(function (data) {
      const list = document.getElementById("cctv-near");
      list.replaceChildren();
      if (!data.items.length) {
        const li = document.createElement("li"); li.className = "empty"; li.textContent = T.cctv_near_none; list.append(li);
      }
      data.items.forEach(function (c) {
        const li = document.createElement("li");
        li.dataset.cameraId = c.camera_id;
        li.textContent = c.name + " · " + number.format(c.distance_m) + " m · " + (c.covers ? T.cctv_covers : T.cctv_ptz_can_turn);
        list.append(li);
      });
    }).catch(failed);
  }
  map.on("click", function (e) { near(e.latlng); });

  // ---- import
  const form = document.getElementById("cctv-import");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const out = document.getElementById("cctv-import-result");
      const body = new FormData();
      body.append("file", document.getElementById("cctv-import-file").files[0]);
      const encoding = document.getElementById("cctv-import-encoding").value;
      fetch("/api/v1/cameras/import" + (encoding ? "?encoding=" + encoding : ""), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": document.getElementById("csrf").value },
      }).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
        .then(function (pair) {
          const status = pair[0], j = pair[1];
          out.replaceChildren();
          const p = document.createElement("p");
          if (status === 201) {
            p.className = "ok";
            p.textContent = T.cctv_import_done.replace("{cameras}", number.format(j.cameras)).replace("{sites}", number.format(j.sites));
            out.append(p);
            geo = {};
            start();
            return;
          }
          p.className = "error";
          p.textContent = T.cctv_import_refused + " " + (j.detail || j.title);
          out.append(p);
          if (j.errors) {
            const ul = document.createElement("ul");
            ul.className = "cctv-import-errors";
            j.errors.forEach(function (err) {
              const li = document.createElement("li");
              li.textContent = T.cctv_row + " " + err.row + " · " + err.column + ": " + err.message;
              ul.append(li);
            });
            out.append(ul);
          }
        }).catch(failed);
    });
  }

  metricSel.addEventListener("change", drawChoropleth);
  levelSel.addEventListener("change", refresh);
  showCameras.addEventListener("change", drawCameras);
  map.on("moveend", drawCameras);

  // the figures, the table, the map: on opening the page and again after an import
  function start() {
    load("district").then(function (data) {
      table(data.features);
      return getJSON("/api/v1/cameras/coverage?level=district");
    }).then(function (all) {
      city(all.city);
      return load(levelSel.value);
    }).then(function () {
      drawChoropleth();
      drawCameras();
    }).catch(failed);
  }
  start();
})();
