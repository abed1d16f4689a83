"""Jobs whose worker dies are seen to die: killing a worker's process group stops its running
job, the page says the job was interrupted instead of 进行中, and the next worker finds the
abandoned job in RQ's registries and resumes it (jobs.recovery, jobs.worker.KechiWorker).
Real `rq worker` processes on the real Redis, on real time: the thresholds are small here."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import REDIS_URL, build_app, latest_job, need_service, redis_app_signed_in, worker_env
from models import Customer, db
from test_import_customers import big_sheet, start, upload

ROOT = Path(__file__).resolve().parent.parent
FAST = {"KECHI_JOB_HEARTBEAT_SECONDS": "1", "KECHI_JOB_ABANDONED_SECONDS": "3", "KECHI_JOB_RECOVERY_SECONDS": "1"}


@pytest.fixture
def redis_url() -> str:
    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


def _worker(app, redis_url: str, tmp_path: Path, **env_extra: str) -> subprocess.Popen:
    """A deployment's worker: `rq worker -w jobs.worker.KechiWorker`, in a process group of its own."""
    env = worker_env(app, tmp_path, redis_url, KECHI_UPLOAD_DIR=app.config["UPLOAD_DIR"], **FAST, **env_extra)
    with (tmp_path / "worker.log").open("a") as log:
        return subprocess.Popen([sys.executable, "-m", "rq.cli", "worker", "-w", "jobs.worker.KechiWorker",
                                 "--url", redis_url, "kechi"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _read_upload(app, redis_url: str, tmp_path: Path) -> None:
    """An upload is read by a worker (the preview job), never in the web request: one burst
    worker reads it before the import starts."""
    env = worker_env(app, tmp_path, redis_url, KECHI_UPLOAD_DIR=app.config["UPLOAD_DIR"], **FAST)
    with (tmp_path / "reader.log").open("a") as log:
        reader = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "-w", "jobs.worker.KechiWorker",
                                 "--url", redis_url, "kechi"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, timeout=120)
    assert reader.returncode == 0, (tmp_path / "reader.log").read_text()[-3000:]


def _descendants(pid: int) -> set[int]:
    """The live processes below `pid` (the work horse, rq's scheduler), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not within {seconds} s\n" + (log.read_text()[-3000:] if log.exists() else ""))


def _stop(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=30)


@pytest.mark.parametrize(("kill", "found_by"), [(signal.SIGKILL, "next worker"), (signal.SIGKILL, "schedule"),
                                             (signal.SIGTERM, "the dying worker")])
def test_a_worker_killed_with_its_group_mid_import_is_seen_and_the_import_resumed(tmp_path, redis_url, kill, found_by):
    """SIGKILL: nothing of the worker survives to tell; the job is found by the next worker at its
    start, or by the every-minute scheduled check before any worker is back (the page then says
    任务中断，正在恢复). SIGTERM (a supervisor stopping the group): the horse dies at once and its
    worker puts the job back on the queue before it exits."""
    app, client = redis_app_signed_in(tmp_path, redis_url, JOB_ABANDONED_SECONDS=3)
    log = tmp_path / "worker.log"
    big_sheet(tmp_path / "big.xlsx", 3000)
    upload(client, (tmp_path / "big.xlsx").read_bytes())
    _read_upload(app, redis_url, tmp_path)
    job = latest_job(app)
    assert job.status == "draft"
    assert start(client, job.id).status_code == 302

    worker = _worker(app, redis_url, tmp_path, KECHI_IMPORT_BATCH_SIZE="50")
    try:
        _wait_for(lambda: latest_job(app).done >= 100, 120, "import progress", log)
        below = _descendants(worker.pid)
        assert below, "the worker has a work horse"
        os.killpg(worker.pid, kill)  # the whole group, as a supervisor stopping the worker does
        worker.wait(timeout=30)
        # the horse went with its worker: nothing goes on importing behind the page's back
        _wait_for(lambda: not any(_alive(pid) for pid in below), 1, "the work horse dying with its group", log)
        stopped_at = latest_job(app).done
        time.sleep(1)
        job = latest_job(app)
        assert job.done == stopped_at and 0 < job.done < 3000 and job.status == "running"

        # nobody runs it now: the page says so instead of 进行中
        status = _wait_for(lambda: (s := client.get(f"/admin/excel/{job.id}/status.json").get_json())
                           ["status_label"] != "进行中" and s, 15, "the interrupted state", log)
        label = "已中断" if kill == signal.SIGKILL else "任务中断，正在恢复"
        assert status["status_label"] == label and status["stale"] == (kill == signal.SIGKILL)
        page = client.get(f"/admin/excel/{job.id}/").get_data(as_text=True)
        assert label in page and "进行中" not in page

        if found_by == "schedule":
            from jobs.recovery import recover_abandoned_jobs

            with app.app_context():
                assert recover_abandoned_jobs() == 1
                assert recover_abandoned_jobs() == 0  # requeued once
            status = client.get(f"/admin/excel/{job.id}/status.json").get_json()
            assert status["status_label"] == "任务中断，正在恢复" and not status["stale"]
        # a new worker finds the abandoned job (or the requeued one) and resumes it after its last
        # committed batch
        worker = _worker(app, redis_url, tmp_path, KECHI_IMPORT_BATCH_SIZE="500")
        _wait_for(lambda: latest_job(app).status == "done", 60, "the import resumed and done", log)
    finally:
        _stop(worker)
    job = latest_job(app)
    assert (job.total, job.done, job.imported, job.skipped, job.rejected) == (3000, 3000, 2700, 300, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 2700
        assert db.session.scalar(select(func.count(func.distinct(Customer.name)))) == 2700
    status = client.get(f"/admin/excel/{job.id}/status.json").get_json()
    assert status["status_label"] == "已完成" and status["percent"] == 100 and status["result_url"]


def test_a_message_whose_send_job_died_shows_as_interrupted_not_sending(app, client, make_user, make_customer, clock):
    """The outbox row a dead job claimed keeps its lease (the gateway call may have gone out), but
    the outbox says the send was interrupted and will be checked, instead of 发送中 for 10 minutes."""
    from datetime import timedelta

    from conftest import list_table
    from models.messaging import Outbox
    from rules import messaging
    from test_admin_messaging import customers_with_mobiles

    mine = make_user("chenxm")
    ids = customers_with_mobiles(app, make_customer, mine, [("甲公司", "13900000001"), ("乙公司", "13900000002")])
    with app.app_context():
        customers = [db.session.get(Customer, cid) for cid in ids]
        recipients = messaging.collect(db.session, customers, channel="sms")
        messaging.queue_messages(db.session, recipients.send, channel="sms", body="你好", sender=customers[0].owner,
                                 now=clock.now, title="t")
        first, second = db.session.scalars(select(Outbox).order_by(Outbox.id)).all()
        assert messaging.claim(db.session, first.id, now=clock.now - timedelta(seconds=60))  # its job died
        assert messaging.claim(db.session, second.id, now=clock.now - timedelta(seconds=5))  # still going
        db.session.commit()
    client.login("chenxm")
    rows = list_table(client.get("/admin/outbox/").get_data(as_text=True))
    assert "发送中断，待核实" in rows and "不会重复发送" in rows
    assert rows.count("发送中断，待核实") == 1 and "发送中" in rows.replace("发送中断", "")
    clock.advance(minutes=11)  # past the lease: dispatch_pending asks the provider by the key
    from jobs.messaging import dispatch_pending

    with app.app_context():
        dispatch_pending()
        assert set(db.session.scalars(select(Outbox.status))) <= {"sent", "unknown"}


def test_stopping_a_job_stops_what_its_horse_started_but_not_the_worker(tmp_path, redis_url):
    """The horse now shares the worker's group, so the worker's kill_horse signals the horse and
    its children by pid (rq's killpg of the horse's group would now kill the worker itself)."""
    from redis import Redis
    from rq import Queue
    from rq.command import send_stop_job_command

    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False,
                    UPLOAD_DIR=str(tmp_path / "shared"))
    log = tmp_path / "worker.log"
    connection = Redis.from_url(redis_url)
    worker = _worker(app, redis_url, tmp_path)
    try:
        job = Queue("kechi", connection=connection).enqueue("subprocess.call", ["sleep", "37"])
        child = _wait_for(lambda: [pid for pid in _descendants(worker.pid)
                                   if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0")],
                          30, "the job's child process", log)
        send_stop_job_command(connection, job.id)
        _wait_for(lambda: not any(_alive(pid) for pid in child), 10, "the job's child stopped", log)
        _wait_for(lambda: job.get_status(refresh=True) == "stopped", 10, "the job marked stopped", log)
        assert worker.poll() is None  # the worker lives on
    finally:
        _stop(worker)
