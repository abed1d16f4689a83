"""The application factory and the command-line interface (`flask --app app ...`)."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, redirect, url_for
from flask_babel import Babel
from flask_migrate import Migrate, upgrade
from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Engine
from werkzeug.utils import import_string

from config import INSTANCE_DIR, Config

migrate = Migrate()
babel = Babel()
MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(config: type[Config] | Config | str = "config.Config") -> Flask:
    from admin_views import init_admin
    from admin_views.auth import select_locale
    from admin_views.errors import init_errors
    from admin_views.health import bp as health_bp
    from jobs.queue import init_queue
    from models import db
    from rules import audit, clock, org

    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    if isinstance(config, str):
        config = import_string(config)
    app.config.from_object(config() if isinstance(config, type) else config)
    app.config.from_prefixed_env("KECHI")
    if app.config.get("CLOCK"):
        clock.pin(app.config["CLOCK"])
    org.use_password_method(app.config["PASSWORD_HASH_METHOD"])
    db.init_app(app)
    audit.install(db.session.session_factory.class_)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale,
                   default_timezone=app.config["TIMEZONE"])
    init_queue(app)
    init_admin(app)
    init_errors(app)
    app.register_blueprint(health_bp)
    app.add_url_rule("/", "root", lambda: redirect(url_for("admin.index")))
    _register_cli(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers and one writer work at once; foreign keys are off by default."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _init_schema() -> bool:
    """Bring the schema to the newest migration. Returns True if the database was empty."""
    from models import db
    from rules import setup

    was_empty = not inspect(db.engine).has_table("users")
    upgrade(directory=MIGRATIONS_DIR)
    setup.ensure_defaults(db.session)
    db.session.commit()
    return was_empty


def _register_cli(app: Flask) -> None:
    from jobs import demo
    from models import User, db
    from rules import org, setup
    from rules.errors import RuleViolation

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the database schema and the default roles."""
        _init_schema()
        click.echo("数据库已就绪 / database ready")

    @app.cli.command("create-admin")
    @click.option("--username", required=True)
    @click.option("--password", required=True)
    @click.option("--display-name", default=None)
    def create_admin(username: str, password: str, display_name: str | None) -> None:
        """Create a system administrator (系统管理员)."""
        _init_schema()
        roles = setup.ensure_defaults(db.session)
        try:
            org.create_user(db.session, username=username, password=password,
                            display_name=display_name or username, role=roles["系统管理员"])
        except RuleViolation as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"已创建管理员 {username}")

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--password", required=True)
    @click.option("--role", "role_name", required=True, help="角色名称，如 业务员")
    @click.option("--department", required=True, help="部门名称，如 销售一部")
    @click.option("--parent-department", default=None, help="上级部门名称，如 销售部")
    @click.option("--superior", default=None, help="上级的用户名")
    @click.option("--display-name", default=None)
    def create_user(username: str, password: str, role_name: str, department: str,
                    parent_department: str | None, superior: str | None, display_name: str | None) -> None:
        """Create a user, creating the department path and the role if missing."""
        setup.ensure_defaults(db.session)
        role = org.ensure_role(db.session, role_name)
        dept = org.ensure_department_path(db.session, [n for n in (parent_department, department) if n])
        boss = db.session.scalar(select(User).where(User.username == superior)) if superior else None
        if superior and boss is None:
            raise click.ClickException(f"找不到上级 {superior}")
        try:
            org.create_user(db.session, username=username, password=password, display_name=display_name,
                            role=role, department=dept, superior=boss)
        except RuleViolation as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"已创建员工 {username}（{role.name}，{dept.name}）")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Fill the database with a demo company (idempotent)."""
        _init_schema()
        created = demo.seed_demo(db.session)
        db.session.commit()
        click.echo("演示数据已创建" if created else "演示数据已存在，未做修改")
        _print_logins()

    def _print_logins() -> None:
        click.echo("演示账号 / demo logins (username / password / role):")
        for username, password, role in demo.demo_logins():
            click.echo(f"  {username:<10} {password:<10} {role}")

    @app.cli.command("serve")
    @click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
    @click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), type=int)
    def serve(host: str, port: int) -> None:
        """Run the embedded mode: migrate, seed demo data on first start, fire periodic jobs, serve."""
        from waitress import serve as waitress_serve

        from jobs.schedule import start_embedded_scheduler

        was_empty = _init_schema()
        if was_empty and app.config["SEED_DEMO_ON_FIRST_START"]:
            demo.seed_demo(db.session)
            db.session.commit()
            click.echo("首次启动：已创建演示数据")
        if db.session.scalar(select(User.id).where(User.username == "chenxm")):
            _print_logins()
        if not app.config.get("REDIS_URL"):
            start_embedded_scheduler(app)
        click.echo(f"客池CRM 已启动：http://{host}:{port}/  (Ctrl+C 停止)")
        waitress_serve(app, host=host, port=port, threads=8)

    @app.cli.command("recycle")
    @click.option("--dry-run", is_flag=True, help="只显示将被回收的数量，不做修改")
    def recycle_command(dry_run: bool) -> None:
        """Run the recycle rules now (客户回收); --dry-run prints what would move."""
        from jobs.recycle import recycle_customers
        from rules.recycle import RULE_LABELS

        moved = recycle_customers(dry_run=dry_run)
        click.echo(("将回收" if dry_run else "已回收") + f" {sum(moved.values())} 位客户：")
        for rule, count in moved.items():
            click.echo(f"  {RULE_LABELS[rule]}: {count}")

    @app.cli.command("restore-backup")
    @click.argument("backup_name")
    @click.option("--yes", is_flag=True, help="不再询问，直接恢复")
    def restore_backup(backup_name: str, yes: bool) -> None:
        """Replace the embedded database with a backup (stop the application first). BACKUP_NAME is a
        name from 数据备份 (kechi-20261130-022000.db) or the path of a backup file."""
        from pathlib import Path

        from models.base import utcnow
        from rules import backup

        database = backup.database_path(app.config["SQLALCHEMY_DATABASE_URI"])
        if database is None:
            raise click.ClickException("当前不是内置 SQLite 数据库：PostgreSQL 请用 pg_restore / psql 恢复（见 README）")
        folder = Path(app.config["BACKUP_DIR"])
        tz = app.config["TIMEZONE"]
        found = backup.find(folder, backup_name, tz)
        source = found.path if found else Path(backup_name)
        if not source.is_file():
            raise click.ClickException(f"找不到备份 {backup_name}（在 {folder} 中，或请给出文件路径）")
        if not yes:
            click.confirm(f"将用 {source.name} 替换当前数据库 {database}，请确认客池CRM已停止。继续？", abort=True)
        db.session.remove()
        db.engine.dispose()  # no connection of this process may hold the file while it is replaced
        try:
            before = backup.restore(source, database, folder, now=utcnow(), tz=tz)
        except RuleViolation as exc:
            raise click.ClickException(str(exc)) from exc
        _init_schema()  # a backup from an earlier release is brought up to this one
        click.echo(f"已恢复 {source.name}。恢复前的数据已另存为 {before.name}，如需改回：restore-backup {before.name}")

    @app.cli.command("worker")
    def worker() -> None:
        """Run an RQ worker (with its scheduler) for REDIS_URL's queue."""
        from redis import Redis
        from rq import Worker

        if not app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL 未设置：嵌入模式下任务在 Web 进程内运行，无需 worker")
        connection = Redis.from_url(app.config["REDIS_URL"])
        Worker([app.config["RQ_QUEUE_NAME"]], connection=connection).work(with_scheduler=True)

