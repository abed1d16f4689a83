/* The knowledge picker in a ticket's reply form (templates/admin/knowledge/_reply_picker.html):
   typing searches the published knowledge base (a JSON endpoint, at most ten answers); 插入到回复
   puts the answer's plain text into the reply box at the cursor. Results are built with
   textContent, never innerHTML: an article's text is data, not markup. */
(function () {
  "use strict";

  // Where the agent last left the cursor in the reply; before they have clicked into it, the end
  // (an untouched box reports 0, which would put the answer before their greeting).
  function insertAtCursor(box, text) {
    var start = box.selectionStart, end = box.selectionEnd;
    if (typeof start !== "number" || !box.hasAttribute("data-kb-touched")) { start = end = box.value.length; }
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function note(list, text) {
    var li = document.createElement("li");
    li.className = "small text-muted";
    li.textContent = text;
    list.appendChild(li);
  }

  function show(picker, list, results) {
    list.textContent = "";
    if (!results.length) { note(list, picker.getAttribute("data-kb-picker-empty")); return; }
    results.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "border-top py-1 kechi-kb-picker-item";
      var title = document.createElement("strong");
      title.textContent = item.title;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-link btn-sm py-0 kechi-kb-insert";
      button.textContent = picker.getAttribute("data-kb-picker-insert");
      button.addEventListener("click", function () {
        var box = document.querySelector(picker.getAttribute("data-kb-picker-target"));
        if (box) { insertAtCursor(box, item.answer); }
      });
      var snippet = document.createElement("div");
      snippet.className = "small text-muted";
      snippet.textContent = item.snippet;
      li.appendChild(title);
      li.appendChild(button);
      li.appendChild(snippet);
      list.appendChild(li);
    });
  }

  function wire(picker) {
    var box = document.querySelector(picker.getAttribute("data-kb-picker-target"));
    if (box) {
      ["focus", "click", "keyup"].forEach(function (name) {
        box.addEventListener(name, function () { box.setAttribute("data-kb-touched", "1"); });
      });
    }
    var input = picker.querySelector(".kechi-kb-picker-q");
    var list = picker.querySelector(".kechi-kb-picker-results");
    var timer = null, asked = 0;
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // not the reply form's submit
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var term = input.value.trim(), mine = ++asked;
        if (!term) { list.textContent = ""; return; }
        fetch(picker.getAttribute("data-kb-picker-url") + "?q=" + encodeURIComponent(term),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
          .then(function (data) { if (mine === asked) { show(picker, list, data.results || []); } })
          .catch(function () { if (mine === asked) { list.textContent = ""; note(list, picker.getAttribute("data-kb-picker-failed")); } });
      }, 250);
    });
    // Words typed before this script ran (a slow page) are searched now rather than lost.
    if (input.value.trim()) { input.dispatchEvent(new Event("input")); }
  }

  function start() { document.querySelectorAll(".kechi-kb-picker").forEach(wire); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
