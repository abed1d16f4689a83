"""客户设置: the entry policy (录入策略), the customer code pattern, the protection policy and
whether the pool is on (数据字典 and 跟进模板 are admin_views/dictionaries.py)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import local_today
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import db
from jobs import duplicate_keys as duplicate_keys_jobs
from jobs.queue import QueueUnavailable, enqueue
from rules import duplicate_keys, entry, numbering, protection, settings

ENTRY_ACTIONS = {entry.ALLOW: _l("不检查"), entry.WARN: _l("重名提示"), entry.FORBID: _l("重名禁止")}


class CustomerSettingsView(PermissionView):
    """客户设置: the entry policy (录入策略) and the customer code pattern."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        policy = entry.load_policy(db.session)
        pattern = settings.get(db.session, "customer_code_pattern")
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
                return redirect(url_for(".index"))
            new_pattern = request.form.get("customer_code_pattern", "").strip()
            duplicates = {f: request.form.get(f"dup_{f}", entry.ALLOW) for f in entry.FIELDS}
            duplicates = {f: a if a in ENTRY_ACTIONS else entry.ALLOW for f, a in duplicates.items()}
            required = [f for f in entry.FIELDS if request.form.get(f"req_{f}")]
            with transaction(gettext("客户设置已保存")) as outcome:
                numbering.validate_pattern(new_pattern)
                settings.put(db.session, "customer_code_pattern", new_pattern)
                settings.put(db.session, "protection_policy", _protection_from(request.form))
                settings.put(db.session, "pool_enabled", bool(request.form.get("pool_enabled")))
                build = duplicate_keys.change_policy(db.session, {
                    "duplicates": duplicates, "required": required,
                    "check_formats": bool(request.form.get("check_formats"))})
            if outcome.ok:
                if build:
                    _start_building(build)
                return redirect(url_for(".index"))
            return self.render("admin/settings/customers.html", policy={
                "duplicates": duplicates, "required": required,
                "check_formats": bool(request.form.get("check_formats"))}, pattern=new_pattern,
                fields=entry.FIELDS, actions=ENTRY_ACTIONS, preview=None,
                protection_policy=_protection_from(request.form),
                pool_enabled=bool(request.form.get("pool_enabled")))
        preview = numbering.peek(db.session, "customer", pattern, today=local_today())
        pending = settings.get(db.session, entry.PENDING_POLICY)
        if pending:  # show what the administrator chose; the page says which part still waits
            policy = {**policy, "duplicates": {**policy["duplicates"], **pending["policy"]["duplicates"]}}
        return self.render("admin/settings/customers.html", policy=policy,
                           building=[entry.FIELDS[f] for f in (pending or {}).get("build", [])], pattern=pattern, fields=entry.FIELDS,
                           actions=ENTRY_ACTIONS, preview=preview,
                           protection_policy=protection.load_policy(db.session),
                           pool_enabled=settings.get(db.session, "pool_enabled"))


def _start_building(fields: list[str]) -> None:
    labels = "、".join(str(entry.FIELDS[f]) for f in fields)
    try:
        enqueue(duplicate_keys_jobs.build_pending_keys, job_timeout=24 * 3600)
    except QueueUnavailable:
        flash(gettext("任务队列暂时不可用：%(f)s的重名检查要等查重索引建立后才生效，请稍后再次保存设置", f=labels), "error")
        return
    flash(gettext("正在为%(f)s建立查重索引，完成后这些字段的重名检查才生效", f=labels), "info")


def _protection_from(form: Any) -> dict[str, Any]:
    """The protection policy as submitted; numbers that do not parse keep their defaults."""
    policy = dict(protection.DEFAULT_POLICY)
    for key in ("max_protected", "days", "warn_days"):
        value = params.setting_number(form.get(f"protect_{key}"))
        if value is not None:
            policy[key] = value
    policy["on_collision"] = "forbid" if form.get("protect_on_collision") == "forbid" else "warn"
    chosen = form.get("protect_on_unprotect")
    policy["on_unprotect"] = chosen if chosen in set(protection.OnUnprotect) else protection.OnUnprotect.KEEP.value
    return policy


def views() -> list[Any]:
    return [CustomerSettingsView(name=_l("客户设置"), category=SETTINGS, endpoint="customer_settings",
                                 **fa("fa-sliders"))]
