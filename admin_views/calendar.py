"""日程: the calendar page (FullCalendar, served from static/vendor), its JSON feed, a drag to move
or resize, the event form and page, the team view and the .ics download. Every decision is in
rules/events.py; this module reads the request and renders the answer."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, get_flashed_messages, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from admin_views import params
from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.navigation import back_url
from admin_views.opportunity_board import link
from admin_views.transaction import transaction
from models import Contact, Customer, DictItem, Event, Opportunity, User, db
from models.dictionary import DictKind
from rules import calendar_days, dictionaries, events, ical, recurrence, scope
from rules.errors import NeedsConfirmation, OutOfScope, RuleViolation
from rules.recurrence import REPEAT_LABELS, Repeat

REMIND_CHOICES = [("", _l("不提醒")), ("0", _l("开始时")), ("5", _l("提前 5 分钟")), ("15", _l("提前 15 分钟")),
                  ("30", _l("提前 30 分钟")), ("60", _l("提前 1 小时")), ("1440", _l("提前 1 天")),
                  ("2880", _l("提前 2 天"))]
PALETTE_SIZE = 8  # static/css/kechi-calendar.css: one colour per person in the team view
# A team's calendar over more than a week (the month grid) shows each person's daily count, not
# every event: fifty people's month is tens of thousands of items.
SUMMARY_AFTER = timedelta(days=8)
VIEWS = ("dayGridMonth", "timeGridWeek", "timeGridDay", "listWeek")
_PLACEHOLDER_ID = "987654321"


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _zone() -> ZoneInfo:
    return ZoneInfo(_tz())


def _instant(value: Any, *, name: str) -> datetime:
    """A moment as FullCalendar sends it: "2026-11-23", "2026-11-23T09:00:00" (the firm's local
    time) or with an offset."""
    text = params.clean_text(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise params.BadParameter(gettext("%(name)s“%(v)s”无法识别", name=name, v=text)) from None
    params.check_year(moment.date(), name=name)
    return moment.replace(tzinfo=_zone()) if moment.tzinfo is None else moment


def _local_text(moment: datetime, all_day: bool) -> str:
    local = moment.astimezone(_zone())
    return local.strftime("%Y-%m-%d") if all_day else local.strftime("%Y-%m-%dT%H:%M:%S")


def _time(value: Any, *, name: str) -> time | None:
    text = params.clean_text(value)
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise params.BadParameter(gettext("%(name)s“%(v)s”无法识别，请按 09:30 的格式填写", name=name, v=text)) from None


def _form_input(form: Any) -> tuple[events.EventInput, bool]:
    """The event as typed, and whether the user confirmed a conflict warning."""
    all_day = bool(form.get("all_day"))
    first = params.date_param(form.get("start_date"), name=gettext("开始日期"))
    last = params.date_param(form.get("end_date"), name=gettext("结束日期")) or first
    starts_at = ends_at = None
    if not all_day and first is not None:
        start_time = _time(form.get("start_time"), name=gettext("开始时间")) or time(9, 0)
        end_time = _time(form.get("end_time"), name=gettext("结束时间"))
        starts_at = datetime.combine(first, start_time, _zone())
        ends_at = datetime.combine(last, end_time, _zone()) if end_time else starts_at + timedelta(hours=1)
    try:
        repeat = Repeat(form.get("repeat") or Repeat.NONE)
    except ValueError:
        raise params.BadParameter(gettext("重复方式无法识别")) from None
    rule = recurrence.preset(repeat, until=params.date_param(form.get("repeat_until"), name=gettext("重复截止日期")),
                             count=params.optional_int(form.get("repeat_count"), name=gettext("重复次数"),
                                                       maximum=recurrence.MAX_OCCURRENCES * 10),
                             custom=params.clean_text(form.get("rrule")))
    data = events.EventInput(
        title=params.clean_text(form.get("title")), starts_at=starts_at, ends_at=ends_at, all_day=all_day,
        first_day=first, last_day=last, place=params.clean_text(form.get("place")),
        event_type_id=params.id_or_none(form.get("event_type")), customer_id=params.id_or_none(form.get("customer")),
        contact_id=params.id_or_none(form.get("contact")), opportunity_id=params.id_or_none(form.get("opportunity")),
        description=params.clean_text(form.get("description")), rrule=rule,
        remind_minutes=params.optional_int(form.get("remind"), name=gettext("提醒"),
                                           maximum=events.MAX_REMIND_MINUTES),
        participant_ids=params.ids_list(form.getlist("participants")))
    return data, bool(form.get("confirm"))


def _form_values(event: Event) -> dict[str, Any]:
    """The event as the form shows it (strings, as if typed)."""
    zone = _zone()
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    if event.all_day:
        end = end - timedelta(days=1)
    repeat, until, count, text = recurrence.describe(event.rrule)
    return {"title": event.title, "all_day": "1" if event.all_day else "", "start_date": start.date().isoformat(),
            "start_time": start.strftime("%H:%M"), "end_date": end.date().isoformat(),
            "end_time": end.strftime("%H:%M"), "place": event.place or "", "event_type": str(event.event_type_id or ""),
            "customer": str(event.customer_id or ""), "contact": str(event.contact_id or ""),
            "opportunity": str(event.opportunity_id or ""), "description": event.description or "",
            "repeat": repeat.value, "repeat_until": until.isoformat() if until else "",
            "repeat_count": str(count or ""), "rrule": text if repeat == Repeat.CUSTOM else "",
            "remind": "" if event.remind_minutes is None else str(event.remind_minutes),
            "participants": [str(p.user_id) for p in event.participants if p.user_id != event.owner_id],
            "version": str(event.version)}


class _Values(dict):
    """Typed form values with the .get/.getlist of request.form, for re-rendering."""

    def getlist(self, key: str) -> list[str]:
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


class CalendarView(PermissionView):
    permission = SIGNED_IN

    def record_url(self, event_id: int) -> str:
        return url_for("event.details", event_id=event_id)

    # --- the calendar ---------------------------------------------------------------------------

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        team_view = request.args.get("team") == "1"
        members = events.team(db.session, actor) if team_view else []
        chosen = params.ids_list(request.args.getlist("user")) or [u.id for u in members]
        local_now = now().astimezone(_zone())
        feed = url_for(".feed", user=chosen) if team_view else url_for(".feed")
        return self.render("admin/calendar/index.html", team_view=team_view, members=members, chosen=chosen,
                           has_team=len(events.team(db.session, actor)) > 1 if not team_view else True,
                           feed_url=feed, now_text=local_now.strftime("%Y-%m-%dT%H:%M:%S"),
                           initial_date=(params.date_param(request.args.get("date"), name=gettext("日期"))
                                         or local_now.date()).isoformat(),
                           initial_view=request.args.get("view") if request.args.get("view") in VIEWS
                           else "timeGridWeek",
                           locale="zh-cn" if str(current_user.locale or "zh_CN").startswith("zh") else "en",
                           palette={u.id: i % PALETTE_SIZE for i, u in enumerate(members)}, time_zone=_tz())

    @expose("/feed")
    def feed(self) -> Any:
        """The occurrences in [start, end) as FullCalendar's event objects, times in local wall time."""
        actor = current_actor()
        start = _instant(request.args.get("start"), name=gettext("开始"))
        end = _instant(request.args.get("end"), name=gettext("结束"))
        users = params.ids_list(request.args.getlist("user"))
        order = {uid: i % PALETTE_SIZE for i, uid in enumerate(users)}
        try:
            if len(users) > 1 and end - start > SUMMARY_AFTER:
                return jsonify(self._loads(events.day_loads(db.session, actor, start, end, tz=_tz(), user_ids=users),
                                           order))
            items = events.occurrences(db.session, actor, start, end, tz=_tz(), user_ids=users or None)
        except RuleViolation as refusal:
            raise params.BadParameter(str(refusal)) from None
        names = {i: n for i, n in db.session.execute(select(User.id, User.display_name).where(
            User.id.in_({u for o in items for u in o.user_ids})))} if users else {}
        out = []
        event_url = self.record_url(int(_PLACEHOLDER_ID))  # one url_for, not one per item
        for o in items:
            if o.kind == "next_contact":
                url, classes = link("customer.details_view", id=o.id), ["kechi-cal-next-contact"]
            else:
                url = event_url.replace(_PLACEHOLDER_ID, str(o.id))
                classes = [f"kechi-cal-u{order.get(o.user_ids[0], 0)}"] if users else []
            title = o.title
            if users and len(users) > 1:
                title = "、".join(names.get(u, "") for u in o.user_ids) + "：" + title
            if o.event_type and o.kind == "event":
                title = f"[{o.event_type}] {title}"
            out.append({"id": f"{o.kind}:{o.id}:{o.key}", "title": title, "start": _local_text(o.starts_at, o.all_day),
                        "end": _local_text(o.ends_at, o.all_day), "allDay": o.all_day, "editable": o.editable,
                        "url": url, "classNames": classes + (["kechi-cal-repeat"] if o.repeating else []),
                        "extendedProps": {"eventId": o.id, "version": o.version, "place": o.place or ""}})
        return jsonify(out)

    @expose("/days")
    def days(self) -> Any:
        """农历 and 节假日/调休 of the days in [start, end), for the day cells."""
        start = _instant(request.args.get("start"), name=gettext("开始")).date()
        end = _instant(request.args.get("end"), name=gettext("结束")).date()
        try:
            found = calendar_days.labels(db.session, start, end - timedelta(days=1))
        except RuleViolation as refusal:
            raise params.BadParameter(str(refusal)) from None
        response = jsonify({d.day.isoformat(): {
            "lunar": d.lunar, "lunar_date": d.lunar_date, "holiday": d.holiday or "", "kind": d.kind or "",
            "mark": str(calendar_days.KIND_LABELS[d.kind]) if d.kind else ""} for d in found})
        response.cache_control.private = True
        response.cache_control.max_age = 3600
        return response

    def _loads(self, loads: list[events.DayLoad], order: dict[int, int]) -> list[dict[str, Any]]:
        """A team's month: one all-day item per person and day ("张三：6 项日程"), opening that
        person's day."""
        names = {i: n for i, n in db.session.execute(select(User.id, User.display_name).where(
            User.id.in_({d.user_id for d in loads})))}
        title = gettext("%(who)s：%(n)d 项日程")  # the translated pattern, filled per item below
        day_url = url_for(".index", team=1, view="timeGridDay")
        return [{"id": f"load:{d.user_id}:{d.day.isoformat()}", "allDay": True, "editable": False,
                 "title": title % {"who": names.get(d.user_id, ""), "n": d.count}, "start": d.day.isoformat(),
                 "classNames": [f"kechi-cal-u{order.get(d.user_id, 0)}", "kechi-cal-load"],
                 "url": f"{day_url}&user={d.user_id}&date={d.day.isoformat()}"} for d in loads]

    @expose("/move", methods=["POST"])
    def move(self) -> Any:
        """A drag or resize: the new times with the version the page had. A conflict comes back as
        {conflict: true, message}; the page asks and sends again with confirm=1."""
        if not CsrfForm(request.form).validate():
            return jsonify(ok=False, message=gettext("页面已过期，请刷新后重试")), 400
        form = request.form
        event_id = params.int_id(form.get("id"))
        version = params.optional_int(form.get("version"), name=gettext("版本"), minimum=1) or 0
        all_day = form.get("all_day") == "1"
        starts_at = _instant(form.get("start"), name=gettext("开始"))
        ends_at = _instant(form.get("end"), name=gettext("结束")) if form.get("end") else None
        conflict = False
        moved: Event | None = None
        with transaction() as outcome:
            try:
                moved = events.move(db.session, event_id, starts_at=starts_at, ends_at=ends_at, all_day=all_day,
                                    actor=current_actor(), now=now(), tz=_tz(), expected_version=version,
                                    confirmed=form.get("confirm") == "1")
            except NeedsConfirmation:
                conflict = True
                raise
            outcome.done(gettext("日程已移到 %(when)s", when=events.when_text(moved, _tz())))
        messages = [str(m) for _, m in get_flashed_messages(with_categories=True)]
        return jsonify(ok=outcome.ok, conflict=conflict, message="；".join(messages),
                       version=moved.version if outcome.ok and moved is not None else None)

    # --- one event ------------------------------------------------------------------------------

    def _choices(self, values: Any, owner_id: int) -> dict[str, Any]:
        actor = current_actor()
        colleagues = list(db.session.scalars(select(User).where(User.active.is_(True), User.id != owner_id)
                                             .order_by(User.display_name)))
        customer = contact_choices = opportunity = None
        customer_id = params.id_or_none(values.get("customer"))
        if customer_id:
            customer = db.session.scalar(scope.scoped(select(Customer), Customer, actor).where(
                Customer.id == customer_id))
            if customer is not None:
                contact_choices = list(db.session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                                          .order_by(Contact.is_primary.desc(), Contact.id)))
        opportunity_id = params.id_or_none(values.get("opportunity"))
        if opportunity_id:
            opportunity = db.session.scalar(scope.scoped(select(Opportunity), Opportunity, actor).where(
                Opportunity.id == opportunity_id))
        return {"colleagues": colleagues, "types": dictionaries.items(db.session, DictKind.EVENT_TYPE),
                "repeats": list(REPEAT_LABELS.items()), "reminds": REMIND_CHOICES, "customer": customer,
                "contacts": contact_choices or [], "opportunity": opportunity}

    def _render_form(self, values: Any, *, event: Event | None, warning: bool) -> Any:
        return self.render("admin/calendar/form.html", values=values, event=event, warning=warning,
                           back=back_url(request.values.get("back"), url_for(".index")),
                           **self._choices(values, event.owner_id if event else current_actor().user_id))

    @expose("/new", methods=["GET", "POST"])
    def create(self) -> Any:
        if request.method == "GET":
            day = params.date_param(request.args.get("date"), name=gettext("日期")) or now().astimezone(_zone()).date()
            hour = _time(request.args.get("time"), name=gettext("时间"))
            start = hour or time(min(max(now().astimezone(_zone()).hour + 1, 8), 20), 0)
            end = (datetime.combine(day, start) + timedelta(hours=1)).time()
            values = _Values(start_date=day.isoformat(), end_date=day.isoformat(), start_time=start.strftime("%H:%M"),
                             end_time=end.strftime("%H:%M"), all_day="1" if request.args.get("all_day") else "",
                             customer=request.args.get("customer", ""), opportunity=request.args.get("opportunity", ""),
                             remind="15", repeat=Repeat.NONE.value)
            return self._render_form(values, event=None, warning=False)
        event = self._save(lambda data, confirmed: events.create(
            db.session, data, actor=current_actor(), now=now(), tz=_tz(), confirmed=confirmed), None)
        if not isinstance(event, Event):
            return event
        return redirect(url_for(".index", date=event.starts_at.astimezone(_zone()).date().isoformat()))

    def _save(self, change: Any, event: Event | None) -> Any:
        """The form's POST: the event saved by `change(data, confirmed)`, or the form again with
        what was typed, the reason flashed and, for a conflict, the box to confirm it."""
        warning = False
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return self._render_form(request.form, event=event, warning=False)
        with transaction() as outcome:
            data, confirmed = _form_input(request.form)
            try:
                saved = change(data, confirmed)
            except NeedsConfirmation:
                warning = True
                raise
            outcome.done(gettext("日程“%(t)s”已保存", t=saved.title))
        if not outcome.ok:
            return self._render_form(request.form, event=db.session.get(Event, event.id) if event else None,
                                     warning=warning)
        return saved

    def _load(self, event_id: int) -> Event:
        try:
            return scope.get_in_scope(db.session, Event, event_id, current_actor())
        except OutOfScope:
            abort(404)

    def _may_edit(self, event: Event) -> bool:
        clause = scope.write_clause_for(Event, current_actor())
        return db.session.scalar(select(Event.id).where(Event.id == event.id, clause)) is not None

    @expose("/<int:event_id>/")
    def details(self, event_id: int) -> Any:
        event = self._load(event_id)
        occurrences = list(recurrence.occurrences(starts_at=event.starts_at, ends_at=event.ends_at, rule=event.rrule,
                                                  exdates=event.exdates, tz=_tz(), window_start=now(),
                                                  window_end=now() + timedelta(days=400)))[:5]
        repeat, until, count, _text = recurrence.describe(event.rrule)
        event_type = db.session.get(DictItem, event.event_type_id) if event.event_type_id else None
        linked = {model: db.session.scalar(scope.scoped(select(model), model, current_actor()).where(model.id == ident))
                  for model, ident in ((Customer, event.customer_id), (Contact, event.contact_id),
                                       (Opportunity, event.opportunity_id)) if ident}
        return self.render("admin/calendar/details.html", event=event, may_edit=self._may_edit(event),
                           next_occurrences=occurrences, repeat_label=REPEAT_LABELS[repeat], until=until, count=count,
                           event_type=event_type, customer=linked.get(Customer), contact=linked.get(Contact),
                           opportunity=linked.get(Opportunity), remind_label=dict(REMIND_CHOICES).get(
                               "" if event.remind_minutes is None else str(event.remind_minutes)),
                           customer_url=link("customer.details_view", id=event.customer_id) if event.customer_id
                           else None,
                           opportunity_url=link("opportunity.details_view", id=event.opportunity_id)
                           if event.opportunity_id else None)

    @expose("/<int:event_id>/edit", methods=["GET", "POST"])
    def edit(self, event_id: int) -> Any:
        event = self._load(event_id)
        if not self._may_edit(event):
            flash(gettext("只有日程的创建人或其上级可以修改此日程"), "error")
            return redirect(self.record_url(event.id))
        if request.method == "GET":
            return self._render_form(_Values(_form_values(event)), event=event, warning=False)
        seen = params.optional_int(request.form.get("version"), name=gettext("版本"), minimum=1)
        saved = self._save(lambda data, confirmed: events.update_event(
            db.session, event_id, data, actor=current_actor(), now=now(), tz=_tz(), expected_version=seen,
            confirmed=confirmed), event)
        if not isinstance(saved, Event):
            return saved
        return redirect(self.record_url(event_id))

    @expose("/<int:event_id>/delete", methods=["POST"])
    def delete(self, event_id: int) -> Any:
        self._load(event_id)
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(self.record_url(event_id))
        occurrence = params.clean_text(request.form.get("occurrence")) or None
        with transaction() as outcome:
            events.delete(db.session, event_id, actor=current_actor(), now=now(), tz=_tz(),
                          expected_version=params.optional_int(request.form.get("version"), name=gettext("版本"),
                                                               minimum=1),
                          occurrence=occurrence)
            outcome.done(gettext("已删除这一次日程") if occurrence else gettext("日程已删除"))
        if not outcome.ok:
            return redirect(self.record_url(event_id))
        return redirect(url_for(".index"))

    # --- export ---------------------------------------------------------------------------------

    @expose("/calendar.ics")
    def ics(self) -> Any:
        """导出日历: one's own calendar (what one owns or takes part in), from 90 days back."""
        actor = current_actor()
        rows = ical.own_events(db.session, actor.user_id, now() - timedelta(days=90))
        body = ical.calendar(rows, tz=_tz(), host=request.host.split(":")[0] or "kechi", stamp=now(),
                             name=gettext("%(n)s的日程", n=actor.display_name))
        return Response(body, mimetype="text/calendar",
                        headers={"Content-Disposition": "attachment; filename=kechi-calendar.ics"})


def views() -> list[Any]:
    return [CalendarView(name=_l("日程"), category=OFFICE, endpoint="event", **fa("fa-calendar"))]

