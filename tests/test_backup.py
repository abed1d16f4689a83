"""数据备份 (embedded SQLite): a backup taken while others write is whole and sound, the page
takes and lists them for the administrator only, downloads are logged, old ones are pruned, the
nightly job runs, and restore-backup puts a backup back (keeping what it replaced)."""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.backup_files import BackupFiles
from conftest import FIXED_NOW
from models import AuditLog, Customer, PeriodicRun, db
from rules import backup

TZ = "Asia/Shanghai"


@pytest.fixture
def backup_app(app, tmp_path):
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP=3)
    return app


def _database(app) -> Path:
    return backup.database_path(app.config["SQLALCHEMY_DATABASE_URI"])


def _count(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT count(*) FROM customers").fetchone()[0]
    finally:
        connection.close()


def test_a_backup_taken_while_others_write_is_whole_and_sound(backup_app, make_customer, tmp_path):
    app = backup_app
    for i in range(50):
        make_customer(f"已有客户{i}", None)
    database = _database(app)
    stop = threading.Event()
    written = []

    def keep_writing() -> None:  # another connection, as a user saving customers meanwhile
        connection = sqlite3.connect(database, timeout=10)
        connection.execute("PRAGMA journal_mode=WAL")
        n = 0
        while not stop.is_set():
            connection.execute("INSERT INTO customers (kind, name, has_deal, created_at, updated_at, custom) "
                               "VALUES ('company', ?, 0, '2026-11-30 00:00:00', '2026-11-30 00:00:00', '{}')",
                               (f"写入中{n}",))
            connection.commit()
            written.append(n)
            n += 1
        connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 20 and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(written) >= 20, "the writer did not get going"
        taken = backup.take(database, BackupFiles(tmp_path / "backups"), now=FIXED_NOW, tz=TZ)
    finally:
        stop.set()
        writer.join()
    assert taken.name == "kechi-20261123-100000.db" and taken.size > 0  # 10:00 in Shanghai
    assert taken.taken_at == FIXED_NOW
    copy = sqlite3.connect(taken.path)
    assert copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, nothing beside it
    names = [r[0] for r in copy.execute("SELECT name FROM customers ORDER BY id")]
    copy.close()
    assert names[:50] == [f"已有客户{i}" for i in range(50)]
    # every row written before the snapshot, in order, and nothing half-written
    assert names[50:] == [f"写入中{i}" for i in range(len(names) - 50)] and len(names) - 50 >= 20
    assert not list((tmp_path / "backups").glob("*.part"))


def test_the_page_takes_and_lists_backups_for_the_administrator_only(backup_app, tmp_path, make_user, new_client):
    app = backup_app
    make_user("boss", role="系统管理员", department=None)
    make_user("chenxm")
    admin = new_client()
    admin.login("boss")
    page = admin.get("/admin/backup/").get_data(as_text=True)
    assert "还没有备份" in page and "立即备份" in page and "每天 02:20 自动备份" in page
    done = admin.post_form("/admin/backup/", {}, to="/admin/backup/take", follow=True).get_data(as_text=True)
    assert "已备份：kechi-" in done
    listed = backup.listing(BackupFiles(tmp_path / "backups"), TZ)
    assert len(listed) == 1 and listed[0].name in done and "下载" in done
    with admin.get(f"/admin/backup/download/{listed[0].name}") as response:
        assert response.status_code == 200 and response.data[:16] == b"SQLite format 3\x00"
        assert "attachment" in response.headers["Content-Disposition"]
    assert admin.get("/admin/backup/download/..%2Fkechi-test.db").status_code == 404
    assert admin.get("/admin/backup/download/kechi-20990101-000000.db").status_code == 404
    with app.app_context():
        actions = list(db.session.scalars(select(AuditLog.action).where(AuditLog.entity == "Database")
                                          .order_by(AuditLog.id)))
        assert actions == ["backup", "download_backup"]

    sales = new_client()
    sales.login("chenxm")
    assert sales.get("/admin/backup/").status_code == 403
    assert sales.get(f"/admin/backup/download/{listed[0].name}").status_code == 403
    assert sales.post("/admin/backup/take", data={}).status_code == 403
    assert len(backup.listing(BackupFiles(tmp_path / "backups"), TZ)) == 1
    for _ in range(3):  # BACKUP_KEEP is 3: the page keeps only the newest too
        admin.post_form("/admin/backup/", {}, to="/admin/backup/take")
    kept = backup.listing(BackupFiles(tmp_path / "backups"), TZ)
    assert len(kept) == 3 and listed[0].name not in {b.name for b in kept}


def test_old_backups_are_pruned_and_the_nightly_job_records_its_run(backup_app, tmp_path, clock):
    from jobs.backup import backup_database
    from jobs.schedule import SCHEDULE

    assert (backup_database, "20 2 * * *") in SCHEDULE
    folder = tmp_path / "backups"
    database = _database(backup_app)
    for day in range(4):
        backup.take(database, BackupFiles(folder), now=datetime(2026, 11, 20 + day, 18, 20, tzinfo=timezone.utc), tz=TZ)
    same_second = backup.take(database, BackupFiles(folder), now=datetime(2026, 11, 23, 18, 20, tzinfo=timezone.utc), tz=TZ)
    assert same_second.name == "kechi-20261124-022000-2.db"
    assert backup.listing(BackupFiles(folder), TZ)[0] == same_second  # the newest first
    same_second.path.unlink()
    assert backup.prune(BackupFiles(folder), keep=3, tz=TZ) == ["kechi-20261121-022000.db"]
    clock.set(datetime(2026, 11, 24, 18, 20, tzinfo=timezone.utc))  # the next night's 02:20
    with backup_app.app_context():
        result = backup_database()  # keeps BACKUP_KEEP = 3: today's and the two newest before it
    assert result.startswith("kechi-") and "removed 1" in result
    assert [b.name for b in backup.listing(BackupFiles(folder), TZ)][1:] == ["kechi-20261124-022000.db",
                                                                 "kechi-20261123-022000.db"]
    with backup_app.app_context():
        assert db.session.get(PeriodicRun, "backup_database").last_result == result


@pytest.mark.both_dbs
def test_on_postgresql_the_page_points_to_pg_dump(app, make_user, client):
    make_user("boss", role="系统管理员", department=None)
    client.login("boss")
    page = client.get("/admin/backup/").get_data(as_text=True)
    if app.config["DB_KIND"] == "postgresql":
        assert "pg_dump" in page and "立即备份" not in page
        assert client.get("/admin/backup/download/kechi-20261123-020000.db").status_code == 404
    else:
        assert "立即备份" in page


def test_restore_backup_puts_the_data_back_and_keeps_what_it_replaced(backup_app, make_customer, tmp_path):
    from flask_migrate import stamp

    from app import MIGRATIONS_DIR

    app = backup_app
    cid = make_customer("恢复测试有限公司", None)
    with app.app_context():  # as an installed database, it names its schema version
        stamp(directory=MIGRATIONS_DIR)
    database = _database(app)
    taken = backup.take(database, BackupFiles(tmp_path / "backups"), now=FIXED_NOW - timedelta(days=1), tz=TZ)
    with app.app_context():
        db.session.delete(db.session.get(Customer, cid))
        db.session.commit()
        assert db.session.scalar(select(func.count(Customer.id))) == 0
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["restore-backup", "kechi-20000101-000000.db", "--yes"])
    assert refused.exit_code != 0 and "找不到备份" in refused.output
    (tmp_path / "not-a-db.db").write_text("hello")
    refused = runner.invoke(args=["restore-backup", str(tmp_path / "not-a-db.db"), "--yes"])
    assert refused.exit_code != 0 and "不是可用的数据库文件" in refused.output
    result = runner.invoke(args=["restore-backup", taken.name, "--yes"])
    assert result.exit_code == 0, result.output
    assert f"已恢复 {taken.name}" in result.output
    with app.app_context():
        db.session.remove()
        assert db.session.scalar(select(Customer.name)) == "恢复测试有限公司"
    replaced = [b for b in backup.listing(BackupFiles(tmp_path / "backups"), TZ) if b.name != taken.name]
    assert len(replaced) == 1 and _count(replaced[0].path) == 0  # what the restore replaced, kept
