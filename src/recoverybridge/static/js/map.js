// The results map: every meeting of the list with a place, numbered as in the list, clustered when
// dense, on a base map of our own (Natural Earth outlines, vendored) unless MAP_TILE_URL names tiles.
// Nothing is asked of another host unless the site's operator chose a tile server.
(function () {
  "use strict";

  var map = null;
  var clusters = null;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values[key] !== undefined ? String(values[key]) : whole;
    });
  }

  // The outlines are read, mended and cut to the area shown by a worker (js/basemap-worker.js):
  // done here, the whole world's 1:50 million outlines held a phone's page still for seconds.
  var worker = null;
  var asked = 0; // the newest request: answers to older ones (an earlier view or search) are dropped

  // The part of the world to draw: the view and as much again on each side, so a pan or a zoom
  // out by one step needs nothing new.
  function areaAround(bounds) {
    var padded = bounds.pad(1);
    var west = padded.getWest();
    var east = padded.getEast();
    if (east - west >= 360) {
      west = -540;
      east = 540;
    }
    return [west, Math.max(padded.getSouth(), -90), east, Math.min(padded.getNorth(), 90)];
  }

  function outside(bounds, area) {
    return (
      (bounds.getEast() - bounds.getWest() < 360 && (bounds.getWest() < area[0] || bounds.getEast() > area[2])) ||
      Math.max(bounds.getSouth(), -90) < area[1] ||
      Math.min(bounds.getNorth(), 90) > area[3]
    );
  }

  function drawBase(box) {
    var tiles = box.dataset.tileUrl;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: box.dataset.tileAttribution || "" }).addTo(map);
      return;
    }
    // Credited from the start, so the credit line does not grow once the outlines arrive.
    map.attributionControl.addAttribution(box.dataset.baseAttribution || "");
    if (!window.Worker) {
      box.dataset.baseDrawn = "failed"; // the markers still show, on the plain background
      return;
    }
    if (!worker) worker = new Worker(box.dataset.baseWorker);
    var pane = map.createPane("basemap");
    pane.style.zIndex = 250; // under the markers and their popups
    var drawnOn = map;
    var layers = [];
    var drawnArea = null;
    function ask() {
      asked += 1;
      worker.postMessage({
        id: asked,
        url: box.dataset.baseMap,
        topojson: box.dataset.topojson,
        box: areaAround(map.getBounds()),
      });
    }
    worker.onmessage = function (event) {
      var answer = event.data;
      if (map !== drawnOn || answer.id !== asked) return;
      if (answer.failed) {
        box.dataset.baseDrawn = "failed";
        return;
      }
      layers.forEach(function (layer) { map.removeLayer(layer); });
      layers = [
        L.geoJSON(answer.land, {
          pane: "basemap",
          interactive: false,
          style: { className: "map-land", color: "#8b98a6", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 },
        }).addTo(map),
        L.geoJSON(answer.borders, {
          pane: "basemap",
          interactive: false,
          style: { className: "map-border", color: "#8b98a6", weight: 1, dashArray: "4 3", fill: false },
        }).addTo(map),
      ];
      drawnArea = answer.box;
      box.dataset.baseArea = drawnArea.join(" "); // west south east north, for the tests
      box.dataset.baseDrawn = "true";
    };
    map.on("moveend", function () {
      if (drawnArea && outside(map.getBounds(), drawnArea)) ask();
    });
    ask();
  }

  // An icon of our markup whose words are set as text (meeting names are never parsed as HTML).
  function textIcon(options, texts) {
    var icon = L.divIcon(options);
    icon.createIcon = function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      texts.forEach(function (text, index) {
        if (text !== null) div.children[index].textContent = text;
      });
      return div;
    };
    return icon;
  }

  function pinIcon(number, label) {
    return textIcon(
      {
        className: "map-pin",
        html: '<span class="map-pin-number" aria-hidden="true"></span><span class="visually-hidden"></span>',
        iconSize: [30, 30],
        iconAnchor: [15, 15],
        popupAnchor: [0, -14],
      },
      [String(number), label]
    );
  }

  // A cluster says in words how many meetings it holds, so its count is never read as a list number.
  function clusterIcon(box) {
    return function (cluster) {
      var count = cluster.getChildCount();
      var shown = fill(box.dataset.clusterShort, { count: count });
      var holder = element("span");
      holder.appendChild(element("span", "map-cluster-count", shown)).setAttribute("aria-hidden", "true");
      holder.appendChild(element("span", "visually-hidden", fill(box.dataset.clusterText, { count: count })));
      var width = Math.round(shown.length * 7.6 + 22);
      return L.divIcon({ className: "map-cluster", html: holder.innerHTML, iconSize: [width, 32] });
    };
  }

  function popupFor(item, number) {
    var box = element("div", "map-popup");
    var link = item.querySelector(".result-name a");
    var heading = element("p", "map-popup-name");
    heading.appendChild(element("span", "map-popup-number", number + ". "));
    var a = element("a", "", link ? link.textContent : "");
    a.href = link ? link.getAttribute("href") : "#";
    heading.appendChild(a);
    box.appendChild(heading);
    [".when", ".place", ".mode"].forEach(function (selector) {
      var part = item.querySelector(selector);
      if (part && part.textContent.trim()) box.appendChild(element("p", "", part.textContent.trim()));
    });
    return box;
  }

  function select(item) {
    document.querySelectorAll("#results li.result.is-selected").forEach(function (other) {
      other.classList.remove("is-selected");
    });
    item.classList.add("is-selected");
  }

  // A button on each listed meeting that has a place: "Show on the map" (its marker and popup).
  function addShowButton(box, item, marker, number) {
    var badge = element("span", "map-number", String(number));
    badge.setAttribute("aria-hidden", "true");
    var name = item.querySelector(".result-name");
    if (name) name.insertBefore(badge, name.firstChild);
    var button = element("button", "button-small map-show", box.dataset.showText);
    button.type = "button";
    button.addEventListener("click", function () {
      box.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
      clusters.zoomToShowLayer(marker, function () {
        marker.openPopup();
        var link = map.getContainer().querySelector(".leaflet-popup-content a");
        if (link) link.focus({ preventScroll: true });
      });
    });
    item.appendChild(button);
  }

  function draw() {
    var box = document.getElementById("results-map");
    if (map) {
      map.remove();
      map = null;
      clusters = null;
    }
    if (!box || typeof L === "undefined" || !L.markerClusterGroup) return;
    box.textContent = "";
    map = L.map(box, {
      scrollWheelZoom: false,
      fadeAnimation: false,
      zoomAnimation: !reducedMotion,
      maxZoom: 18,
      worldCopyJump: true,
    });
    L.control.scale({ position: "bottomleft" }).addTo(map);
    clusters = L.markerClusterGroup({
      maxClusterRadius: 36,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      animate: !reducedMotion,
      iconCreateFunction: clusterIcon(box),
    });
    var points = [];
    var unmapped = 0;
    var items = document.querySelectorAll("#results ol.results > li.result");
    items.forEach(function (item, index) {
      var number = index + 1;
      var lat = parseFloat(item.dataset.lat);
      var lon = parseFloat(item.dataset.lon);
      if (isNaN(lat) || isNaN(lon)) {
        unmapped += 1;
        return;
      }
      var link = item.querySelector(".result-name a");
      var when = item.querySelector(".when");
      var label = number + ". " + (link ? link.textContent : "") + (when ? ", " + when.textContent : "");
      var marker = L.marker([lat, lon], { icon: pinIcon(number, label), riseOnHover: true });
      marker.bindPopup(popupFor(item, number), { autoPanPadding: [16, 16] });
      marker.on("popupopen", function () { select(item); });
      clusters.addLayer(marker);
      points.push([lat, lon]);
      addShowButton(box, item, marker, number);
    });
    map.addLayer(clusters);

    var hereLat = parseFloat(box.dataset.hereLat);
    var hereLon = parseFloat(box.dataset.hereLon);
    if (!isNaN(hereLat) && !isNaN(hereLon)) {
      var here = textIcon(
        {
          className: "map-here",
          html: '<span class="map-here-dot" aria-hidden="true"></span><span class="map-here-label"></span>',
          iconSize: [20, 20],
          iconAnchor: [10, 10],
        },
        [null, box.dataset.hereText]
      );
      L.marker([hereLat, hereLon], { icon: here, interactive: false, keyboard: false, zIndexOffset: -100 }).addTo(map);
      points.push([hereLat, hereLon]);
    }

    box.dataset.markers = String(clusters.getLayers().length);
    box.dataset.unmapped = String(unmapped);
    if (points.length) {
      map.fitBounds(points, { padding: [28, 28], maxZoom: 14 });
    } else {
      map.setView([20, 0], 1);
    }
    drawBase(box); // once the view is set: only the area around it is drawn
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "results") draw();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
