/* 手机版 弹屏: the 今日 page asks the reminder poll (/admin/notification/poll, the admin's own,
   rules/notifications.poll) about every half minute for reminders newer than the last one seen
   and shows each as a banner under the top bar; 查看 opens it through /m/reminders/<id>, which
   marks it read and leads to the mobile page (or the admin's). Stops once signed out. */
(function () {
  "use strict";
  var anchor = document.getElementById("m-notify");
  if (!anchor || !window.fetch) { return; }
  var url = anchor.getAttribute("data-url");
  var openUrl = anchor.getAttribute("data-open");  // .../reminders/0: the id goes in place of 0
  var KEY = "kechi-m-notify-after";
  var EVERY = 30000, STAY = 15000;
  var after = parseInt(anchor.getAttribute("data-after") || "0", 10) || 0;
  try { after = Math.max(after, parseInt(window.sessionStorage.getItem(KEY) || "0", 10) || 0); } catch (e) { /* off */ }
  var stopped = false;

  function remember(id) {
    after = Math.max(after, id || 0);
    try { window.sessionStorage.setItem(KEY, String(after)); } catch (e) { /* storage off: this page only */ }
  }

  function banner(item) {
    var box = document.createElement("div");
    box.className = "m-popup";
    box.setAttribute("role", "status");
    box.setAttribute("data-testid", "m-popup");
    var text = document.createElement("div");
    text.className = "m-popup-text";
    var head = document.createElement("small");
    head.textContent = anchor.getAttribute("data-heading");
    var title = document.createElement("div");
    title.textContent = item.title;
    text.appendChild(head); text.appendChild(title);
    var open = document.createElement("a");
    open.className = "m-btn m-btn-primary";
    open.href = openUrl.replace(/\/0$/, "/" + encodeURIComponent(item.id));
    open.textContent = anchor.getAttribute("data-view");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "m-popup-close";
    close.setAttribute("aria-label", anchor.getAttribute("data-close"));
    close.textContent = "×";
    function dismiss() { if (box.parentNode) { box.parentNode.removeChild(box); } }
    close.addEventListener("click", dismiss);
    box.appendChild(text); box.appendChild(open); box.appendChild(close);
    var stack = document.getElementById("m-popups");
    if (!stack) {
      stack = document.createElement("div");
      stack.id = "m-popups";
      stack.setAttribute("aria-live", "polite");
      document.body.appendChild(stack);
    }
    stack.appendChild(box);
    window.setTimeout(dismiss, STAY);
  }

  function poll() {
    window.fetch(url + "?after=" + encodeURIComponent(after), {
      credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        stopped = true;
        return null;
      }
      return response.status === 200 ? response.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      (data.items || []).slice(0, 3).forEach(banner);  // a phone screen holds a few, newest on top
      remember(data.last);
    }).catch(function () { /* offline: next time */ }).then(schedule);
  }

  function schedule() {
    if (stopped) { return; }
    window.setTimeout(poll, (document.hidden ? EVERY * 4 : EVERY) * (0.8 + Math.random() * 0.4));
  }
  remember(after);
  schedule();
}());
