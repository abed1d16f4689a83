"""客户管理: the customer list and form (the 360 page is admin_views/customer_page.py, the
batch actions and their pages admin_views/customer_actions.py, the columns and filters
admin_views/customer_columns.py) and 待回访客户. Decisions are in rules/; this module turns requests
into calls."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, SelectField
from wtforms.validators import ValidationError

from admin_views.printing import PrintActionsMixin  # issue 20
from models.printing import PrintDocType  # issue 20
from admin_views.base import SEARCH_COUNT_CAP, ScopedModelView
from admin_views.context import current_actor, local_today, now
from admin_views.custom_fields import CustomFieldsMixin
from admin_views.customer_actions import CustomerActionsMixin
from admin_views.customer_columns import (
    ContactInline, dict_choices, dict_filter, name_with_marks, recycle_in, region, sort_key,
    stages_reached,
)
from admin_views.customer_labels import DICT_FIELDS, GENDER_LABELS, KIND_LABELS, LABELS
from admin_views.customer_page import CustomerPageMixin
from admin_views.filters import (
    ContactedBefore, IdEqual, IdsIn, LazyOptions, LocalDateBetween, StaffInDepartment, department_options,
)
from admin_views.formatters import PHONE_CELLS, choice_label, day_with_time_on_hover
from admin_views.forms import REGION_FIELD_ARGS
from admin_views.links import drill
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import CUSTOMERS, fa
from models import Contact, Customer, CustomerShare, DictKind, User, db
from rules import customers, followups, regions, scope
from rules import search as search_rules
from rules.errors import EntryRefused, NeedsConfirmation
from rules.links import DrillFilter as F


class CustomerView(PrintActionsMixin, CustomerPageMixin, CustomerActionsMixin, CustomFieldsMixin, ScopedModelView):
    print_doc_types = (PrintDocType.CUSTOMER, PrintDocType.ENVELOPE)  # issue 20: 批量打印/导出PDF
    permission_view = "customer.view"
    permission_create = "customer.create"
    permission_edit = "customer.edit"
    permission_delete = "customer.delete"
    permission_export = "customer.export"
    export_entity = "customer"
    action_permissions = {"share": "customer.share", "merge": "customer.merge", "release": "pool.claim",
                          "assign": "pool.assign", "recall": "pool.recall", "protect": "pool.claim",
                          "unprotect": "pool.claim", "unprotect_release": "pool.claim", "send_message": "message.send", "opt_out": "message.send",
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
    column_formatters = {"kind": choice_label(KIND_LABELS), "name": name_with_marks, "region": region,
                         "recycle_in": recycle_in, "last_follow_up_at": day_with_time_on_hover, **PHONE_CELLS}
    column_formatters_export = {"kind": choice_label(KIND_LABELS)}
    column_filters = [
        FilterEqual(Customer.kind, _l("类型"), options=list(KIND_LABELS.items())),
        drill(F.CATEGORY, dict_filter(Customer.category_id, DictKind.CATEGORY)),
        drill(F.SOURCE, dict_filter(Customer.source_id, DictKind.SOURCE)),
        drill(F.INDUSTRY, dict_filter(Customer.industry_id, DictKind.INDUSTRY)),
        drill(F.VALUE_LEVEL, dict_filter(Customer.value_level_id, DictKind.VALUE_LEVEL)),
        drill(F.STAGE, dict_filter(Customer.stage_id, DictKind.STAGE)),
        dict_filter(Customer.credit_rating_id, DictKind.CREDIT_RATING),
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
                                     options=LazyOptions(stages_reached))),
        drill(F.MOBILE_PROVINCE, FilterEqual(Customer.mobile_province, _l("手机归属地"),
                                             options=LazyOptions(lambda: [(p, p) for p in regions.tree()]))),
    ]
    form_columns = ["kind", "name", "code", "gender", "birthday", "legal_representative", "registered_capital",
                    *DICT_FIELDS, "province", "city", "district", "address", "zip_code", "phone", "mobile", "fax",
                    "email", "qq", "wechat", "website", "parent", "notes", "confirm_duplicates"]
    form_overrides = {"kind": SelectField, "gender": SelectField}
    form_args = {
        "kind": {"choices": list(KIND_LABELS.items()), "label": _l("类型")},
        "gender": {"choices": [("", "—")] + list(GENDER_LABELS.items()), "label": _l("性别")},
        "code": {"description": _l("留空则按编号规则自动生成")},
        **{f: {"query_factory": dict_choices(DictKind(f)), "label": LABELS[f], "blank_text": "—"}
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

    def get_query(self) -> Any:
        # Eager-load what the list shows, so a page costs a fixed number of queries.
        return super().get_query().options(
            joinedload(Customer.owner), joinedload(Customer.category), joinedload(Customer.stage),
            joinedload(Customer.value_level))

    def search_placeholder(self) -> str:
        return gettext("名称、编号、助记码、联系人或电话")

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        """One box for name, code, mnemonic, contact names and phones (rules/search.py). The
        shared-with-me part of a salesperson's list is driven by its few shares, each checked on
        its own, instead of building the term's hit list once more."""
        if g.get("kechi_customer_branch_is_few"):
            where = count_where = search_rules.clause_among_few(search)
        else:
            where = search_rules.clause(db.session, search)
            count_where = search_rules.clause(db.session, search, counting=True) if where is not None else None
        if where is not None:
            query = query.filter(where)
            if count_query is not None:
                count_query = count_query.filter(count_where)
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
            editable = {r.id for r in rows}
        else:
            count, rows, editable = self._merged_list(branches, page or 0, sort_column, sort_desc, search, filters,
                                                      page_size if page_size is not None else self.page_size)
        self._prepare_rows(rows, editable)
        return count, rows

    def _merged_list(self, branches: list[Any], page: int, sort_column: Any, sort_desc: bool, search: Any,
                     filters: Any, page_size: int) -> tuple[int, list[Customer], set[int]]:
        """One page from each scope branch (rules/scope.customer_branches), merged in the
        list's sort order: each branch reads its own index in order and stops early. Also the
        ids the actor may change: those of the first branch (owned within scope)."""
        total, rows, editable = 0, [], set()
        for number, branch in enumerate(branches):
            g.kechi_customer_branch = branch
            g.kechi_customer_branch_is_few = number > 0  # the shared-with-me part
            try:
                count, part = super().get_list(0, sort_column, sort_desc, search, filters,
                                               page_size=(page + 1) * page_size if page_size else page_size)
            finally:
                g.pop("kechi_customer_branch", None)
                g.pop("kechi_customer_branch_is_few", None)
            total += count or 0
            rows += part
            if number == 0:
                editable = {r.id for r in part}
        for field, descending in reversed(self._sort_order(sort_column, sort_desc)):
            rows.sort(key=sort_key(field, descending), reverse=descending)
        return total, rows[page * page_size:(page + 1) * page_size] if page_size else rows, editable

    def _sort_order(self, sort_column: Any, sort_desc: bool) -> list[tuple[str, bool]]:
        if sort_column is not None and sort_column in self._sortable_columns:
            return [(sort_column, sort_desc)]
        default = self.column_default_sort
        return list(default) if isinstance(default, list) else [default]

    def _prepare_rows(self, rows: list[Customer], editable: set[int]) -> None:
        """What the row formatters ask per row, looked up once for the page. `editable`: rows
        the actor may change, known from the scope branch each row came from (shares are
        read-only; every other visible row is live and owned within scope)."""
        ids = [r.id for r in rows]
        actor = current_actor()
        g.kechi_shared_ids = set(db.session.scalars(scope.shared_with(actor).where(
            CustomerShare.customer_id.in_(ids)))) if ids and actor.has_shares else set()
        g.kechi_editable_ids = editable
        g.kechi_page_owner_ids = {r.owner_id for r in rows if r.owner_id is not None}
        g.kechi_page_ids = ids

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

    # --- region pickers -------------------------------------------------------------------------
    @expose("/regions.json")
    def regions_json(self) -> Any:
        response = jsonify(regions.as_json())
        response.cache_control.max_age = 86400
        response.cache_control.private = True
        return response



class NarrowedCustomerView(CustomerView):
    """A customer list narrowed by one more rule (待回访, 将被回收 in admin_views/pool.py); entry
    happens elsewhere."""

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
        return query.filter(followups.due_clause(local_today()))


def views() -> list[Any]:
    return [
        CustomerView(Customer, name=_l("客户列表"), category=CUSTOMERS, endpoint="customer", **fa("fa-users")),
        DueCustomerView(Customer, name=_l("待回访客户"), category=CUSTOMERS, endpoint="due_customer",
                        **fa("fa-clock-o")),
    ]
