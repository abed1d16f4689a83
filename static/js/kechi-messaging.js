/* 短信邮件: live preview and SMS counter beside a body, template picking, bulk-send progress. */
(function () {
  "use strict";

  function channel() {
    var checked = document.querySelector("input[name=channel]:checked");
    if (checked) { return checked.value; }
    var select = document.querySelector("select[name=channel]");
    return select ? select.value : "sms";
  }

  function toggleEmailFields() {
    var email = channel() === "email";
    document.querySelectorAll(".kechi-email-only").forEach(function (el) { el.style.display = email ? "" : "none"; });
  }

  function setupPreview(panel) {
    var body = document.getElementById("body");
    var subject = document.getElementById("subject");
    var who = document.getElementById("kechi-preview-customer");
    var token = document.querySelector("input[name=csrf_token]");
    if (!body) { return; }
    var timer = null;

    function refresh() {
      var data = new FormData();
      data.append("csrf_token", token ? token.value : "");
      data.append("channel", channel());
      data.append("body", body.value);
      data.append("subject", subject ? subject.value : "");
      data.append("customer", who ? who.value : "");
      fetch(panel.getAttribute("data-preview-url"), {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          panel.querySelector(".kechi-preview-who").textContent = answer.customer || "—";
          var text = panel.querySelector(".kechi-preview-text");
          var counter = panel.querySelector(".kechi-sms-counter");
          panel.querySelector(".kechi-preview-subject").textContent = answer.subject || "";
          if (answer.html !== undefined) {
            text.innerHTML = answer.html;  /* cleaned by nh3 on the server */
            counter.textContent = "";
          } else {
            text.textContent = answer.text || "";
            counter.textContent = answer.counter || "";
          }
          var error = panel.querySelector(".kechi-preview-error");
          error.textContent = answer.problem || answer.error || "";
        })
        .catch(function () {});
    }

    function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    [body, subject, who].forEach(function (el) { if (el) { el.addEventListener("input", later); } });
    document.querySelectorAll("input[name=channel], select[name=channel]").forEach(function (el) {
      el.addEventListener("change", function () { toggleEmailFields(); later(); });
    });
    panel.querySelectorAll(".kechi-ph").forEach(function (button) {
      button.addEventListener("click", function () {
        var ph = button.getAttribute("data-ph");
        var start = body.selectionStart || body.value.length, end = body.selectionEnd || body.value.length;
        body.value = body.value.slice(0, start) + ph + body.value.slice(end);
        body.focus();
        body.selectionStart = body.selectionEnd = start + ph.length;
        later();
      });
    });
    var templates = document.getElementById("template_id");
    if (templates) {
      templates.addEventListener("change", function () {
        var option = templates.options[templates.selectedIndex];
        if (!option.value) { return; }
        body.value = option.getAttribute("data-body");
        if (subject) { subject.value = option.getAttribute("data-subject"); }
        var radio = document.getElementById("channel-" + option.getAttribute("data-channel"));
        if (radio) { radio.checked = true; }
        toggleEmailFields();
        later();
      });
    }
    toggleEmailFields();
    refresh();
  }

  function setupProgress(box) {
    function poll() {
      fetch(box.getAttribute("data-url"), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (p) {
          box.querySelectorAll("[data-count]").forEach(function (el) { el.textContent = p[el.getAttribute("data-count")]; });
          var pct = p.total ? Math.round(100 * p.done / p.total) : 100;
          var bar = box.querySelector(".progress-bar");
          bar.style.width = pct + "%";
          bar.textContent = pct + "%";
          if (p.done < p.total) { setTimeout(poll, 1500); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".kechi-msg-preview").forEach(setupPreview);
    document.querySelectorAll(".kechi-batch").forEach(setupProgress);
  });
})();
