"""留资表单: public web forms whose posts land as leads in a lead pool.

A post passes, in this order: the per-address limit (N posts per address per 10 minutes, counted
in the database so every web process sees the same count; a flood is refused and writes
nothing), the honeypot (a field people never see: filled, the post is thanked and dropped), the
CAPTCHA (the login page's: rules/auth.py, one image per attempt), the form's own required fields
and formats, and then rules.leads.create_lead, the rule every lead goes through. A refused post
is still counted, so guessing CAPTCHAs costs the guesser's address its quota.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.lead import Lead
from models.lead_form import LeadForm, LeadFormPost
from models.pool import Pool, PoolKind
from rules import auth, entry, leads, normalize
from rules.errors import InvalidValue, RuleViolation, SubmissionFlood

WINDOW = timedelta(minutes=10)
SHOWN, REQUIRED = "shown", "required"
# The lead fields a form may ask for, in the order shown; the name (称呼) is always asked.
FIELDS: dict[str, Any] = {
    "company": _l("公司名称"), "contact_name": _l("联系人"), "position": _l("职务"), "mobile": _l("手机"),
    "phone": _l("电话"), "email": _l("邮箱"), "wechat": _l("微信"), "address": _l("地址"), "notes": _l("留言"),
}
NAME_LABEL = _l("您的称呼")
LIMITS = {"name": 128, "company": 128, "contact_name": 64, "position": 64, "mobile": 32, "phone": 32, "email": 128,
          "wechat": 64, "address": 255, "notes": 2000}
DEFAULT_FIELDS = {"company": SHOWN, "mobile": REQUIRED, "email": SHOWN, "notes": SHOWN}
CHECKED_FORMATS = ("mobile", "phone", "email")
HONEYPOT = "website"  # a name bots like to fill; hidden from people by the stylesheet
CAPTCHA_RULES = auth.ThrottleRules()  # only its CAPTCHA lifetime is read


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    required: bool


@dataclass
class Submission:
    """What became of a post: a lead, nothing (honeypot), or the visitor's mistakes by field
    ("captcha" for the image, "_form" for the post as a whole)."""

    lead: Lead | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def new_key() -> str:
    return secrets.token_urlsafe(24)


def regenerate_key(session: Session, form: LeadForm) -> str:
    """A new address for the form: the old /f/<key> stops working (a leaked link is cut off)."""
    form.key = new_key()
    session.flush()
    return form.key


def lead_pools(session: Session) -> list[Pool]:
    return list(session.scalars(select(Pool).where(Pool.kind == PoolKind.LEAD.value).order_by(Pool.id)))


def validate(session: Session, form: LeadForm) -> None:
    """The administrator's form: it lands in a lead pool, shows known fields only."""
    form.name = normalize.text(form.name)
    if not form.name:
        raise InvalidValue(_l("请填写表单名称"))
    pool = session.get(Pool, form.pool_id) if form.pool_id else None
    if pool is None or pool.kind != PoolKind.LEAD.value:
        raise InvalidValue(_l("请选择线索进入的线索池"))
    if form.max_posts_per_ip is None or form.max_posts_per_ip < 1:
        raise InvalidValue(_l("每个 IP 每 10 分钟的提交上限至少为 1"))
    form.fields = {k: v for k, v in (form.fields or {}).items() if k in FIELDS and v in (SHOWN, REQUIRED)}
    if not form.key:
        form.key = new_key()


def open_form(session: Session, key: str) -> LeadForm | None:
    """The enabled form published under `key`, or None (the page answers 404)."""
    if not key or len(key) > 64:
        return None
    return session.scalar(select(LeadForm).where(LeadForm.key == key, LeadForm.enabled.is_(True)))


def fields_of(form: LeadForm) -> list[Field]:
    chosen = form.fields or {}
    return [Field("name", NAME_LABEL, True)] + [Field(k, label, chosen[k] == REQUIRED)
                                                for k, label in FIELDS.items() if k in chosen]


def new_captcha(session: Session, *, now: datetime) -> Any:
    return auth.new_captcha(session, now=now, rules=CAPTCHA_RULES)


def submit(session: Session, form: LeadForm, raw: dict[str, Any], *, ip: str | None, now: datetime,
           captcha_id: str | None) -> Submission:
    """Take one post. Raises SubmissionFlood (nothing written) over the address's limit;
    otherwise the post is counted and the result says what became of it."""
    address = (ip or "unknown")[:64]
    recent = session.scalar(select(func.count(LeadFormPost.id)).where(
        LeadFormPost.form_id == form.id, LeadFormPost.ip == address, LeadFormPost.at > now - WINDOW)) or 0
    if recent >= form.max_posts_per_ip:
        raise SubmissionFlood(_l("提交过于频繁，请 %(m)d 分钟后再试", m=int(WINDOW.total_seconds() // 60)))
    session.execute(delete(LeadFormPost).where(LeadFormPost.at < now - WINDOW * 6))  # the table stays small
    post = LeadFormPost(form_id=form.id, ip=address, at=now)
    session.add(post)
    session.flush()
    if normalize.text(raw.get(HONEYPOT)):
        return Submission()  # a bot: thanked like a person, and forgotten
    result = Submission()
    if not auth.solve_captcha(session, captcha_id, raw.get("captcha"), now=now, rules=CAPTCHA_RULES):
        result.errors["captcha"] = str(_l("验证码错误，请重新输入") if normalize.text(raw.get("captcha"))
                                       else _l("请输入图片中的验证码"))
    values = _values(form, raw, result.errors)
    if result.errors:
        return result
    if form.source_id:
        values["source_id"] = form.source_id
    try:  # the rule refuses before it writes: a refused post leaves only its count
        result.lead = leads.create_lead(session, values, actor=None, now=now, pool_id=form.pool_id)
    except RuleViolation:
        # The rule's reason may name existing customers; a visitor is told only that it failed.
        result.errors["_form"] = str(_l("提交未成功，请检查填写的信息，或直接与我们联系"))
        return result
    post.lead_id = result.lead.id
    session.flush()
    return result


def _values(form: LeadForm, raw: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The shown fields as typed, each checked as the form says (required, length, format)."""
    values: dict[str, Any] = {}
    for f in fields_of(form):
        value = normalize.text(raw.get(f.name)) if f.name != "notes" else (raw.get(f.name) or "").strip()
        if not value:
            if f.required:
                errors[f.name] = str(_l("请填写%(f)s", f=f.label))
            continue
        if len(value) > LIMITS[f.name]:
            errors[f.name] = str(_l("%(f)s不能超过 %(n)d 个字", f=f.label, n=LIMITS[f.name]))
            continue
        problem = entry.format_problem(f.name, value) if f.name in CHECKED_FORMATS else None
        if problem:
            errors[f.name] = problem
            continue
        values[f.name] = value
    return values
