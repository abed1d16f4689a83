/* Print pages: the 打印 button prints; opened with ?autoprint the page prints itself once loaded. */
(function () {
  "use strict";
  document.querySelectorAll("[data-kechi-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (/[?&]autoprint/.test(window.location.search)) {
    window.addEventListener("load", function () { window.print(); });
  }
}());
