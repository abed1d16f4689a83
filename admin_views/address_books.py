"""内部通讯录 (every active colleague, for everyone logged in) and 个人通讯录 (each user's own
address book)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from admin_views.base import SIGNED_IN, ScopedModelView, SecureModelView
from admin_views.context import current_actor
from admin_views.filters import StaffInDepartment
from admin_views.menu import OFFICE, fa
from models import PersonalContact, User


class AddressBookView(SecureModelView):
    """内部通讯录: every active colleague, for everyone who is logged in."""

    permission_view = SIGNED_IN
    can_view_details = False
    column_list = ["display_name", "department", "mobile", "email"]
    column_labels = {"display_name": _l("姓名"), "department": _l("部门"), "mobile": _l("手机"),
                     "email": _l("邮箱")}
    column_searchable_list = ["display_name", "mobile", "email"]
    # the department tree as a drop-down (a sub-department's people included), labelled in our words
    column_filters = [StaffInDepartment(User.id, _l("部门"))]
    column_default_sort = "display_name"

    def get_query(self) -> Any:
        return super().get_query().filter(User.active.is_(True))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(User.active.is_(True))


class PersonalContactView(ScopedModelView):
    # Everyone has their own book; the scope rule shows each user only their own rows.
    permission_view = SIGNED_IN
    permission_create = permission_edit = permission_delete = "customer.view"
    column_list = ["name", "company", "position", "mobile", "phone", "email"]
    column_labels = {"name": _l("姓名"), "company": _l("单位"), "position": _l("职务"), "mobile": _l("手机"),
                     "phone": _l("电话"), "email": _l("邮箱"), "notes": _l("备注")}
    column_searchable_list = ["name", "company", "mobile"]
    form_columns = ["name", "company", "position", "mobile", "phone", "email", "notes"]
    list_template = "admin/personal/list.html"

    def apply_rules(self, form: Any, model: PersonalContact, is_created: bool) -> None:
        if is_created:
            model.owner_id = current_actor().user_id


def views() -> list[Any]:
    return [
        AddressBookView(User, name=_l("内部通讯录"), category=OFFICE, endpoint="address_book",
                        **fa("fa-address-book")),
        PersonalContactView(PersonalContact, name=_l("个人通讯录"), category=OFFICE, endpoint="personal_contact",
                            **fa("fa-book")),
    ]
