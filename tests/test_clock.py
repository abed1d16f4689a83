"""The one clock (rules/clock.py): views, jobs, rules and column defaults read it; tests pin and
move it; the CLOCK setting (KECHI_CLOCK) pins it when an app starts, as an rq worker's does; and
no code under admin_views/, jobs/ or rules/ reads the wall clock around it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, build_app
from models import Customer, FollowUp, db
from rules import clock as process_clock

ROOT = Path(__file__).resolve().parent.parent


def test_the_pinned_clock_stands_still_until_moved_and_new_rows_carry_its_time(app, client, make_user,
                                                                             make_customer, clock):
    rep = make_user("rep1")
    cid = make_customer("钟表客户", rep)
    later = clock.advance(days=3, hours=1)
    assert later == FIXED_NOW + timedelta(days=3, hours=1) == clock.now
    client.login("rep1")
    client.post_form(f"/admin/customer/details/?id={cid}", {"kind": "visit", "content": "拜访"},
                     to=f"/admin/customer/follow-up/?id={cid}")
    with app.app_context():
        assert db.session.get(Customer, cid).created_at == FIXED_NOW  # a column default
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.customer_id == cid))
        assert follow_up.happened_at == follow_up.created_at == later  # a view, then a default


def test_the_clock_setting_pins_the_clock_when_an_app_starts(tmp_path, monkeypatch):
    process_clock.unpin()
    monkeypatch.setenv("KECHI_CLOCK", "2027-03-01T16:00:30+00:00")
    build_app("sqlite", tmp_path)
    assert process_clock.now() == datetime(2027, 3, 1, 16, 0, 30, tzinfo=timezone.utc)


def test_an_instant_without_a_utc_offset_is_refused():
    with pytest.raises(ValueError):
        process_clock.pin("2027-03-01T16:00:30")


# adapters/ are left out on purpose: an SMS gateway signs its requests with the real time.
# RQ stamps its registries and heartbeats with the real time, so the code reading them must too.
REAL_TIME = {ROOT / "rules" / "clock.py", ROOT / "jobs" / "recovery.py", ROOT / "jobs" / "worker.py"}
WALL_CLOCK = re.compile(r"\b(datetime\.(now|utcnow|today)|date\.today|time\.time|utcnow)\(")


def test_no_view_job_or_rule_reads_the_wall_clock():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("admin_views", "jobs", "rules", "demo")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in REAL_TIME
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []
