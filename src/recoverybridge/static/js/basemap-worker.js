// The base map's heavy work, off the page's thread (a phone stays responsive while it runs):
// fetch the Natural Earth outlines once, turn the TopoJSON into shapes, mend the rings cut at
// the 180th meridian, and answer each request with only the part inside the area asked for, so
// the page draws a few hundred points instead of the whole world's.
"use strict";

var world = null;

function load(message) {
  if (world) return Promise.resolve(world);
  importScripts(message.topojson);
  return fetch(message.url, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (topology) {
      world = {
        land: acrossTheAntimeridian(topojson.feature(topology, topology.objects.land)),
        borders: topojson.mesh(topology, topology.objects.countries, function (a, b) { return a !== b; }),
      };
      return world;
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
      var shift = 0;
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
  return polygons;
}

function extent(points) {
  var w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  for (var i = 0; i < points.length; i++) {
    var p = points[i];
    if (p[0] < w) w = p[0];
    if (p[0] > e) e = p[0];
    if (p[1] < s) s = p[1];
    if (p[1] > n) n = p[1];
  }
  return [w, s, e, n];
}

function inside(a, box) { return a[0] >= box[0] && a[2] <= box[2] && a[1] >= box[1] && a[3] <= box[3]; }
function apart(a, box) { return a[2] < box[0] || a[0] > box[2] || a[3] < box[1] || a[1] > box[3]; }

// Sutherland-Hodgman: a ring cut to the box, one edge of the box at a time.
function clipRing(ring, box) {
  var edges = [
    function (p) { return p[0] >= box[0]; }, function (p) { return p[0] <= box[2]; },
    function (p) { return p[1] >= box[1]; }, function (p) { return p[1] <= box[3]; },
  ];
  var cross = [
    function (a, b) { var t = (box[0] - a[0]) / (b[0] - a[0]); return [box[0], a[1] + t * (b[1] - a[1])]; },
    function (a, b) { var t = (box[2] - a[0]) / (b[0] - a[0]); return [box[2], a[1] + t * (b[1] - a[1])]; },
    function (a, b) { var t = (box[1] - a[1]) / (b[1] - a[1]); return [a[0] + t * (b[0] - a[0]), box[1]]; },
    function (a, b) { var t = (box[3] - a[1]) / (b[1] - a[1]); return [a[0] + t * (b[0] - a[0]), box[3]]; },
  ];
  var out = ring;
  for (var k = 0; k < 4 && out.length; k++) {
    var keep = edges[k];
    var input = out;
    out = [];
    for (var i = 0; i < input.length; i++) {
      var current = input[i];
      var previous = input[(i + input.length - 1) % input.length];
      if (keep(current)) {
        if (!keep(previous)) out.push(cross[k](previous, current));
        out.push(current);
      } else if (keep(previous)) {
        out.push(cross[k](previous, current));
      }
    }
  }
  return out.length >= 3 ? out : null;
}

function clipLand(polygons, box) {
  var kept = [];
  polygons.forEach(function (polygon) {
    var outer = extent(polygon[0]);
    if (apart(outer, box)) return;
    if (inside(outer, box)) { kept.push(polygon); return; }
    var rings = [];
    for (var i = 0; i < polygon.length; i++) {
      var ring = clipRing(polygon[i], box);
      if (ring) rings.push(ring);
      else if (i === 0) return; // no outer ring left: nothing of this shape is in the box
    }
    kept.push(rings);
  });
  return { type: "Feature", properties: {}, geometry: { type: "MultiPolygon", coordinates: kept } };
}

// Borders: the runs of each line whose segments reach into the box (Leaflet trims the rest).
function clipBorders(mesh, box) {
  var lines = [];
  mesh.coordinates.forEach(function (line) {
    var run = [];
    for (var i = 1; i < line.length; i++) {
      var a = line[i - 1], b = line[i];
      var touches = !apart([Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])], box);
      if (touches) {
        if (!run.length) run.push(a);
        run.push(b);
      } else if (run.length) {
        lines.push(run);
        run = [];
      }
    }
    if (run.length) lines.push(run);
  });
  return { type: "MultiLineString", coordinates: lines };
}

self.onmessage = function (event) {
  var message = event.data;
  load(message).then(
    function (loaded) {
      self.postMessage({
        id: message.id,
        box: message.box,
        land: clipLand(loaded.land, message.box),
        borders: clipBorders(loaded.borders, message.box),
      });
    },
    function (error) {
      self.postMessage({ id: message.id, failed: String(error) });
    }
  );
};
