// RecoveryBridge pages: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }

  // Show times in the visitor's own zone: the search form sends it, and internal links carry it.
  function withZone(href) {
    if (!zone || !href || href.charAt(0) === "#") return href;
    var url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin || url.searchParams.has("tz")) return href;
    var path = url.pathname;
    if (path !== "/" && path.indexOf("/meetings/") !== 0) return href;
    url.searchParams.set("tz", zone);
    return url.toString();
  }

  function setUp() {
    var form = document.getElementById("search-form");
    if (form && zone && form.elements.tz && !form.elements.tz.value) {
      form.elements.tz.value = zone;
    }

    // The language switcher submits itself when JavaScript runs; its button is for when it does not.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    var where = form && form.elements.where;
    if (where) {
      where.addEventListener("input", function () {
        form.elements.lat.value = "";
        form.elements.lon.value = "";
      });
    }

    var locate = document.getElementById("use-location");
    if (form && locate && navigator.geolocation) {
      locate.hidden = false;
      var status = document.getElementById("location-status");
      locate.addEventListener("click", function () {
        status.textContent = locate.dataset.busyText;
        navigator.geolocation.getCurrentPosition(
          function (position) {
            form.elements.lat.value = position.coords.latitude.toFixed(5);
            form.elements.lon.value = position.coords.longitude.toFixed(5);
            where.value = "";
            status.textContent = "";
            form.requestSubmit();
          },
          function () { status.textContent = locate.dataset.errorText; },
          { maximumAge: 600000, timeout: 15000 }
        );
      });
    }

    setUpCopyButtons();
  }

  // "Copy the link": the clipboard when the browser lets us; otherwise the text is selected, with
  // a word on how to copy it, so the button never fails silently.
  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.dataset.copy);
      var status = document.getElementById(button.dataset.copyStatus);
      if (!field || !status) return;
      button.hidden = false;
      function fallback() {
        field.focus();
        field.select();
        status.textContent = button.dataset.fallbackText;
      }
      button.addEventListener("click", function () {
        status.textContent = "";
        if (!navigator.clipboard || !window.isSecureContext) {
          fallback();
          return;
        }
        navigator.clipboard.writeText(field.value).then(
          function () { status.textContent = button.dataset.copiedText; },
          fallback
        );
      });
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && !link.hasAttribute("download")) {
      var href = withZone(link.getAttribute("href"));
      if (href !== link.getAttribute("href")) link.setAttribute("href", href);
    }
  });

  // Leave empty fields out of the request, so the address bar holds a short URL worth sharing.
  document.addEventListener("htmx:configRequest", function (event) {
    var params = event.detail.parameters;
    if (!params || typeof params.forEach !== "function") return;
    var empty = [];
    params.forEach(function (value, key) {
      if (value === "") empty.push(key);
    });
    empty.forEach(function (key) { params.delete(key); });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
