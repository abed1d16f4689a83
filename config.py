"""Configuration classes. Every key can be overridden by an environment variable.

Embedded mode (the default) needs nothing: a SQLite file under instance/, jobs run in-process.
Production sets DATABASE_URL, REDIS_URL and SECRET_KEY.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("KECHI_INSTANCE_DIR", BASE_DIR / "instance"))


def _embedded_secret_key() -> str:
    """A per-installation secret kept in instance/, so sessions survive restarts without setup."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'kechi.db'}"
    # Heroku-style URLs and bare postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE_NAME = os.environ.get("RQ_QUEUE_NAME", "kechi")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
    ADMIN_SWATCH = os.environ.get("ADMIN_SWATCH", "default")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 20 * 1024 * 1024))
    # Attachments, document-centre files and print logos, by generated names. With several app
    # hosts this is shared storage (NFS or similar) mounted at the same path on each of them.
    FILES_DIR = os.environ.get("FILES_DIR", str(INSTANCE_DIR / "files"))
    # Excel import and export (uploads and generated files live under UPLOAD_DIR, shared by all hosts)
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024))
    # Rows per import transaction: at a million customers each commit writes index pages spread
    # over the whole file, so fewer, larger batches cost less (1,000 → 5,000: the bare driver's
    # floor ~25 % cheaper on SQLite); the progress bar still moves every second or two.
    IMPORT_BATCH_SIZE = int(os.environ.get("IMPORT_BATCH_SIZE", 5000))
    # Upload bombs (adapters/sheet_guard.py): what an uploaded sheet may declare or hold, checked
    # before any parser runs; the parse itself runs in a child process capped at
    # IMPORT_PARSE_MEMORY_MB of address space and IMPORT_PARSE_TIMEOUT seconds.
    IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", 10_000_000))  # rows × columns of a sheet's range
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 500_000))
    IMPORT_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024))
    IMPORT_MAX_COMPRESSION_RATIO = int(os.environ.get("IMPORT_MAX_COMPRESSION_RATIO", 100))
    IMPORT_MAX_SHARED_STRINGS = int(os.environ.get("IMPORT_MAX_SHARED_STRINGS", 2_000_000))
    IMPORT_MAX_SHARED_STRINGS_BYTES = int(os.environ.get("IMPORT_MAX_SHARED_STRINGS_BYTES", 100 * 1024 * 1024))
    IMPORT_MAX_ZIP_MEMBERS = int(os.environ.get("IMPORT_MAX_ZIP_MEMBERS", 1000))
    IMPORT_PARSE_MEMORY_MB = int(os.environ.get("IMPORT_PARSE_MEMORY_MB", 2048))
    IMPORT_PARSE_TIMEOUT = int(os.environ.get("IMPORT_PARSE_TIMEOUT", 600))
    # uploads being read at once: per user, and for the whole site (more are refused with a message)
    IMPORT_MAX_READING_PER_USER = int(os.environ.get("IMPORT_MAX_READING_PER_USER", 2))
    IMPORT_MAX_READING = int(os.environ.get("IMPORT_MAX_READING", 8))
    EXPORT_INLINE_ROWS = int(os.environ.get("EXPORT_INLINE_ROWS", 2000))  # more rows: a job with a download link
    JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", 600))  # a running job silent this long may be resumed
    # RQ mode (jobs.recovery): a worker confirms its running job every JOB_HEARTBEAT_SECONDS; a job
    # silent for JOB_ABANDONED_SECONDS lost its worker and is requeued (checked by every worker at
    # start and every JOB_RECOVERY_SECONDS, and by the every-minute schedule)
    JOB_HEARTBEAT_SECONDS = int(os.environ.get("JOB_HEARTBEAT_SECONDS", 10))
    JOB_ABANDONED_SECONDS = int(os.environ.get("JOB_ABANDONED_SECONDS", 40))
    JOB_RECOVERY_SECONDS = int(os.environ.get("JOB_RECOVERY_SECONDS", 15))
    JOB_MAX_RESUMES = int(os.environ.get("JOB_MAX_RESUMES", 3))  # then it stays 已中断 (继续 by hand)
    # uploads, rejected-row files and exports under UPLOAD_DIR are deleted this many days after their job ended
    FILE_RETENTION_DAYS = int(os.environ.get("FILE_RETENTION_DAYS", 14))
    # 数据备份 (embedded SQLite): a copy every night at 02:20 into BACKUP_DIR, the newest BACKUP_KEEP kept.
    # Keep BACKUP_DIR on another disk (or copy it off the machine) to survive a disk failure.
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", 14))

    # Sessions: signed cookies carry a per-user version (see models.org.User.get_id),
    # so logout, disable, password change and forced logout end every copy of the cookie.
    IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", 30)))
    PERMANENT_SESSION_LIFETIME = IDLE_TIMEOUT
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_DURATION = timedelta(days=1)
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    # Login throttling (rules/auth.py): no account is ever locked by failures; instead, after
    # LOGIN_CAPTCHA_AFTER_FAILURES recent failures (per username or per client IP) a CAPTCHA is
    # required, and past the free failures each further attempt waits 2, 4, 8 … seconds, at most
    # LOGIN_MAX_DELAY_SECONDS. Account failures count within LOGIN_ACCOUNT_WINDOW_HOURS since the
    # last success; IP failures within LOGIN_IP_WINDOW_MINUTES (set the IP limit with offices
    # behind one NAT address in mind).
    LOGIN_ACCOUNT_FREE_FAILURES = int(os.environ.get("LOGIN_ACCOUNT_FREE_FAILURES", 10))
    LOGIN_ACCOUNT_WINDOW_HOURS = int(os.environ.get("LOGIN_ACCOUNT_WINDOW_HOURS", 24))
    LOGIN_IP_FREE_FAILURES = int(os.environ.get("LOGIN_IP_FREE_FAILURES", 30))
    LOGIN_IP_WINDOW_MINUTES = int(os.environ.get("LOGIN_IP_WINDOW_MINUTES", 60))
    LOGIN_CAPTCHA_AFTER_FAILURES = int(os.environ.get("LOGIN_CAPTCHA_AFTER_FAILURES", 3))
    LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_MAX_DELAY_SECONDS", 900))
    LOGIN_CAPTCHA_TTL_SECONDS = int(os.environ.get("LOGIN_CAPTCHA_TTL_SECONDS", 600))
    # How many reverse proxies (nginx, a load balancer) sit in front of the app and append to
    # X-Forwarded-For: the client IP that throttling, the IP allow-list and the logs see.
    # 0 (default) trusts no header: a client could otherwise pick its own address.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    LOGIN_LOG_RETENTION_DAYS = int(os.environ.get("LOGIN_LOG_RETENTION_DAYS", 365))

    # The in-process scheduler fires periodic jobs only in the serving process of embedded mode.
    EMBEDDED_SCHEDULER = os.environ.get("EMBEDDED_SCHEDULER", "0") == "1"
    NOTIFY_POLL_SECONDS = int(os.environ.get("NOTIFY_POLL_SECONDS", 30))  # open pages ask for new reminders (± jitter)
    SEED_DEMO_ON_FIRST_START = os.environ.get("SEED_DEMO", "1") == "1"

    FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION = False
    EMBEDDED_JOBS_SYNC = False
    # An ISO instant ("2026-11-23T02:00:00+00:00", env KECHI_CLOCK) pins the process clock
    # (rules.clock) when the app starts: how tests hand their instant to an `rq worker` process.
    # Unset, the clock is the wall clock.
    CLOCK: str | None = None

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _embedded_secret_key()
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///"):
            Path(self.SQLALCHEMY_DATABASE_URI.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )


class TestConfig(Config):
    __test__ = False  # not a pytest test class
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REDIS_URL = None
    FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION = True
    EMBEDDED_SCHEDULER = False
    SEED_DEMO_ON_FIRST_START = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Embedded jobs run synchronously in tests so a request's effects are visible at once.
    EMBEDDED_JOBS_SYNC = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    SEED_DEMO_ON_FIRST_START = False

    def __init__(self) -> None:
        missing = [k for k in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(k)]
        if missing:
            raise RuntimeError(f"ProductionConfig needs environment variables: {', '.join(missing)}")
        super().__init__()
