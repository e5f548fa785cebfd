/* The portal's public-alert banner, kept live (portal, site, reading and TV layouts).

   The server renders the banner; a TV or a tablet left on a page never reloads, so this script
   follows the same public stream as /alerts (GET /api/v1/stream/alerts, Server-Sent Events, for
   the page's district or city-wide) and adds, updates and removes banner items in place. On
   every (re)connect it reconciles with GET /api/v1/alerts/active, so an alert cancelled while the
   connection was down also leaves. It never moves the focus, except off an item it removes (to
   the next alert or the first tile), so a TV remote is never left with nothing focused. */
(function () {
  "use strict";
  var CANCELLED = "safety.alert.cancelled.v1";
  var banner = document.querySelector("[data-live-alerts]");
  if (!banner || !window.EventSource) return;
  var tv = banner.getAttribute("data-live-alerts") === "tv";
  var list = tv ? banner : banner.querySelector("ul");
  var district = banner.getAttribute("data-district");
  var korean = (document.documentElement.lang || "ko") === "ko";
  var gone = {};  // ids cancelled on the stream: a list fetched before the cancel must not revive them

  function items() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-alert-id]"));
  }

  function find(id) {
    return list.querySelector('[data-alert-id="' + String(Number(id)) + '"]');
  }

  function headlineOf(alert) {
    return korean ? alert.headline_ko : alert.headline_en;
  }

  function build(alert) {
    var link = document.createElement("a");
    link.href = "/alerts?alert=" + Number(alert.id);
    if (tv) {
      link.className = "tv-item tv-alert";
      return link;
    }
    var item = document.createElement("li");
    var word = document.createElement("strong");
    word.textContent = banner.getAttribute("data-word") || "";
    item.className = "content-alert";
    item.append(word, " ", link);
    return item;
  }

  /* Add or update one alert ({id, severity, headline_ko, headline_en, expires}); newest first. */
  function upsert(alert) {
    if (gone[alert.id]) return;
    var item = find(alert.id);
    if (!item) {
      item = build(alert);
      item.setAttribute("data-alert-id", String(Number(alert.id)));
      var after = items().filter(function (other) { return Number(other.getAttribute("data-alert-id")) < Number(alert.id); })[0];
      list.insertBefore(item, after || null);
    }
    var severity = "sev-" + String(alert.severity || "unknown").toLowerCase();
    item.className = (tv ? "tv-item tv-alert " : "content-alert ") + severity;
    if (alert.expires) item.setAttribute("data-expires", alert.expires);
    var link = tv ? item : item.querySelector("a");
    if (link.textContent !== headlineOf(alert)) link.textContent = headlineOf(alert);
    banner.hidden = false;
  }

  /* A place for the focus when the focused alert goes: the next alert, else the first tile. */
  function refuge(item) {
    var rest = items().filter(function (other) { return other !== item; });
    var next = rest[items().indexOf(item)] || rest[rest.length - 1];
    if (next) return tv ? next : next.querySelector("a");
    return tv ? document.querySelector(".tv-tile") || document.querySelector(".tv-item:not(.tv-alert)") : null;
  }

  function remove(item) {
    if (!item) return;
    var focused = item === document.activeElement || item.contains(document.activeElement);
    var target = focused ? refuge(item) : null;
    item.remove();
    if (target) target.focus({ preventScroll: true });
    if (!items().length) banner.hidden = true;
  }

  function dropExpired() {
    var now = Date.now();
    items().forEach(function (item) {
      // Python's isoformat has microseconds; milliseconds are what every Date.parse reads
      var expires = Date.parse((item.getAttribute("data-expires") || "").replace(/(\.\d{3})\d+/, "$1"));
      if (expires && expires <= now) remove(item);
    });
  }

  /* After a (re)connect: exactly the alerts the server lists now, but never one the stream has
     just added (the list may predate it) or cancelled. */
  function reconcile(query, addedSince) {
    fetch("/api/v1/alerts/active?" + query, { headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (alerts) {
        if (!alerts) return;
        var current = {};
        alerts.forEach(function (alert) {
          current[alert.id] = true;
          upsert({ id: alert.id, severity: alert.severity, headline_ko: alert.headline_ko,
                   headline_en: alert.headline_en, expires: alert.expires_at });
        });
        items().forEach(function (item) {
          var id = item.getAttribute("data-alert-id");
          if (!current[id] && !addedSince[id]) remove(item);
        });
      })
      .catch(function () { /* offline: the stream's retry brings the next reconcile */ });
  }

  var source = null;

  function connect() {
    if (source) return;
    var query = district ? "district=" + encodeURIComponent(district) : "";
    var addedSince = {};
    source = new EventSource("/api/v1/stream/alerts?" + query);
    source.onopen = function () {
      addedSince = {};
      reconcile(query, addedSince);
    };
    source.onmessage = function (message) {
      var body;
      try { body = JSON.parse(message.data); } catch (error) { return; }
      var alert = body.alert || {};
      var id = alert.alert_id;
      if (!id) return;
      if (body.type === CANCELLED) {
        gone[id] = true;
        remove(find(id));
        return;
      }
      addedSince[id] = true;
      upsert({ id: id, severity: alert.severity, headline_ko: alert.headline_ko,
               headline_en: alert.headline_en, expires: alert.expires });
    };
  }

  /* A hidden tab lets its connection go (browsers allow only a few per server over HTTP/1.1);
     shown again, it reconnects and reconciles. A TV or a tablet showing the page stays connected. */
  function followVisibility() {
    if (document.visibilityState === "hidden") {
      if (source) source.close();
      source = null;
    } else {
      connect();
    }
  }

  document.addEventListener("visibilitychange", followVisibility);
  followVisibility();
  window.setInterval(dropExpired, 15000);  // an alert's end time passes without an event
})();
