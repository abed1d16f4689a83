"""外勤签到: a salesperson checks in at a customer with the phone's position. The check-in is a
拜访 follow-up too (rules/followups.record: the timeline, the reports and the recycle clock count
it), with the photo, if any, attached to that follow-up (rules/attachments and its limits). When
the browser gives no position, the visit can still be saved as a plain 拜访 follow-up
(`visit_without_location`): nothing typed is lost.

Spoofed positions are out of scope; the accuracy the phone reported is kept and shown, and one
worse than POOR_ACCURACY metres is marked 定位精度低."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from models.attachment import AttachmentEntity
from models.checkin import CheckIn
from models.customer import Contact, Customer, FollowUp, FollowUpKind
from models.org import DataScope, Department, User
from rules import attachments, followups, scope
from rules.actor import Actor
from rules.errors import InvalidValue, OutOfScope
from rules.exporting import ExportColumn

POOR_ACCURACY = 500  # metres: beyond this the position says little about where the visit was
MAX_ACCURACY = 10_000_000  # metres (a quarter of the Earth): larger is no measurement (rules/followups.location too)
SIX_PLACES = Decimal("0.000001")

Photo = tuple[BinaryIO, str | None]


# A check-in's position is a follow-up's (rules/followups.Location); a check-in refuses what a
# follow-up would silently leave out (`position` below).
Position = followups.Location


def _number(value: Any) -> Decimal | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidValue(_l("定位数据无法识别，请重新签到")) from None
    if not number.is_finite():
        raise InvalidValue(_l("定位数据无法识别，请重新签到"))
    return number


def position(latitude: Any, longitude: Any, accuracy: Any) -> Position:
    """The position a form sent (text as the browser wrote it), or a refusal that says what is
    wrong: no position at all, or coordinates no place on earth has."""
    lat, lng, acc = _number(latitude), _number(longitude), _number(accuracy)
    if lat is None or lng is None:
        raise InvalidValue(_l("没有获取到位置，无法签到：请允许浏览器定位后重试，或仅保存拜访记录"))
    if not -90 <= lat <= 90 or not -180 <= lng <= 180:
        raise InvalidValue(_l("坐标超出范围（纬度 -90 至 90，经度 -180 至 180），无法签到"))
    if acc is not None and acc < 0:
        raise InvalidValue(_l("定位精度不能为负数"))
    if acc is not None and acc >= MAX_ACCURACY:
        acc = None  # no phone reports that: an unknown accuracy, not a refused visit
    metres = int(acc.to_integral_value()) if acc is not None else None
    return Position(lat.quantize(SIX_PLACES), lng.quantize(SIX_PLACES), metres)


def is_poor(accuracy: int | None) -> bool:
    return accuracy is not None and accuracy > POOR_ACCURACY


def accuracy_text(accuracy: int | None) -> str:
    """±35 米; an accuracy worse than POOR_ACCURACY says so."""
    if accuracy is None:
        return str(_l("精度未知"))
    text = str(_l("±%(m)d 米", m=accuracy))
    return text + str(_l("，定位精度低")) if is_poor(accuracy) else text


def coordinates_text(check_in: CheckIn) -> str:
    """31.230400, 121.473700 (latitude, longitude, as a map app takes them)."""
    if check_in.latitude is None or check_in.longitude is None:
        return ""
    return f"{Decimal(check_in.latitude).quantize(SIX_PLACES)}, {Decimal(check_in.longitude).quantize(SIX_PLACES)}"


def customer_for(session: Session, actor: Actor, customer_id: Any) -> Customer:
    """The customer a visit is recorded at: one the actor may add follow-ups to (OutOfScope,
    a 404, otherwise)."""
    return scope.get_in_scope(session, Customer, customer_id, actor, scope.customer_contribute_clause(actor))


def _contact(session: Session, customer: Customer, contact_id: Any) -> int | None:
    if contact_id in (None, ""):
        return None
    found = session.scalar(select(Contact.id).where(Contact.customer_id == customer.id,
                                                    Contact.id == normalize_id(contact_id)))
    if found is None:
        raise InvalidValue(_l("所选联系人不属于该客户"))
    return found


def normalize_id(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise OutOfScope(_l("记录不存在")) from None


def address_of(customer: Customer) -> str:
    """The customer's address as a visitor would read it (区域 then street), or ""."""
    parts = [customer.province, customer.city, customer.district]
    region = "".join(p for i, p in enumerate(parts) if p and p not in parts[:i])  # 上海市上海市 → 上海市
    street = (customer.address or "").strip()
    return street if region and street.startswith(region) else region + street


def _visit(session: Session, actor: Actor, customer: Customer, *, content: str, contact_id: int | None,
           photo: Photo | None, now: datetime, today: date, root: str | Path) -> FollowUp:
    follow_up = followups.record(session, FollowUp(customer_id=customer.id, contact_id=contact_id,
                                                   kind=FollowUpKind.VISIT.value, content=content, happened_at=now),
                                 actor=actor, now=now, today=today)
    if photo is not None:
        attachments.upload(session, entity=AttachmentEntity.FOLLOW_UP, record_id=follow_up.id, files=[photo],
                           actor=actor, now=now, root=root, note=str(_l("外勤签到照片")))
    return follow_up


def check_in(session: Session, actor: Actor, customer: Customer, *, latitude: Any, longitude: Any, accuracy: Any,
             note: str | None, contact_id: Any = None, photo: Photo | None = None, now: datetime, today: date,
             root: str | Path) -> CheckIn:
    """签到: the check-in and its 拜访 follow-up (with the photo attached), or a refusal and
    nothing saved (the caller rolls back and shows the form again as typed)."""
    where = position(latitude, longitude, accuracy)
    note = (note or "").strip() or None
    contact = _contact(session, customer, contact_id)
    address = address_of(customer) or None
    content = str(_l("外勤签到：%(a)s（%(acc)s）", a=address or str(_l("客户未登记地址")),
                     acc=accuracy_text(where.accuracy)))
    follow_up = _visit(session, actor, customer, content=content + ("：" + note if note else ""), contact_id=contact,
                       photo=photo, now=now, today=today, root=root)
    # The 拜访 follow-up carries where it was written, as one written on the phone with the
    # position allowed does (the admin's follow-up page shows it).
    follow_up.latitude, follow_up.longitude, follow_up.location_accuracy = where.latitude, where.longitude, where.accuracy
    made = CheckIn(user_id=actor.user_id, customer_id=customer.id, contact_id=contact, latitude=where.latitude,
                   longitude=where.longitude, accuracy=where.accuracy, checked_at=now, note=note,
                   address=address[:255] if address else None, follow_up_id=follow_up.id)
    session.add(made)
    session.flush()
    return made


def visit_without_location(session: Session, actor: Actor, customer: Customer, *, note: str | None,
                           contact_id: Any = None, photo: Photo | None = None, now: datetime, today: date,
                           root: str | Path) -> FollowUp:
    """仅保存拜访记录: the browser gave no position, the visit is still recorded (no check-in)."""
    note = (note or "").strip()
    content = str(_l("拜访（未获取到位置，未签到）")) + (("：" + note) if note else "")
    return _visit(session, actor, customer, content=content, contact_id=_contact(session, customer, contact_id),
                  photo=photo, now=now, today=today, root=root)


def _day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(timezone.utc)
    return start, end


def of_day(actor: Actor, day: date, tz: str, *, user_id: int | None = None,
           department_id: int | None = None) -> Select:
    """A day's check-ins the actor may see (the admin list and the phone's list alike), newest
    first; narrowed to one salesperson, or to the staff of a department and its sub-departments."""
    start, end = _day_bounds(day, tz)
    stmt = (select(CheckIn).options(joinedload(CheckIn.customer), joinedload(CheckIn.user))
            .where(scope.clause_for(CheckIn, actor), CheckIn.checked_at >= start, CheckIn.checked_at < end)
            .order_by(CheckIn.checked_at.desc(), CheckIn.id.desc()))
    if user_id is not None:
        stmt = stmt.where(CheckIn.user_id == user_id)
    if department_id is not None:
        path = select(Department.path).where(Department.id == department_id).scalar_subquery()
        stmt = stmt.where(CheckIn.user_id.in_(
            select(User.id).join(Department, User.department_id == Department.id)
            .where(Department.path.startswith(path))))
    return stmt


def sees_team(actor: Actor) -> bool:
    """A manager (any scope wider than one's own records) looks at the team's check-ins too."""
    return actor.data_scope is not DataScope.SELF


def team(session: Session, actor: Actor) -> list[User]:
    """The staff whose check-ins the actor's scope covers (the salesperson drop-down)."""
    return list(session.scalars(select(User).where(scope.owner_clause(User.id, actor), User.active.is_(True))
                                .order_by(User.display_name)))


def export_columns() -> list[ExportColumn]:
    """导出Excel of a day's list: the columns the page shows, coordinates as numbers."""
    return [ExportColumn(key, label, lambda row, k=key: row.get(k)) for key, label in (
        ("checked_at", _l("时间")), ("user", _l("业务员")), ("customer", _l("客户")), ("latitude", _l("纬度")),
        ("longitude", _l("经度")), ("accuracy", _l("精度（米）")), ("poor", _l("定位精度低")),
        ("address", _l("客户地址")), ("note", _l("备注")))]


def export_rows(rows: list[CheckIn], tz: str) -> list[dict[str, Any]]:
    zone = ZoneInfo(tz)
    return [{"checked_at": c.checked_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "user": c.user.display_name,
             "customer": c.customer.name, "latitude": c.latitude, "longitude": c.longitude, "accuracy": c.accuracy,
             "poor": str(_l("是")) if is_poor(c.accuracy) else "", "address": c.address or "", "note": c.note or ""}
            for c in rows]
