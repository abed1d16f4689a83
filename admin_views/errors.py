"""Error pages in the product's own look and language. Out-of-scope records answer 404 on
purpose (their existence must not leak), so the 404 page does not say which it was."""
from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_babel import get_locale, gettext
from werkzeug.exceptions import HTTPException

from admin_views.params import BadParameter


def _page(status: int, icon: str, title: str, explanation: str) -> tuple[str, int]:
    lang = "en" if str(get_locale() or "").startswith("en") else "zh-CN"
    return render_template("error.html", lang=lang, icon=icon, title=title, explanation=explanation), status


def init_errors(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(_exc: HTTPException) -> Any:
        return _page(404, "fa-search", gettext("找不到这个页面"),
                     gettext("记录不存在，或不在您的数据范围内。请从列表重新打开。"))

    @app.errorhandler(400)
    def bad_request(exc: HTTPException) -> Any:
        # params.BadParameter carries the reason in the user's language; werkzeug's own 400s
        # (an expired form, a malformed query string) carry English text, so say it generally.
        reason = exc.description if isinstance(exc, BadParameter) else gettext("请求中有无法识别的内容，请从页面重新操作。")
        return _page(400, "fa-exclamation-circle", gettext("请求有误"), reason)

    @app.errorhandler(403)
    def forbidden(_exc: HTTPException) -> Any:
        return _page(403, "fa-lock", gettext("没有权限"),
                     gettext("您的角色没有这项权限。如需开通，请联系系统管理员。"))

    @app.errorhandler(413)
    def too_large(_exc: HTTPException) -> Any:
        return _page(413, "fa-file-o", gettext("文件太大"),
                     gettext("上传的文件超过了允许的大小，请拆分后再上传。"))

    @app.errorhandler(500)
    def server_error(_exc: Exception) -> Any:
        return _page(500, "fa-exclamation-triangle", gettext("系统出错了"),
                     gettext("操作没有完成，已记录错误。请稍后再试；如果一直出现，请联系系统管理员。"))
