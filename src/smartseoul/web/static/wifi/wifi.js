// "Where is free WiFi": draws the city's own district polygons (no tiles) and the working hotspots.
// The list under the map carries the same information as text for screen readers and without JS.
(function () {
  "use strict";
  const root = document.getElementById("wifi-public");
  const box = document.getElementById("wifi-map");
  if (!root || !box || typeof L === "undefined") { return; }
  const lang = root.dataset.lang || "ko";
  const district = root.dataset.district || "";
  const hotspots = JSON.parse(document.getElementById("wifi-hotspots").textContent || "[]");
  const map = L.map(box, { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 17 });
  map.setView([37.5665, 126.978], 11);

  fetch("/api/v1/districts.geojson").then(function (r) { return r.json(); }).then(function (geojson) {
    const layer = L.geoJSON(geojson, {
      style: function (feature) {
        const chosen = feature.id === district;
        return { color: "#0b3d91", weight: chosen ? 3 : 1, fillColor: chosen ? "#cfe0ff" : "#eef2f8", fillOpacity: 0.6 };
      },
      onEachFeature: function (feature, shape) {
        const name = lang === "ko" ? feature.properties.name_ko : feature.properties.name_en;
        shape.on("click", function () { window.location.href = "/wifi?district=" + feature.id; });
        shape.bindTooltip(name);
      },
    }).addTo(map);
    const chosen = district ? layer.getLayers().filter(function (l) { return l.feature.id === district; }) : [];
    map.fitBounds(chosen.length ? chosen[0].getBounds() : layer.getBounds());
    hotspots.forEach(function (h) {
      const name = lang === "ko" ? h.facility_ko : h.facility_en;
      L.circleMarker([h.lat, h.lon], { radius: 6, color: "#006d2c", weight: 2, fillColor: "#31a354", fillOpacity: 0.9 })
        .bindPopup(name + "<br>" + h.ssids.join(", "))
        .addTo(map);
    });
  });
})();
