// Sound console: live meters (SSE /api/v1/stream/sound), new detections with clip and score plot,
// per-device threshold editing (PUT /api/v1/sound/devices/{id}/thresholds).
(function () {
  "use strict";
  const root = document.getElementById("sound-console");
  if (!root) return;
  const words = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const t = (key) => words[key] || key;
  const live = document.getElementById("sound-live");
  const SVG = "http://www.w3.org/2000/svg";

  function seoulTime(iso) {
    const d = new Date(iso);
    return d.toLocaleString(root.dataset.lang === "ko" ? "ko-KR" : "en-GB", { timeZone: "Asia/Seoul", hour12: false });
  }

  function drawSpark(svg) {
    let data;
    try { data = JSON.parse(svg.dataset.scores || "{}"); } catch (_) { return; }
    const classes = data.classes || [], times = data.times || [], rows = data.scores || [];
    const index = classes.indexOf(svg.dataset.label);
    if (index < 0 || rows.length === 0) return;
    const w = 160, h = 40, first = times[0], span = Math.max(0.01, (times[times.length - 1] - first));
    const points = rows.map((row, i) => `${((times[i] - first) / span * (w - 2) + 1).toFixed(1)},${(h - 2 - row[index] * (h - 4)).toFixed(1)}`);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#8a1c1c");
    line.setAttribute("stroke-width", "2");
    svg.replaceChildren(line);
    const title = document.createElementNS(SVG, "title");
    const peak = Math.max(...rows.map((r) => r[index]));
    title.textContent = `${t("sound_label_" + svg.dataset.label)} ${Math.round(peak * 100)}%`;
    svg.appendChild(title);
  }
  document.querySelectorAll("svg.sound-spark").forEach(drawSpark);

  function deviceBox(id) {
    return Array.from(document.querySelectorAll(".sound-device")).find((el) => el.dataset.device === id);
  }

  function showLevel(data) {
    const box = deviceBox(data.device_id);
    if (!box) return;
    const level = box.querySelector("[data-role=level]");
    level.value = Math.max(-90, Math.min(0, data.level_dbfs));
    level.textContent = `${data.level_dbfs} dBFS`;
    box.querySelector("[data-role=level-text]").textContent =
      `${data.level_dbfs} dBFS${data.gated ? " · " + t("sound_gated") : ""}${data.saturated ? " · " + t("sound_health_clipping") : ""}`;
    box.querySelectorAll("tr[data-class]").forEach((row) => {
      const value = (data.scores || {})[row.dataset.class] || 0;
      row.querySelector("[data-role=score]").value = value;
      row.querySelector("[data-role=score-text]").textContent = `${Math.round(value * 100)}%`;
    });
  }

  function showHealth(data) {
    const box = deviceBox(data.device_id);
    if (!box) return;
    const badge = box.querySelector("[data-role=health]");
    badge.textContent = t("sound_health_" + data.health);
    badge.className = "badge health-" + data.health;
  }

  function addDetection(d) {
    const rows = document.getElementById("sound-detection-rows");
    const tr = document.createElement("tr");
    tr.dataset.detection = d.detection_id;
    const cells = [seoulTime(d.detected_at), d.device_id, t("sound_label_" + d.label), `${Math.round(d.confidence * 100)}%`];
    cells.forEach((text) => { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
    const clip = document.createElement("td");
    if (d.clip_url) {
      const audio = document.createElement("audio");
      audio.controls = true; audio.preload = "none"; audio.src = d.clip_url;
      audio.setAttribute("aria-label", `${t("sound_clip")} #${d.detection_id}`);
      clip.appendChild(audio);
    }
    tr.appendChild(clip);
    const plot = document.createElement("td");
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "sound-spark"); svg.setAttribute("role", "img");
    svg.setAttribute("width", "160"); svg.setAttribute("height", "40");
    svg.setAttribute("aria-label", `${t("sound_scores_over_time")} #${d.detection_id}`);
    svg.dataset.scores = JSON.stringify(d.scores || {}); svg.dataset.label = d.label;
    plot.appendChild(svg); tr.appendChild(plot);
    rows.prepend(tr);
    drawSpark(svg);
    live.textContent = `${t("sound_new_detection")}: ${t("sound_label_" + d.label)} · ${d.device_id}`;
  }

  if (window.EventSource) {
    const source = new EventSource("/api/v1/stream/sound");
    source.onopen = () => { live.textContent = t("sound_live"); };
    source.onerror = () => { live.textContent = t("sound_reconnecting"); };
    source.addEventListener("level", (e) => showLevel(JSON.parse(e.data)));
    source.addEventListener("health", (e) => showHealth(JSON.parse(e.data)));
    source.addEventListener("detection", (e) => addDetection(JSON.parse(e.data)));
  }

  document.querySelectorAll(".sound-device [data-role=save]").forEach((button) => {
    button.addEventListener("click", async () => {
      const box = button.closest(".sound-device");
      const thresholds = {};
      box.querySelectorAll("input[type=number]").forEach((input) => { thresholds[input.name] = Number(input.value); });
      const answer = await fetch(`/api/v1/sound/devices/${encodeURIComponent(box.dataset.device)}/thresholds`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify({ thresholds }),
      });
      const status = box.querySelector("[data-role=saved]");
      if (answer.ok) {
        status.textContent = t("sound_saved");
      } else {
        const problem = await answer.json().catch(() => ({}));
        status.textContent = `${t("sound_save_failed")}: ${problem.detail || answer.status}`;
      }
    });
  });
})();
