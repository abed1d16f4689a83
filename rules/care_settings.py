"""关怀与回访设置 (one settings row, care.manage): how long a satisfaction link lasts, whether
resolved tickets get one by themselves, the address the links start with (jobs have no request
to learn it from), and the scheduled birthday care: its SMS template and hour, and how many days
ahead 待关怀 looks."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models.messaging import MessageTemplate
from rules import messaging, settings
from rules.errors import InvalidValue

KEY = "care"
DEFAULTS: dict[str, Any] = {
    "survey_auto": True,      # a survey SMS for every resolved ticket
    "survey_days": 7,         # the link lasts this many days
    "link_base": "",          # e.g. https://crm.example.com/ (the page at link_base + "s/<token>")
    "birthday_enabled": False,
    "birthday_template_id": None,
    "birthday_hour": 9,
    "upcoming_days": 7,       # 待关怀: birthdays in the next N days
}


def load(session: Session) -> dict[str, Any]:
    stored = settings.get(session, KEY) or {}
    return {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}


def _int(raw: Any, low: int, high: int, message: Any) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidValue(message)
    return int(text)


def save(session: Session, raw: dict[str, Any]) -> dict[str, Any]:
    """Check and store what the settings form sent; refusals name the field."""
    values = load(session)
    values["survey_auto"] = bool(raw.get("survey_auto"))
    values["survey_days"] = _int(raw.get("survey_days"), 1, 90, _l("评价链接有效天数应为 1 到 90 之间的整数"))
    base = str(raw.get("link_base") or "").strip()
    if base and not (base.startswith("http://") or base.startswith("https://")):
        raise InvalidValue(_l("对外访问地址应以 http:// 或 https:// 开头"))
    values["link_base"] = base.rstrip("/") + "/" if base else ""
    values["birthday_hour"] = _int(raw.get("birthday_hour"), 0, 23, _l("发送时间应为 0 到 23 点"))
    values["upcoming_days"] = _int(raw.get("upcoming_days"), 1, 60, _l("待关怀提前天数应为 1 到 60 之间的整数"))
    template_raw = str(raw.get("birthday_template_id") or "").strip()
    template = session.get(MessageTemplate, int(template_raw)) if template_raw.isdigit() else None
    values["birthday_template_id"] = template.id if template is not None else None
    values["birthday_enabled"] = bool(raw.get("birthday_enabled"))
    if values["birthday_enabled"]:
        if template is None or not template.active:
            raise InvalidValue(_l("开启生日关怀短信需要选择一个启用的短信模板"))
        if messaging.load_settings(session).get("birthday_enabled"):
            # Two schedules greeting the same people would text them twice on their birthday.
            raise InvalidValue(_l("短信中心已开启生日祝福，请先关闭那里的生日祝福，以免客户收到两条短信"))
    settings.put(session, KEY, values)
    return values


def survey_link(base: str, token: str) -> str:
    return f"{base}s/{token}"
