/* 外勤签到 (/m/customers/<id>/check-in): 签到 asks the browser for the position (high accuracy,
   with a timeout), fills the hidden fields, shows the accuracy, then submits. When the browser
   gives none, the page says why and offers 仅保存拜访记录 (the note stays in the form). Texts come
   from the form's data attributes, in the user's language. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-checkin]");
  if (!form) { return; }
  var status = form.querySelector("[data-checkin-status]");
  var go = form.querySelector("[data-checkin-go]");
  var fallback = form.querySelector("[data-checkin-fallback]");
  var poorLimit = parseInt(form.getAttribute("data-poor-limit"), 10) || 500;
  var locating = false;

  function say(attr, metres) {
    status.textContent = (form.getAttribute(attr) || "").replace("{m}", metres);
  }

  function refuse(attr) {
    locating = false;
    go.disabled = false;
    say(attr);
    status.setAttribute("data-refused", "");
    fallback.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.value !== "check_in") { return; }  // 仅保存拜访记录 needs no position
    event.preventDefault();
    if (locating) { return; }
    if (!navigator.geolocation) { refuse("data-unsupported"); return; }
    locating = true;
    go.disabled = true;
    status.removeAttribute("data-refused");
    say("data-locating");
    navigator.geolocation.getCurrentPosition(function (where) {
      var metres = Math.round(where.coords.accuracy);
      form.elements.latitude.value = where.coords.latitude.toFixed(6);
      form.elements.longitude.value = where.coords.longitude.toFixed(6);
      form.elements.accuracy.value = String(metres);
      say(metres > poorLimit ? "data-poor" : "data-located", metres);
      form.submit();  // no submitter: the server takes it as 签到
    }, function (error) {
      refuse(error && error.code === 1 ? "data-denied" : "data-unavailable");
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  });
})();
