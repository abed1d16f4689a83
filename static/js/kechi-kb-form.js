/* The knowledge-base editor form: a 问答 has a question and an answer, a 文章 a body; the boxes
   the chosen kind does not use are hidden (what they hold is kept and still sent). */
(function () {
  "use strict";
  var kind = document.getElementById("kind");
  if (!kind) { return; }
  function group(id) {
    var field = document.getElementById(id);
    return field ? field.closest(".form-group") || field.parentNode : null;
  }
  function show() {
    var qa = kind.value === "qa";
    [["question", qa], ["answer", qa], ["body", !qa]].forEach(function (pair) {
      var box = group(pair[0]);
      if (box) { box.style.display = pair[1] ? "" : "none"; }
    });
  }
  kind.addEventListener("change", show);
  show();
})();
