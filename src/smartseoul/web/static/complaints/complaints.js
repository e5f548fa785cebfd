// The complaint form: show the chosen category's details, pick the place on the city's own map
// (district polygons, no tiles) or by the phone's location, and shrink a large photo to fit.
(function () {
  "use strict";
  const form = document.getElementById("complaint-form");
  if (!form) return;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const select = document.getElementById("service_code");
  const lat = document.getElementById("lat");
  const lon = document.getElementById("long");
  const state = document.getElementById("complaints-locate-state");

  function showAttributes() {
    document.querySelectorAll(".complaint-attributes").forEach(function (set) {
      const on = set.dataset.service === select.value;
      set.hidden = !on;
      set.disabled = !on;
    });
  }
  select.addEventListener("change", showAttributes);
  showAttributes();

  const mapEl = document.getElementById("complaints-map");
  const map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: false, minZoom: 9, maxZoom: 18 });
  map.setView([37.5665, 126.978], 11);
  let marker = null;
  function place(latitude, longitude, centre) {
    lat.value = latitude.toFixed(6);
    lon.value = longitude.toFixed(6);
    if (marker) marker.setLatLng([latitude, longitude]);
    else marker = L.circleMarker([latitude, longitude], { radius: 9, color: "#fff", weight: 3, fillColor: "#b91c1c", fillOpacity: 1 }).addTo(map);
    if (centre) map.setView([latitude, longitude], 15);
    mapEl.dataset.marker = lat.value + "," + lon.value;
  }
  fetch("/api/v1/districts.geojson", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (geo) {
      const layer = L.geoJSON(geo, {
        style: function () { return { color: "#4b5563", weight: 1, fillColor: "#e5e7eb", fillOpacity: 0.9 }; },
      }).addTo(map);
      layer.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, false); });
      map.fitBounds(layer.getBounds(), { padding: [4, 4], animate: false });
      mapEl.dataset.ready = String(geo.features.length);
    })
    .catch(function (err) { mapEl.dataset.error = err.message; });
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, false); });
  function typed() {
    const a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (!isNaN(a) && !isNaN(b)) place(a, b, true);
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
  if (lat.value && lon.value) typed();

  document.getElementById("complaints-locate").addEventListener("click", function () {
    if (!navigator.geolocation) { state.textContent = T.complaints_locate_failed; return; }
    state.textContent = T.complaints_locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      place(p.coords.latitude, p.coords.longitude, true);
      state.textContent = T.complaints_located;
    }, function () { state.textContent = T.complaints_locate_failed; }, { enableHighAccuracy: true, timeout: 15000 });
  });

  // A phone photo is often larger than the limit: draw it smaller as JPEG before sending.
  const photo = document.getElementById("photo");
  const limit = parseInt(form.dataset.maxBytes, 10);
  photo.addEventListener("change", function () {
    const file = photo.files && photo.files[0];
    if (!file || file.size <= limit || !window.createImageBitmap) return;
    createImageBitmap(file).then(function (bitmap) {
      const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (!blob || blob.size > limit) return;
        const shrunk = new DataTransfer();
        shrunk.items.add(new File([blob], "photo.jpg", { type: "image/jpeg" }));
        photo.files = shrunk.files;
      }, "image/jpeg", 0.8);
    });
  });
})();
