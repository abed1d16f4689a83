/* 弹屏: every admin page asks /admin/notification/poll?after=<id> about every half minute (with
   jitter, so 500 open pages do not ask in step; four times slower while the tab is hidden) for
   reminders newer than the last one this tab has seen, updates the bell's count and pops each
   new one up in the lower right (title, 查看, ×) until closed or for about 15 seconds. The last id
   is kept per tab (sessionStorage): a reload does not pop the same reminder again. It stops when
   the answer is no longer the user's (signed out: 401 or a redirect to the login page).
   CSP-clean: no inline code; texts come from the page in the user's language. */
(function () {
  "use strict";
  var anchor = document.getElementById("kechi-notify");
  if (!anchor || !window.fetch) { return; }
  var url = anchor.getAttribute("data-url");
  var every = (parseFloat(anchor.getAttribute("data-every")) || 30) * 1000;
  var KEY = "kechi-notify-after";
  var STAY = 15000;
  var stopped = false;
  var timer = null;
  var after = readStored();
  if (after === null) { after = parseInt(anchor.getAttribute("data-after") || "0", 10) || 0; }
  remember(after);

  function readStored() {
    try {
      var value = window.sessionStorage.getItem(KEY);
      return value === null ? null : (parseInt(value, 10) || 0);
    } catch (e) { return null; }
  }
  function remember(id) {
    after = Math.max(after, id || 0);
    try { window.sessionStorage.setItem(KEY, String(after)); } catch (e) { /* storage off: this page only */ }
  }

  function setCount(count) {
    var bell = document.getElementById("kechi-bell");
    if (!bell) { return; }
    var badge = bell.querySelector("[data-testid=bell-count]");
    if (!count) { if (badge) { badge.parentNode.removeChild(badge); } return; }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge badge-pill badge-danger";
      badge.setAttribute("data-testid", "bell-count");
      bell.appendChild(badge);
    }
    badge.textContent = count > 99 ? "99+" : String(count);  // the server counts up to 100
  }

  function stack() {
    var box = document.getElementById("kechi-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "kechi-toasts";
      box.className = "kechi-toasts";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    // Above the approvals' own box (kechi-approvals.js) when it is showing, not over it.
    var approvals = document.getElementById("kechi-approval-popup");
    box.style.bottom = approvals ? (approvals.offsetHeight + 24) + "px" : "";
    return box;
  }

  function toast(item) {
    var card = document.createElement("div");
    card.className = "card shadow kechi-toast";
    card.setAttribute("role", "status");
    card.setAttribute("data-testid", "toast");
    card.setAttribute("data-kind", item.kind);
    var body = document.createElement("div");
    body.className = "card-body p-2";
    var head = document.createElement("div");
    head.className = "d-flex align-items-start";
    var heading = document.createElement("small");
    heading.className = "text-muted mr-auto";
    heading.textContent = anchor.getAttribute("data-heading");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close ml-2";
    close.setAttribute("aria-label", anchor.getAttribute("data-close"));
    close.textContent = "×";
    var title = document.createElement("div");
    title.className = "kechi-toast-title font-weight-bold my-1";
    title.textContent = item.title;
    var open = document.createElement("a");
    open.className = "btn btn-sm btn-primary";
    open.href = item.url;
    open.textContent = anchor.getAttribute("data-open");
    function dismiss() { if (card.parentNode) { card.parentNode.removeChild(card); } }
    close.addEventListener("click", dismiss);
    head.appendChild(heading); head.appendChild(close);
    body.appendChild(head); body.appendChild(title); body.appendChild(open);
    card.appendChild(body);
    stack().appendChild(card);
    window.setTimeout(dismiss, STAY);
  }

  function answer(response) {
    if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
      stopped = true;  // signed out (or the session was ended): nothing more to ask
      return null;
    }
    if (response.status !== 200) { return null; }  // 204: nothing new; 5xx: try again later
    return response.json();
  }

  function poll() {
    timer = null;
    window.fetch(url + "?after=" + encodeURIComponent(after), {
      credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" }
    })
      .then(answer)
      .then(function (data) {
        if (!data) { return; }
        setCount(data.unread);
        (data.items || []).slice().reverse().forEach(toast);  // oldest first: the newest ends nearest the corner
        remember(data.last);
      })
      .catch(function () { /* offline: try again next time */ })
      .then(schedule);
  }

  function schedule() {
    if (stopped || timer !== null) { return; }
    var base = document.hidden ? every * 4 : every;
    timer = window.setTimeout(poll, base * (0.8 + Math.random() * 0.4));
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer !== null && !stopped) {  // back to the tab: ask now, not in minutes
      window.clearTimeout(timer);
      poll();
    }
  });
  schedule();
}());
