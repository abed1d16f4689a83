"""Excel exports (客户、联系人、联系记录) of exactly the records an actor may see, row by row in
chunks, so 100k rows never sit in memory at once (adapters/spreadsheet.py writes them, with
formula-like text kept as text), and the import template's header.

Customer headers are the importer's labels (rules/importing.py), so an exported sheet imports
back unchanged."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from models.customer import Contact, Customer, FollowUp
from models.dictionary import DictItem
from models.org import Department, User
from rules import custom_fields, importing, scope
from rules.actor import Actor

CHUNK = 1000


@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: Any
    get: Callable[[dict[str, Any]], Any]


KIND_NAMES = {"company": _l("企业"), "person": _l("个人")}
GENDER_NAMES = {"male": _l("男"), "female": _l("女")}
FOLLOW_UP_KINDS = {"phone": _l("电话"), "visit": _l("拜访"), "wechat": _l("微信"), "email": _l("邮件"),
                   "sms": _l("短信"), "other": _l("其他")}


def _plain(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def _named(key: str, names: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    return lambda row: str(names[row[key]]) if row.get(key) in names else row.get(key)


def _custom(definition: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda row: custom_fields.display(definition, (row.get("custom") or {}).get(definition.key)) or None


def customer_columns(session: Session) -> list[ExportColumn]:
    """Every exportable customer column: the import catalogue (so exports import back), then
    who owns it and when, then custom fields."""
    cols = []
    for col in importing.CUSTOMER_COLUMNS:
        if col.kind == "kind":
            getter = _named("kind", KIND_NAMES)
        elif col.kind == "gender":
            getter = _named("gender", GENDER_NAMES)
        elif col.kind == "dict":
            getter = _plain(col.key + "_name")
        else:
            getter = _plain(col.key)
        cols.append(ExportColumn(col.key, col.label, getter))
    cols += [ExportColumn("owner", _l("业务员"), _plain("owner")),
             ExportColumn("department", _l("部门"), _plain("department")),
             ExportColumn("created_at", _l("创建时间"), _plain("created_at")),
             ExportColumn("last_follow_up_at", _l("最后联系"), _plain("last_follow_up_at")),
             ExportColumn("next_contact_at", _l("下次联系"), _plain("next_contact_at"))]
    for definition in custom_fields.definitions(session, "customer"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def contact_columns(session: Session) -> list[ExportColumn]:
    cols = [ExportColumn("customer", _l("所属客户"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code"))]
    for col in importing.CONTACT_COLUMNS[1:]:
        if col.kind == "gender":
            getter = _named("gender", GENDER_NAMES)
        elif col.kind == "bool":
            getter = lambda row, k=col.key: str(_l("是")) if row.get(k) else str(_l("否"))  # noqa: E731
        else:
            getter = _plain(col.key)
        cols.append(ExportColumn(col.key, col.label, getter))
    for definition in custom_fields.definitions(session, "contact"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def follow_up_columns(session: Session) -> list[ExportColumn]:
    return [ExportColumn("happened_at", _l("联系时间"), _plain("happened_at")),
            ExportColumn("customer", _l("客户名称"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code")),
            ExportColumn("contact", _l("联系人"), _plain("contact")),
            ExportColumn("kind", _l("联系方式"), _named("kind", FOLLOW_UP_KINDS)),
            ExportColumn("content", _l("联系内容"), _plain("content")),
            ExportColumn("user", _l("业务员"), _plain("user")),
            ExportColumn("next_contact_at", _l("下次联系"), _plain("next_contact_at"))]


COLUMNS = {"customer": customer_columns, "contact": contact_columns, "follow_up": follow_up_columns}
MODELS = {"customer": Customer, "contact": Contact, "follow_up": FollowUp}
ENTITIES = {"customer": _l("客户"), "contact": _l("联系人"), "follow_up": _l("联系记录")}


def _local(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return value


class Rows:
    """Reads records by id in chunks, each re-checked against the actor's scope (a forged or
    stale id list can never widen what is exported), in the order of the ids."""

    def __init__(self, session: Session, entity: str, *, actor: Actor, tz: str) -> None:
        self.session, self.entity, self.actor, self.tz = session, entity, actor, ZoneInfo(tz)
        self.dicts = {i.id: i.name for i in session.scalars(select(DictItem))}
        self.users = {u.id: u.display_name for u in session.scalars(select(User))}
        self.departments = {d.id: d.name for d in session.scalars(select(Department))}

    def _select(self, ids: list[int]) -> Any:
        """Plain columns, not ORM objects: an export reads 100k rows and changes none."""
        model = MODELS[self.entity]
        where: ColumnElement[bool] = and_(scope.clause_for(model, self.actor), model.id.in_(ids))
        columns = list(model.__table__.columns)
        if self.entity == "customer":
            primary = aliased(Contact)
            return (select(*columns, primary.name.label("contact_name"), primary.mobile.label("contact_mobile"),
                           primary.position.label("contact_position"))
                    .outerjoin(primary, and_(primary.customer_id == Customer.id, primary.is_primary.is_(True)))
                    .where(where))
        if self.entity == "contact":
            return (select(*columns, Customer.name.label("customer"), Customer.code.label("customer_code"))
                    .join(Customer, Customer.id == Contact.customer_id).where(where))
        contact = aliased(Contact)
        return (select(*columns, Customer.name.label("customer"), Customer.code.label("customer_code"),
                       contact.name.label("contact"))
                .join(Customer, Customer.id == FollowUp.customer_id)
                .outerjoin(contact, contact.id == FollowUp.contact_id).where(where))

    def _row(self, found: Any) -> tuple[int, dict[str, Any]]:
        values = dict(found._mapping)
        if self.entity == "customer":
            values.update(owner=self.users.get(values["owner_id"]),
                          department=self.departments.get(values["department_id"]))
            for key in ("category", "source", "industry", "value_level", "stage", "credit_rating"):
                values[key + "_name"] = self.dicts.get(values.get(key + "_id"))
        elif self.entity == "follow_up":
            values["user"] = self.users.get(values["user_id"])
        return values["id"], {k: _local(v, self.tz) for k, v in values.items()}

    def __call__(self, ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        chunk: list[int] = []
        for ident in ids:
            chunk.append(ident)
            if len(chunk) >= CHUNK:
                yield from self._chunk(chunk)
                chunk = []
        if chunk:
            yield from self._chunk(chunk)

    def _chunk(self, ids: list[int]) -> Iterator[dict[str, Any]]:
        by_id = dict(self._row(found) for found in self.session.execute(self._select(ids)))
        for ident in ids:
            if ident in by_id:
                yield by_id[ident]


def cell_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value)
    return value


def table(columns: list[ExportColumn], rows: Iterable[dict[str, Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the cell values of an export, row by row (written by adapters.spreadsheet)."""
    getters = [c.get for c in columns]
    return [str(c.label) for c in columns], ([cell_value(get(row)) for get in getters] for row in rows)


def template_header(columns: list[importing.Column], required: set[str]) -> list[tuple[str, bool, str | None]]:
    """The import template's header cells: (text, required, comment). Required headers end in *
    and say 必填; a custom field with options lists them."""
    cells = []
    for col in columns:
        is_required = col.key in required
        comment = str(_l("必填")) if is_required else None
        if col.custom is not None and col.custom.options:
            comment = str(_l("可选：%(o)s", o="、".join(col.custom.options)))
        cells.append((str(col.label) + ("*" if is_required else ""), is_required, comment))
    return cells


def today_stamp(now: datetime, tz: str) -> str:
    return now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
