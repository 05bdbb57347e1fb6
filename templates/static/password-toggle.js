// frontdesk password fields: a Show / Hide button beside every password
// field, so a long passphrase can be checked before it is sent (on a phone
// above all). Without JavaScript the fields are plain password fields. The
// button is a real <button type="button"> with aria-pressed, named by the
// field's label, so it works by keyboard and screen reader; showing never
// changes what is submitted, and every field is hidden again when its form
// is sent (so the browser does not keep a shown password in its history).
"use strict";
(function () {
  function labelOf(input) {
    var label = input.id && document.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.trim() : "password";
  }

  function add(input) {
    if (input.dataset.toggle === "on") {
      return;
    }
    input.dataset.toggle = "on";
    var wrap = document.createElement("span");
    wrap.className = "pw";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary pw-toggle";
    button.textContent = "Show";
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", "Show " + labelOf(input).toLowerCase());
    if (input.id) {
      button.setAttribute("aria-controls", input.id);
    }
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", show ? "true" : "false");
      button.setAttribute("aria-label", (show ? "Hide " : "Show ") + labelOf(input).toLowerCase());
    });
    wrap.appendChild(button);
    if (input.form) {
      input.form.addEventListener("submit", function () {
        input.type = "password";
      });
    }
  }

  function init() {
    var fields = document.querySelectorAll('input[type="password"]');
    for (var i = 0; i < fields.length; i++) {
      add(fields[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
