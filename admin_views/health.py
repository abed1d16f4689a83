"""/healthz: is the database reachable, is the queue, is the periodic schedule firing."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select, text

from jobs.queue import queue_status
from models import PeriodicRun, db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
        database = {"status": "ok", "dialect": db.engine.dialect.name}
        runs = {r.name: {"last_run_at": r.last_run_at.isoformat(), "runs": r.runs}
                for r in db.session.scalars(select(PeriodicRun))}
    except Exception as exc:  # report, never raise: this is what monitoring reads
        database, runs = {"status": "error", "error": type(exc).__name__}, {}
    queue = queue_status()
    healthy = database["status"] == "ok" and queue["status"] == "ok"
    body = {"status": "ok" if healthy else "error", "database": database, "queue": queue, "periodic": runs}
    return jsonify(body), 200 if healthy else 503
