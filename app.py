"""The application factory (`flask --app app ...` finds create_app; the commands are jobs/cli.py)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, redirect, url_for
from flask_babel import Babel
from flask_migrate import Migrate
from sqlalchemy import event
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
    from jobs import cli
    from jobs.queue import init_queue
    from models import db
    from rules import audit, clock, org, versions

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
    versions.install(db.session.session_factory.class_)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale,
                   default_timezone=app.config["TIMEZONE"])
    init_queue(app)
    init_admin(app)
    init_errors(app)
    app.register_blueprint(health_bp)
    app.add_url_rule("/", "root", lambda: redirect(url_for("admin.index")))
    cli.init_app(app)
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
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        # PostgreSQL's JIT compiles a scoped report's plan for seconds to save milliseconds
        # (bench/bench_finance.py: 11 of 11.5 s of a 主管's count); the reports are short queries.
        cursor = dbapi_connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.commit()
