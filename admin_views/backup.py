"""数据备份: the embedded database's backups (rules/backup.py), for whoever manages settings."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from adapters.backup_files import BackupFiles
from admin_views.base import PermissionView
from admin_views.context import audit_context, now
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import commit_bookkeeping, transaction
from models import PeriodicRun, db
from rules import audit, backup


class BackupView(PermissionView):
    permission = "settings.manage"

    @staticmethod
    def _database() -> Path | None:
        return backup.database_path(current_app.config["SQLALCHEMY_DATABASE_URI"])

    @staticmethod
    def _folder() -> Path:
        return Path(current_app.config["BACKUP_DIR"])

    def _files(self) -> BackupFiles:
        return BackupFiles(self._folder())

    @expose("/")
    def index(self) -> Any:
        database = self._database()
        return self.render("admin/backup/index.html", embedded=database is not None,
                           backups=backup.listing(self._files(), _tz()) if database else [],
                           keep=int(current_app.config["BACKUP_KEEP"]), folder=self._folder(),
                           last_run=db.session.get(PeriodicRun, "backup_database"), size_text=size_text)

    @expose("/take", methods=["POST"])
    def take(self) -> Any:
        database = self._database()
        if database is None:
            abort(404)
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(url_for(".index"))
        with transaction() as outcome:
            taken, _removed = backup.take_and_prune(database, self._files(), now=now(), tz=_tz(),
                                                    keep=int(current_app.config["BACKUP_KEEP"]))
            audit.record(db.session, ctx=audit_context(), action="backup", entity="Database",
                         details={"file": taken.name, "bytes": taken.size})
            outcome.done(gettext("已备份：%(f)s（%(s)s）", f=taken.name, s=size_text(taken.size)))
        return redirect(url_for(".index"))

    @expose("/download/<file_name>")
    def download(self, file_name: str) -> Any:
        found = backup.find(self._files(), file_name, _tz()) if self._database() else None
        if found is None:
            abort(404)
        audit.record(db.session, ctx=audit_context(), action="download_backup", entity="Database",
                     details={"file": found.name, "bytes": found.size})
        commit_bookkeeping()
        return send_file(found.path, as_attachment=True, download_name=found.name,
                         mimetype="application/vnd.sqlite3")


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def size_text(size: int) -> str:
    """1.2 MB, 830 KB."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:,.1f} MB"
    return f"{max(size, 1024) // 1024:,} KB"


def views() -> list[Any]:
    return [BackupView(name=_l("数据备份"), category=SETTINGS, endpoint="backup", url="/admin/backup",
                       **fa("fa-database"))]
