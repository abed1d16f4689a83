"""数据备份 in the embedded mode: copies of the SQLite database taken with SQLite's online
backup API (a file copy of a live database can be torn), checked, kept for a number of days and
restored by the `restore-backup` command with the application stopped.

On PostgreSQL the database server is backed up with its own tools (pg_dump, see README): the
application host may not even hold the data.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
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


def _parse(path: Path, tz: str) -> Backup | None:
    found = _NAME.match(path.name)
    if not found or not path.is_file():
        return None
    taken = datetime.strptime(found.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=ZoneInfo(tz))
    return Backup(path.name, path, path.stat().st_size, taken.astimezone(timezone.utc), int(found.group(2) or 1))


def listing(folder: Path, tz: str) -> list[Backup]:
    """The finished backups, newest first (a backup being written is a .part file, not listed)."""
    if not folder.is_dir():
        return []
    found = [b for b in (_parse(p, tz) for p in folder.iterdir()) if b is not None]
    return sorted(found, key=lambda b: (b.taken_at, b.sequence), reverse=True)


def find(folder: Path, name: str, tz: str) -> Backup | None:
    """A backup by its name as listed; anything else (a path, another file) is not one."""
    if not _NAME.match(name or ""):
        return None
    return _parse(folder / name, tz)


def check(path: Path, *, restorable: bool = False) -> None:
    """Refuse a file that is not a sound database; `restorable`: a Kechi database that migrations
    can bring up to date (it names its schema version)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidValue(_l("%(f)s 不是可用的数据库文件：%(e)s", f=path.name, e=str(exc))) from exc
    if verdict != "ok":
        raise InvalidValue(_l("%(f)s 已损坏：%(e)s", f=path.name, e=verdict))
    if restorable and not {"alembic_version", "customers", "users"} <= tables:
        raise InvalidValue(_l("%(f)s 不是客池CRM的数据库", f=path.name))


def take(database: Path, folder: Path, *, now: datetime, tz: str) -> Backup:
    """Copy the live database into `folder` while others keep reading and writing it, named by
    the local time. The copy is written as a .part file, checked, then renamed, so a listed
    backup is always whole."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M%S")
    name, n = f"kechi-{stamp}.db", 1
    while (folder / name).exists():  # two backups in one second
        n += 1
        name = f"kechi-{stamp}-{n}.db"
    part = folder / (name + ".part")
    part.unlink(missing_ok=True)
    # A plain connection: read-only ones cannot open a WAL database whose -shm file is gone.
    source = sqlite3.connect(database, timeout=30)
    target = sqlite3.connect(part)
    try:
        source.backup(target)  # one step: a consistent snapshot, writers are not blocked in WAL mode
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()
    try:
        check(part)
    except InvalidValue:
        part.unlink(missing_ok=True)
        raise
    part.rename(folder / name)
    backup = _parse(folder / name, tz)
    assert backup is not None
    return backup


def prune(folder: Path, *, keep: int, tz: str) -> list[str]:
    """Delete all but the `keep` newest backups (0 keeps every one); the names deleted."""
    if keep <= 0:
        return []
    gone = listing(folder, tz)[keep:]
    for backup in gone:
        backup.path.unlink(missing_ok=True)
    return [b.name for b in gone]


def take_and_prune(database: Path, folder: Path, *, now: datetime, tz: str, keep: int) -> tuple[Backup, list[str]]:
    """A new backup, then only the `keep` newest kept (the nightly job and 立即备份 alike)."""
    taken = take(database, folder, now=now, tz=tz)
    return taken, prune(folder, keep=keep, tz=tz)


def restore(backup_file: Path, database: Path, folder: Path, *, now: datetime, tz: str) -> Backup:
    """Put a backup in place of the database (the application must be stopped). The current
    database is backed up first, so a restore can itself be undone; returns that backup."""
    check(backup_file, restorable=True)
    before = take(database, folder, now=now, tz=tz)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(database)
    try:
        source.backup(target)  # page by page inside one transaction of the target
    finally:
        target.close()
        source.close()
    return before
