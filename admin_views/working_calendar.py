"""工作日历 (客户服务, service.manage): the working week SLA targets are counted in, and the
holidays and 调休 workdays of a year (从国家日历导入, or entered by hand). Rules:
rules/working_calendar.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_admin import expose

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import local_today
from admin_views.forms import CsrfForm
from admin_views.menu import SERVICE, fa
from admin_views.transaction import transaction
from models import db
from models.sla import HolidayKind, HolidaySource
from rules import working_calendar

WEEKDAYS = (_l("星期一"), _l("星期二"), _l("星期三"), _l("星期四"), _l("星期五"), _l("星期六"), _l("星期日"))
KIND_LABELS = {HolidayKind.OFF: _l("休息日"), HolidayKind.WORKDAY: _l("调休上班")}
SOURCE_LABELS = {HolidaySource.LIBRARY: _l("国家日历"), HolidaySource.ADMIN: _l("手动录入")}


def _typed_week() -> dict[int, list[str]]:
    return {d: [params.clean_text(request.form.get(f"w{d}-{i}"))[:5] for i in range(4)] for d in range(7)}


def _stored_week() -> dict[int, list[str]]:
    week = working_calendar.week_of(db.session)
    out = {}
    for d in range(7):
        flat = [m for period in week.get(d, ()) for m in period]
        out[d] = [working_calendar.hhmm(m) for m in (flat + [None] * 4)[:4]]
    return out


class WorkingCalendarView(PermissionView):
    permission = "service.manage"

    def _year(self) -> int:
        this_year = local_today().year
        year = params.optional_int(request.args.get("year"), name=gettext("年份"), minimum=2000, maximum=2100) or this_year
        return year

    def _page(self, year: int, week: dict[int, list[str]], day_form: dict[str, str] | None = None) -> Any:
        days = working_calendar.days_of_year(db.session, year)
        this_year = local_today().year
        return self.render("admin/service/working_calendar.html", year=year, years=(this_year, this_year + 1),
                           week=week, weekdays=WEEKDAYS, days=days, kind_labels=KIND_LABELS,
                           source_labels=SOURCE_LABELS, day_form=day_form or {},
                           known=working_calendar.knows_year(year))

    @expose("/")
    def index(self) -> Any:
        return self._page(self._year(), _stored_week())

    @expose("/week/", methods=("POST",))
    def save_week(self) -> Any:
        year = self._year()
        typed = _typed_week()
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return self._page(year, typed)
        with transaction(gettext("工作时间已保存")):
            working_calendar.save_week(db.session, working_calendar.week_from_text(typed))
            return redirect(url_for(".index", year=year))
        return self._page(year, typed)  # refused: the week as typed, with the reason flashed

    @expose("/day/", methods=("POST",))
    def save_day(self) -> Any:
        year = self._year()
        typed = {"day": params.clean_text(request.form.get("day"))[:10], "kind": request.form.get("kind", ""),
                 "name": params.clean_text(request.form.get("name"))[:64]}
        if not CsrfForm(request.form).validate():
            abort(400)
        day = params.date_param(typed["day"], name=gettext("日期"))
        if day is None or typed["kind"] not in {k.value for k in HolidayKind}:
            flash(gettext("请填写日期并选择休息日或调休上班"), "error")
            return self._page(year, _stored_week(), typed)
        with transaction(gettext("%(day)s 已保存", day=day.isoformat())):
            working_calendar.set_day(db.session, day, HolidayKind(typed["kind"]), typed["name"])
            return redirect(url_for(".index", year=day.year))
        return self._page(year, _stored_week(), typed)

    @expose("/day/delete/", methods=("POST",))
    def delete_day(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        day = params.date_param(request.form.get("day"), name=gettext("日期"))
        if day is None:
            abort(400)
        with transaction(gettext("%(day)s 已删除，按正常工作日历计算", day=day.isoformat())):
            working_calendar.remove_day(db.session, day)
        return redirect(url_for(".index", year=day.year))

    @expose("/import/", methods=("POST",))
    def import_official(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        year = self._year()
        with transaction() as outcome:
            done = working_calendar.import_official(db.session, year)
            if done.known:
                outcome.done(gettext("已从国家日历导入%(year)d年的 %(n)d 天节假日和调休", year=year, n=done.added))
            else:
                outcome.done(gettext("国家日历尚无%(year)d年的数据，请手动录入%(year)d年节假日", year=year), "warning")
        return redirect(url_for(".index", year=year))


def views() -> list[Any]:
    return [WorkingCalendarView(name=_l("工作日历"), category=SERVICE, endpoint="working_calendar",
                                url="/admin/working_calendar", **fa("fa-calendar-check-o"))]
