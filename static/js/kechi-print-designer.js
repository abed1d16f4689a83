/* The print template designer (admin_views/print_templates.py): the field picker inserts a field
   at the cursor of the template text last focused, and the live preview posts the unsaved form
   (without the logo file) to the preview address and shows the page in the sandboxed frame. */
(function () {
  "use strict";
  var form = document.getElementById("kechi-template-form");
  if (!form) { return; }
  var frame = document.getElementById("kechi-template-preview");
  var target = form.querySelector("[data-kechi-template-main]");
  var timer = null;
  var sent = 0;

  form.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute("data-kechi-template-source")) { target = event.target; }
  });

  function insert(text) {
    var start = target.selectionStart, end = target.selectionEnd;
    target.value = target.value.slice(0, start) + text + target.value.slice(end);
    target.selectionStart = target.selectionEnd = start + text.length;
    target.focus();
    later();
  }

  function preview() {
    var data = new FormData(form);
    data.delete("logo");
    var mine = ++sent;
    fetch(form.getAttribute("data-preview-url"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) { if (mine === sent) { frame.srcdoc = html; } });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 600);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kechi-insert]");
    if (button) { insert(button.getAttribute("data-kechi-insert")); return; }
    if (event.target.closest("[data-kechi-preview-now]")) { preview(); }
  });
  form.addEventListener("input", function (event) { if (event.target.type !== "file") { later(); } });
  form.addEventListener("change", function (event) { if (event.target.type !== "file") { later(); } });
  document.getElementById("record").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); preview(); }
  });
  preview();
}());
