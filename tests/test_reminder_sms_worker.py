"""A reminder the user chose to receive by SMS is texted exactly once, though the real rq worker
running the every-minute dispatch is killed right after the gateway accepted it and another
worker runs the dispatch again (and again): the outbox row's key is the notification's, the
second run asks the gateway by that key instead of sending."""
from __future__ import annotations

import os
import signal
import subprocess
import time

from sqlalchemy import select

from conftest import PASSWORD, FIXED_NOW, build_app, worker_env
from jobs import messaging as jobs
from jobs.queue import enqueue
from models import NotificationKind, Outbox, Role, db
from rules import messaging, notification_settings, notifications, org
from test_jobs_messaging import ROOT, WORKER, gateway, redis_url  # noqa: F401  (fixtures)


def test_a_reminder_is_texted_once_across_a_killed_and_a_restarted_worker(tmp_path, redis_url, gateway, clock):
    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False)
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        user = org.create_user(db.session, username="chenxm", password=PASSWORD, display_name="陈晓明", role=role)
        user.mobile = "13900000001"
        messaging.save_settings(db.session, {"provider": gateway.settings()})
        notification_settings.save(db.session, user.id, popup_kinds=["task"], sms_kinds=["task"], days_ahead=1,
                                   quiet_start="", quiet_end="", now=FIXED_NOW)
        note = notifications.notify(db.session, user_id=user.id, title="张总指派给您：报价单复核", now=FIXED_NOW,
                                    kind=NotificationKind.TASK)
        db.session.commit()
        key = f"notice:{note.id}"
        enqueue(jobs.dispatch_pending)

    worker = subprocess.Popen(WORKER + [redis_url, "kechi"], cwd=ROOT, env=worker_env(app, tmp_path, redis_url),
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_worker() -> None:  # the gateway has the text; the worker dies before hearing back
        os.killpg(worker.pid, signal.SIGKILL)
        time.sleep(0.2)

    gateway.on_send = kill_worker
    assert worker.wait(timeout=120) == -signal.SIGKILL
    gateway.on_send = None
    assert gateway.calls == 1

    clock.advance(minutes=30)  # later minutes: the dispatch finds the row its dead worker left
    for _run in range(2):
        with app.app_context():
            enqueue(jobs.dispatch_pending)
        result = subprocess.run(WORKER + [redis_url, "kechi"], cwd=ROOT, env=worker_env(app, tmp_path, redis_url),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert gateway.calls == 1  # never texted twice
    assert list(gateway.sent) == [key]
    assert gateway.sent[key]["content"] == "【提醒】张总指派给您：报价单复核"
    with app.app_context():
        rows = [(r.key, r.status) for r in db.session.scalars(select(Outbox))]
        assert rows == [(key, "sent")]
