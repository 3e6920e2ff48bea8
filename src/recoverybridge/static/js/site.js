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

    var where = form && form.elements.where;
    if (where) {
      where.addEventListener("input", function () {
        form.elements.lat.value = "";
        form.elements.lon.value = "";
      });
    }

    var status = document.getElementById("location-status");
    var filters = document.getElementById("filters");

    // Where the visitor is, then the search: "Use my location" keeps the other choices;
    // "Near me, starting soon" also asks for meetings starting within the hour, soonest first.
    function searchHere(button, startingSoon) {
      status.textContent = button.dataset.busyText;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.lat.value = position.coords.latitude.toFixed(5);
          form.elements.lon.value = position.coords.longitude.toFixed(5);
          where.value = "";
          if (startingSoon) {
            form.elements.when.value = "now";
            form.elements.sort.value = "";
          }
          status.textContent = "";
          form.requestSubmit();
        },
        function () {
          status.textContent = button.dataset.errorText;
          if (filters) filters.open = true;
        },
        { maximumAge: 600000, timeout: 15000 }
      );
    }

    var locate = document.getElementById("use-location");
    var nearMe = document.getElementById("near-me");
    if (form && navigator.geolocation) {
      if (locate) {
        locate.hidden = false;
        locate.addEventListener("click", function () { searchHere(locate, false); });
      }
      if (nearMe) {
        nearMe.addEventListener("click", function (event) {
          event.preventDefault(); // the position instead of the form's plain "starting soon"
          searchHere(nearMe, true);
        });
      }
    }

    // A search someone asked for (the Search button, Enter, the buttons above, an order link)
    // folds the filters away and brings the results to them. A change to one filter updates
    // the results and announces their count (#result-status) but leaves focus where it is:
    // moving it on every change would pull someone out of the filters (WCAG 3.2.2).
    if (form) {
      form.addEventListener("submit", function () {
        focusAfterSwap = true;
        if (filters) filters.open = false;
      });
    }
    var results = document.getElementById("results");
    if (results) {
      results.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a[hx-get]");
        if (link) focusAfterSwap = true;
      });
    }
    if (document.getElementById("results-heading") && window.location.search) {
      focusResults();
    }

    setUpCopyButtons();
  }

  var focusAfterSwap = false;

  // Focus on the result count (or the form's errors), with the first result in view.
  function focusResults() {
    var target = document.getElementById("results-heading") || document.querySelector("#results .form-errors");
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    var first = document.querySelector("#results ol.results > li") || target;
    if (target.getBoundingClientRect().top < 0 || first.getBoundingClientRect().bottom > window.innerHeight) {
      target.scrollIntoView({ block: "start" });
    }
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
    if (link && link.hasAttribute("data-keep-search") && window.location.pathname === "/") {
      // "Which group is for me?" keeps the search as it is now (results update the address in place).
      var target = new URL(link.getAttribute("href"), window.location.href);
      target.search = window.location.search;
      link.setAttribute("href", target.pathname + target.search);
    }
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

  // After the results are swapped in (the map redraws itself: map.js).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "results") return;
    if (focusAfterSwap) {
      focusAfterSwap = false;
      focusResults();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
