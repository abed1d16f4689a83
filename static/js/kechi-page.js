/* What inline event handlers did before the Content-Security-Policy (admin_views/auth.py) forbade
   them: every admin page loads this file, and markup asks for a behaviour with a data attribute.
     data-kechi-confirm="question"  on a form (checked on submit) or a button (checked on click)
     data-kechi-autosubmit          on a select: submit its form when the choice changes
     data-kechi-check="selector"    on a link, with data-kechi-checked="1|0": tick or untick boxes
     data-kechi-action="name"       Flask-Admin's "with selected" batch action (actions.js)
     data-kechi-add-inline="id"     Flask-Admin's "add" of an inline list (form.js)
   Links whose href is "javascript:void(0)" (Flask-Admin's placeholders) are cancelled here, since
   the CSP would refuse to run them. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-kechi-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-kechi-autosubmit") && el.form) { el.form.submit(); }
  });

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("a, button") : null;
    if (!el) { return; }
    if (el.tagName === "BUTTON" && el.hasAttribute("data-kechi-confirm")) {
      if (!window.confirm(el.getAttribute("data-kechi-confirm"))) { event.preventDefault(); }
      return;
    }
    if (el.hasAttribute("data-kechi-check")) {
      event.preventDefault();
      var on = el.getAttribute("data-kechi-checked") === "1";
      document.querySelectorAll(el.getAttribute("data-kechi-check")).forEach(function (c) { c.checked = on; });
      return;
    }
    if (el.hasAttribute("data-kechi-action")) {
      event.preventDefault();
      window.modelActions.execute(el.getAttribute("data-kechi-action"));
      return;
    }
    if (el.hasAttribute("data-kechi-add-inline")) {
      event.preventDefault();
      window.faForm.addInlineField(el, el.getAttribute("data-kechi-add-inline"));
      return;
    }
    if (el.tagName === "A" && /^javascript:/i.test(el.getAttribute("href") || "")) { event.preventDefault(); }
  }, true);  // capture: Flask-Admin's menu scripts stop the click's propagation on the link itself
}());
