/* 客池CRM 手机版 service worker (scope /m/), served by admin_views/mobile/pwa.py.
   Keeps ONLY the mobile pages' static files and the offline page, in one cache named after
   their content ({{ version }}). Pages and JSON go to the network every time and are never
   stored (they hold customers); without a network a page opens the offline page instead. */
"use strict";
var CACHE = "kechi-m-static-{{ version }}";
var OFFLINE = {{ offline|tojson }};
var STATIC = {{ static_prefix|tojson }};
var PRECACHE = {{ (precache + [offline])|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(PRECACHE); })
    .then(function () { return self.skipWaiting(); }));
});

// Anything but this release's static cache goes: older releases, and whatever else may exist.
function dropOthers() {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(dropOthers().then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    // Network only; the offline page when there is none. Never a stored page.
    event.respondWith(fetch(request).catch(function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); })
        .then(function (page) { return page || new Response("offline", { status: 503 }); });
    }));
    event.waitUntil(dropOthers());
    return;
  }
  if (url.pathname.indexOf(STATIC) === 0) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request, { ignoreSearch: true }).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok && response.type === "basic") { cache.put(request, response.clone()); }
          return response;
        });
      });
    }));
  }
  // Everything else (JSON, the reminder poll, uploads): the network, untouched and unstored.
});
