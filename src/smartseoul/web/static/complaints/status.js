// "Notify me on this device": subscribe this browser to Web Push for the signed-in citizen's
// complaints (the platform's service worker shows the notification and opens the status page).
(function () {
  "use strict";
  const button = document.getElementById("complaints-notify");
  if (!button) return;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const state = document.getElementById("complaints-notify-state");

  function keyBytes(text) {
    const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), function (c) { return c.charCodeAt(0); });
  }

  button.addEventListener("click", async function () {
    try {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("unsupported");
      if ((await Notification.requestPermission()) !== "granted") throw new Error("denied");
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      const key = await (await fetch("/api/v1/push/vapid-public-key")).json();
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(key.public_key),
      });
      const body = subscription.toJSON();
      body.language = button.dataset.lang;
      const answer = await fetch("/api/v1/complaints/push-subscriptions", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": button.dataset.csrf },
        body: JSON.stringify({ endpoint: body.endpoint, keys: body.keys, language: body.language }),
      });
      if (!answer.ok) throw new Error(String(answer.status));
      state.textContent = T.complaints_notify_on;
    } catch (error) {
      state.textContent = T.complaints_notify_failed;
    }
  });
})();
