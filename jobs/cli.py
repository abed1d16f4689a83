"""The command-line interface (`flask --app app <command>`): schema, users, demo data, the
embedded server, recycling, restoring a backup and the RQ worker. Each command runs inside the
app context; create_app registers them through init_app."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import inspect, select

import demo
from models import User, db
from rules import org, setup
from rules.errors import RuleViolation

cli = AppGroup("kechi")


def init_app(app: Flask) -> None:
    for command in cli.commands.values():
        app.cli.add_command(command)


def init_schema() -> bool:
    """Bring the schema to the newest migration (the directory create_app gave Flask-Migrate).
    Returns True if the database was empty."""
    was_empty = not inspect(db.engine).has_table("users")
    upgrade()
    setup.ensure_defaults(db.session)
    db.session.commit()
    return was_empty


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema and the default roles."""
    init_schema()
    click.echo("数据库已就绪 / database ready")


@cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--display-name", default=None)
def create_admin(username: str, password: str, display_name: str | None) -> None:
    """Create a system administrator (系统管理员)."""
    init_schema()
    roles = setup.ensure_defaults(db.session)
    try:
        org.create_user(db.session, username=username, password=password,
                        display_name=display_name or username, role=roles["系统管理员"])
    except RuleViolation as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"已创建管理员 {username}")


@cli.command("create-user")
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


@cli.command("unlock-user")
@click.argument("username")
def unlock_user(username: str) -> None:
    """Clear a user's failed-login delays and CAPTCHA (解除登录限制), e.g. when the only
    administrator is kept waiting by someone guessing at the password. Failed logins never
    lock an account; this is the recovery when nobody who could do it in the browser can sign in."""
    from rules import clock

    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise click.ClickException(f"找不到用户 {username} / no such user")
    org.unlock_user(user, now=clock.now())
    db.session.commit()
    click.echo(f"已解除 {username} 的登录限制 / {username} may sign in again now")


@cli.command("seed-demo")
def seed_demo() -> None:
    """Fill the database with a demo company (idempotent)."""
    init_schema()
    created = demo.seed_demo(db.session)
    db.session.commit()
    click.echo("演示数据已创建" if created else "演示数据已存在，未做修改")
    _print_logins()


def _print_logins() -> None:
    click.echo("演示账号 / demo logins (username / password / role):")
    for username, password, role in demo.demo_logins():
        click.echo(f"  {username:<10} {password:<10} {role}")


@cli.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), type=int)
def serve(host: str, port: int) -> None:
    """Run the embedded mode: migrate, seed demo data on first start, fire periodic jobs, serve."""
    from waitress import serve as waitress_serve

    from jobs.schedule import start_embedded_scheduler

    was_empty = init_schema()
    if was_empty and current_app.config["SEED_DEMO_ON_FIRST_START"]:
        demo.seed_demo(db.session)
        db.session.commit()
        click.echo("首次启动：已创建演示数据")
    if db.session.scalar(select(User.id).where(User.username == "chenxm")):
        _print_logins()
    if not current_app.config.get("REDIS_URL"):
        start_embedded_scheduler(current_app._get_current_object())
    click.echo(f"客池CRM 已启动：http://{host}:{port}/  (Ctrl+C 停止)")
    waitress_serve(current_app._get_current_object(), host=host, port=port, threads=8)


@cli.command("recycle")
@click.option("--dry-run", is_flag=True, help="只显示将被回收的数量，不做修改")
def recycle_command(dry_run: bool) -> None:
    """Run the recycle rules now (客户和线索回收); --dry-run prints what would move."""
    from jobs.recycle import recycle_customers, recycle_leads
    from rules.recycle import RULE_LABELS

    moved = recycle_customers(dry_run=dry_run)
    click.echo(("将回收" if dry_run else "已回收") + f" {sum(moved.values())} 位客户：")
    for rule, count in moved.items():
        click.echo(f"  {RULE_LABELS[rule]}: {count}")
    leads = recycle_leads(dry_run=dry_run)
    click.echo(("将回收" if dry_run else "已回收") + f" {sum(leads.values())} 条线索")


@cli.command("reindex-customers")
def reindex_customers() -> None:
    """Rebuild every customer's 助记码 and quick-search row (after the pinyin or search rules
    change), a chunk per transaction so the site stays usable meanwhile."""
    from rules.customers import reindex_chunk

    last, done = 0, 0
    while (last := reindex_chunk(db.session, after=last)) is not None:
        db.session.commit()
        done += 1
    click.echo(f"已重建客户助记码和搜索索引（{done} 批）")


@cli.command("restore-backup")
@click.argument("backup_name")
@click.option("--yes", is_flag=True, help="不再询问，直接恢复")
def restore_backup(backup_name: str, yes: bool) -> None:
    """Replace the embedded database with a backup (stop the application first). BACKUP_NAME is a
    name from 数据备份 (kechi-20261130-022000.db) or the path of a backup file."""
    from adapters.backup_files import BackupFiles
    from rules import clock
    from rules import backup

    database = backup.database_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        raise click.ClickException("当前不是内置 SQLite 数据库：PostgreSQL 请用 pg_restore / psql 恢复（见 README）")
    folder = Path(current_app.config["BACKUP_DIR"])
    tz = current_app.config["TIMEZONE"]
    files = BackupFiles(folder)
    found = backup.find(files, backup_name, tz)
    source = found.path if found else Path(backup_name)
    if not source.is_file():
        raise click.ClickException(f"找不到备份 {backup_name}（在 {folder} 中，或请给出文件路径）")
    if not yes:
        click.confirm(f"将用 {source.name} 替换当前数据库 {database}，请确认客池CRM已停止。继续？", abort=True)
    db.session.remove()
    db.engine.dispose()  # no connection of this process may hold the file while it is replaced
    try:
        before = backup.restore(source, database, files, now=clock.now(), tz=tz)
    except RuleViolation as exc:
        raise click.ClickException(str(exc)) from exc
    init_schema()  # a backup from an earlier release is brought up to this one
    click.echo(f"已恢复 {source.name}。恢复前的数据已另存为 {before.name}，如需改回：restore-backup {before.name}")


@cli.command("worker")
def worker() -> None:
    """Run an RQ worker (with its scheduler) for REDIS_URL's queue."""
    from redis import Redis

    from jobs.worker import KechiWorker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL 未设置：嵌入模式下任务在 Web 进程内运行，无需 worker")
    connection = Redis.from_url(current_app.config["REDIS_URL"])
    KechiWorker([current_app.config["RQ_QUEUE_NAME"]], connection=connection).work(with_scheduler=True)
