/* Order form: show each line's default unit price (from the chosen price level) as the
   placeholder of its 单价 box; typing a price overrides it, leaving it empty keeps the default. */
(function () {
  "use strict";
  var source = document.getElementById("kechi-prices");
  if (!source) { return; }
  var prices = JSON.parse(source.textContent || "{}");

  function level() {
    var el = document.getElementById("price_level");
    return el ? el.value : "";
  }

  function priceFor(productId) {
    var byLevel = prices[productId];
    if (!byLevel) { return null; }
    var chosen = level();
    if (chosen && byLevel[chosen] != null) { return byLevel[chosen]; }
    var levels = Object.keys(byLevel).sort(function (a, b) { return a - b; });
    return levels.length ? byLevel[levels[0]] : null;
  }

  // As the pages show money: ¥8,600.00, not ¥8600.00.
  function money(value) {
    var parts = String(value).split(".");
    return "¥" + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (parts.length > 1 ? "." + parts[1] : "");
  }

  function update() {
    document.querySelectorAll("select[id$='-product']").forEach(function (select) {
      var input = document.getElementById(select.id.replace(/-product$/, "-unit_price"));
      if (!input) { return; }
      var value = priceFor(select.value);
      input.placeholder = value != null ? money(value) : "";
    });
  }

  document.addEventListener("change", update);
  if (window.jQuery) { window.jQuery(document).on("change", "select", update); }  // select2 fires jQuery events
  document.addEventListener("click", function (event) {
    if (event.target && event.target.id && /-button$/.test(event.target.id)) { window.setTimeout(update, 0); }
  });
  update();

  // A second click while the order is on its way would submit it twice: the buttons wait for
  // the answer. (After the submit event, so the clicked button still goes with the form.)
  var form = document.querySelector("form.admin-form");
  if (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("[type=submit]").forEach(function (button) { button.disabled = true; });
      }, 0);
    });
  }
}());
