/* 审批弹窗: asks the server every minute how many approvals wait for the signed-in user and
   shows a small box when a new one arrived since the last one this browser showed (kept in
   localStorage, so every open tab does not pop up the same task). CSP-clean: no inline code,
   text comes from the server in the user's language. */
(function () {
  "use strict";
  var anchor = document.getElementById("kechi-approval-poll");
  if (!anchor || !window.fetch) { return; }
  var url = anchor.getAttribute("data-url");
  var KEY = "kechi-approval-seen";
  var EVERY = 60000;

  function seen() { try { return parseInt(window.localStorage.getItem(KEY) || "0", 10) || 0; } catch (e) { return 0; } }
  function remember(id) { try { window.localStorage.setItem(KEY, String(id)); } catch (e) { /* private mode */ } }

  function show(data) {
    var old = document.getElementById("kechi-approval-popup");
    if (old) { old.parentNode.removeChild(old); }
    var box = document.createElement("div");
    box.id = "kechi-approval-popup";
    box.className = "kechi-approval-popup card shadow";
    box.setAttribute("role", "alert");
    var body = document.createElement("div");
    body.className = "card-body p-3";
    var head = document.createElement("div");
    head.className = "font-weight-bold mb-1";
    head.textContent = data.text + "（" + data.count + "）";
    var title = document.createElement("div");
    title.className = "small mb-2 text-truncate";
    title.textContent = data.latest.title;
    var open = document.createElement("a");
    open.className = "btn btn-sm btn-primary mr-2";
    open.href = data.latest.url;
    open.textContent = data.open;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-sm btn-outline-secondary";
    close.textContent = data.close;
    close.addEventListener("click", function () { box.parentNode.removeChild(box); });
    body.appendChild(head); body.appendChild(title); body.appendChild(open); body.appendChild(close);
    box.appendChild(body);
    document.body.appendChild(box);
  }

  function poll() {
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.latest) { return; }
        if (data.latest.id > seen()) {
          remember(data.latest.id);
          show(data);
        }
      })
      .catch(function () { /* offline or signed out: try again next time */ });
  }

  poll();
  window.setInterval(poll, EVERY);
})();
