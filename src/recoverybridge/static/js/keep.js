// Keep and share: the service worker (offline copies), Share on a meeting's page, meetings saved
// on this device (localStorage: no account, nothing sent to the server), the saved meetings page,
// and the "saved on" line of a copy opened offline. Every page works without this file.
(function () {
  "use strict";

  var script = document.currentScript;
  var STORE = "recoverybridge.saved-meetings";
  var PAGES_CACHE = "rb-pages"; // as sw.js names it

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values[key] !== undefined ? String(values[key]) : whole;
    });
  }

  // The page's language, written the visitor's way: "en" read in Britain is en-GB (3 Dec 2026).
  function language() {
    var page = document.documentElement.lang || "en";
    var own = (navigator.languages || [navigator.language]).filter(function (tag) {
      return tag && tag.split("-")[0] === page.split("-")[0];
    })[0];
    return own || page;
  }

  // A moment in the reader's own zone and their language's way of writing it.
  function moment(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    try {
      return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(date);
    } catch (error) {
      return date.toLocaleString();
    }
  }

  function tell(message) {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage(message);
    });
  }

  // ---------------------------------------------------------------- saved meetings (this device)

  function savedMeetings() {
    try {
      var list = JSON.parse(window.localStorage.getItem(STORE) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }

  function storeMeetings(list) {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(list));
      return true;
    } catch (error) {
      return false; // storage full or refused (private browsing): the button says so
    }
  }

  function isSaved(id) {
    return savedMeetings().some(function (meeting) { return meeting.id === id; });
  }

  function setUpMeetingActions() {
    var actions = document.getElementById("keep-actions");
    if (!actions) return;
    var status = document.getElementById("keep-status");
    actions.classList.remove("is-pending");

    var share = document.getElementById("share-meeting");
    var linkBox = document.getElementById("share-link-box");
    var linkField = document.getElementById("share-link");
    var url = new URL(share.dataset.url, window.location.href).href;
    function showLink() {
      linkField.value = url;
      linkBox.hidden = false;
      linkField.focus();
      linkField.select();
      status.textContent = share.dataset.fallbackText;
    }
    function copy() {
      if (!navigator.clipboard || !window.isSecureContext) {
        showLink();
        return;
      }
      navigator.clipboard.writeText(url).then(function () {
        linkBox.hidden = true;
        status.textContent = share.dataset.copiedText;
      }, showLink);
    }
    share.addEventListener("click", function () {
      status.textContent = "";
      var data = { title: share.dataset.title, text: share.dataset.text, url: url };
      if (navigator.share && (!navigator.canShare || navigator.canShare(data))) {
        navigator.share(data).catch(function (error) {
          if (!error || error.name !== "AbortError") copy(); // a person who closed the sheet meant it
        });
      } else {
        copy();
      }
    });

    var save = document.getElementById("save-meeting");
    var id = save.dataset.id;
    function label() {
      save.textContent = isSaved(id) ? save.dataset.removeText : save.dataset.saveText;
    }
    label();
    save.addEventListener("click", function () {
      var list = savedMeetings();
      if (isSaved(id)) {
        storeMeetings(list.filter(function (meeting) { return meeting.id !== id; }));
        tell({ type: "forget-meeting", url: save.dataset.url });
        status.textContent = save.dataset.removedText;
      } else {
        list.push({
          id: id,
          url: save.dataset.url,
          name: save.dataset.name,
          when: save.dataset.when,
          place: save.dataset.place,
          fellowship: save.dataset.fellowship,
          savedAt: new Date().toISOString(),
        });
        if (!storeMeetings(list)) return;
        tell({ type: "save-meeting", url: save.dataset.url });
        status.textContent = save.dataset.savedText;
      }
      label();
    });
  }

  function setUpSavedPage() {
    var box = document.getElementById("saved-meetings");
    if (!box) return;
    var status = document.getElementById("saved-status");
    function render() {
      box.textContent = "";
      var list = savedMeetings();
      if (!list.length) {
        var empty = document.createElement("p");
        empty.className = "empty";
        empty.textContent = box.dataset.emptyText;
        box.appendChild(empty);
        return;
      }
      var ul = document.createElement("ul");
      ul.className = "saved-list";
      list.forEach(function (meeting) {
        var li = document.createElement("li");
        li.className = "saved-meeting";
        var heading = document.createElement("h2");
        var link = document.createElement("a");
        link.href = meeting.url;
        link.textContent = meeting.name;
        heading.appendChild(link);
        li.appendChild(heading);
        [meeting.when, [meeting.fellowship, meeting.place].filter(Boolean).join(" · ")].forEach(function (text) {
          if (!text) return;
          var p = document.createElement("p");
          p.textContent = text;
          li.appendChild(p);
        });
        var when = document.createElement("p");
        when.className = "help";
        when.textContent = fill(box.dataset.savedOnText, { when: moment(meeting.savedAt) });
        li.appendChild(when);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button-small";
        remove.textContent = box.dataset.removeText;
        remove.setAttribute("aria-label", fill(box.dataset.removeLabel, { name: meeting.name }));
        remove.addEventListener("click", function () {
          storeMeetings(savedMeetings().filter(function (other) { return other.id !== meeting.id; }));
          tell({ type: "forget-meeting", url: meeting.url });
          render();
          status.textContent = fill(box.dataset.removedText, { name: meeting.name });
          var first = box.querySelector("a, button");
          (first || document.getElementById("main")).focus();
        });
        li.appendChild(remove);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    render();
  }

  // ---------------------------------------------------------------- offline copies

  // "Your last search", linked from the saved and offline pages when the worker keeps one.
  function showLastSearch() {
    var line = document.getElementById("last-search");
    if (!line || !window.caches) return;
    caches.open(PAGES_CACHE).then(function (cache) {
      return cache.keys().then(function (requests) {
        var search = requests.filter(function (request) {
          var url = new URL(request.url);
          return url.pathname === "/" && url.search;
        })[0];
        if (!search) return;
        return cache.match(search).then(function (response) {
          var link = line.querySelector("a");
          link.href = search.url;
          link.textContent = fill(line.dataset.text, { when: moment(response.headers.get("X-Saved-At")) });
          line.hidden = false;
        });
      });
    });
  }

  // A page the worker served from its copy carries the time it was saved (sw.js sets it).
  function showOfflineNote() {
    var savedAt = document.documentElement.dataset.savedAt;
    if (!savedAt || !script) return;
    var note = document.createElement("p");
    note.className = "offline-note";
    note.setAttribute("role", "status");
    note.textContent = fill(script.dataset.offlineText, { when: moment(savedAt) });
    var main = document.getElementById("main");
    if (main) main.insertBefore(note, main.firstChild);
  }

  function register() {
    if (!("serviceWorker" in navigator) || !script || !script.dataset.serviceWorker) return;
    var first = !navigator.serviceWorker.controller;
    navigator.serviceWorker.register(script.dataset.serviceWorker, { scope: "/" }).then(function () {
      // A search opened before the worker was in charge (the first visit) is kept all the same.
      if (first && isSearch()) tell({ type: "keep-search", url: window.location.href });
    }, function () {
      // No worker (a private window, an old browser): everything but offline copies still works.
    });
  }

  function isSearch() {
    return window.location.pathname === "/" && window.location.search && document.getElementById("results-heading");
  }

  // A search changed by htmx is not a page load the worker sees: ask it to keep this one, once the
  // new results are in and the address is the search's (htmx does those in either order).
  var told = "";
  function keepThisSearch() {
    if (!isSearch() || told === window.location.href) return;
    told = window.location.href;
    tell({ type: "keep-search", url: told });
  }
  document.addEventListener("htmx:pushedIntoHistory", keepThisSearch);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "results") keepThisSearch();
  });

  function setUp() {
    showOfflineNote();
    setUpMeetingActions();
    setUpSavedPage();
    showLastSearch();
    register();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
