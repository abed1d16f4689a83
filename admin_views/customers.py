"""客户管理: the customer list, form, 360 page, sharing, follow-ups from the page, the
recycle bin and merging. Decisions are in rules/; this module turns requests into calls."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.form import InlineFormAdmin
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, SelectField
from wtforms.validators import ValidationError

from admin_views.base import SEARCH_COUNT_CAP, ScopedModelView, commit_or_explain
from admin_views.context import audit_context, current_actor, now
from admin_views.custom_fields import CustomFieldsMixin, store_inline_custom_fields
from admin_views.filters import (
    ContactedBefore, IdEqual, IdsIn, LazyOptions, LocalDateBetween, StaffInDepartment, department_options,
)
from admin_views.formatters import choice_label, day_with_time_on_hover
from admin_views.links import drill
from admin_views.forms import REGION_FIELD_ARGS, CsrfForm, FollowUpQuickForm, ShareForm
from admin_views.loaders import ScopedAjaxModelLoader
from models import (
    Contact, Customer, CustomerKind, CustomerShare, DictKind, FollowUp, FollowUpKind, FollowUpTemplate, Gender,
    OwnershipEvent, OwnershipReason, Pool, ShareMode, User, db,
)
from rules import audit, custom_fields, customers, dictionaries, followups, protection, recycle, regions, scope, sharing
from rules import pool as pool_rules
from rules import search as search_rules
from rules.clock import local_date
from rules.errors import EntryRefused, NeedsConfirmation, OutOfScope, RuleViolation
from rules.links import DrillFilter as F

KIND_LABELS = {CustomerKind.COMPANY.value: _l("企业"), CustomerKind.PERSON.value: _l("个人")}
GENDER_LABELS = {Gender.MALE.value: _l("男"), Gender.FEMALE.value: _l("女")}
FOLLOW_UP_KIND_LABELS = {
    FollowUpKind.PHONE.value: _l("电话"), FollowUpKind.VISIT.value: _l("拜访"), FollowUpKind.WECHAT.value: _l("微信"),
    FollowUpKind.EMAIL.value: _l("邮件"), FollowUpKind.SMS.value: _l("短信"), FollowUpKind.OTHER.value: _l("其他"),
}
SHARE_MODE_LABELS = {ShareMode.READ_ONLY.value: _l("只读"), ShareMode.COLLABORATE.value: _l("协作")}
OWNERSHIP_REASONS = {
    OwnershipReason.CREATED: _l("新建"), OwnershipReason.CLAIM: _l("领用"), OwnershipReason.RELEASE: _l("放弃"),
    OwnershipReason.ASSIGN: _l("指派"), OwnershipReason.RECALL: _l("收回"), OwnershipReason.RECYCLE: _l("回收"),
    OwnershipReason.IMPORT: _l("导入"), OwnershipReason.APPROVED: _l("申请获批")}

LABELS = {
    "code": _l("客户编号"), "name": _l("客户名称"), "kind": _l("类型"), "mnemonic": _l("助记码"),
    "gender": _l("性别"), "birthday": _l("生日"), "legal_representative": _l("法人代表"),
    "registered_capital": _l("注册资金（万元）"), "category": _l("客户分类"), "source": _l("客户来源"),
    "industry": _l("所属行业"), "value_level": _l("价值等级"), "stage": _l("跟进程度"), "credit_rating": _l("信誉度"),
    "province": _l("省份"), "city": _l("城市"), "district": _l("区县"), "address": _l("地址"), "zip_code": _l("邮编"),
    "phone": _l("电话"), "mobile": _l("手机"), "fax": _l("传真"), "email": _l("邮箱"), "qq": _l("QQ"),
    "wechat": _l("微信"), "website": _l("网址"), "notes": _l("备注"), "owner": _l("业务员"), "department": _l("部门"),
    "parent": _l("上级客户"), "created_at": _l("创建时间"), "updated_at": _l("更新时间"),
    "last_follow_up_at": _l("最后联系"), "next_contact_at": _l("下次联系"), "contacts": _l("联系人"),
    "region": _l("地区"), "deleted_at": _l("删除时间"), "recycle_in": _l("回收倒计时"),
}
CONTACT_LABELS = {"name": _l("姓名"), "is_primary": _l("首要联系人"), "position": _l("职务"), "mobile": _l("手机"),
                  "phone": _l("电话"), "email": _l("邮箱"), "qq": _l("QQ"), "wechat": _l("微信"),
                  "birthday": _l("生日"), "gender": _l("性别")}
DICT_FIELDS = ("category", "source", "industry", "value_level", "stage", "credit_rating")


def _dict_choices(kind: DictKind):
    return lambda: dictionaries.items(db.session, kind)


def _dict_options(kind: DictKind) -> list[tuple[str, str]]:
    """All dictionaries are read once per request and shared by the six filters."""
    if "kechi_dict_options" not in g:
        options: dict[str, list[tuple[str, str]]] = {}
        for item in dictionaries.all_items(db.session):
            options.setdefault(item.kind, []).append((str(item.id), item.name))
        g.kechi_dict_options = options
    return g.kechi_dict_options.get(kind.value, [])


def _stages_reached() -> list[tuple[str, str]]:
    """跟进程度 到达 X: X and every later stage, as 销售漏斗 counts."""
    stages = _dict_options(DictKind.STAGE)
    return [(",".join(i for i, _n in stages[pos:]), name) for pos, (_id, name) in enumerate(stages)]


def _dict_filter(column: Any, kind: DictKind) -> IdEqual:
    return IdEqual(column, dictionaries.LABELS[kind], options=LazyOptions(lambda: _dict_options(kind)))


def _local_today():
    return local_date(now(), current_app.config["TIMEZONE"])


def _editable_ids(ids: list[int]) -> set[int]:
    """Of the customers on this page, those the actor may change (shares are read-only)."""
    if not ids:
        return set()
    clause = scope.customer_edit_clause(current_actor())
    return set(db.session.scalars(select(Customer.id).where(clause, Customer.id.in_(ids))))


def _name_with_marks(view: Any, context: Any, model: Customer, name: str) -> Markup:
    link = url_for(".details_view", id=model.id)
    html = f"<a href='{escape(link)}'>{escape(model.name)}</a>"
    # Translated outside the f-strings: Babel's extractor does not look inside them.
    if model.protected_until and model.protected_until > now():
        protected = escape(gettext("受保护"))
        html += f" <i class='fa fa-shield text-success' title='{protected}'></i>"
    if model.owner_id != current_actor().user_id and model.id in g.get("kechi_shared_ids", set()):
        title, mark = escape(gettext("他人共享给我的")), escape(gettext("共享"))
        html += f" <span class='badge badge-info' title='{title}'>{mark}</span>"
    return Markup(html)


def _pool_of_owner(owner_id: int) -> Pool | None:
    """The owner's pool (whose recycle rules apply). The first call on a list page looks up
    every owner on the page at once (rules.pool.home_pools)."""
    cache = g.setdefault("kechi_owner_pools", {})
    if owner_id not in cache:
        wanted = {owner_id, *g.get("kechi_page_owner_ids", ())} - set(cache)
        homes = pool_rules.home_pools(db.session, wanted)
        pools = {p.id: p for p in db.session.scalars(select(Pool).where(Pool.id.in_(set(homes.values()))))}
        cache.update({owner: pools.get(pool_id) for owner, pool_id in homes.items()})
    return cache[owner_id]


def _recycle_in(view: Any, context: Any, model: Customer, name: str) -> Markup | str:
    """还剩N天: when the owner's pool would take the customer back."""
    if model.owner_id is None:
        return ""
    left = recycle.days_left(model, _pool_of_owner(model.owner_id), now())
    if left is None:
        return ""
    css = "badge-danger" if left <= 7 else "badge-light border"
    label = escape(gettext("还剩 %(n)d 天", n=left))
    return Markup(f"<span class='badge {css}'>{label}</span>")


def _sort_key(field: str, descending: bool) -> Any:
    """Python's order for one list column, as the database sorts it: empty values last when
    newest-first (both databases here), first otherwise on SQLite and last on PostgreSQL."""
    empty_last = descending or db.engine.dialect.name == "postgresql"

    def key(row: Customer) -> tuple[bool, Any]:
        value = getattr(row, field)
        if value is None:
            return (not descending) == empty_last, 0
        return (not descending) != empty_last, value

    return key


def _region(view: Any, context: Any, model: Customer, name: str) -> str:
    return " ".join(p for p in (model.province, model.city if model.city != model.province else None) if p)


class ContactInline(InlineFormAdmin):
    """Contacts on the customer form, with the administrator's contact custom fields (the same
    rules as the contact form: required, formats)."""

    form_columns = ["id", "name", "is_primary", "position", "mobile", "phone", "email", "qq", "wechat", "birthday"]
    column_labels = CONTACT_LABELS
    form_label = _l("联系人")

    def on_model_change(self, form: Any, model: Contact, is_created: bool) -> None:
        # Flask-Admin passes the row's field (a FormField); its form holds the values.
        store_inline_custom_fields(getattr(form, "form", form), model, "contact")


class CustomerView(CustomFieldsMixin, ScopedModelView):
    permission_view = "customer.view"
    permission_create = "customer.create"
    permission_edit = "customer.edit"
    permission_delete = "customer.delete"
    permission_export = "customer.export"
    action_permissions = {"share": "customer.share", "merge": "customer.merge", "release": "pool.claim",
                          "assign": "pool.assign", "recall": "pool.recall", "protect": "pool.claim",
                          "unprotect": "pool.claim", "send_message": "message.send", "opt_out": "message.send",
                          "sfa": "message.send"}

    can_view_details = True
    capped_count = True
    list_template = "admin/customers/list.html"
    details_template = "admin/customers/details.html"
    create_template = "admin/customers/create.html"
    edit_template = "admin/customers/edit.html"
    extra_js = ["/static/js/kechi-customer-form.js"]

    # 类型 (person/company) is left to the filter and the details: at 1280 pixels every column
    # must fit, and the name already tells a person from a firm.
    column_list = ["code", "name", "category", "stage", "value_level", "region", "mobile", "owner",
                   "last_follow_up_at", "next_contact_at", "recycle_in"]
    column_labels = LABELS
    column_export_list = ["code", "name", "kind", "category", "source", "industry", "value_level", "stage",
                          "credit_rating", "province", "city", "district", "address", "zip_code", "phone", "mobile",
                          "fax", "email", "qq", "wechat", "website", "owner", "department", "created_at",
                          "last_follow_up_at", "next_contact_at", "notes"]
    column_sortable_list = ["code", "name", "created_at", "last_follow_up_at", "next_contact_at"]
    column_default_sort = [("last_follow_up_at", True), ("id", True)]
    column_searchable_list = ["name", "code", "mnemonic", "phone", "mobile"]
    column_formatters = {"kind": choice_label(KIND_LABELS), "name": _name_with_marks, "region": _region,
                         "recycle_in": _recycle_in, "last_follow_up_at": day_with_time_on_hover}
    column_formatters_export = {"kind": choice_label(KIND_LABELS)}
    column_filters = [
        FilterEqual(Customer.kind, _l("类型"), options=list(KIND_LABELS.items())),
        drill(F.CATEGORY, _dict_filter(Customer.category_id, DictKind.CATEGORY)),
        drill(F.SOURCE, _dict_filter(Customer.source_id, DictKind.SOURCE)),
        drill(F.INDUSTRY, _dict_filter(Customer.industry_id, DictKind.INDUSTRY)),
        drill(F.VALUE_LEVEL, _dict_filter(Customer.value_level_id, DictKind.VALUE_LEVEL)),
        drill(F.STAGE, _dict_filter(Customer.stage_id, DictKind.STAGE)),
        _dict_filter(Customer.credit_rating_id, DictKind.CREDIT_RATING),
        drill(F.PROVINCE, FilterEqual(Customer.province, _l("省份"),
                                      options=LazyOptions(lambda: [(p, p) for p in regions.tree()]))),
        drill(F.OWNER, IdEqual(Customer.owner_id, _l("业务员"), options=LazyOptions(lambda: [
            (str(u.id), u.display_name) for u in db.session.scalars(
                select(User).where(User.active.is_(True)).order_by(User.display_name))]))),
        FilterLike(Customer.name, _l("客户名称")),
        FilterLike(Customer.code, _l("客户编号")),
        FilterLike(Customer.city, _l("城市")),
        FilterLike(Customer.address, _l("地址")),
        drill(F.CREATED_ON, LocalDateBetween(Customer.created_at, _l("创建时间"))),
        LocalDateBetween(Customer.last_follow_up_at, _l("最后联系")),
        DateBetweenFilter(Customer.next_contact_at, _l("下次联系")),
        # appended last so the positions (flt0_13 ...) of saved filter links stay as they were
        drill(F.DEPARTMENT, IdEqual(Customer.department_id, _l("部门"), options=LazyOptions(department_options))),
        drill(F.OWNER_DEPARTMENT_TREE, StaffInDepartment(Customer.owner_id, _l("业务员部门"))),
        drill(F.CITY, FilterEqual(Customer.city, _l("城市"))),  # exactly, as 客户数量报表 by city counts
        drill(F.LAST_FOLLOW_UP_BEFORE, ContactedBefore(Customer.last_follow_up_at, _l("最后联系"))),
        drill(F.STAGE_REACHED, IdsIn(Customer.stage_id, _l("跟进程度"), operation=_l("已到达（含以后阶段）"),
                                     options=LazyOptions(_stages_reached))),
    ]
    form_columns = ["kind", "name", "code", "gender", "birthday", "legal_representative", "registered_capital",
                    *DICT_FIELDS, "province", "city", "district", "address", "zip_code", "phone", "mobile", "fax",
                    "email", "qq", "wechat", "website", "parent", "notes", "confirm_duplicates"]
    form_overrides = {"kind": SelectField, "gender": SelectField}
    form_args = {
        "kind": {"choices": list(KIND_LABELS.items()), "label": _l("类型")},
        "gender": {"choices": [("", "—")] + list(GENDER_LABELS.items()), "label": _l("性别")},
        "code": {"description": _l("留空则按编号规则自动生成")},
        **{f: {"query_factory": _dict_choices(DictKind(f)), "label": LABELS[f], "blank_text": "—"}
           for f in DICT_FIELDS},
        **REGION_FIELD_ARGS,
    }
    form_extra_fields = {"confirm_duplicates": BooleanField(_l("重名提示已知晓，仍然保存"))}
    form_ajax_refs = {
        "parent": ScopedAjaxModelLoader("parent", db, Customer, fields=["name", "code"], page_size=10,
                                        placeholder=_l("输入客户名称或编号搜索"), minimum_input_length=1),
    }
    inline_models = [ContactInline(Contact)]
    custom_inline = {"contacts": "contact"}

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        """Flask-Admin's CSV export is off here: 导出Excel (admin_views/excel.py) exports the same
        list, scope and filters as xlsx with chosen columns."""
        return False

    @property
    def can_export_excel(self) -> bool:
        return self._allowed(self.permission_export)

    def write_clause(self) -> Any:
        return scope.customer_edit_clause(current_actor())

    def get_query(self) -> Any:
        # Eager-load what the list shows, so a page costs a fixed number of queries.
        return super().get_query().options(
            joinedload(Customer.owner), joinedload(Customer.category), joinedload(Customer.stage),
            joinedload(Customer.value_level))

    def search_placeholder(self) -> str:
        return gettext("名称、编号、助记码、联系人或电话")

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        """One box for name, code, mnemonic, contact names and phones (rules/search.py)."""
        where = search_rules.clause(db.session, search)
        if where is not None:
            query = query.filter(where)
            if count_query is not None:
                count_query = count_query.filter(search_rules.clause(db.session, search, counting=True))
            g.kechi_count_cap = SEARCH_COUNT_CAP
        return query, count_query, joins, count_joins

    def scope_clause(self) -> Any:
        branch = g.get("kechi_customer_branch")  # set while _merged_list reads one branch
        return branch if branch is not None else super().scope_clause()

    def get_list(self, page: Any, sort_column: Any, sort_desc: bool, search: Any, filters: Any,
                 execute: bool = True, page_size: int | None = None) -> Any:
        branches = scope.customer_branches(current_actor())
        if not execute:  # the export streams the query itself
            return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        if len(branches) == 1:
            count, rows = super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        else:
            count, rows = self._merged_list(branches, page or 0, sort_column, sort_desc, search, filters,
                                            page_size if page_size is not None else self.page_size)
        self._prepare_rows(rows)
        return count, rows

    def _merged_list(self, branches: list[Any], page: int, sort_column: Any, sort_desc: bool, search: Any,
                     filters: Any, page_size: int) -> tuple[int, list[Customer]]:
        """One page from each scope branch (rules/scope.customer_branches), merged in the
        list's sort order: each branch reads its own index in order and stops early."""
        total, rows = 0, []
        for branch in branches:
            g.kechi_customer_branch = branch
            try:
                count, part = super().get_list(0, sort_column, sort_desc, search, filters,
                                               page_size=(page + 1) * page_size if page_size else page_size)
            finally:
                g.pop("kechi_customer_branch", None)
            total += count or 0
            rows += part
        for field, descending in reversed(self._sort_order(sort_column, sort_desc)):
            rows.sort(key=_sort_key(field, descending), reverse=descending)
        return total, rows[page * page_size:(page + 1) * page_size] if page_size else rows

    def _sort_order(self, sort_column: Any, sort_desc: bool) -> list[tuple[str, bool]]:
        if sort_column is not None and sort_column in self._sortable_columns:
            return [(sort_column, sort_desc)]
        default = self.column_default_sort
        return list(default) if isinstance(default, list) else [default]

    def _prepare_rows(self, rows: list[Customer]) -> None:
        ids = [r.id for r in rows]
        actor = current_actor()
        g.kechi_shared_ids = set(db.session.scalars(scope.shared_with(actor).where(
            CustomerShare.customer_id.in_(ids)))) if ids else set()
        g.kechi_editable_ids = _editable_ids(ids)
        g.kechi_page_owner_ids = {r.owner_id for r in rows if r.owner_id is not None}

    # --- saving ---------------------------------------------------------------------------------
    def apply_rules(self, form: Any, model: Customer, is_created: bool) -> None:
        actor = current_actor()
        # Check everything before anything is written: a half-valid form must not reach the
        # database (the one-primary-contact index would refuse it with a stack trace).
        with db.session.no_autoflush:
            self.apply_custom_fields(form, model)
            contacts = [c for c in model.contacts if c is not None]
            try:
                if is_created:
                    model.owner_id = model.owner_id or actor.user_id  # collisions ignore one's own
                customers.validate(db.session, model, contacts, confirmed=bool(form.confirm_duplicates.data),
                                   now=now())
            except NeedsConfirmation as exc:
                raise ValidationError(gettext("请确认：%(m)s。如确需保存，请勾选“重名提示已知晓，仍然保存”后再次提交。",
                                              m=str(exc))) from exc
            except EntryRefused as exc:
                raise ValidationError(str(exc)) from exc
        if is_created:
            customers.take_new(db.session, model, actor=actor, now=now(), tz=current_app.config["TIMEZONE"])
        customers.arrange_primary(db.session, model)
        customers.reindex(db.session, model)

    def remove(self, record: Customer) -> None:
        customers.to_bin(db.session, record, actor=current_actor(), now=now())

    def delete_model(self, model: Customer) -> bool:
        try:
            self.on_model_delete(model)
            self.remove(model)
            db.session.commit()
        except (ValidationError, RuleViolation) as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        self.after_model_delete(model)
        return True

    # --- the 360 page ---------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        customer = self.get_one(request.args.get("id"))
        return self.render(self.details_template, **self._page_context(customer))

    @expose("/print/")
    def print_view(self) -> Any:
        customer = self.get_one(request.args.get("id"))
        return self.render("admin/customers/print.html", **self._page_context(customer))

    def _page_context(self, customer: Customer) -> dict[str, Any]:
        actor = current_actor()
        can_edit = bool(_editable_ids([customer.id])) and self.can_edit
        can_contribute = db.session.scalar(select(Customer.id).where(
            scope.customer_contribute_clause(actor), Customer.id == customer.id)) is not None
        timeline = list(db.session.scalars(
            select(FollowUp).where(FollowUp.customer_id == customer.id)
            .options(joinedload(FollowUp.user), joinedload(FollowUp.contact), selectinload(FollowUp.comments))
            .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(100)))
        shares = list(db.session.scalars(
            select(CustomerShare).where(CustomerShare.customer_id == customer.id, CustomerShare.revoked_at.is_(None))
            .options(joinedload(CustomerShare.user)).order_by(CustomerShare.id)))
        history = list(db.session.scalars(
            select(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id)
            .options(joinedload(OwnershipEvent.from_user), joinedload(OwnershipEvent.to_user),
                     joinedload(OwnershipEvent.actor)).order_by(OwnershipEvent.at.desc())))
        custom = [(d.label, custom_fields.display(d, (customer.custom or {}).get(d.key)))
                  for d in self.sync_custom_fields()]
        return {
            "model": customer, "labels": LABELS, "custom": custom, "kind_labels": KIND_LABELS, "gender_labels": GENDER_LABELS,
            "follow_up_kinds": FOLLOW_UP_KIND_LABELS, "share_modes": SHARE_MODE_LABELS,
            "ownership_reasons": OWNERSHIP_REASONS, "timeline": timeline, "shares": shares, "history": history,
            "recycle_rules": recycle.RULE_LABELS,
            "can_edit": can_edit, "can_contribute": can_contribute,
            "can_share": can_edit and actor.can("customer.share"),
            "follow_up_form": self._follow_up_form(customer), "share_form": self._share_form(),
            "return_url": get_redirect_target() or self.get_url(".index_view"),
            "today": _local_today(),
        }

    def _follow_up_form(self, customer: Customer, formdata: Any = None) -> FollowUpQuickForm:
        form = FollowUpQuickForm(formdata)
        form.kind.choices = list(FOLLOW_UP_KIND_LABELS.items())
        form.contact_id.choices = [("", "—")] + [(str(c.id), c.name) for c in customer.contacts]
        form.template_id.choices = [("", "—")] + [
            (str(t.id), t.name) for t in db.session.scalars(
                select(FollowUpTemplate).where(FollowUpTemplate.active.is_(True)).order_by(FollowUpTemplate.name))]
        return form

    def _share_form(self, formdata: Any = None) -> ShareForm:
        form = ShareForm(formdata)
        form.mode.choices = list(SHARE_MODE_LABELS.items())
        form.user_ids.choices = [(str(u.id), f"{u.display_name}（{u.department.name if u.department else ''}）")
                                 for u in db.session.scalars(select(User).where(User.active.is_(True))
                                                             .options(joinedload(User.department))
                                                             .order_by(User.display_name))]
        return form

    @expose("/follow-up/", methods=["POST"])
    def add_follow_up(self) -> Any:
        actor = current_actor()
        try:
            customer = scope.get_in_scope(db.session, Customer, request.args.get("id"), actor,
                                          scope.customer_contribute_clause(actor))
        except OutOfScope:
            abort(404)
        form = self._follow_up_form(customer, request.form)
        back = url_for(".details_view", id=customer.id, _anchor="tab-timeline")
        if not form.validate():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return redirect(back)
        template = db.session.get(FollowUpTemplate, int(form.template_id.data)) if form.template_id.data else None
        contact = next((c for c in customer.contacts if str(c.id) == form.contact_id.data), None)
        try:
            followups.record(db.session, FollowUp(
                customer_id=customer.id, contact_id=contact.id if contact else None, kind=form.kind.data,
                content=form.content.data, next_contact_at=form.next_contact_at.data,
                template_id=template.id if template else None), actor=actor, now=now(), today=_local_today())
            db.session.commit()
        except RuleViolation as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(back)
        flash(gettext("已添加联系记录"), "success")
        return redirect(back)

    # --- sharing --------------------------------------------------------------------------------
    @action("share", _l("共享给同事"))
    def action_share(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)  # refuse the batch if any id is not the actor's to share
        return redirect(url_for(".share_view", ids=",".join(ids)))

    def _selection(self, permission: str) -> tuple[list[str], list[Customer]]:
        """The customers named in ?ids=1,2,3 for a batch page: all the actor's to change, or 404."""
        if not current_actor().can(permission):
            abort(403)
        ids = [i for i in (request.values.get("ids") or "").split(",") if i]
        records = self.scoped_batch(ids, self.write_clause()) if ids else []
        return ids, records

    @expose("/share/", methods=["GET", "POST"])
    def share_view(self) -> Any:
        actor = current_actor()
        ids, records = self._selection("customer.share")
        if not records:
            abort(404)
        form = self._share_form(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            users = list(db.session.scalars(select(User).where(User.id.in_([int(u) for u in form.user_ids.data
                                                                             if u.isdigit()]))))
            try:
                for customer in records:
                    for user in users:
                        sharing.share(db.session, customer, to_user=user, mode=form.mode.data,
                                      until=form.until.data, actor=actor, now=now())
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(gettext("已将 %(c)d 位客户共享给 %(u)d 位同事", c=len(records), u=len(users)), "success")
                target = url_for(".details_view", id=records[0].id) if len(records) == 1 else url_for(".index_view")
                return redirect(target)
        return self.render("admin/customers/share.html", form=form, records=records, ids=",".join(ids))

    @expose("/unshare/", methods=["POST"])
    def unshare(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        record = db.session.get(CustomerShare, int(request.form.get("share_id", "0") or 0))
        if record is None:
            abort(404)
        customer = self.get_one_editable(record.customer_id)
        sharing.revoke(db.session, record, now=now())
        db.session.commit()
        flash(gettext("已取消共享"), "success")
        return redirect(url_for(".details_view", id=customer.id, _anchor="tab-shares"))

    def get_one_editable(self, ident: Any) -> Customer:
        try:
            return scope.get_in_scope(db.session, Customer, ident, current_actor(), self.write_clause())
        except OutOfScope:
            abort(404)

    # --- pool moves ---------------------------------------------------------------------------
    @action("release", _l("放弃到客户池"))
    def action_release(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".release_view", ids=",".join(ids)))

    @expose("/release/", methods=["GET", "POST"])
    def release_view(self) -> Any:
        actor = current_actor()
        ids, records = self._selection("pool.claim")
        if not records:
            abort(404)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            if commit_or_explain(
                    lambda: [pool_rules.release(db.session, record.id, actor=actor, now=now(),
                                                reason=request.form.get("reason", "")) for record in records],
                    lambda moved: gettext("已将 %(n)d 位客户放弃到客户池", n=len(moved))):
                return redirect(url_for(".index_view"))
        return self.render("admin/customers/release.html", records=records, ids=",".join(ids),
                           reason=request.form.get("reason", ""))

    @action("assign", _l("指派给同事"))
    def action_assign(self, ids: list[str]) -> Any:
        return redirect(url_for(".assign_view", ids=",".join(ids)))

    @expose("/assign/", methods=["GET", "POST"])
    def assign_view(self) -> Any:
        """指派: customers in the manager's scope (or from their pool) to a colleague in scope."""
        actor = current_actor()
        if not actor.can("pool.assign"):
            abort(403)
        wanted = [int(i) for i in (request.values.get("ids") or "").split(",") if i.isdigit()]
        back = request.values.get("back") or url_for(".index_view")
        colleagues = list(db.session.scalars(select(User).where(User.active.is_(True),
                                                                scope.owner_clause(User.id, actor))
                                             .order_by(User.display_name)))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            to_user = next((u for u in colleagues if str(u.id) == request.form.get("to_user")), None)
            if to_user is None:
                flash(gettext("请选择要指派给谁"), "error")
            elif commit_or_explain(
                    lambda: pool_rules.assign(db.session, wanted, to_user=to_user, actor=actor, now=now()),
                    lambda count: gettext("已将 %(n)d 位客户指派给 %(u)s", n=count, u=to_user.display_name)):
                return redirect(back if back.startswith("/") else url_for(".index_view"))
        names = list(db.session.scalars(select(Customer.name).where(Customer.id.in_(wanted))))
        return self.render("admin/customers/assign.html", colleagues=colleagues, names=names,
                           ids=",".join(str(i) for i in wanted), back=back)

    @action("recall", _l("收回到客户池"), _l("所选客户将从业务员名下收回到客户池，确定吗？"))
    def action_recall(self, ids: list[str]) -> None:
        actor = current_actor()
        wanted = [int(i) for i in ids if str(i).isdigit()]
        commit_or_explain(lambda: pool_rules.recall(db.session, wanted, actor=actor, now=now()),
                          lambda count: gettext("已收回 %(n)d 位客户到客户池", n=count))

    @action("protect", _l("保护客户"))
    def action_protect(self, ids: list[str]) -> None:
        actor = current_actor()
        commit_or_explain(
            lambda: [protection.protect(db.session, int(i), actor=actor, now=now()) for i in ids if str(i).isdigit()],
            lambda ends: gettext("已保护 %(n)d 位客户，保护期内不会被回收，他人录入同名客户会收到撞单提示", n=len(ends)))

    @action("unprotect", _l("取消保护"))
    def action_unprotect(self, ids: list[str]) -> None:
        actor = current_actor()
        commit_or_explain(
            lambda: [protection.unprotect(db.session, int(i), actor=actor) for i in ids if str(i).isdigit()],
            lambda done: gettext("已取消保护 %(n)d 位客户", n=len(done)))

    # --- merging --------------------------------------------------------------------------------
    # 短信中心 (admin_views/messaging.py) re-checks the ids against the scope on its own pages.
    @action("send_message", _l("发短信/发邮件"))
    def action_send_message(self, ids: list[str]) -> Any:
        return redirect(url_for("message_send.index", ids=",".join(ids)))

    @action("opt_out", _l("拒收设置"))
    def action_opt_out(self, ids: list[str]) -> Any:
        return redirect(url_for("message_send.optout_view", ids=",".join(ids)))

    @action("sfa", _l("启动自动化方案"))
    def action_sfa(self, ids: list[str]) -> Any:
        return redirect(url_for("sfa_enrollment.start_view", ids=",".join(ids)))

    @action("merge", _l("合并客户"))
    def action_merge(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".merge_view", ids=",".join(ids)))

    @expose("/merge/", methods=["GET", "POST"])
    def merge_view(self) -> Any:
        actor = current_actor()
        ids, records = self._selection("customer.merge")
        if len(records) < 2:
            flash(gettext("请至少选择两个客户进行合并"), "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            keep = next((r for r in records if str(r.id) == request.form.get("keep")), None)
            if keep is None:
                flash(gettext("请选择保留哪一个客户"), "error")
            else:
                merged = customers.merge(db.session, keep, records, actor=actor, now=now())
                audit.record(db.session, ctx=audit_context(), action="merge", entity="Customer",
                             entity_id=str(keep.id), details={"merged": [r.id for r in records if r.id != keep.id],
                                                              "names": [r.name for r in records if r.id != keep.id]})
                db.session.commit()
                flash(gettext("已将 %(n)d 个客户合并到「%(k)s」", n=merged, k=keep.name), "success")
                return redirect(url_for(".details_view", id=keep.id))
        counts = dict(db.session.execute(select(FollowUp.customer_id, func.count(FollowUp.id))
                                         .where(FollowUp.customer_id.in_([r.id for r in records]))
                                         .group_by(FollowUp.customer_id)).all())
        return self.render("admin/customers/merge.html", records=records, ids=",".join(ids), counts=counts)

    # --- region pickers -------------------------------------------------------------------------
    @expose("/regions.json")
    def regions_json(self) -> Any:
        response = jsonify(regions.as_json())
        response.cache_control.max_age = 86400
        response.cache_control.private = True
        return response


class NarrowedCustomerView(CustomerView):
    """A customer list narrowed by one more rule (待回访, 将被回收); entry happens elsewhere."""

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return False

    def narrow(self, query: Any) -> Any:
        raise NotImplementedError

    def get_query(self) -> Any:
        return self.narrow(super().get_query())

    def get_count_query(self) -> Any:
        return self.narrow(super().get_count_query())


class DueCustomerView(NarrowedCustomerView):
    """待回访客户: customers whose next contact date has come."""

    list_template = "admin/customers/due_list.html"
    column_default_sort = [("next_contact_at", False), ("id", False)]
    column_list = ["code", "name", "mobile", "phone", "stage", "owner", "last_follow_up_at", "next_contact_at"]

    def narrow(self, query: Any) -> Any:
        return query.filter(followups.due_clause(_local_today()))



class SoonRecycledView(NarrowedCustomerView):
    """将被回收: one's own customers that the recycle rules will take back within the warning days."""

    list_template = "admin/customers/soon_list.html"
    column_default_sort = [("last_follow_up_at", False), ("id", False)]
    column_list = ["code", "name", "mobile", "stage", "claimed_at", "last_follow_up_at", "recycle_in"]
    column_labels = {**LABELS, "claimed_at": _l("领用时间")}

    def narrow(self, query: Any) -> Any:
        return query.filter(Customer.owner_id == current_actor().user_id, recycle.soon_clause(db.session, now()))


class RecycleBinView(ScopedModelView):
    """回收站: restore or purge deleted customers (those whose owner is in scope)."""

    permission_view = "customer.bin"
    permission_delete = None
    action_permissions = {"restore": "customer.bin", "purge": "customer.bin"}
    list_template = "admin/customers/bin_list.html"
    column_list = ["code", "name", "owner", "deleted_at"]
    column_labels = LABELS
    column_default_sort = ("deleted_at", True)
    column_searchable_list = ["name", "code"]

    def _bin(self, query: Any) -> Any:
        return query.filter(scope.binned_clause(current_actor()))

    def get_query(self) -> Any:
        # Not the live-customer scope: the bin's own clause (deleted, owner in scope).
        return self._bin(db.session.query(Customer))

    def get_count_query(self) -> Any:
        return self._bin(db.session.query(func.count(Customer.id)))

    def write_clause(self) -> Any:
        return scope.binned_clause(current_actor())

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, Customer, id, current_actor(), self.write_clause())
        except OutOfScope:
            abort(404)

    @action("restore", _l("恢复"))
    def action_restore(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        for record in records:
            customers.restore(db.session, record)
        db.session.commit()
        flash(gettext("已恢复 %(n)d 位客户，联系人和联系记录一并恢复", n=len(records)), "success")

    @action("purge", _l("彻底删除"), _l("彻底删除后无法恢复，客户的联系人和联系记录也将一并删除。确定吗？"))
    def action_purge(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        for record in records:
            customers.purge(db.session, record)
        db.session.commit()
        flash(gettext("已彻底删除 %(n)d 位客户", n=len(records)), "success")
