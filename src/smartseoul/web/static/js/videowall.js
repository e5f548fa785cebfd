// The video wall: live tiles from one multipart stream per wall (a browser opens only six
// connections to a server, so one stream per tile would starve a 3x3 or 4x4 wall), camera search,
// groups and tours, a health badge on each tile and the open health alarms. Tiles of cameras under
// automated monitoring get the analysis's boxes on a canvas over the picture, an "AI" badge and
// the number of people in the caption (one request for all tiles, at the tiles' frame rate).
(function () {
  "use strict";
  const root = document.getElementById("videowall");
  const lang = root.dataset.lang;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const wallEl = document.getElementById("wall");
  const errorEl = document.getElementById("vw-error");
  const reasonEl = document.getElementById("vw-reason");
  const alarmList = document.getElementById("vw-alarm-list");
  const tourButton = document.getElementById("vw-tour-toggle");
  const tourState = document.getElementById("vw-tour-state");
  const clock = new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", {
    timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hour12: false,
  });
  const state = { layout: 4, tiles: [null, null, null, null], next: 0, names: {}, stream: null, tour: null };
  const CRLF2 = [13, 10, 13, 10];
  const FRAME_MS = 1000 / (Number(root.dataset.fps) || 5);
  const BOXES_STALE_MS = 2000;  // boxes not confirmed by a poll for this long vanish
  const UNWATCHED_POLL_MS = 2000;  // no tile under monitoring: ask again at the health rate
  const HIT = "#ef4444", TRACKED = "#22c55e";

  function problemLabel(problem) {
    return T["videowall_health_" + problem] || problem;
  }

  function tileFor(cameraId) {
    return wallEl.querySelector('.tile[data-camera-id="' + cameraId + '"]');
  }

  function drawWall() {
    wallEl.dataset.layout = String(state.layout);
    wallEl.innerHTML = "";
    state.tiles.forEach(function (cameraId, slot) {
      const tile = document.createElement("figure");
      tile.className = "tile";
      tile.dataset.slot = String(slot);
      if (cameraId === null) {
        tile.classList.add("empty");
        const p = document.createElement("p");
        p.textContent = T.videowall_empty_tile;
        tile.append(p);
      } else {
        tile.dataset.cameraId = String(cameraId);
        // a canvas, not an <img>: frames are decoded with createImageBitmap, which the page's
        // Content-Security-Policy allows (it allows no blob: picture URLs)
        const img = document.createElement("canvas");
        img.className = "tile-picture";
        img.width = 640; img.height = 360;
        img.setAttribute("role", "img");
        img.setAttribute("aria-label", "#" + cameraId);
        // the analysis's boxes: a second canvas of the picture's size laid over it, so that boxes
        // come and go at their own pace without waiting for the next frame
        const overlay = document.createElement("canvas");
        overlay.className = "tile-boxes";
        overlay.width = img.width; overlay.height = img.height;
        overlay.setAttribute("aria-hidden", "true");
        const ai = document.createElement("span");
        ai.className = "ai-badge";
        ai.textContent = T.videowall_ai_badge;
        ai.title = T.videowall_ai_title;
        ai.hidden = true;
        const people = document.createElement("span");
        people.className = "tile-people";
        people.hidden = true;
        const caption = document.createElement("figcaption");
        const name = document.createElement("span");
        name.className = "tile-name";
        name.textContent = "#" + cameraId + " " + (state.names[cameraId] || "");
        const badge = document.createElement("span");
        badge.className = "health-badge";
        badge.dataset.problem = "unknown";
        badge.textContent = problemLabel("unknown");
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary tile-remove";
        remove.textContent = "×";
        remove.title = T.videowall_remove;
        remove.setAttribute("aria-label", T.videowall_remove + " #" + cameraId);
        remove.addEventListener("click", function () { stopTour(); setTiles(state.tiles.map(function (c) { return c === cameraId ? null : c; })); });
        caption.append(name, ai, people, badge, remove);
        tile.append(img, overlay, caption);
      }
      wallEl.append(tile);
    });
  }

  function setTiles(cameraIds) {
    const tiles = [];
    for (let i = 0; i < state.layout; i++) tiles.push(cameraIds[i] === undefined ? null : cameraIds[i]);
    state.tiles = tiles;
    drawWall();
    fillDrillCameras();
    openStream();
    pollHealth();
    pollBoxes();
  }

  function setLayout(n) {
    state.layout = n;
    const radio = document.querySelector('input[name=layout][value="' + n + '"]');
    if (radio) radio.checked = true;
    state.next = 0;
    setTiles(state.tiles.filter(function (c) { return c !== null; }));
  }

  function addCamera(cameraId, name) {
    if (name) state.names[cameraId] = name;
    if (state.tiles.indexOf(cameraId) >= 0) return;
    const tiles = state.tiles.slice();
    let slot = tiles.indexOf(null);
    if (slot < 0) { slot = state.next % tiles.length; state.next = slot + 1; }
    tiles[slot] = cameraId;
    setTiles(tiles);
  }

  // ------------------------------------------------------------ the stream

  function indexOf(buffer, pattern, from) {
    outer: for (let i = from; i <= buffer.length - pattern.length; i++) {
      for (let j = 0; j < pattern.length; j++) if (buffer[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  const decoding = {};  // camera id -> newest frame waiting while the previous one is decoded

  function showFrame(cameraId, bytes) {
    if (cameraId in decoding) { decoding[cameraId] = bytes; return; }
    decoding[cameraId] = null;
    createImageBitmap(new Blob([bytes], { type: "image/jpeg" })).then(function (bitmap) {
      const tile = tileFor(cameraId);
      const canvas = tile && tile.querySelector("canvas.tile-picture");
      if (canvas) {
        if (canvas.width !== bitmap.width) canvas.width = bitmap.width;
        if (canvas.height !== bitmap.height) canvas.height = bitmap.height;
        canvas.getContext("2d").drawImage(bitmap, 0, 0);
        tile.dataset.frames = String(Number(tile.dataset.frames || 0) + 1);
      }
      bitmap.close();
    }).catch(function () { /* a damaged frame: the next one replaces it */ }).finally(function () {
      const waiting = decoding[cameraId];
      delete decoding[cameraId];
      if (waiting) showFrame(cameraId, waiting);
    });
  }

  async function readParts(reader, signal) {
    const decoder = new TextDecoder();
    let buffer = new Uint8Array(0);
    while (!signal.aborted) {
      const chunk = await reader.read();
      if (chunk.done) return;
      const joined = new Uint8Array(buffer.length + chunk.value.length);
      joined.set(buffer); joined.set(chunk.value, buffer.length);
      buffer = joined;
      for (;;) {
        const end = indexOf(buffer, CRLF2, 0);
        if (end < 0) break;
        const head = decoder.decode(buffer.subarray(0, end));
        const length = Number((/content-length:\s*(\d+)/i.exec(head) || [])[1]);
        const camera = Number((/x-camera-id:\s*(\d+)/i.exec(head) || [])[1]);
        const start = end + 4;
        if (!(length >= 0) || buffer.length < start + length) break;
        showFrame(camera, buffer.slice(start, start + length));
        buffer = buffer.slice(Math.min(buffer.length, start + length + 2));
      }
    }
  }

  async function openStream() {
    if (state.stream) state.stream.abort();
    state.stream = null;
    errorEl.hidden = true;
    const ids = state.tiles.filter(function (c) { return c !== null; });
    if (!ids.length) return;
    const controller = new AbortController();
    state.stream = controller;
    const url = "/api/v1/videowall/live?ids=" + ids.join(",") + "&reason=" + encodeURIComponent(reasonEl.value);
    try {
      const response = await fetch(url, { signal: controller.signal, credentials: "same-origin" });
      if (!response.ok) {
        const problem = await response.json().catch(function () { return {}; });
        errorEl.textContent = T.videowall_stream_error + ": " + (problem.detail || response.status);
        errorEl.hidden = false;
        return;
      }
      await readParts(response.body.getReader(), controller.signal);
    } catch (error) {
      if (error.name !== "AbortError") { errorEl.textContent = T.videowall_stream_error; errorEl.hidden = false; }
    }
  }

  // ------------------------------------------------------------ the analysis's boxes

  const boxes = { live: {}, timer: null, asking: false };  // camera id -> {tracks, alerts, at}

  function labelOf(track) {
    const label = T["videowall_label_" + track.label] || track.label;
    const hits = (track.hits || []).map(function (kind) { return T["monitoring_kind_" + kind] || kind; });
    return label + " #" + track.id + (hits.length ? " · " + hits.join(", ") : "");
  }

  function drawTrack(ctx, track, width, height) {
    const [x1, y1, x2, y2] = track.box;
    const hit = (track.hits || []).length > 0;
    const line = Math.max(2, Math.round(width / (hit ? 120 : 200)));
    ctx.lineWidth = line;
    ctx.strokeStyle = hit ? HIT : TRACKED;
    ctx.strokeRect(x1 * width, y1 * height, (x2 - x1) * width, (y2 - y1) * height);
    const text = labelOf(track);
    const size = Math.max(10, Math.round(width / 40));
    ctx.font = size + "px sans-serif";
    const textWidth = ctx.measureText(text).width + 6;
    const top = y1 * height > size + 4 ? y1 * height - size - 4 : y1 * height;
    ctx.fillStyle = hit ? HIT : TRACKED;
    ctx.fillRect(x1 * width - line / 2, top, textWidth, size + 4);
    ctx.fillStyle = "#000";
    ctx.fillText(text, x1 * width + 3 - line / 2, top + size);
  }

  function drawBoxes(cameraId) {
    const tile = tileFor(cameraId);
    if (!tile) return;
    const picture = tile.querySelector("canvas.tile-picture");
    const overlay = tile.querySelector("canvas.tile-boxes");
    const live = boxes.live[cameraId];
    const watched = Boolean(live);
    const tracks = watched && Date.now() - live.at <= BOXES_STALE_MS ? live.tracks : [];
    const alerts = watched && Date.now() - live.at <= BOXES_STALE_MS ? live.alerts : [];
    if (overlay.width !== picture.width) overlay.width = picture.width;
    if (overlay.height !== picture.height) overlay.height = picture.height;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    tracks.forEach(function (track) { drawTrack(ctx, track, overlay.width, overlay.height); });
    const people = tracks.filter(function (track) { return track.label === "person"; }).length;
    tile.dataset.monitored = String(watched);
    tile.dataset.boxes = String(tracks.length);
    tile.dataset.people = String(people);
    tile.dataset.hits = String(tracks.filter(function (track) { return (track.hits || []).length; }).length + alerts.length);
    tile.querySelector(".ai-badge").hidden = !watched;
    const count = tile.querySelector(".tile-people");
    count.hidden = !watched;
    const kinds = alerts.map(function (kind) { return T["monitoring_kind_" + kind] || kind; });
    count.textContent = T.videowall_people.replace("{n}", people) + (kinds.length ? " · " + kinds.join(", ") : "");
    count.classList.toggle("alert", alerts.length > 0);
    const name = "#" + cameraId + " " + (state.names[cameraId] || "");
    picture.setAttribute("aria-label", watched ? name + ": " + T.videowall_ai_summary.replace("{n}", people) : name);
  }

  async function pollBoxes() {
    clearTimeout(boxes.timer);
    const ids = state.tiles.filter(function (c) { return c !== null; });
    let next = UNWATCHED_POLL_MS;
    if (ids.length && !boxes.asking) {
      boxes.asking = true;
      try {
        const answer = await getJSON("/api/v1/monitoring/tracks?ids=" + ids.join(","));
        const now = Date.now();
        ids.forEach(function (id) {
          const live = answer[id];
          if (live && live.monitored) {
            boxes.live[id] = { tracks: live.tracks, alerts: live.alerts || [], at: now };
            next = FRAME_MS;
          } else {
            delete boxes.live[id];
          }
        });
        fillDrillCameras();
      } catch (error) {
        /* the boxes age out; the next poll tries again */
      } finally {
        boxes.asking = false;
      }
    }
    state.tiles.forEach(function (id) { if (id !== null) drawBoxes(id); });
    clearTimeout(boxes.timer);  // one poll loop, even when a wall change asked in between
    boxes.timer = setTimeout(pollBoxes, next);
  }

  // ------------------------------------------------------------ health and alarms

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(url + ": " + response.status);
    return response.json();
  }

  async function pollHealth() {
    const ids = state.tiles.filter(function (c) { return c !== null; });
    if (!ids.length) return;
    try {
      const states = await getJSON("/api/v1/videowall/health?ids=" + ids.join(","));
      Object.keys(states).forEach(function (id) {
        const tile = tileFor(id);
        if (!tile) return;
        const s = states[id];
        if (s.name) {
          state.names[id] = s.name;
          tile.querySelector(".tile-name").textContent = "#" + id + " " + s.name;
        }
        const badge = tile.querySelector(".health-badge");
        badge.dataset.problem = s.problem;
        badge.textContent = problemLabel(s.problem);
        badge.title = s.detail || "";
        tile.dataset.problem = s.problem;
      });
      fillDrillCameras();  // with the names now known
    } catch (error) { /* the next poll tries again */ }
  }

  async function pollAlarms() {
    try {
      const alarms = await getJSON("/api/v1/videowall/alarms?open=true&limit=50");
      alarmList.innerHTML = "";
      if (!alarms.length) {
        const li = document.createElement("li");
        li.className = "empty";
        li.textContent = T.videowall_no_alarms;
        alarmList.append(li);
      }
      alarms.forEach(function (alarm) {
        const li = document.createElement("li");
        li.dataset.problem = alarm.problem;
        li.dataset.cameraId = String(alarm.camera_id);
        const time = document.createElement("time");
        time.dateTime = alarm.raised_at;
        time.textContent = clock.format(new Date(alarm.raised_at));
        const what = document.createElement("strong");
        what.textContent = problemLabel(alarm.problem);
        const who = document.createElement("button");
        who.type = "button";
        who.className = "link";
        who.textContent = "#" + alarm.camera_id + " " + alarm.camera_name;
        who.addEventListener("click", function () { stopTour(); addCamera(alarm.camera_id, alarm.camera_name); });
        li.title = alarm.detail;  // the measured figures, for the technician
        li.append(time, " ", what, " ", who);
        alarmList.append(li);
      });
    } catch (error) { /* the next poll tries again */ }
  }

  // ------------------------------------------------------------ drills (operators and admins)

  const drill = document.getElementById("vw-drill");

  function fillDrillCameras() {
    const select = document.getElementById("vw-drill-camera");
    if (!select) return;
    // a monitored camera shows the analysed stream, which a drill cannot touch (the API refuses)
    const ids = state.tiles.filter(function (c) { return c !== null && !(c in boxes.live); });
    const labels = ids.map(function (id) { return "#" + id + " " + (state.names[id] || ""); }).join("|");
    if (select.dataset.labels === labels) return;  // unchanged: leave an open list alone
    select.dataset.labels = labels;
    const chosen = select.value;
    select.innerHTML = "";
    ids.forEach(function (id) {
      const option = document.createElement("option");
      option.value = String(id);
      option.textContent = "#" + id + " " + (state.names[id] || "");
      select.append(option);
    });
    if (chosen && state.tiles.indexOf(Number(chosen)) >= 0) select.value = chosen;
  }

  async function applyDrill(event) {
    event.preventDefault();
    const camera = document.getElementById("vw-drill-camera").value;
    const fault = document.getElementById("vw-drill-fault").value || null;
    const status = document.getElementById("vw-drill-state");
    if (!camera) return;
    const response = await fetch("/api/v1/videowall/cameras/" + camera + "/fault", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify({ fault: fault }),
    });
    const body = await response.json().catch(function () { return {}; });
    status.textContent = response.ok ? T.videowall_drill_done + ": #" + camera : (body.detail || String(response.status));
  }

  if (drill) drill.addEventListener("submit", applyDrill);

  // ------------------------------------------------------------ groups, tours, search

  function showGroup() {
    const option = document.getElementById("vw-group").selectedOptions[0];
    if (!option || !option.value) return;
    stopTour();
    const ids = option.dataset.cameras.split(",").filter(Boolean).map(Number);
    setTiles(ids);
  }

  function stopTour() {
    if (!state.tour) return;
    clearInterval(state.tour.timer);
    state.tour = null;
    tourButton.textContent = tourButton.dataset.start;
    tourState.textContent = "";
  }

  function showTourPage() {
    const tour = state.tour;
    if (!tour || !tour.pages.length) return;
    const page = tour.pages[tour.index % tour.pages.length];
    tour.index += 1;
    tourState.textContent = T.videowall_tour_page + " " + ((tour.index - 1) % tour.pages.length + 1) + "/" + tour.pages.length + " · " + page.group;
    setTiles(page.camera_ids);
  }

  async function startTour() {
    const id = document.getElementById("vw-tour").value;
    if (!id) return;
    const tour = await getJSON("/api/v1/videowall/tours/" + id);
    stopTour();
    state.layout = tour.layout;
    const radio = document.querySelector('input[name=layout][value="' + tour.layout + '"]');
    if (radio) radio.checked = true;
    state.tour = { pages: tour.pages, index: 0, timer: setInterval(showTourPage, tour.dwell_s * 1000) };
    tourButton.textContent = tourButton.dataset.stop;
    showTourPage();
  }

  async function search(event) {
    event.preventDefault();
    const q = document.getElementById("vw-q").value;
    const district = document.getElementById("vw-district").value;
    const results = document.getElementById("vw-results");
    let url = "/api/v1/videowall/cameras?limit=20&q=" + encodeURIComponent(q);
    if (district) url += "&district=" + district;
    const cameras = await getJSON(url);
    results.innerHTML = "";
    if (!cameras.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = T.videowall_no_results;
      results.append(li);
    }
    cameras.forEach(function (camera) {
      const li = document.createElement("li");
      const add = document.createElement("button");
      add.type = "button";
      add.className = "secondary";
      add.textContent = T.videowall_add;
      add.dataset.cameraId = String(camera.id);
      add.addEventListener("click", function () { stopTour(); addCamera(camera.id, camera.name); });
      li.append("#" + camera.id + " " + camera.name + " ", add);
      results.append(li);
    });
  }

  document.querySelectorAll("input[name=layout]").forEach(function (radio) {
    radio.addEventListener("change", function () { stopTour(); setLayout(Number(radio.value)); });
  });
  document.getElementById("vw-show-group").addEventListener("click", showGroup);
  tourButton.addEventListener("click", function () { if (state.tour) stopTour(); else startTour(); });
  document.getElementById("vw-search").addEventListener("submit", search);
  reasonEl.addEventListener("change", function () { if (reasonEl.value.trim().length >= 3) openStream(); });

  drawWall();
  pollAlarms();
  setInterval(pollHealth, 2000);
  setInterval(pollAlarms, 2000);
  window.videowall = { addCamera: addCamera, setLayout: setLayout, state: state };
})();
