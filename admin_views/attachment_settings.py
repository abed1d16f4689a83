"""附件设置 (settings.manage): the limits of an upload and the kinds of file let in; filed under
系统设置 with the other settings pages."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views.base import PermissionView
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import db
from models.files import FileKind
from rules import attachments, file_types


class AttachmentSettingsView(PermissionView):
    """附件设置 (settings.manage): the size limits and the allowed kinds of file."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        values = attachments.limits(db.session)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            typed = {"attachment_max_mb": request.form.get("attachment_max_mb", ""),
                     "upload_max_files": request.form.get("upload_max_files", ""),
                     "upload_max_total_mb": request.form.get("upload_max_total_mb", ""),
                     "attachment_types": request.form.getlist("attachment_types")}
            with transaction(gettext("附件设置已保存")) as outcome:
                attachments.save_settings(db.session, max_mb=typed["attachment_max_mb"],
                                          max_files=typed["upload_max_files"],
                                          max_total_mb=typed["upload_max_total_mb"], types=typed["attachment_types"])
            if outcome.ok:
                return redirect(url_for(".index"))
            values = typed  # a refusal keeps what was typed
        return self.render("admin/attachments/settings.html", values=values,
                           kinds=[(kind.value, file_types.KIND_LABELS[kind]) for kind in FileKind])


def views() -> list[Any]:
    return [AttachmentSettingsView(name=_l("附件设置"), endpoint="attachment_settings", category=SETTINGS,
                                   **fa("fa-paperclip"))]
