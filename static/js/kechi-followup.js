/* Choosing a follow-up template (跟进模板) fills the content box with its text. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.querySelector("select[name=template_id], select#template");
    var content = document.querySelector("textarea[name=content]");
    if (!picker || !content) { return; }
    var url = picker.dataset.templatesUrl || "/admin/follow_up/templates.json";
    var templates = null;
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (t) { templates = t; });
    picker.addEventListener("change", function () {
      var chosen = templates && templates[picker.value];
      var question = picker.dataset.confirm || "Replace what you typed with the template?";
      if (chosen && (!content.value.trim() || confirm(question))) { content.value = chosen.content; }
    });
  });
})();

/* Open the tab named in the address (#tab-timeline) so a page comes back where the user was. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var hash = window.location.hash;
    if (!hash || !window.jQuery) { return; }
    var link = document.querySelector('a[data-toggle="tab"][href="' + hash + '"]');
    if (link) { window.jQuery(link).tab("show"); }
    window.jQuery('a[data-toggle="tab"]').on("shown.bs.tab", function (e) {
      history.replaceState(null, "", e.target.getAttribute("href"));
    });
  });
})();
