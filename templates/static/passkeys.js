// frontdesk passkeys: the only script of the login and passkeys pages. It
// shows the passkey controls only when the browser supports WebAuthn; without
// it (or without JavaScript) the pages work as before, with passwords.
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      return { type: c.type, id: fromB64url(c.id), transports: c.transports };
    });
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toB64url(r.userHandle);
      }
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) {
          var err = new Error(data.message || "Something went wrong. Please try again.");
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function say(el, text) {
    if (el) {
      el.textContent = text;
    }
  }

  function failed(status, err) {
    if (err && err.name === "NotAllowedError") {
      say(status, "The passkey request was cancelled or timed out. Try again when you are ready.");
    } else if (err && err.name === "InvalidStateError") {
      say(status, "This device already has a passkey for your account.");
    } else {
      say(status, (err && err.message) || "Something went wrong. Please try again.");
    }
    if (err && err.data && err.data.redirect) {
      window.location.assign(err.data.redirect);
    }
  }

  // Login page.
  var login = document.getElementById("passkey-login");
  if (login) {
    var base = "/p/" + encodeURIComponent(login.dataset.practice) + "/passkeys/login/";
    var status = document.getElementById("passkey-status");
    login.hidden = false;
    document.getElementById("passkey-login-button").addEventListener("click", function () {
      var emailField = document.getElementById("email");
      var email = emailField ? emailField.value.trim() : "";
      say(status, "Waiting for your passkey\u2026");
      post(base + "begin", { email: email }).then(function (begin) {
        var o = begin.options.publicKey;
        o.challenge = fromB64url(o.challenge);
        o.allowCredentials = descriptors(o.allowCredentials);
        return navigator.credentials.get({ publicKey: o }).then(function (cred) {
          var q = "?ceremony=" + encodeURIComponent(begin.ceremony);
          if (login.dataset.authRequest) {
            q += "&authRequest=" + encodeURIComponent(login.dataset.authRequest);
          } else if (login.dataset.next) {
            q += "&next=" + encodeURIComponent(login.dataset.next);
          }
          return post(base + "finish" + q, credentialJSON(cred));
        });
      }).then(function (done) {
        window.location.assign(done.redirect);
      }).catch(function (err) {
        failed(status, err);
      });
    });
  }

  // Passkeys page, and the add-a-passkey step after onboarding (data-next:
  // where to go once the passkey is added).
  var reg = document.getElementById("passkey-register");
  if (reg) {
    var rbase = "/p/" + encodeURIComponent(reg.dataset.practice) + "/passkeys/register/";
    var rstatus = document.getElementById("passkey-status");
    reg.hidden = false;
    document.getElementById("passkey-add").addEventListener("click", function () {
      var name = document.getElementById("passkey-name").value.trim();
      say(rstatus, "Follow your device's prompt\u2026");
      post(rbase + "begin").then(function (begin) {
        var o = begin.options.publicKey;
        o.challenge = fromB64url(o.challenge);
        o.user.id = fromB64url(o.user.id);
        o.excludeCredentials = descriptors(o.excludeCredentials);
        return navigator.credentials.create({ publicKey: o }).then(function (cred) {
          var q = "?ceremony=" + encodeURIComponent(begin.ceremony) + "&name=" + encodeURIComponent(name);
          return post(rbase + "finish" + q, credentialJSON(cred));
        });
      }).then(function (done) {
        window.location.assign(reg.dataset.next || done.redirect);
      }).catch(function (err) {
        failed(rstatus, err);
      });
    });
  }
})();
