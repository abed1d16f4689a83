/* 报价单分享链接.
   On the quote page: data-kechi-copy="text" on a button copies the link (and says so on the button).
   On the public page: iframe[data-kechi-fit] holds the print template's page; it is laid out at its
   own width (an A4 page is ~800px) and scaled down to the phone's width, and given its full height,
   so the customer scrolls one page instead of a frame inside a page. The frame runs no script
   (sandbox without allow-scripts); allow-same-origin lets this file measure it. */
(function () {
  "use strict";

  function copied(button) {
    var label = button.getAttribute("data-kechi-copied");
    if (!label) { return; }
    var before = button.textContent;
    button.textContent = label;
    window.setTimeout(function () { button.textContent = before; }, 1500);
  }

  function fallbackCopy(text, button) {
    var box = document.createElement("textarea");
    box.value = text;
    box.setAttribute("readonly", "");
    box.style.position = "fixed";
    box.style.opacity = "0";
    document.body.appendChild(box);
    box.select();
    try { document.execCommand("copy"); copied(button); } catch (e) { window.prompt("", text); }
    document.body.removeChild(box);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-kechi-copy]") : null;
    if (!button) { return; }
    event.preventDefault();
    var text = button.getAttribute("data-kechi-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); },
                                                function () { fallbackCopy(text, button); });
    } else {
      fallbackCopy(text, button);
    }
  });

  var PAPER_PX = 720;  // a paper layout keeps its columns; narrower screens see it scaled

  function fit(frame) {
    var doc = frame.contentDocument;
    if (!doc || !doc.documentElement) { return; }
    var box = frame.parentNode;
    var available = box.clientWidth;
    frame.style.transform = "none";
    frame.style.width = Math.max(available, PAPER_PX) + "px";
    var natural = Math.max(doc.documentElement.scrollWidth, available, PAPER_PX);
    frame.style.width = natural + "px";
    frame.style.height = "0px";  // measured at no height, the page is as tall as its content, not the frame
    var height = doc.documentElement.scrollHeight;
    frame.style.height = height + "px";
    var scale = available / natural;
    frame.style.transform = scale < 1 ? "scale(" + scale + ")" : "none";
    box.style.height = Math.ceil(height * Math.min(scale, 1)) + "px";
  }

  function fitAll() {
    document.querySelectorAll("iframe[data-kechi-fit]").forEach(function (frame) {
      try { fit(frame); } catch (e) { /* left at its fixed height: it still scrolls */ }
    });
  }

  document.querySelectorAll("iframe[data-kechi-fit]").forEach(function (frame) {
    frame.addEventListener("load", function () { fit(frame); });
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") { fit(frame); }
  });
  window.addEventListener("resize", fitAll);
}());
