"""Bulk SMS on SQLite: writing the outbox for N customers (recipients, opt-outs, rendering,
insert) against a bare executemany of the same rows, and sending them one by one through the
log provider (claim, commit, mark sent, follow-up on the timeline, commit) against a bare
conditional UPDATE + commit per row.

    .venv/bin/python bench/bench_messaging.py --customers 20000 --send 2000
"""
from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from common import make_app  # noqa: E402  (puts the project on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--send", type=int, default=2000)
    args = parser.parse_args()

    from sqlalchemy import insert, select

    from jobs import messaging as jobs
    from models import Customer, Role, db
    from models.base import utcnow
    from models.messaging import Outbox
    from rules import messaging, org, setup

    path = Path(tempfile.mkdtemp()) / "bench-messaging.db"
    app = make_app(f"sqlite:///{path}", EMBEDDED_JOBS_SYNC=True)
    with app.app_context():
        db.create_all()
        setup.ensure_defaults(db.session)
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        user = org.create_user(db.session, username="sales01", password="bench-123", display_name="陈晓明", role=role,
                               mobile="13800138000")
        db.session.flush()
        db.session.execute(insert(Customer), [
            {"name": f"客户{i:06d}有限公司", "kind": "company", "owner_id": user.id, "mobile": f"139{i:08d}",
             "custom": {}, "created_at": utcnow(), "updated_at": utcnow()} for i in range(args.customers)])
        messaging.save_settings(db.session, {"signature": "【客池科技】", "per_minute": 10 ** 6, "per_day": 10 ** 7})
        db.session.commit()

        from sqlalchemy.orm import selectinload

        customers = list(db.session.scalars(select(Customer).options(selectinload(Customer.contacts))
                                            .order_by(Customer.id)))
        started = time.perf_counter()
        recipients = messaging.collect(db.session, customers, channel="sms")
        batch = messaging.queue_messages(db.session, recipients.send, channel="sms", sender=user, now=utcnow(),
                                         body="{称呼}您好，{客户名称}关注的新品已到货，详情请致电{业务员} {业务员手机}。",
                                         title="bench")
        db.session.commit()
        write_app = time.perf_counter() - started
        rows = [(r.channel, r.status, r.key + "x", r.to_address, r.body, r.segments, r.created_at.isoformat())
                for r in db.session.scalars(select(Outbox))]
        batch_id = batch.id

    raw = sqlite3.connect(path)
    started = time.perf_counter()
    raw.executemany("INSERT INTO outbox (channel, status, key, to_address, body, segments, created_at, attempts, "
                    "respect_quiet_hours) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)", rows)
    raw.commit()
    write_raw = time.perf_counter() - started
    print(f"write outbox, {len(rows)} messages: app {write_app:.2f}s ({len(rows) / write_app:,.0f}/s), "
          f"bare executemany {write_raw:.3f}s, ratio {write_app / write_raw:.1f}x")

    with app.app_context():
        ids = list(db.session.scalars(select(Outbox.id).where(Outbox.batch_id == batch_id).order_by(Outbox.id)
                                      .limit(args.send)))
        started = time.perf_counter()
        for outbox_id in ids:
            jobs.deliver(outbox_id)
        send_app = time.perf_counter() - started
    raw_ids = [r[0] for r in raw.execute("SELECT id FROM outbox WHERE key LIKE '%x' ORDER BY id LIMIT ?",
                                         (args.send,))]
    started = time.perf_counter()
    for outbox_id in raw_ids:
        raw.execute("UPDATE outbox SET status='sending', attempts=attempts+1 WHERE id=? AND status='pending'",
                    (outbox_id,))
        raw.commit()
        raw.execute("UPDATE outbox SET status='sent' WHERE id=? AND status='sending'", (outbox_id,))
        raw.commit()
    send_raw = time.perf_counter() - started
    print(f"send one by one, {len(ids)} messages (log provider): app {send_app:.2f}s ({len(ids) / send_app:,.0f}/s), "
          f"bare claim+commit+mark+commit {send_raw:.3f}s, ratio {send_app / send_raw:.1f}x")


if __name__ == "__main__":
    main()
