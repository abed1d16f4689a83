/* 写跟进 (手机版): the position, when the salesperson allows it, into the form's hidden fields;
   a photo over the attachment limit is refused here, before the upload, so nothing typed is lost.
   Denied or unavailable: a note says so and the follow-up saves without it. */
(function () {
  "use strict";
  var note = document.querySelector("[data-geo-note]");
  function field(name) { return document.querySelector('[data-geo="' + name + '"]'); }
  function denied() { if (note) { note.textContent = note.getAttribute("data-denied"); } }
  if (note) {
    if (!navigator.geolocation) {
      denied();
    } else {
      navigator.geolocation.getCurrentPosition(function (position) {
        var c = position.coords;
        field("latitude").value = c.latitude.toFixed(6);
        field("longitude").value = c.longitude.toFixed(6);
        field("accuracy").value = String(Math.round(c.accuracy));
        note.textContent = note.getAttribute("data-got").replace("{m}", String(Math.round(c.accuracy)));
      }, denied, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    }
  }
  var photo = document.querySelector("input[type=file][data-max-bytes]");
  var error = document.querySelector("[data-photo-error]");
  if (photo && error) {
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      var tooLarge = file && file.size > Number(photo.getAttribute("data-max-bytes"));
      error.hidden = !tooLarge;
      error.textContent = tooLarge ? photo.getAttribute("data-too-large") : "";
      if (tooLarge) { photo.value = ""; }
    });
  }
})();
