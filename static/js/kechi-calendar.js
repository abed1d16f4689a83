/* 日程: FullCalendar (static/vendor/fullcalendar) on #kechi-calendar
   (templates/admin/calendar/index.html). The element's data attributes give the feed, the move
   URL, the CSRF token, the locale, the firm's time zone and "now" (the server's clock, so the
   calendar's today is the firm's today whatever the browser's zone is).
   Times travel as the firm's local wall time without an offset. A drag or resize POSTs
   {id, version, start, end, all_day}; the server answers {ok, conflict, message, version}:
   a conflict is asked about and sent again with confirm=1; a refusal puts the event back.
   Each day cell of the month view (and each day's column head) also shows the lunar date and
   the day's holiday (休) or 调休 workday (班), from data-days-url for the visible range. */
(function () {
  "use strict";
  var el = document.getElementById("kechi-calendar");
  if (!el || !window.FullCalendar) { return; }
  var d = el.dataset;
  var message = document.querySelector(".kechi-cal-message");

  function say(text, ok) {
    if (!message || !text) { return; }
    message.textContent = text;
    message.classList.remove("d-none", "alert-success", "alert-danger");
    message.classList.add(ok ? "alert-success" : "alert-danger");
  }

  function wall(date, allDay) {
    // With a named time zone and no zone plugin FullCalendar keeps wall times in UTC fields.
    var iso = date.toISOString();
    return allDay ? iso.slice(0, 10) : iso.slice(0, 19);
  }

  var calendar;
  var days = {};  // "2026-10-01" → {lunar, lunar_date, holiday, kind, mark}

  function decorate(cell) {
    var info = days[cell.getAttribute("data-date")];
    var old = cell.querySelector(".kechi-cal-daylabel");
    if (old) { old.remove(); }
    cell.classList.remove("kechi-cal-off", "kechi-cal-workday");
    if (!info) { return; }
    var label = document.createElement("span");
    label.className = "kechi-cal-daylabel";
    if (info.kind) {
      cell.classList.add(info.kind === "off" ? "kechi-cal-off" : "kechi-cal-workday");
      var mark = document.createElement("span");
      mark.className = "kechi-cal-mark";
      mark.textContent = info.mark;
      label.appendChild(mark);
    }
    var text = document.createElement("span");
    text.className = "kechi-cal-lunar";
    text.textContent = info.holiday && info.kind === "off" ? info.holiday : info.lunar;
    label.title = [info.lunar_date, info.holiday, info.mark].filter(Boolean).join(" ");
    label.appendChild(text);
    var top = cell.querySelector(".fc-daygrid-day-top") || cell.querySelector(".fc-col-header-cell-cushion");
    if (top) { top.parentNode.insertBefore(label, top.nextSibling); }
  }

  function decorateAll() {
    el.querySelectorAll(".fc-daygrid-day[data-date], .fc-col-header-cell[data-date]").forEach(decorate);
  }

  function loadDays(info) {
    if (!d.daysUrl) { return; }
    var query = "?start=" + info.startStr.slice(0, 10) + "&end=" + info.endStr.slice(0, 10);
    fetch(d.daysUrl + query, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (found) { days = found; decorateAll(); })
      .catch(function () { /* the calendar works without the labels */ });
  }

  function send(info, confirmed) {
    var ev = info.event;
    var body = new URLSearchParams();
    body.set("csrf_token", d.csrf);
    body.set("id", ev.extendedProps.eventId);
    body.set("version", ev.extendedProps.version);
    body.set("start", wall(ev.start, ev.allDay));
    if (ev.end) { body.set("end", wall(ev.end, ev.allDay)); }
    body.set("all_day", ev.allDay ? "1" : "0");
    if (confirmed) { body.set("confirm", "1"); }
    fetch(d.moveUrl, {method: "POST", body: body, credentials: "same-origin",
                      headers: {"X-Requested-With": "XMLHttpRequest"}})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.ok) {
          ev.setExtendedProp("version", answer.version);
          say(answer.message, true);
          calendar.refetchEvents();
        } else if (answer.conflict && window.confirm(answer.message + "\n" + d.textConfirm)) {
          send(info, true);
        } else {
          info.revert();
          say(answer.message || d.textFailed, false);
        }
      })
      .catch(function () { info.revert(); say(d.textFailed, false); });
  }

  calendar = new window.FullCalendar.Calendar(el, {
    timeZone: d.timeZone,
    locale: d.locale === "zh-cn" ? "zh-cn" : "en",
    now: d.now,
    initialDate: d.initialDate,
    initialView: d.initialView || "timeGridWeek",
    firstDay: 1,
    headerToolbar: {left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,timeGridDay,listWeek"},
    buttonText: {today: d.textToday, month: d.textMonth, week: d.textWeek, day: d.textDay, list: d.textList},
    allDayText: d.textAllDay,
    noEventsContent: d.textEmpty,
    nowIndicator: true,
    editable: true,
    slotMinTime: "07:00:00",
    slotMaxTime: "22:00:00",
    scrollTime: "08:00:00",
    height: "auto",
    dayMaxEvents: 4,
    events: {url: d.feedUrl, failure: function () { say(d.textFailed, false); }},
    eventDrop: function (info) { send(info, false); },
    eventResize: function (info) { send(info, false); },
    datesSet: loadDays,
    dayCellDidMount: function (info) { decorate(info.el); },
    dayHeaderDidMount: function (info) { if (info.view.type !== "dayGridMonth") { decorate(info.el); } },
    dateClick: function (info) {
      var day = info.dateStr.slice(0, 10);
      var query = "?date=" + day + (info.allDay ? "&all_day=1" : "&time=" + info.dateStr.slice(11, 16));
      window.location.href = d.newUrl + query;
    }
  });
  calendar.render();
}());
