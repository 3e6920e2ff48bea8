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

    drawMap();
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

  // The map shows the meetings of the list on this page; the list stays the full answer.
  var map = null;
  function drawMap() {
    var box = document.getElementById("results-map");
    if (map) {
      map.remove();
      map = null;
    }
    if (!box || typeof L === "undefined") return;
    box.textContent = "";
    map = L.map(box, { scrollWheelZoom: false, fadeAnimation: false });
    var tiles = box.dataset.tileUrl;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: box.dataset.tileAttribution || "" }).addTo(map);
    }
    var points = [];
    document.querySelectorAll("#results li.result[data-lat]").forEach(function (item) {
      var lat = parseFloat(item.dataset.lat);
      var lon = parseFloat(item.dataset.lon);
      if (isNaN(lat) || isNaN(lon)) return;
      var link = item.querySelector(".result-name a");
      var when = item.querySelector(".when");
      var marker = L.circleMarker([lat, lon], { radius: 9, color: "#08427a", weight: 2, fillColor: "#0b5cab", fillOpacity: 0.8 });
      var popup = document.createElement("div");
      var a = document.createElement("a");
      a.href = link ? link.getAttribute("href") : "#";
      a.textContent = link ? link.textContent : "";
      popup.appendChild(a);
      if (when) {
        var p = document.createElement("p");
        p.textContent = when.textContent;
        popup.appendChild(p);
      }
      marker.bindPopup(popup);
      marker.addTo(map);
      points.push([lat, lon]);
    });
    box.dataset.markers = String(points.length);
    if (points.length) {
      map.fitBounds(points, { padding: [24, 24], maxZoom: 14 });
    } else {
      map.setView([20, 0], 1);
    }
  }

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

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "results") drawMap();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
