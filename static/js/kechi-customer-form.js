/* Customer form helpers: cascading province → city → district pickers built from
   /admin/customer/regions.json (the national adcode table), and follow-up templates. */
(function () {
  "use strict";
  function $(sel, root) { return (root || document).querySelector(sel); }

  function toSelect(input) {
    var select = document.createElement("select");
    select.name = input.name; select.id = input.id; select.className = "form-control";
    select.dataset.region = input.dataset.region; select.dataset.current = input.value || "";
    select.dataset.placeholder = input.dataset.placeholder || "—";
    input.parentNode.replaceChild(select, input);
    return select;
  }

  function fill(select, names, current, placeholder) {
    select.innerHTML = "";
    var blank = document.createElement("option");
    blank.value = ""; blank.textContent = placeholder; select.appendChild(blank);
    names.forEach(function (name) {
      var opt = document.createElement("option");
      opt.value = name; opt.textContent = name; if (name === current) { opt.selected = true; }
      select.appendChild(opt);
    });
    if (current && names.indexOf(current) < 0) {  // keep what was stored even if unknown
      var keep = document.createElement("option");
      keep.value = current; keep.textContent = current; keep.selected = true; select.appendChild(keep);
    }
  }

  function initRegions() {
    var p = $("input[data-region=province]"), c = $("input[data-region=city]"), d = $("input[data-region=district]");
    if (!p || !c || !d) { return; }
    var url = (document.body.dataset.regionsUrl || "/admin/customer/regions.json");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (tree) {
      var ps = toSelect(p), cs = toSelect(c), ds = toSelect(d);
      var label = {p: ps.dataset.placeholder, c: cs.dataset.placeholder, d: ds.dataset.placeholder};
      function cities() { return Object.keys(tree[ps.value] || {}); }
      function districts() { return ((tree[ps.value] || {})[cs.value]) || []; }
      fill(ps, Object.keys(tree), ps.dataset.current, label.p);
      fill(cs, cities(), cs.dataset.current, label.c);
      fill(ds, districts(), ds.dataset.current, label.d);
      ps.addEventListener("change", function () { fill(cs, cities(), "", label.c); fill(ds, [], "", label.d); });
      cs.addEventListener("change", function () { fill(ds, districts(), "", label.d); });
    });
  }

  document.addEventListener("DOMContentLoaded", initRegions);
})();

/* Person-only and company-only fields follow the 类型 choice. */
(function () {
  "use strict";
  var PERSON = ["gender", "birthday"], COMPANY = ["legal_representative", "registered_capital"];
  function group(id) { var el = document.getElementById(id); return el && el.closest(".form-group"); }
  function sync(kind) {
    PERSON.forEach(function (id) { var g = group(id); if (g) { g.classList.toggle("kechi-hidden", kind !== "person"); } });
    COMPANY.forEach(function (id) { var g = group(id); if (g) { g.classList.toggle("kechi-hidden", kind !== "company"); } });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.getElementById("kind");
    if (!kind || !document.getElementById("legal_representative")) { return; }
    sync(kind.value);
    kind.addEventListener("change", function () { sync(kind.value); });
  });
})();
