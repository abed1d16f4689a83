/* Print pages: the 打印 button prints; opened with ?autoprint the page prints itself once loaded;
   a print preview's template chooser opens the same record with the chosen template. */
(function () {
  "use strict";
  document.querySelectorAll("[data-kechi-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("select[data-kechi-print-template]").forEach(function (select) {
    select.addEventListener("change", function () { if (select.value) { window.location.assign(select.value); } });
  });
  if (/[?&]autoprint/.test(window.location.search)) {
    window.addEventListener("load", function () { window.print(); });
  }
}());
