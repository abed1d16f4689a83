/* 回款计划 editor (templates/admin/payment_plans/_for_document.html): add and remove rows, split
   what is not yet received into equal instalments months apart, and show the sum and its
   difference from the total while typing. Money is counted in cents, as rules/payment_plans.py
   does (split_equally: equal cents, the remainder on the last instalment); the server checks
   everything again and refuses a plan that does not add up. */
(function () {
  "use strict";

  function cents(text) {
    var clean = String(text || "").replace(/[¥,，\s]/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(clean)) { return null; }
    var parts = clean.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function yuan(value) {
    var sign = value < 0 ? "-" : "";
    var abs = Math.abs(value);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + "¥" + whole + "." + String(abs % 100).padStart(2, "0");
  }

  function plain(value) {
    return Math.floor(value / 100) + "." + String(value % 100).padStart(2, "0");
  }

  function addMonths(iso, months) {
    var p = iso.split("-").map(function (x) { return parseInt(x, 10); });
    var index = p[1] - 1 + months;
    var year = p[0] + Math.floor(index / 12), month = index % 12;
    var last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    var day = Math.min(p[2], last);
    return year + "-" + String(month + 1).padStart(2, "0") + "-" + String(day).padStart(2, "0");
  }

  function setup(form) {
    var body = form.querySelector("[data-kechi-plan-body]");
    var template = form.querySelector("[data-kechi-plan-template]");
    var sumOut = form.querySelector("[data-kechi-plan-sum]");
    var diffOut = form.querySelector("[data-kechi-plan-diff]");
    var total = cents(form.getAttribute("data-total")) || 0;

    function rows() { return Array.prototype.slice.call(body.querySelectorAll("[data-kechi-plan-row]")); }

    function refresh() {
      var sum = 0, unreadable = false;
      rows().forEach(function (row) {
        var input = row.querySelector("[data-kechi-plan-amount]");
        if (input.value.trim() === "") { return; }
        var value = cents(input.value);
        if (value === null) { unreadable = true; input.classList.add("is-invalid"); return; }
        input.classList.remove("is-invalid");
        sum += value;
      });
      sumOut.textContent = yuan(sum);
      var diff = total - sum;
      diffOut.classList.remove("text-danger", "text-success");
      if (diff === 0 && !unreadable) {
        diffOut.textContent = form.getAttribute("data-text-equal");
        diffOut.classList.add("text-success");
      } else {
        var key = diff > 0 ? "data-text-short" : "data-text-over";
        diffOut.textContent = form.getAttribute(key).replace("{d}", yuan(Math.abs(diff)));
        diffOut.classList.add("text-danger");
      }
    }

    function newRow(due, amount) {
      var row = template.content.firstElementChild.cloneNode(true);
      row.querySelector("[name=due_on]").value = due || "";
      row.querySelector("[name=amount]").value = amount || "";
      body.appendChild(row);
      return row;
    }

    form.addEventListener("input", refresh);
    form.addEventListener("click", function (event) {
      var el = event.target.closest ? event.target.closest("button") : null;
      if (!el) { return; }
      if (el.hasAttribute("data-kechi-plan-remove")) {
        el.closest("[data-kechi-plan-row]").remove();
        refresh();
      } else if (el.hasAttribute("data-kechi-plan-add")) {
        var last = rows().slice(-1)[0];
        var due = last ? last.querySelector("[name=due_on]").value : "";
        newRow(due ? addMonths(due, 1) : "", "").querySelector("[name=due_on]").focus();
        refresh();
      } else if (el.hasAttribute("data-kechi-plan-split")) {
        var n = parseInt(form.querySelector("[data-kechi-plan-split-n]").value, 10);
        var first = form.querySelector("[data-kechi-plan-split-first]").value;
        var months = parseInt(form.querySelector("[data-kechi-plan-split-months]").value, 10) || 1;
        if (!(n >= 1 && n <= 120) || !first) { return; }
        var kept = 0;
        rows().forEach(function (row) {
          if (row.hasAttribute("data-booked")) {
            kept += cents(row.querySelector("[data-kechi-plan-amount]").value) || 0;
          } else {
            row.remove();
          }
        });
        var left = Math.max(total - kept, 0);
        var share = Math.floor(left / n);
        for (var i = 0; i < n; i += 1) {
          newRow(addMonths(first, i * months), plain(i === n - 1 ? left - share * (n - 1) : share));
        }
        refresh();
      }
    });
    refresh();
  }

  document.querySelectorAll("[data-kechi-plan-editor]").forEach(setup);
}());
