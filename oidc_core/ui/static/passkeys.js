// Passkeys (WebAuthn): signing in without a password, a passkey as the second step of a
// sign-in, and adding a passkey on the account pages.  The server makes every challenge and checks every answer; this file only carries
// them between it and the browser.  No inline script: the pages' CSP allows this file only.
"use strict";

(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return; // no WebAuthn: the pages work with passwords, as without this script
  }

  // base64url (RFC 4648 section 5, no padding) <-> bytes
  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
  }
  function toText(buffer) {
    let binary = "";
    new Uint8Array(buffer).forEach(function (b) { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  async function fetchOptions(form, fields) {
    const body = new URLSearchParams(fields);
    const response = await fetch(form.dataset.options, {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
    });
    if (!response.ok) { throw new Error("options: " + response.status); }
    return response.json();
  }

  function encoded(credential) {
    const r = credential.response;
    const answer = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      answer.attestationObject = toText(r.attestationObject);
      answer.transports = r.getTransports ? r.getTransports() : [];
    } else {
      answer.authenticatorData = toText(r.authenticatorData);
      answer.signature = toText(r.signature);
      answer.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null, response: answer,
    });
  }

  function failed(form, error) {
    if (error && error.name === "AbortError") { return; } // replaced by another request
    const message = form.querySelector("#passkey-failed");
    if (message) { message.hidden = false; }
  }

  // Sign in: the button (a modal request), and the email field's autofill ("conditional").
  const signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    let pending = null;
    const ask = async function (mediation) {
      if (pending) { pending.abort(); }
      const controller = pending = new AbortController();
      const options = await fetchOptions(signIn, { csrf_token: signIn.dataset.csrf });
      options.challenge = toBytes(options.challenge);
      options.allowCredentials = withIds(options.allowCredentials);
      const credential = await navigator.credentials.get({
        publicKey: options, mediation: mediation, signal: controller.signal,
      });
      signIn.elements.passkey.value = encoded(credential);
      signIn.submit();
    };
    signIn.hidden = false;
    signIn.querySelector("button").addEventListener("click", function () {
      ask("optional").catch(function (error) { failed(signIn, error); });
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (yes) {
        if (yes) { ask("conditional").catch(function () {}); }
      });
    }
  }

  // The second step of a sign-in: a passkey of the user who gave the password (the
  // options say whose: second_factor=1); a modal request only, never autofill.
  const secondFactor = document.getElementById("passkey-second-factor");
  if (secondFactor) {
    secondFactor.hidden = false;
    secondFactor.querySelector("button").addEventListener("click", function () {
      const fields = { csrf_token: secondFactor.dataset.csrf, second_factor: "1" };
      fetchOptions(secondFactor, fields).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = withIds(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options });
      }).then(function (credential) {
        secondFactor.elements.passkey.value = encoded(credential);
        secondFactor.submit();
      }).catch(function (error) { failed(secondFactor, error); });
    });
  }

  // Add a passkey on the account pages.
  const register = document.getElementById("passkey-register");
  if (register) {
    register.addEventListener("submit", function (event) {
      if (register.elements.credential.value) { return; }
      event.preventDefault();
      const fields = { csrf_token: register.elements.csrf_token.value };
      if (register.elements.passwordless.checked) { fields.passwordless = "on"; }
      fetchOptions(register, fields).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = withIds(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options });
      }).then(function (credential) {
        register.elements.credential.value = encoded(credential);
        register.submit();
      }).catch(function (error) { failed(register, error); });
    });
  }
})();
