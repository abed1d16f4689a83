"""Fixtures: one app per database kind for the whole session, with a pristine database and
pristine settings for every test (a real SQLite file, or the real PostgreSQL that
scripts/test.sh starts), the process clock pinned at FIXED_NOW, a client that logs in the way a
browser does (CSRF token included), and factories for staff and customers."""
from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from flask.testing import FlaskClient
from sqlalchemy import Integer, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import MIGRATIONS_DIR, create_app
from config import TestConfig
from models import Customer, CustomerKind, Role, User, db
from rules import clock as process_clock
from rules import customers, normalize, org, setup

PG_URL = os.environ.get("KECHI_TEST_PG_URL")
REDIS_URL = os.environ.get("KECHI_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("KECHI_TEST_REQUIRE_SERVICES") == "1"
PASSWORD = "secret-123"
FIXED_NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Asia/Shanghai


def need_service(url: str | None, what: str) -> str:
    """Services are started by scripts/test.sh; under it a missing one is a failure."""
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail(f"{what} is required but was not started")
        pytest.skip(f"{what} not running (use `make test`)")
    return url


@contextmanager
def empty_database_app(tmp_path: Path, kind: str) -> Iterator[Flask]:
    """For upgrade tests: an app (in its context) on an empty SQLite file or on the test
    PostgreSQL database, emptied again afterwards (tables and Alembic's version row)."""
    uri = f"sqlite:///{tmp_path / 'old.db'}" if kind == "sqlite" else need_service(PG_URL, "PostgreSQL")

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = uri

    app = create_app(Cfg)
    with app.app_context():
        def reset() -> None:
            if kind == "postgresql":
                # Not drop_all(): an old revision lacks the foreign keys it would drop by name
                # first (use_alter: orders.contract_id), so each table goes with its constraints.
                with db.engine.begin() as conn:
                    for table in reversed(db.metadata.sorted_tables):
                        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
                    conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

        reset()
        try:
            yield app
        finally:
            db.session.remove()
            reset()
            db.engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_dbs") and "app" in metafunc.fixturenames:
        metafunc.parametrize("app", ["sqlite", "postgresql"], indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_dbs: run the test on SQLite and on PostgreSQL")
    _compile_translations()
    _children_on_real_time()


def _children_on_real_time() -> None:
    """Under `make test-clock` (libfaketime) only this process runs on the fake time; what it
    starts (rq workers, Chromium) runs on the real one. Under libfaketime a timed lock wait
    never returns (wolfcw/libfaketime#390: rq's worker threads hang), and a worker reads the
    test's instant from KECHI_CLOCK anyway. Only LD_PRELOAD changes: libfaketime re-reads the
    FAKETIME variables every few seconds, so removing them would end the fake time here too."""
    preload = os.environ.get("LD_PRELOAD", "")
    if "faketime" not in preload:
        return
    kept = [lib for lib in re.split(r"[:\s]+", preload) if lib and "faketime" not in lib]
    if kept:
        os.environ["LD_PRELOAD"] = ":".join(kept)
    else:
        del os.environ["LD_PRELOAD"]


def _compile_translations() -> None:
    """What `make` does with pybabel, so a bare `pytest` sees the English catalogue too."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in Path(__file__).resolve().parent.parent.glob("translations/*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        # Written aside and renamed: `make test` runs two pytest processes side by side, and
        # neither may read the other's half-written catalogue.
        part = po_path.with_suffix(f".mo.{os.getpid()}")
        with part.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(part, po_path.with_suffix(".mo"))


# --- the clock: every test runs at FIXED_NOW unless it moves the clock ---------------------------

class Clock:
    """The process clock (rules.clock) as a test drives it. Views, jobs, rules and column
    defaults all read it, in every thread; it stands still until moved."""

    @property
    def now(self) -> datetime:
        return process_clock.now()

    def set(self, instant: datetime) -> datetime:
        return process_clock.pin(instant)

    def advance(self, **delta: float) -> datetime:
        return process_clock.move(timedelta(**delta))


@pytest.fixture(autouse=True)
def clock() -> Iterator[Clock]:
    process_clock.pin(FIXED_NOW)
    yield Clock()
    process_clock.unpin()


def worker_env(app: Flask, tmp_path: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of an `rq worker` process serving `app`: its database, its Redis and the
    test's clock (KECHI_CLOCK pins the worker's process clock at the instant the test is at)."""
    return dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url,
                KECHI_INSTANCE_DIR=str(tmp_path / "instance"), SECRET_KEY="worker-test",
                KECHI_CLOCK=process_clock.now().isoformat(), **extra)


# --- apps and databases --------------------------------------------------------------------------

def _config(uri: str, **overrides) -> type[TestConfig]:
    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = uri

    for key, value in overrides.items():
        setattr(Cfg, key, value)
    return Cfg


def _fill(application: Flask) -> None:
    """The schema and the default roles, at FIXED_NOW so their timestamps never vary."""
    with application.app_context(), process_clock.pinned(FIXED_NOW):
        db.create_all()
        setup.ensure_defaults(db.session)
        db.session.commit()


def build_app(kind: str, tmp_path, **overrides) -> Flask:
    """A fresh app of its own, for a test that needs settings create_app reads once (REDIS_URL,
    the queue mode); most tests take the session's `app` fixture instead."""
    if kind == "postgresql":
        uri = need_service(PG_URL, "PostgreSQL")
    else:
        uri = f"sqlite:///{tmp_path / 'kechi-test.db'}"
    application = create_app(_config(uri, **overrides))
    if kind == "postgresql":
        with application.app_context():
            db.drop_all()
    _fill(application)
    return application


class SessionApp:
    """One app for the session (create_app compiles ~550 routes: too slow to repeat per test)
    and, before each test, a database, settings and views exactly as a fresh app would have."""

    def __init__(self, application: Flask, kind: str) -> None:
        self.app = application
        self.kind = kind
        application.config["DB_KIND"] = kind
        self.config = copy.deepcopy(dict(application.config))
        self.extensions = dict(application.extensions)
        # Views keep lazily built state (the custom-field columns of the last database they saw).
        self.views = [(view, dict(vars(view))) for admin in application.extensions.get("admin", [])
                      for view in admin._views]

    def fresh(self) -> Flask:
        self.app.config.clear()
        self.app.config.update(copy.deepcopy(self.config))
        self.app.extensions.clear()
        self.app.extensions.update(self.extensions)
        for view, state in self.views:
            vars(view).clear()
            vars(view).update(state)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()  # no pooled connection may outlive the database it was opened on
        self.reset_database()
        return self.app

    def done(self) -> None:
        with self.app.app_context():
            db.session.remove()

    def reset_database(self) -> None:
        raise NotImplementedError

    def snapshot(self, folder: Path) -> object:
        """The database as it is now, to be put back by `restore` (the files are the caller's)."""
        raise NotImplementedError

    def restore(self, state: object) -> None:
        raise NotImplementedError


class SqliteSessionApp(SessionApp):
    """A template file built once (schema + defaults), copied over the app's file per test."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "kechi-test.db"
        self.template = folder / "template.db"
        application = create_app(_config(f"sqlite:///{self.path}"))
        _fill(application)
        with application.app_context():
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.engine.dispose()
        shutil.copyfile(self.path, self.template)
        super().__init__(application, "sqlite")

    def reset_database(self) -> None:
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        # A new file replaces the old one: a connection some stray thread still holds keeps
        # the old file and cannot write into the next test's database.
        self._replace_with(self.template)

    def _replace_with(self, source: Path) -> None:
        staging = self.path.with_name("next.db")
        shutil.copyfile(source, staging)
        os.replace(staging, self.path)

    def snapshot(self, folder: Path) -> object:
        with self.app.app_context():
            db.session.remove()
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.engine.dispose()
        saved = folder / "snapshot.db"
        shutil.copyfile(self.path, saved)
        return saved

    def restore(self, state: object) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        self._replace_with(state)


def _serial_key(table) -> str | None:
    """The name of a table's single integer primary key (a serial column on PostgreSQL)."""
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement in (True, "auto"):
        return keys[0].name
    return None


class PostgresSessionApp(SessionApp):
    """A database of its own (kechi_test stays free for the migration tests), emptied per test
    and given back the rows a fresh database starts with. Measured per test: DELETE + re-insert
    ~10 ms, TRUNCATE + ensure_defaults ~200 ms, CREATE DATABASE ... TEMPLATE ~400 ms."""

    def __init__(self, url: str) -> None:
        base = make_url(url)
        self.name = f"{base.database}_app"
        self.server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{self.name}"')
        application = create_app(_config(base.set(database=self.name).render_as_string(hide_password=False)))
        _fill(application)
        tables = db.metadata.sorted_tables
        with application.app_context(), db.engine.connect() as conn:
            self.rows = {t: [dict(r._mapping) for r in conn.execute(select(t))] for t in tables}
        self.rows = {t: rows for t, rows in self.rows.items() if rows}
        # Children before parents; every sequence back to 1, then past the default rows' ids. A
        # cycle of foreign keys (use_alter: orders.contract_id → contracts) is cut first.
        cut = [f'UPDATE "{t.name}" SET "{fk.parent.name}" = NULL WHERE "{fk.parent.name}" IS NOT NULL'
               for t in tables for fk in t.foreign_keys if fk.constraint.use_alter]
        self.empty = "; ".join(cut + [f'DELETE FROM "{t.name}"' for t in reversed(tables)] + [
            "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, false) "
            "FROM pg_sequences WHERE schemaname = current_schema()"])
        self.sequences = "; ".join(
            f"SELECT setval(pg_get_serial_sequence('{t.name}', '{key}'), max({key})) FROM {t.name}"
            for t in self.rows if (key := _serial_key(t)))
        super().__init__(application, "postgresql")

    def _sql(self, statement: str) -> None:
        with self.server.connect() as conn:
            conn.exec_driver_sql(statement)

    def reset_database(self) -> None:
        with self.app.app_context(), db.engine.begin() as conn:
            conn.exec_driver_sql(self.empty)
            for table, rows in self.rows.items():
                conn.execute(table.insert(), rows)
            if self.sequences:
                conn.exec_driver_sql(self.sequences)

    def snapshot(self, folder: Path) -> object:
        with self.app.app_context():
            db.session.remove()
            with db.engine.connect() as conn:
                return {t: [dict(r._mapping) for r in conn.execute(select(t))] for t in db.metadata.sorted_tables}

    def restore(self, state: object) -> None:
        """Empty, then the saved rows parents first; the columns of a cycle (use_alter) or pointing
        into their own table are written after."""
        tables = db.metadata.sorted_tables
        with self.app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                conn.exec_driver_sql(self.empty)
                cycles = []
                for table in tables:
                    rows = state[table]
                    late = [fk.parent.name for fk in table.foreign_keys  # cycles, and rows pointing at later rows
                            if fk.constraint.use_alter or fk.column.table is table]
                    if rows:
                        conn.execute(table.insert(), [{**r, **dict.fromkeys(late)} for r in rows])
                    cycles += [(table, r) for r in rows if any(r[c] is not None for c in late)]
                for table, r in cycles:  # every value given, so no onupdate default touches the row
                    conn.execute(table.update().where(*(c == r[c.name] for c in table.primary_key.columns)).values(r))
                for table in tables:
                    if state[table] and (key := _serial_key(table)):
                        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key}'), "
                                             f"max({key})) FROM {table.name}")

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()
        self._sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.server.dispose()


_SHARED_APPS: dict[str, SessionApp] = {}
_DEMO_SNAPSHOTS: dict[tuple[str, int], tuple[object, Path]] = {}


@pytest.fixture(scope="session")
def session_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SessionApp]]:
    """Built on first use, so a run of SQLite tests never needs PostgreSQL."""
    class Apps(dict):
        def __missing__(self, kind: str) -> SessionApp:
            if kind == "postgresql":
                shared = PostgresSessionApp(need_service(PG_URL, "PostgreSQL"))
            else:
                shared = SqliteSessionApp(tmp_path_factory.mktemp("session-db"))
            self[kind] = _SHARED_APPS[kind] = shared
            return shared

    apps = Apps()
    yield apps
    for _state, files in _DEMO_SNAPSHOTS.values():
        shutil.rmtree(files.parent, ignore_errors=True)
    for shared in apps.values():
        if isinstance(shared, PostgresSessionApp):
            shared.close()


@pytest.fixture
def app(request: pytest.FixtureRequest, session_apps: dict[str, SessionApp], clock: Clock) -> Iterator[Flask]:
    shared = session_apps[getattr(request, "param", "sqlite")]
    yield shared.fresh()
    shared.done()


def seeded_demo(app: Flask, tmp_path: Path, customers: int = 20) -> None:
    """The demo company (demo.seed_demo at the pinned clock) in the test's fresh database, its
    files under tmp_path/"files" (FILES_DIR). Seeding takes 10-20 s and a dozen tests read the
    same demo, so the first seeds it and saves the database and files; the others get copies.
    A test of the seeding itself calls demo.seed_demo."""
    from demo import seed_demo

    shared = _SHARED_APPS[app.config["DB_KIND"]]
    files = tmp_path / "files"
    app.config["FILES_DIR"] = str(files)
    key = (shared.kind, customers)
    if key in _DEMO_SNAPSHOTS:
        state, saved_files = _DEMO_SNAPSHOTS[key]
        shared.restore(state)
        shutil.copytree(saved_files, files, dirs_exist_ok=True)
        return
    with app.app_context(), process_clock.pinned(FIXED_NOW):
        seed_demo(db.session, customers=customers)
        db.session.commit()
    folder = Path(tempfile.mkdtemp(prefix=f"kechi-demo-{shared.kind}-{customers}-"))
    shutil.copytree(files, folder / "files") if files.exists() else (folder / "files").mkdir()
    _DEMO_SNAPSHOTS[key] = (shared.snapshot(folder), folder / "files")


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


# --- the Excel import wizard, driven as a person would -------------------------------------------

def upload_sheet(client: FlaskClient, data: bytes, *, name: str, entity: str):
    """Step 1: upload a file for `entity` (customer, contact, product)."""
    import io

    token = client.token("/admin/excel/")
    return client.post("/admin/excel/", data={"csrf_token": token, "entity": entity,
                                              "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def start_import(client: FlaskClient, job_id: int, **changes: str):
    """Step 2: submit the mapping page as shown (the columns it chose, duplicates skipped),
    with `changes` to some of its fields."""
    page = client.get(f"/admin/excel/{job_id}/mapping/").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "go": "start", "on_duplicate": "skip"}
    for name, value in re.findall(r'<select class="form-control form-control-sm" name="(col_\d+)"[^>]*>(.*?)</select>',
                                  page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', value)
        form[name] = chosen.group(1) if chosen else ""
    header_select = page.split('name="header_row"', 1)[1].split("</select>", 1)[0]
    form["header_row"] = re.search(r'<option value="(\d+)" selected>', header_select).group(1)
    form.update(changes)
    return client.post(f"/admin/excel/{job_id}/mapping/", data=form)


def latest_job(app: Flask):
    """The newest import/export job, detached from its session."""
    from models.job import JobRecord

    with app.app_context():
        job = db.session.scalar(select(JobRecord).order_by(JobRecord.id.desc()).limit(1))
        db.session.expunge(job)
        return job


class Browserish:
    """A test client used the way a person uses the site: GET a page, then POST its form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, url: str = "/login") -> str:
        return csrf_token(self.client.get(url).get_data(as_text=True))

    def login(self, username: str, password: str = PASSWORD, follow: bool = False):
        token = self.token("/login")
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": token}, follow_redirects=follow)

    def logout(self):
        token = self.token("/admin/")
        return self.client.post("/logout", data={"csrf_token": token})

    def post_form(self, form_url: str, data: dict, *, to: str | None = None, follow: bool = False):
        """POST to `to` (default: the form's own URL) with the token from the form page."""
        data = dict(data, csrf_token=self.token(form_url))
        return self.client.post(to or form_url, data=data, follow_redirects=follow)

    def action(self, list_url: str, action: str, ids: list[int], follow: bool = True):
        return self.post_form(list_url, {"action": action, "rowid": [str(i) for i in ids]},
                              to=list_url.rstrip("/") + "/action/", follow=follow)

    def __getattr__(self, name: str):
        return getattr(self.client, name)


@pytest.fixture
def client(app: Flask) -> Browserish:
    return Browserish(app.test_client())


@pytest.fixture
def new_client(app: Flask) -> Callable[[], Browserish]:
    return lambda: Browserish(app.test_client())


@pytest.fixture
def make_user(app: Flask) -> Callable[..., int]:
    def make(username: str, role: str = "业务员", department: tuple[str, ...] | None = ("销售部", "销售一部"),
             superior: str | None = None, display_name: str | None = None) -> int:
        with app.app_context():
            role_obj = db.session.scalar(select(Role).where(Role.name == role))
            assert role_obj is not None, role
            dept = org.ensure_department_path(db.session, list(department)) if department else None
            boss = db.session.scalar(select(User).where(User.username == superior)) if superior else None
            user = org.create_user(db.session, username=username, password=PASSWORD,
                                   display_name=display_name or username, role=role_obj,
                                   department=dept, superior=boss)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def make_customer(app: Flask) -> Callable[..., int]:
    def make(name: str, owner_id: int | None, phone: str | None = None) -> int:
        with app.app_context():
            owner = db.session.get(User, owner_id) if owner_id else None
            customer = Customer(name=name, kind=CustomerKind.COMPANY, phone=phone, owner_id=owner_id,
                                department_id=owner.department_id if owner else None,
                                mnemonic=normalize.mnemonic(name))
            db.session.add(customer)
            db.session.flush()
            customers.reindex(db.session, customer)
            db.session.commit()
            return customer.id

    return make


@pytest.fixture
def admin_id(make_user) -> int:
    return make_user("admin", role="系统管理员", department=("总经办",), display_name="管理员")


# --- Browser journeys: a real server (waitress on loopback) and Debian's Chromium -------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """waitress on a free loopback port, its loop stepped in a thread until the test ends
    (closing the socket under a running loop makes the thread die with EBADF)."""
    from waitress import create_server, wasyncore

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    stop.set()
    thread.join(timeout=5)
    for channel in list(server._map.values()):  # keep-alive connections the browser left open
        if channel is not server:
            channel.close()
    server.close()
    server.task_dispatcher.shutdown()


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        if REQUIRE_SERVICES:
            pytest.fail("Chromium is required but missing")
        pytest.skip("Chromium not installed (use `make test`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _watched_tab(browser, live_server: str, **context_options):
    """A tab that records every request, so a test can prove nothing left the machine, and every
    refusal of the Content-Security-Policy."""
    context = browser.new_context(locale="zh-CN", **context_options)
    tab = context.new_page()
    tab.requested = []
    tab.on("request", lambda request: tab.requested.append(request.url))
    tab.base = live_server
    # A script, handler or style the Content-Security-Policy refused: Chromium says so on the
    # console. Any journey that met one fails, since a refused script is a broken page.
    tab.csp_violations = []
    tab.on("console", lambda m: tab.csp_violations.append(f"{tab.url}: {m.text}")
           if "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert tab.csp_violations == []


@pytest.fixture
def page(browser, live_server: str):
    """A desktop browser window."""
    yield from _watched_tab(browser, live_server, viewport={"width": 1366, "height": 860})


@pytest.fixture
def phone_page(browser, live_server: str):
    """A phone at 390×844 with touch, as a salesperson holds it (the mobile workspace, /m/).
    Geolocation is granted and set to a spot in Shanghai; a test that wants it refused calls
    `phone_page.context.clear_permissions()`."""
    yield from _watched_tab(browser, live_server, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                            is_mobile=True, has_touch=True, permissions=["geolocation"],
                            geolocation={"latitude": 31.2304, "longitude": 121.4737, "accuracy": 35})


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login page as a person does. Whoever was signed in at this browser
    goes first: the page they had open is left, then the cookies — a request that page still had
    running (the approvals and reminder pop-ups poll as a page loads) would otherwise set their
    cookie again after a test's clear_cookies(), and /login would show their workbench. A response
    already on its way can still land after about:blank, so when /login shows no form, again."""
    for _attempt in range(3):
        page.goto("about:blank")
        page.context.clear_cookies()
        page.goto(page.base + "/login")
        if page.locator("#username").count():
            break
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def screenshot(page, name: str) -> Path:
    """Saved under test-artifacts/browser/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def run_at_once(app, jobs) -> list[str]:
    """Run each job in its own thread with its own connection, all released together."""
    barrier = threading.Barrier(len(jobs))
    results: list[str] = [""] * len(jobs)

    def worker(index: int, job) -> None:
        with app.app_context():
            with Session(db.engine) as session:
                barrier.wait()
                try:
                    job(session)
                    session.commit()
                    results[index] = "ok"
                except Exception as exc:  # noqa: BLE001 - the message is the result
                    session.rollback()
                    results[index] = str(exc)

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def xlsx_export(client, entity: str = "customer", query: str = "", columns: list[str] | None = None):
    """Open 导出Excel the way a person does (the column page, every column ticked), then download."""
    url = f"/admin/excel/export/{entity}/" + (f"?{query}" if query else "")
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    chosen = columns or re.findall(r'name="(c_[a-z0-9_:]+)"', html)
    data = {"csrf_token": csrf_token(html), **{c if c.startswith("c_") else f"c_{c}": "1" for c in chosen}}
    return client.post(url, data=data)


def sheet_rows(response) -> list[tuple]:
    import io

    import openpyxl

    with response:
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        book = openpyxl.load_workbook(io.BytesIO(response.data))
    return list(book.active.iter_rows(values_only=True))


def list_table(html: str) -> str:
    """Just the list's table, so the bell's and the menu's texts do not count."""
    start = html.find("model-list")
    return html[start:html.find("</table>", start)] if start >= 0 else ""


def redis_app_signed_in(tmp_path, redis_url: str, **cfg) -> tuple[Flask, "Browserish"]:
    """An app whose jobs go to Redis (a real rq worker runs them, sharing its upload folder),
    with the 业务员 chenxm signed in."""
    application = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False,
                            UPLOAD_DIR=str(tmp_path / "shared"), **cfg)
    with application.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        org.create_user(db.session, username="chenxm", password="secret-123", display_name="陈晓明", role=role)
        db.session.commit()
    client = Browserish(application.test_client())
    client.login("chenxm")
    return application, client


# --- upgrades from an old schema -------------------------------------------------------------

@contextmanager
def app_at_revision(kind: str, tmp_path, revision: str) -> Iterator[Flask]:
    """An app, inside its context, on an empty database upgraded only to `revision`, so a test
    can write rows as that release did and then upgrade; the database is dropped afterwards."""
    with empty_database_app(tmp_path, kind) as application:
        upgrade(directory=MIGRATIONS_DIR, revision=revision)
        yield application
