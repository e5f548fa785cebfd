/* Spatial navigation for the 10-foot UI: a TV remote's arrows move the focus to the nearest item in
   that direction, Enter opens it (the browser's own activation), Back goes back. Focus never gets
   stuck: every arrow either moves it, scrolls the focused text, or leaves it where it is. */
(function () {
  "use strict";
  var KEYS = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
  var BACK = { Backspace: 1, Escape: 1, BrowserBack: 1, GoBack: 1 };
  var BACK_CODES = { 461: 1, 10009: 1, 8: 1, 27: 1 };  // webOS, Tizen, Backspace, Escape

  function items() {
    return Array.prototype.filter.call(document.querySelectorAll(".tv-item"), function (el) {
      return el.offsetParent !== null;
    });
  }

  /* How far ``rect`` lies from ``origin`` in direction (dx, dy): the gap along the direction and the
     sideways gap between the edges (0 when they overlap), or null when it is not in that direction. */
  function gaps(origin, rect, dx, dy) {
    var along;
    if (dx > 0) along = rect.left - origin.right;
    else if (dx < 0) along = origin.left - rect.right;
    else if (dy > 0) along = rect.top - origin.bottom;
    else along = origin.top - rect.bottom;
    if (along < -1) return null;
    var across = dx !== 0
      ? Math.max(0, origin.top - rect.bottom, rect.top - origin.bottom)
      : Math.max(0, origin.left - rect.right, rect.left - origin.right);
    if (dx !== 0 && across > 0) return null;  // left and right stay within the row
    return { along: Math.max(0, along), across: across };
  }

  /* The nearest item in direction (dx, dy); sideways distance weighs more than distance ahead. */
  function nearest(from, dx, dy) {
    var origin = from.getBoundingClientRect();
    var best = null;
    var bestScore = Infinity;
    items().forEach(function (el) {
      if (el === from) return;
      var gap = gaps(origin, el.getBoundingClientRect(), dx, dy);
      if (!gap) return;
      var score = gap.along + gap.across * 3;
      if (score < bestScore) {
        bestScore = score;
        best = el;
      }
    });
    return best;
  }

  function scrolls(el, dy) {
    if (!el.hasAttribute("data-tv-scroll") || dy === 0) return false;
    var before = el.scrollTop;
    el.scrollTop += dy * el.clientHeight * 0.6;
    return el.scrollTop !== before;
  }

  function back() {
    var link = document.querySelector("[data-tv-back]");
    if (window.history.length > 1) window.history.back();
    else if (link) window.location.href = link.getAttribute("href");
  }

  document.addEventListener("keydown", function (event) {
    if (BACK[event.key] || BACK_CODES[event.keyCode]) {
      event.preventDefault();
      back();
      return;
    }
    var move = KEYS[event.key];
    if (!move) return;
    event.preventDefault();
    var current = document.activeElement;
    if (!current || !current.classList.contains("tv-item")) {
      var first = items()[0];
      if (first) first.focus();
      return;
    }
    if (scrolls(current, move[1])) return;
    var next = nearest(current, move[0], move[1]);
    if (next) {
      next.focus();
      next.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var start = document.querySelector(".tv-tile") || items()[0];
    if (start) start.focus();
  });
})();
