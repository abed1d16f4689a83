/* 写跟进 (手机版): the position, when the salesperson allows it, into the form's hidden fields.
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
})();
