"""我的: the way to the rest — my orders, the pool, my check-ins, the desktop panel, the language
and logging out."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l

from admin_views.base import SIGNED_IN
from admin_views.forms import CsrfForm
from admin_views.mobile.base import MobileView


# The pages 我的 leads to, when they exist and the user may open them.
LINKS = (("m_orders", _l("我的订单")), ("m_pool", _l("公海")), ("m_checkins", _l("我的签到")))


class MeView(MobileView):
    permission = SIGNED_IN
    mobile_url = "/me"
    tab = "m_me.index"

    @expose("/")
    def index(self) -> Any:
        views = {view.endpoint: view for view in self.admin._views}
        links = [(label, url_for(f"{endpoint}.index")) for endpoint, label in LINKS
                 if endpoint in views and views[endpoint].is_accessible()]
        return self.render("mobile/me.html", title=_l("我的"), links=links, csrf=CsrfForm())


def views() -> list[BaseView]:
    return [MeView(_l("我的"), endpoint="m_me")]
