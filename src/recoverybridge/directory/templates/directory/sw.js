// RecoveryBridge's service worker (served by directory/webapp.py from /sw.js). It keeps:
//  - the shell: our CSS, scripts and icons, and the "offline" and "saved meetings" pages;
//  - the last search results page the visitor opened;
//  - the pages of the meetings they saved on this device (keep.js asks for those).
// Only the public finder pages below are ever answered or kept. Staff pages, /staff/, private
// links (/q/), the API (/api/, tokens and all), sign-in and every other path go to the network
// untouched: this worker never sees their answers. Version {{ version }}.
"use strict";

var VERSION = "{{ version }}";
var STATIC_CACHE = "rb-static-" + VERSION; // replaced with each new version
var PAGES_CACHE = "rb-pages"; // the last search, the offline and saved pages
var SAVED_CACHE = "rb-saved"; // saved meetings' pages, kept until the visitor removes them
var SHELL = {{ shell|safe }};
var STATIC_PREFIX = {{ static_prefix|safe }};
var OFFLINE_URL = {{ offline_url|safe }};
var SAVED_URL = {{ saved_url|safe }};

// The finder's public pages, and nothing else.
function kind(url) {
  if (url.origin !== self.location.origin) return null;
  var path = url.pathname;
  if (path === "/") return url.search ? "search" : "home";
  if (/^\/meetings\/\d+\/$/.test(path)) return "meeting";
  if (path === OFFLINE_URL || path === SAVED_URL) return "shell";
  return null;
}

function keepable(response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) return false;
  if (/no-store/.test(response.headers.get("Cache-Control") || "")) return false;
  return (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

// Headers worth keeping with a page (not its encoding or length: the kept body is plain text).
var KEPT_HEADERS = ["Content-Type", "Content-Language", "Content-Security-Policy", "X-Saved-At"];

function pageResponse(body, from, savedAt) {
  var headers = new Headers();
  KEPT_HEADERS.forEach(function (name) {
    if (from.headers.get(name)) headers.set(name, from.headers.get(name));
  });
  if (savedAt) headers.set("X-Saved-At", savedAt);
  return new Response(body, { status: 200, headers: headers });
}

// A copy of a page with the time it was fetched, which the offline copy shows.
function stamped(response) {
  return response.text().then(function (body) {
    return pageResponse(body, response, new Date().toISOString());
  });
}

function keep(cacheName, key, response) {
  return stamped(response).then(function (copy) {
    return caches.open(cacheName).then(function (cache) { return cache.put(key, copy); });
  });
}

// One last search only: the newest replaces the one before.
function keepSearch(url, response) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(
        requests
          .filter(function (request) { return kind(new URL(request.url)) === "search"; })
          .map(function (request) { return cache.delete(request); })
      );
    });
  }).then(function () { return keep(PAGES_CACHE, url, response); });
}

function meetingKey(url) {
  return new URL(url).origin + new URL(url).pathname; // the page, whatever its ?tz=
}

// The offline copy says when it was saved: keep.js reads data-saved-at and writes it out.
function offlineCopy(response) {
  var savedAt = response.headers.get("X-Saved-At") || "";
  return response.text().then(function (body) {
    var marked = body.replace("<html", '<html data-saved-at="' + savedAt.replace(/[^0-9TZ:.\-]/g, "") + '"');
    return pageResponse(marked, response, "");
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
      return Promise.all([OFFLINE_URL, SAVED_URL].map(function (path) {
        return fetch(path, { credentials: "same-origin" }).then(function (response) {
          if (keepable(response)) return keep(PAGES_CACHE, new URL(path, self.location.origin).href, response);
        });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("rb-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function fromCache(cacheName, key) {
  return caches.open(cacheName).then(function (cache) { return cache.match(key); });
}

function offlinePage() {
  return fromCache(PAGES_CACHE, new URL(OFFLINE_URL, self.location.origin).href).then(function (page) {
    return page ? offlineCopy(page) : Response.error();
  });
}

// Pages: the network first, so a visitor online always sees the directory as it is now.
function page(event, pageKind) {
  var url = new URL(event.request.url);
  return fetch(event.request).then(
    function (response) {
      if (keepable(response)) {
        var copy = response.clone();
        if (pageKind === "search") {
          event.waitUntil(keepSearch(url.href, copy));
        } else if (pageKind === "shell") {
          event.waitUntil(keep(PAGES_CACHE, url.origin + url.pathname, copy));
        } else if (pageKind === "meeting") {
          // Only a saved meeting is kept: refresh its copy while we have the page anyway.
          event.waitUntil(fromCache(SAVED_CACHE, meetingKey(url.href)).then(function (old) {
            if (old) return keep(SAVED_CACHE, meetingKey(url.href), copy);
          }));
        }
      }
      return response;
    },
    function () {
      var key = pageKind === "meeting" ? meetingKey(url.href) : pageKind === "shell" ? url.origin + url.pathname : url.href;
      var cacheName = pageKind === "meeting" ? SAVED_CACHE : PAGES_CACHE;
      return fromCache(cacheName, key).then(function (kept) {
        return kept ? offlineCopy(kept) : offlinePage();
      });
    }
  );
}

// Our static files: the kept copy at once, refreshed in the background (hashed names never change).
function staticFile(event) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(event.request).then(function (kept) {
      var fresh = fetch(event.request).then(function (response) {
        if (response.ok && response.type === "basic") cache.put(event.request, response.clone());
        return response;
      });
      if (kept) {
        event.waitUntil(fresh.catch(function () {}));
        return kept;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(staticFile(event));
    return;
  }
  var pageKind = request.mode === "navigate" ? kind(url) : null;
  if (pageKind) event.respondWith(page(event, pageKind));
});

// keep.js asks: keep the search it just showed (htmx changed the address, not by a page load),
// keep or forget a saved meeting's page.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  var url;
  try {
    url = new URL(data.url, self.location.origin);
  } catch (error) {
    return;
  }
  var expected = { "keep-search": "search", "save-meeting": "meeting", "forget-meeting": "meeting" }[data.type];
  if (!expected || kind(url) !== expected) return;
  var done;
  if (data.type === "forget-meeting") {
    done = caches.open(SAVED_CACHE).then(function (cache) { return cache.delete(meetingKey(url.href)); });
  } else {
    done = fetch(url.href, { credentials: "same-origin" }).then(function (response) {
      if (!keepable(response)) return false;
      return data.type === "keep-search" ? keepSearch(url.href, response) : keep(SAVED_CACHE, meetingKey(url.href), response);
    });
  }
  event.waitUntil(done.then(function () {
    if (event.source) event.source.postMessage({ type: data.type + "-done", url: url.href });
  }).catch(function () {}));
});
