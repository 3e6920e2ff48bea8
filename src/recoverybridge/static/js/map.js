// The results map: every meeting of the list with a place, numbered as in the list, clustered when
// dense, on a base map of our own (Natural Earth outlines, vendored) unless MAP_TILE_URL names tiles.
// Nothing is asked of another host unless the site's operator chose a tile server.
(function () {
  "use strict";

  var map = null;
  var clusters = null;
  var baseMap = null; // the outlines as GeoJSON, fetched once per page
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

  // The outlines come as TopoJSON (shared borders stored once, a third of the GeoJSON's size):
  // land as filled shapes, and the borders between countries as lines.
  function loadBaseMap(url) {
    if (baseMap) return Promise.resolve(baseMap);
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (topology) {
        baseMap = {
          land: acrossTheAntimeridian(topojson.feature(topology, topology.objects.land)),
          borders: topojson.mesh(topology, topology.objects.countries, function (a, b) { return a !== b; }),
        };
        return baseMap;
      });
  }

  // Natural Earth cuts shapes at the 180th meridian but keeps each one a single ring (Fiji, the
  // tip of Siberia): drawn flat, its two sides join with lines across the whole world. Each ring is
  // made continuous instead (past 180 degrees), and a copy one world over is added, so those
  // shapes show whichever side one looks from. Rings round the South Pole are left as they are.
  function acrossTheAntimeridian(land) {
    var polygons = [];
    land.features.forEach(function (feature) {
      var geometry = feature.geometry;
      (geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates).forEach(function (polygon) {
        var shift = 0; // the copy's offset: a world west of a shape drawn past 180, east of one past -180
        var rings = polygon.map(function (ring) {
          if (ring.some(function (point) { return point[1] < -89; })) return ring;
          var offset = 0;
          return ring.map(function (point, index) {
            if (index > 0) {
              var step = point[0] - ring[index - 1][0];
              if (step > 180) offset -= 360;
              else if (step < -180) offset += 360;
            }
            if (offset) shift = -offset;
            return [point[0] + offset, point[1]];
          });
        });
        polygons.push(rings);
        if (shift) {
          polygons.push(rings.map(function (ring) {
            return ring.map(function (point) { return [point[0] + shift, point[1]]; });
          }));
        }
      });
    });
    return { type: "Feature", properties: {}, geometry: { type: "MultiPolygon", coordinates: polygons } };
  }

  function drawBase(box) {
    var tiles = box.dataset.tileUrl;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: box.dataset.tileAttribution || "" }).addTo(map);
      return;
    }
    var drawnOn = map;
    loadBaseMap(box.dataset.baseMap).then(
      function (base) {
        if (map !== drawnOn) return; // the results changed while the outlines loaded
        var pane = map.createPane("basemap");
        pane.style.zIndex = 250; // under the markers and their popups
        var attribution = box.dataset.baseAttribution || "";
        L.geoJSON(base.land, {
          pane: "basemap",
          interactive: false,
          attribution: attribution,
          style: { className: "map-land", color: "#8b98a6", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 },
        }).addTo(map);
        L.geoJSON(base.borders, {
          pane: "basemap",
          interactive: false,
          style: { className: "map-border", color: "#8b98a6", weight: 1, dashArray: "4 3", fill: false },
        }).addTo(map);
        box.dataset.baseDrawn = "true";
      },
      function () {
        box.dataset.baseDrawn = "failed"; // the markers still show, on the plain background
      }
    );
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
    drawBase(box);
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

    // What the list has and the map cannot show, said in words beside the map.
    var note = document.getElementById("map-note");
    if (note) {
      note.textContent = unmapped ? fill(unmapped === 1 ? note.dataset.one : note.dataset.other, { count: unmapped }) : "";
      note.hidden = !unmapped;
    }
    box.dataset.markers = String(clusters.getLayers().length);
    box.dataset.unmapped = String(unmapped);
    if (points.length) {
      map.fitBounds(points, { padding: [28, 28], maxZoom: 14 });
    } else {
      map.setView([20, 0], 1);
    }
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
