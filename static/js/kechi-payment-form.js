/* Order page, 登记回款/退款: the amount proposes what the chosen kind allows, 未收 for a receipt
   and 应退 for a refund (rules/receivables.py computes both; the page hands them over as data
   attributes). A number the user typed is not theirs to lose: only a proposal is replaced. */
(function () {
  "use strict";
  document.querySelectorAll("[data-kechi-pay-kind]").forEach(function (kind) {
    var form = kind.form;
    var amount = form ? form.querySelector("[data-kechi-propose-receipt]") : null;
    if (!amount) { return; }
    function proposal(value) {
      return amount.getAttribute(value === "refund" ? "data-kechi-propose-refund" : "data-kechi-propose-receipt") || "";
    }
    var proposed = amount.value;
    kind.addEventListener("change", function () {
      if (amount.value === proposed || amount.value === "") {
        amount.value = proposal(kind.value);
        proposed = amount.value;
      }
    });
  });
}());
