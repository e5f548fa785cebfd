// My certificate: get one from the Seoul City CA (saved as a PEM file: certificate + PKCS#8 key)
// and sign in with it: the server's one-time challenge is signed here with WebCrypto (ECDSA
// P-256, SHA-256); the private key never leaves this device.
(function () {
  "use strict";
  const root = document.getElementById("pki");
  if (!root) return;
  const i18n = JSON.parse(document.getElementById("i18n").textContent);
  const csrf = root.dataset.csrf;
  const status = document.getElementById("pki-status");
  const say = (key, extra) => { status.textContent = (i18n[key] || key) + (extra ? " " + extra : ""); };

  function pemBlock(text, label) {
    const match = text.match(new RegExp("-----BEGIN " + label + "-----([\\s\\S]+?)-----END " + label + "-----"));
    return match ? match[0] : null;
  }
  function derOf(block) {
    const body = block.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  }
  function b64(buffer) {
    return btoa(String.fromCharCode.apply(null, new Uint8Array(buffer)));
  }
  async function problem(response) {
    try { const body = await response.json(); return body.detail || body.title || response.status; }
    catch (e) { return String(response.status); }
  }

  document.getElementById("pki-issue").addEventListener("click", async () => {
    say("identity_js_issuing");
    const response = await fetch("/api/v1/identity/certificates", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ format: "pem" }),
    });
    if (!response.ok) { say("identity_js_refused", await problem(response)); return; }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "seoul-citizen.pem";
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url; link.download = name; document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say("identity_js_issued");
  });

  document.getElementById("pki-login").addEventListener("click", async () => {
    const file = document.getElementById("pki-file").files[0];
    if (!file) { say("identity_js_pick_file"); return; }
    say("identity_js_signing");
    const text = await file.text();
    const certificate = pemBlock(text, "CERTIFICATE");
    const keyBlock = pemBlock(text, "PRIVATE KEY");
    if (!certificate || !keyBlock) { say("identity_js_bad_file"); return; }
    let key;
    try {
      key = await crypto.subtle.importKey("pkcs8", derOf(keyBlock), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    } catch (e) { say("identity_js_bad_file"); return; }
    const challenge = await fetch("/api/v1/identity/challenge", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
    });
    if (!challenge.ok) { say("identity_js_refused", await problem(challenge)); return; }
    const { nonce, message } = await challenge.json();
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new TextEncoder().encode(message));
    const response = await fetch("/api/v1/identity/certificate-login", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ nonce: nonce, certificate: certificate, signature: b64(signature) }),
    });
    if (!response.ok) { say("identity_js_refused", await problem(response)); return; }
    say("identity_js_done");
    const level = document.getElementById("assurance-level");
    level.textContent = i18n.identity_level_certificate;
    level.className = "civil-level level-certificate";
  });
})();
