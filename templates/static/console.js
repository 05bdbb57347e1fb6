// The console's members list, enhanced: results follow the search box as one
// types, and "Select all" and the role boxes exclude each other. Without this
// script the same form works by pressing Search. Loaded as a file (the
// page's Content-Security-Policy allows no inline script); it fetches the
// same page and swaps in its rows, so the server's rendering is the only one.
(function () {
  "use strict";
  var form = document.querySelector("form[data-typeahead]");
  if (!form || !window.fetch || !window.DOMParser || !window.URLSearchParams) {
    return;
  }
  var all = form.querySelector("input[data-select-all]");
  var roles = form.querySelectorAll('input[name="role"]');
  var query = form.querySelector('input[name="q"]');
  var status = form.querySelector('select[name="status"]');
  var summary = form.querySelector(".rolefilter summary");
  var timer = 0;
  var latest = 0;

  function anyRole() {
    for (var i = 0; i < roles.length; i++) {
      if (roles[i].checked) {
        return true;
      }
    }
    return false;
  }

  function url() {
    var params = new URLSearchParams();
    var data = new FormData(form);
    data.forEach(function (value, key) {
      if (key !== "all" && value !== "") {
        params.append(key, value);
      }
    });
    var s = params.toString();
    return form.getAttribute("action") + (s ? "?" + s : "");
  }

  function swap(doc, id) {
    var now = document.getElementById(id);
    var next = doc.getElementById(id);
    if (now && next) {
      now.replaceWith(document.importNode(next, true));
    }
  }

  function refresh() {
    var target = url();
    var mine = ++latest;
    fetch(target, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (res) {
        if (!res.ok) {
          throw new Error("status " + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        if (mine !== latest) {
          return; // a newer search is on its way
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(doc, "member-rows");
        swap(doc, "member-next");
        // The count is a live region: change its text, keep the node, so
        // screen readers announce the new count.
        var count = document.getElementById("member-count");
        var fresh = doc.getElementById("member-count");
        if (count && fresh) {
          count.textContent = fresh.textContent;
        }
        if (window.history && history.replaceState) {
          history.replaceState(null, "", target);
        }
      })
      .catch(function () {
        // Keep the page as it is: the Search button still works.
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 200);
  }

  function rolesChanged() {
    if (summary) {
      var names = [];
      for (var i = 0; i < roles.length; i++) {
        var label = roles[i].checked && form.querySelector('label[for="' + roles[i].id + '"]');
        if (label) {
          names.push(label.textContent.trim());
        }
      }
      summary.textContent = "Roles: " + (names.length ? names.join(", ") : "all");
    }
    later();
  }

  if (all) {
    all.addEventListener("change", function () {
      if (all.checked) {
        for (var i = 0; i < roles.length; i++) {
          roles[i].checked = false;
        }
      } else if (!anyRole()) {
        return; // the next role ticked filters; until then everyone shows
      }
      rolesChanged();
    });
  }
  for (var i = 0; i < roles.length; i++) {
    roles[i].addEventListener("change", function () {
      if (all) {
        all.checked = !anyRole();
      }
      rolesChanged();
    });
  }
  if (query) {
    query.addEventListener("input", later);
  }
  if (status) {
    status.addEventListener("change", later);
  }
})();
