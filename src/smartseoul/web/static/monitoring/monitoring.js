// The monitoring console: the monitored share, live tiles with the analysis's boxes, the event
// list (snapshot on request, verdicts) and the zone/rule editor. Every picture is asked for with
// the operator's reason, so the API checks and records each view.
(function () {
  "use strict";
  const root = document.getElementById("monitoring");
  if (!root) return;
  const text = JSON.parse(document.getElementById("i18n").textContent);
  const t = (key) => text[key] || key;
  const lang = root.dataset.lang;
  const params = JSON.parse(root.dataset.params);
  const api = "/api/v1/monitoring";
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf };
  const reasonInput = document.getElementById("mon-reason");
  const reason = () => encodeURIComponent((reasonInput && reasonInput.value) || t("monitoring_default_reason"));
  const seoul = (iso) => new Date(iso).toLocaleString(lang === "ko" ? "ko-KR" : "en-GB", { timeZone: "Asia/Seoul" });

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
    return response.json();
  }

  // ---------------------------------------------------------------- status
  async function refreshStatus() {
    try {
      const status = await getJson(api + "/status");
      document.getElementById("mon-share").textContent = (status.monitored_share * 100).toFixed(1) + "%";
      document.getElementById("mon-counts").textContent =
        t("monitoring_counts").replace("{monitored}", status.cameras_monitored).replaceAll("{listed}", status.cameras_listed)
          .replace("{interval}", status.max_interval_s).replace("{shared}", status.cameras_shared)
          .replace("{shared_share}", (status.shared_monitored_share * 100).toFixed(2) + "%");
    } catch (error) { /* the next poll retries */ }
  }

  // ---------------------------------------------------------------- live tiles with boxes
  const tiles = Array.from(document.querySelectorAll(".mon-tile"));
  let drawing = null;

  function drawBoxes(tile, tracks) {
    const canvas = tile.querySelector("canvas");
    const box = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(box.width));
    canvas.height = Math.max(1, Math.round(box.height));
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 2;
    ctx.font = "13px sans-serif";
    for (const track of tracks) {
      const [x1, y1, x2, y2] = track.box;
      ctx.strokeStyle = "#22c55e";
      ctx.strokeRect(x1 * canvas.width, y1 * canvas.height, (x2 - x1) * canvas.width, (y2 - y1) * canvas.height);
      ctx.fillStyle = "#22c55e";
      ctx.fillText("#" + track.id, x1 * canvas.width + 2, Math.max(12, y1 * canvas.height - 3));
    }
    tile.dataset.boxes = String(tracks.length);
    // a stopped vehicle-sized object is drawn, but it is not a person
    const people = tracks.filter((track) => track.label === "person").length;
    tile.querySelector(".mon-people").textContent = t("monitoring_people").replace("{n}", people);
  }

  async function pollBoxes() {
    for (const tile of tiles) {
      try {
        const live = await getJson(api + "/cameras/" + tile.dataset.camera + "/tracks");
        drawBoxes(tile, live.tracks);
      } catch (error) { /* keep the last boxes */ }
    }
  }

  const showForm = document.getElementById("mon-show");
  if (showForm) {
    showForm.addEventListener("submit", (event) => {
      event.preventDefault();
      for (const tile of tiles) {
        const img = tile.querySelector("img");
        img.src = api + "/cameras/" + tile.dataset.camera + "/live.mjpeg?reason=" + reason();
        img.hidden = false;
      }
      if (!drawing) drawing = setInterval(pollBoxes, 400);
      pollBoxes();
    });
  }

  // ---------------------------------------------------------------- events
  const list = document.getElementById("mon-event-list");
  function cell(row, content) { const td = document.createElement("td"); td.append(content); row.append(td); return td; }
  function button(label, action, className) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; if (className) b.className = className;
    b.addEventListener("click", action);
    return b;
  }

  async function showSnapshot(item) {
    const figure = document.getElementById("mon-snapshot");
    figure.querySelector("img").src = item.snapshot_url + "?reason=" + reason();
    figure.querySelector("figcaption").textContent = "#" + item.id + " · " + t("monitoring_kind_" + item.kind) + " · " + seoul(item.ended_at);
    figure.hidden = false;
  }

  async function judge(item, verdict, row) {
    const response = await fetch(api + "/detections/" + item.id + "/verdict", {
      method: "POST", credentials: "same-origin", headers, body: JSON.stringify({ verdict }),
    });
    if (response.ok) {
      const body = await response.json();
      row.querySelector(".mon-verdict").textContent = t("monitoring_verdict_" + verdict) + " · " +
        t("monitoring_threshold").replace("{t}", body.camera_threshold.toFixed(2));
    }
  }

  async function refreshEvents() {
    let items;
    try { items = await getJson(api + "/detections?limit=30"); } catch (error) { return; }
    list.replaceChildren();
    if (!items.length) {
      const row = document.createElement("tr");
      const td = cell(row, t("monitoring_no_events")); td.colSpan = 5;
      list.append(row);
      return;
    }
    for (const item of items) {
      const row = document.createElement("tr");
      row.dataset.detection = item.id;
      cell(row, seoul(item.ended_at));
      cell(row, "#" + item.camera_id);
      cell(row, t("monitoring_kind_" + item.kind) + (item.detail ? " (" + item.detail + ")" : ""));
      cell(row, Math.round(item.confidence * 100) + "%");
      const actions = cell(row, "");
      if (item.has_snapshot) actions.append(button(t("monitoring_view_snapshot"), () => showSnapshot(item)));
      actions.append(button(t("monitoring_mark_correct"), () => judge(item, "correct", row), "secondary"));
      actions.append(button(t("monitoring_mark_false"), () => judge(item, "false_positive", row), "secondary"));
      const state = document.createElement("span");
      state.className = "mon-verdict hint";
      state.textContent = item.verdict ? t("monitoring_verdict_" + item.verdict) : "";
      actions.append(state);
      list.append(row);
    }
  }

  // ---------------------------------------------------------------- zone and rule editor
  const ruleForm = document.getElementById("mon-rule");
  if (ruleForm) {
    const canvas = document.getElementById("mon-zone");
    const picture = document.getElementById("mon-zone-img");
    const cameraSelect = document.getElementById("mon-rule-camera");
    const kindSelect = document.getElementById("mon-rule-kind");
    const valueInput = document.getElementById("mon-rule-value");
    const errorBox = document.getElementById("mon-rule-error");
    const pointsText = document.getElementById("mon-zone-points");
    let points = [];

    function drawZone() {
      const box = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(box.width)); canvas.height = Math.max(1, Math.round(box.height));
      const ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#f59e0b"; ctx.fillStyle = "rgba(245, 158, 11, 0.25)"; ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach(([x, y], i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x * canvas.width, y * canvas.height));
      if (points.length > 2) ctx.closePath();
      ctx.fill(); ctx.stroke();
      pointsText.textContent = points.length ? t("monitoring_zone_count").replace("{n}", points.length) : t("monitoring_zone_empty");
    }
    canvas.addEventListener("click", (event) => {
      const box = canvas.getBoundingClientRect();
      points.push([+((event.clientX - box.left) / box.width).toFixed(4), +((event.clientY - box.top) / box.height).toFixed(4)]);
      drawZone();
    });
    document.getElementById("mon-zone-clear").addEventListener("click", () => { points = []; drawZone(); });

    function kindChanged() {
      const spec = params[kindSelect.value] || {};
      const name = Object.keys(spec)[0];
      valueInput.disabled = !name;
      valueInput.value = name ? spec[name] : "";
      valueInput.dataset.param = name || "";
    }
    kindSelect.addEventListener("change", kindChanged);

    async function loadRules() {
      const camera = cameraSelect.value;
      picture.src = api + "/cameras/" + camera + "/live.mjpeg?reason=" + reason();
      const rules = await getJson(api + "/cameras/" + camera + "/rules");
      const ul = document.getElementById("mon-rule-list");
      ul.replaceChildren();
      for (const rule of rules) {
        const li = document.createElement("li");
        li.textContent = (rule.name || t("monitoring_kind_" + rule.kind)) + " · " + t("monitoring_kind_" + rule.kind) + " " + JSON.stringify(rule.params);
        li.append(button(t("monitoring_rule_delete"), async () => {
          await fetch(api + "/cameras/" + camera + "/rules/" + rule.id, { method: "DELETE", credentials: "same-origin", headers });
          loadRules();
        }, "secondary"));
        ul.append(li);
      }
    }
    cameraSelect.addEventListener("change", () => { points = []; drawZone(); loadRules(); });

    ruleForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      const body = { kind: kindSelect.value, zone: points, name: document.getElementById("mon-rule-name").value, params: {} };
      if (valueInput.dataset.param && valueInput.value !== "") body.params[valueInput.dataset.param] = Number(valueInput.value);
      const start = document.getElementById("mon-rule-start").value, end = document.getElementById("mon-rule-end").value;
      if (start) body.start = start;
      if (end) body.end = end;
      const response = await fetch(api + "/cameras/" + cameraSelect.value + "/rules", {
        method: "POST", credentials: "same-origin", headers, body: JSON.stringify(body),
      });
      if (!response.ok) {
        const problem = await response.json();
        errorBox.textContent = t("monitoring_rule_refused") + " " + (problem.field ? "[" + problem.field + "] " : "") + (problem.detail || problem.title);
        errorBox.hidden = false;
        return;
      }
      points = []; drawZone(); loadRules();
    });
    kindChanged(); drawZone(); loadRules();
  }

  refreshStatus(); refreshEvents();
  setInterval(refreshStatus, 2000);
  setInterval(refreshEvents, 4000);
})();
