"""The files of 数据备份: a folder of SQLite database copies taken with SQLite's online backup
API (a file copy of a live database can be torn), their health as SQLite sees it, and copying a
backup back into the live database. What the files are called, whether a file is sound enough,
and which ones to keep are decided by rules/backup.py, which is handed a BackupFiles."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    size: int


@dataclass(frozen=True)
class Health:
    """What SQLite says of a file: `error` if it cannot open it at all, else quick_check's
    verdict ("ok" when sound) and the tables it holds."""

    error: str | None = None
    verdict: str = ""
    tables: frozenset[str] = frozenset()


class BackupFiles:
    """One folder of backups."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def entries(self) -> list[Entry]:
        """Every file directly in the folder (none if there is no folder yet)."""
        if not self.folder.is_dir():
            return []
        return [Entry(p.name, p, p.stat().st_size) for p in self.folder.iterdir() if p.is_file()]

    def entry(self, name: str) -> Entry | None:
        path = self.folder / name
        return Entry(name, path, path.stat().st_size) if path.is_file() else None

    def exists(self, name: str) -> bool:
        return (self.folder / name).exists()

    def copy_database(self, database: Path, name: str) -> Path:
        """Copy the live database into the folder as `name` while others keep reading and writing
        it; returns the new file's path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target_path = self.folder / name
        target_path.unlink(missing_ok=True)
        # A plain connection: read-only ones cannot open a WAL database whose -shm file is gone.
        source = sqlite3.connect(database, timeout=30)
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)  # one step: a consistent snapshot, writers are not blocked in WAL mode
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()
            source.close()
        return target_path

    def rename(self, path: Path, name: str) -> None:
        path.rename(self.folder / name)

    def delete(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    @staticmethod
    def health(path: Path) -> Health:
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
                tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            return Health(error=str(exc))
        return Health(verdict=verdict, tables=frozenset(tables))

    @staticmethod
    def copy_into(backup_file: Path, database: Path) -> None:
        """Put a backup's pages in place of the database's, inside one transaction of the target
        (the application must be stopped)."""
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        target = sqlite3.connect(database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
