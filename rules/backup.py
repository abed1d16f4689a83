"""数据备份 in the embedded mode: copies of the SQLite database (taken with SQLite's online
backup API by adapters/backup_files.py, which the caller hands in as `files`), named by the
local time, checked, kept for a number of days and restored by the `restore-backup` command with
the application stopped.

On PostgreSQL the database server is backed up with its own tools (pg_dump, see README): the
application host may not even hold the data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from rules.errors import InvalidValue

_NAME = re.compile(r"^kechi-(\d{8}-\d{6})(?:-(\d+))?\.db$")


@dataclass(frozen=True)
class Backup:
    name: str
    path: Path
    size: int
    taken_at: datetime  # from the name, which is in the firm's local time (a copied file's own time changes)
    sequence: int = 1  # the second backup of the same second is -2


def database_path(url: str) -> Path | None:
    """The SQLite file behind a database URL; None for PostgreSQL and in-memory databases."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


class Files(Protocol):
    """The folder of backups and SQLite's view of a file (adapters.backup_files.BackupFiles)."""

    def entries(self) -> list[Any]: ...  # each with .name, .path, .size

    def entry(self, name: str) -> Any | None: ...

    def exists(self, name: str) -> bool: ...

    def copy_database(self, database: Path, name: str) -> Path: ...

    def rename(self, path: Path, name: str) -> None: ...

    def delete(self, path: Path) -> None: ...

    def health(self, path: Path) -> Any: ...  # .error, .verdict, .tables

    def copy_into(self, backup_file: Path, database: Path) -> None: ...


def _parse(entry: Any, tz: str) -> Backup | None:
    found = _NAME.match(entry.name)
    if not found:
        return None
    taken = datetime.strptime(found.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=ZoneInfo(tz))
    return Backup(entry.name, entry.path, entry.size, taken.astimezone(timezone.utc), int(found.group(2) or 1))


def listing(files: Files, tz: str) -> list[Backup]:
    """The finished backups, newest first (a backup being written is a .part file, not listed)."""
    found = [b for b in (_parse(e, tz) for e in files.entries()) if b is not None]
    return sorted(found, key=lambda b: (b.taken_at, b.sequence), reverse=True)


def find(files: Files, name: str, tz: str) -> Backup | None:
    """A backup by its name as listed; anything else (a path, another file) is not one."""
    if not _NAME.match(name or ""):
        return None
    entry = files.entry(name)
    return _parse(entry, tz) if entry is not None else None


def check(files: Files, path: Path, *, restorable: bool = False) -> None:
    """Refuse a file that is not a sound database; `restorable`: a Kechi database that migrations
    can bring up to date (it names its schema version)."""
    health = files.health(path)
    if health.error is not None:
        raise InvalidValue(_l("%(f)s 不是可用的数据库文件：%(e)s", f=path.name, e=health.error))
    if health.verdict != "ok":
        raise InvalidValue(_l("%(f)s 已损坏：%(e)s", f=path.name, e=health.verdict))
    if restorable and not {"alembic_version", "customers", "users"} <= set(health.tables):
        raise InvalidValue(_l("%(f)s 不是客池CRM的数据库", f=path.name))


def new_name(files: Files, *, now: datetime, tz: str) -> str:
    """kechi-<local date and time>.db; a second backup in the same second is -2, and so on."""
    stamp = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M%S")
    name, n = f"kechi-{stamp}.db", 1
    while files.exists(name):
        n += 1
        name = f"kechi-{stamp}-{n}.db"
    return name


def take(database: Path, files: Files, *, now: datetime, tz: str) -> Backup:
    """Copy the live database while others keep reading and writing it, named by the local time.
    The copy is written as a .part file, checked, then renamed, so a listed backup is always
    whole."""
    name = new_name(files, now=now, tz=tz)
    part = files.copy_database(database, name + ".part")
    try:
        check(files, part)
    except InvalidValue:
        files.delete(part)
        raise
    files.rename(part, name)
    backup = find(files, name, tz)
    assert backup is not None
    return backup


def prune(files: Files, *, keep: int, tz: str) -> list[str]:
    """Delete all but the `keep` newest backups (0 keeps every one); the names deleted."""
    if keep <= 0:
        return []
    gone = listing(files, tz)[keep:]
    for backup in gone:
        files.delete(backup.path)
    return [b.name for b in gone]


def take_and_prune(database: Path, files: Files, *, now: datetime, tz: str, keep: int) -> tuple[Backup, list[str]]:
    """A new backup, then only the `keep` newest kept (the nightly job and 立即备份 alike)."""
    taken = take(database, files, now=now, tz=tz)
    return taken, prune(files, keep=keep, tz=tz)


def restore(backup_file: Path, database: Path, files: Files, *, now: datetime, tz: str) -> Backup:
    """Put a backup in place of the database (the application must be stopped). The current
    database is backed up first, so a restore can itself be undone; returns that backup."""
    check(files, backup_file, restorable=True)
    before = take(database, files, now=now, tz=tz)
    files.copy_into(backup_file, database)
    return before
