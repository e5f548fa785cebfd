// The placement planner page: sends the form to the API, waits for background plans, and shows a
// plan's proposed cameras (circles of the coverage radius, coloured by year) on the city's own
// GeoJSON, with the objective, the proven gap, the year-by-year rollout and the district figures.
(function () {
  "use strict";
  const root = document.getElementById("placement");
  const lang = root.dataset.lang;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const form = document.getElementById("plan-form");
  const stateEl = document.getElementById("plan-state");
  const errorEl = document.getElementById("plan-error");
  const number = new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-GB", { maximumFractionDigits: 0 });
  const percent = new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-GB", { style: "percent", maximumFractionDigits: 2 });
  const yearColours = ["#b91c1c", "#d97706", "#65a30d", "#0891b2", "#4f46e5", "#a21caf", "#475569"];
  const names = {};

  const map = L.map("placement-map", { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 17 });
  // thousands of circles (an equity plan) draw on one canvas; a few hundred stay SVG shapes
  const canvas = L.canvas({ padding: 0.2 });
  const CANVAS_FROM = 1500;
  map.setView([37.5665, 126.978], 11);
  const sitesLayer = L.layerGroup().addTo(map);

  function api(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options || {}))
      .then(function (r) {
        return r.json().then(function (body) { return { status: r.status, body: body }; });
      });
  }

  function showError(body) {
    const where = body.parameter ? body.parameter + ": " : "";
    errorEl.textContent = T.placement_error + ". " + (body.detail || body.title || "");
    if (where && errorEl.textContent.indexOf(where) < 0) errorEl.textContent += " (" + where.slice(0, -2) + ")";
    errorEl.hidden = false;
  }

  function cell(row, text, numeric) {
    const td = document.createElement(row.children.length ? "td" : "th");
    if (!row.children.length) td.scope = "row";
    td.textContent = text;
    if (numeric) td.className = "num";
    row.append(td);
  }

  function fillTable(id, rows, build) {
    const table = document.getElementById(id);
    const body = table.querySelector("tbody");
    body.replaceChildren();
    rows.forEach(function (item) {
      const tr = document.createElement("tr");
      build(tr, item);
      body.append(tr);
    });
    table.hidden = rows.length === 0;
  }

  function figure(dl, key, value) {
    const dt = document.createElement("dt");
    dt.textContent = T[key];
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.field = key;
    dl.append(dt, dd);
  }

  function ratio(value) { return value === null || value === undefined ? "–" : value.toFixed(2); }

  function drawSites(plan) {
    sitesLayer.clearLayers();
    const radius = plan.parameters.radius_m;
    const renderer = plan.sites.length >= CANVAS_FROM ? canvas : undefined;
    plan.sites.forEach(function (site) {
      if (site.shares_site) return;
      const colour = yearColours[(site.year - 1) % yearColours.length];
      L.circle([site.lat, site.lon], { radius: radius, color: colour, weight: 1, fillOpacity: 0.35, renderer: renderer, className: "site" })
        .bindTooltip("#" + site.rank + " · " + T.placement_year + " " + site.year + " · " + (names[site.district_code] || site.district_code) +
          " · " + T.placement_gain + " " + number.format(site.gain) + " (" + percent.format(site.gain_share) + ")")
        .addTo(sitesLayer);
    });
    document.getElementById("placement-map").dataset.sites = String(plan.sites.length);
  }

  function showPlan(plan) {
    document.getElementById("plan-number").textContent = "#" + plan.id;
    document.getElementById("no-plan").hidden = true;
    const dl = document.getElementById("plan-figures");
    dl.replaceChildren();
    const f = plan.figures;
    figure(dl, "placement_cameras_used", number.format(f.cameras_used));
    figure(dl, "placement_objective", number.format(plan.objective));
    figure(dl, "placement_bound", number.format(plan.bound));
    figure(dl, "placement_gap", percent.format(plan.gap));
    figure(dl, "placement_status", plan.solver_status === "optimal" ? T.placement_optimal : T.placement_feasible);
    figure(dl, "placement_method", plan.method);
    figure(dl, "placement_seconds", plan.solve_seconds.toFixed(2));
    figure(dl, "placement_covered", percent.format(f.covered_share_before) + " → " + percent.format(f.covered_share_after));
    figure(dl, "placement_disparity", ratio(f.disparity_before) + " → " + ratio(f.disparity_after));
    dl.hidden = false;
    dl.dataset.plan = String(plan.id);
    fillTable("year-table", plan.years, function (tr, y) {
      cell(tr, String(y.year)); cell(tr, number.format(y.cameras_installed), true);
      cell(tr, percent.format(y.covered_share), true); cell(tr, ratio(y.disparity_ratio), true);
    });
    const changed = f.districts.filter(function (d) { return d.cameras_added > 0; });
    fillTable("district-table", changed, function (tr, d) {
      cell(tr, lang === "ko" ? d.name_ko : d.name_en); cell(tr, number.format(d.cameras_added), true);
      cell(tr, d.per_1000_before.toFixed(2), true); cell(tr, d.per_1000_after.toFixed(2), true);
    });
    drawSites(plan);
  }

  // One poll at a time: the recent-plans list may also ask for a plan that the poll is
  // already waiting on; only the newest request may act, so a stale answer or timer never
  // fetches again once the plan is shown.
  let pollTimer = null;
  let loadGeneration = 0;

  function load(id) {
    clearTimeout(pollTimer);
    const generation = ++loadGeneration;
    return api("/api/v1/placement/plans/" + id).then(function (r) {
      if (generation !== loadGeneration) return;
      if (r.status !== 200) { showError(r.body); return; }
      if (r.body.status === "queued" || r.body.status === "running") {
        stateEl.textContent = T.placement_queued;
        pollTimer = setTimeout(function () { load(id); }, 1500);
        return;
      }
      if (r.body.status === "failed") { stateEl.textContent = T.placement_failed + ": " + (r.body.error || ""); return; }
      stateEl.textContent = "";
      showPlan(r.body);
    });
  }

  function recent() {
    api("/api/v1/placement/plans?limit=10").then(function (r) {
      if (r.status !== 200) return;
      const list = document.getElementById("recent-plans");
      list.replaceChildren();
      r.body.forEach(function (p) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "/console/placement?plan=" + p.id;
        a.textContent = "#" + p.id + " " + p.mode + " · " + p.parameters.cameras + " · " + p.status +
          (p.gap !== null ? " · " + percent.format(p.gap) : "");
        li.append(a);
        list.append(li);
      });
      if (!root.dataset.plan && loadGeneration === 0 && r.body.length && r.body[0].status === "done") load(r.body[0].id);
    });
  }

  function number_of(name) {
    const value = form.elements[name].value;
    return value === "" ? null : Number(value);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorEl.hidden = true;
    const mode = form.querySelector('input[name="mode"]:checked').value;
    const body = {
      cameras: number_of("cameras"),
      radius_m: number_of("radius_m"),
      mode: mode,
      per_year: number_of("per_year"),
      weights: { population: number_of("w_population"), crime: number_of("w_crime"), schools: number_of("w_schools"), incidents: number_of("w_incidents") },
    };
    if (mode === "equity") body.target_ratio = number_of("target_ratio");
    if (root.dataset.ownDistrict) body.districts = [root.dataset.ownDistrict];
    stateEl.textContent = T.placement_solving;
    document.getElementById("plan-submit").disabled = true;
    api("/api/v1/placement/plans", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      document.getElementById("plan-submit").disabled = false;
      if (r.status === 201) { stateEl.textContent = ""; showPlan(r.body); recent(); return; }
      if (r.status === 202) { load(r.body.id); recent(); return; }
      stateEl.textContent = "";
      showError(r.body);
    }).catch(function (err) {
      document.getElementById("plan-submit").disabled = false;
      stateEl.textContent = "";
      showError({ detail: err.message });
    });
  });

  fetch("/api/v1/districts.geojson", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (geo) {
      geo.features.forEach(function (f) { names[f.properties.code] = lang === "ko" ? f.properties.name_ko : f.properties.name_en; });
      const layer = L.geoJSON(geo, {
        style: { color: "#1f2937", weight: 1, fillColor: "#e5e7eb", fillOpacity: 0.6 },
        onEachFeature: function (feature, lyr) {
          lyr.bindTooltip(lang === "ko" ? feature.properties.name_ko : feature.properties.name_en, { sticky: true });
        },
      }).addTo(map);
      layer.bringToBack();
      map.fitBounds(layer.getBounds());
      document.getElementById("placement-map").dataset.ready = String(geo.features.length);
      if (root.dataset.plan) load(root.dataset.plan);
      recent();
    });
})();
