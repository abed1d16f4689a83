/* 销售机会看板: HTML5 drag and drop of cards between stage columns and onto 赢单 / 输单.
   Markup (templates/admin/opportunity_board/board.html):
     .kechi-board[data-move-url][data-csrf]     the board; the URL carries the board's filters
     [data-target="stage:<id>" | "won" | "lost"] where a card may be dropped
     .kechi-card[data-id][data-version]          a card (draggable when the user may move it)
   A drop POSTs to the move URL; the server answers {ok, message, version, columns}. On a refusal
   the card stays where it was and the reason is shown; on success the card moves (or leaves the
   board, for 赢单/输单) and every column's count and sums are replaced by the server's. */
(function () {
  "use strict";
  var board = document.querySelector(".kechi-board");
  if (!board || board.getAttribute("data-editable") !== "1") { return; }
  var texts = board.querySelector(".kechi-board-texts");
  var message = board.querySelector(".kechi-board-message");
  var panel = board.querySelector(".kechi-board-outcome");
  var dragged = null;
  var pending = null;  // {card, target} waiting for the outcome panel's 确定

  function say(text, ok) {
    message.textContent = text;
    message.classList.remove("d-none", "alert-success", "alert-danger");
    message.classList.add(ok ? "alert-success" : "alert-danger");
  }

  function updateColumns(columns) {
    (columns || []).forEach(function (c) {
      var col = board.querySelector('.kechi-board-column[data-stage="' + c.stage + '"]');
      if (!col) { return; }
      col.querySelector(".kechi-col-count").textContent = c.count;
      col.querySelector(".kechi-col-amount").textContent = c.amount;
      col.querySelector(".kechi-col-weighted").textContent = c.weighted;
      var empty = col.querySelector(".kechi-board-empty");
      if (empty) { empty.classList.toggle("d-none", c.count > 0); }
    });
  }

  function send(card, target, extra) {
    var body = new URLSearchParams();
    body.set("csrf_token", board.getAttribute("data-csrf"));
    body.set("id", card.getAttribute("data-id"));
    body.set("version", card.getAttribute("data-version"));
    body.set("target", target);
    Object.keys(extra || {}).forEach(function (k) { body.set(k, extra[k]); });
    card.classList.add("kechi-dragging");
    fetch(board.getAttribute("data-move-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false, message: texts.getAttribute("data-failed")}; });
    }).then(function (answer) {
      card.classList.remove("kechi-dragging");
      if (!answer.ok) {
        say(answer.message || texts.getAttribute("data-failed"), false);
        return;  // the card was never moved: it stays in its column
      }
      card.setAttribute("data-version", answer.version);
      if (target.indexOf("stage:") === 0) {
        var col = board.querySelector('[data-target="' + target + '"] .kechi-board-cards');
        col.insertBefore(card, col.firstChild);
      } else {
        card.parentNode.removeChild(card);
      }
      updateColumns(answer.columns);
      say(answer.message, true);
    }).catch(function () {
      card.classList.remove("kechi-dragging");
      say(texts.getAttribute("data-failed"), false);
    });
  }

  function askOutcome(card, target) {
    pending = {card: card, target: target};
    var title = card.getAttribute("data-title");
    panel.querySelector(".kechi-outcome-question").textContent =
      texts.getAttribute(target === "won" ? "data-won" : "data-lost").replace("{t}", title);
    panel.querySelector(".kechi-outcome-reason").classList.toggle("d-none", target !== "lost");
    panel.querySelector("#kechi-reason").value = "";
    panel.querySelector("#kechi-note").value = "";
    panel.classList.remove("d-none");
    panel.querySelector(target === "lost" ? "#kechi-reason" : ".kechi-outcome-ok").focus();
  }

  panel.querySelector(".kechi-outcome-ok").addEventListener("click", function () {
    if (!pending) { return; }
    var extra = {note: panel.querySelector("#kechi-note").value};
    if (pending.target === "lost") { extra.reason = panel.querySelector("#kechi-reason").value; }
    send(pending.card, pending.target, extra);
    pending = null;
    panel.classList.add("d-none");
  });
  panel.querySelector(".kechi-outcome-cancel").addEventListener("click", function () {
    pending = null;
    panel.classList.add("d-none");
  });

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".kechi-card");
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
  });
  board.addEventListener("dragend", function () {
    dragged = null;
    board.querySelectorAll(".kechi-over").forEach(function (el) { el.classList.remove("kechi-over"); });
  });
  board.addEventListener("dragover", function (event) {
    var zone = dragged && event.target.closest && event.target.closest("[data-target]");
    if (!zone) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    zone.classList.add("kechi-over");
  });
  board.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-target]");
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("kechi-over"); }
  });
  board.addEventListener("drop", function (event) {
    var zone = dragged && event.target.closest && event.target.closest("[data-target]");
    if (!zone) { return; }
    event.preventDefault();
    zone.classList.remove("kechi-over");
    var card = dragged, target = zone.getAttribute("data-target");
    dragged = null;
    if (card.closest("[data-target]") === zone) { return; }  // dropped where it was
    if (target === "won" || target === "lost") { askOutcome(card, target); } else { send(card, target); }
  });
}());
