/* Ticket form: once a customer is chosen, the 关联订单 / 关联合同 drop-downs offer that customer's
   orders and contracts (a JSON look-up within the reader's scope); the rules check them again. */
(function () {
  "use strict";
  var form = document.querySelector("[data-kechi-ticket-documents]");
  var customer = document.getElementById("customer");
  if (!form || !customer) { return; }
  var url = form.getAttribute("data-kechi-ticket-documents");

  function fill(select, rows) {
    if (!select) { return; }
    var kept = select.value;
    while (select.options.length > 1) { select.remove(1); }
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = String(row[0]);
      option.textContent = row[1];
      select.appendChild(option);
    });
    select.value = kept;
    if (select.value !== kept) { select.value = ""; }
  }

  function load() {
    var id = customer.value;
    if (!id) { return; }
    fetch(url + "?customer_id=" + encodeURIComponent(id), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (!found) { return; }
        fill(document.getElementById("order_id"), found.orders);
        fill(document.getElementById("contract_id"), found.contracts);
      });
  }

  // Flask-Admin's select2 look-up tells its hidden input through jQuery's change event.
  if (window.jQuery) { window.jQuery(customer).on("change", load); }
  customer.addEventListener("change", load);
})();
