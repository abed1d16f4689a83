"""今日: the first page of the mobile workspace."""
from __future__ import annotations

from typing import Any

from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l

from admin_views.base import SIGNED_IN
from admin_views.mobile.base import MobileView


class HomeView(MobileView):
    permission = SIGNED_IN
    mobile_url = ""
    tab = "m_home.index"

    @expose("/")
    def index(self) -> Any:
        return self.render("mobile/home.html", title=_l("今日"))


def views() -> list[BaseView]:
    return [HomeView(_l("今日"), endpoint="m_home")]
