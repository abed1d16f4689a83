"""One way to run a job: `enqueue(func, *args)`.

With REDIS_URL set, jobs go to RQ and any `rq worker` process runs them. Without it (embedded
mode) a small thread pool inside the web process runs them, so a fresh install needs nothing
else. Job functions take ids and open their own app context through `job_app_context()`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)
EXTENSION = "kechi_queue"


class QueueUnavailable(RuntimeError):
    """Redis could not be reached; the caller tells the user and keeps its outbox rows."""


class EmbeddedRunner:
    """Runs jobs in a background thread of this process, inside an app context."""

    mode = "embedded"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.sync = bool(app.config.get("EMBEDDED_JOBS_SYNC"))
        self.pool = None if self.sync else ThreadPoolExecutor(max_workers=2, thread_name_prefix="kechi-job")

    def _run(self, func: Callable, args: tuple, kwargs: dict) -> Any:
        with self.app.app_context():
            try:
                return func(*args, **kwargs)
            except Exception:
                log.exception("embedded job %s failed", func.__name__)
                raise

    def enqueue(self, func: Callable, *args: Any, job_timeout: int | None = None, **kwargs: Any) -> str:
        if self.sync:
            self._run(func, args, kwargs)
            return f"inline:{func.__name__}"
        future = self.pool.submit(self._run, func, args, kwargs)
        return f"embedded:{func.__name__}:{id(future)}"

    def status(self) -> dict[str, Any]:
        return {"mode": self.mode, "status": "ok"}


class RedisRunner:
    mode = "redis"

    def __init__(self, app: Flask) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2)
        self.queue = Queue(app.config["RQ_QUEUE_NAME"], connection=self.connection)

    def enqueue(self, func: Callable, *args: Any, job_timeout: int | None = None, **kwargs: Any) -> str:
        from redis.exceptions import RedisError

        try:
            job = self.queue.enqueue(func, args=args, kwargs=kwargs, job_timeout=job_timeout)
        except RedisError as exc:
            raise QueueUnavailable(str(exc)) from exc
        return job.id

    def status(self) -> dict[str, Any]:
        from redis.exceptions import RedisError

        try:
            self.connection.ping()
            return {"mode": self.mode, "status": "ok", "queued": len(self.queue)}
        except RedisError as exc:
            return {"mode": self.mode, "status": "error", "error": str(exc)}


def init_queue(app: Flask) -> None:
    app.extensions[EXTENSION] = RedisRunner(app) if app.config.get("REDIS_URL") else EmbeddedRunner(app)


def enqueue(func: Callable, *args: Any, job_timeout: int | None = None, **kwargs: Any) -> str:
    return current_app.extensions[EXTENSION].enqueue(func, *args, job_timeout=job_timeout, **kwargs)


def queue_status() -> dict[str, Any]:
    return current_app.extensions[EXTENSION].status()


@contextmanager
def job_app_context() -> Iterator[Flask]:
    """Reuse the running app (embedded mode, tests); an `rq worker` process builds its own."""
    if has_app_context():
        yield current_app._get_current_object()
        return
    from app import create_app  # late: jobs are imported by the app, not the other way round

    app = create_app()
    with app.app_context():
        yield app
