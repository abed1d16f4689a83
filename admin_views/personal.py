"""个人通讯录: each user's own address book."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from admin_views.base import ScopedModelView
from admin_views.context import current_actor
from models import PersonalContact


class PersonalContactView(ScopedModelView):
    # Everyone has their own book; the scope rule shows each user only their own rows.
    permission_view = None
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
