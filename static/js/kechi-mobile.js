/* 手机版 (/m/): the small behaviours of the mobile pages, hooked by data attributes (the CSP
   refuses inline scripts). Plain script, no framework: a slow connection pays for every byte. */
(function () {
  "use strict";
  // A destructive button asks first: <button data-confirm="确定释放该客户到公海吗？">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  // The service worker (admin_views/mobile/pwa.py): installable to the home screen, static files
  // from the phone, and the offline page when there is no network. It never stores a page.
  var manifest = document.querySelector("link[rel=manifest][data-sw]");
  if (manifest && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(manifest.getAttribute("data-sw"), { scope: manifest.getAttribute("data-scope") })
      .catch(function () { /* an old browser or a private window: the pages work without it */ });
  }
  // A photo over the attachment limit (templates/mobile/_photo.html) is refused here, before the
  // upload: a request past the site's limit would be refused without the page, losing what was typed.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (photo) {
    var error = document.querySelector("[data-photo-error]");
    if (!error) { return; }
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      var tooLarge = file && file.size > Number(photo.getAttribute("data-max-bytes"));
      error.hidden = !tooLarge;
      error.textContent = tooLarge ? photo.getAttribute("data-too-large") : "";
      if (tooLarge) { photo.value = ""; }
    });
  });
})();
