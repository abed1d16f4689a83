"""Sending for real: emails through aiosmtpd on loopback with account rotation, an SMS gateway
(a small HTTP server counting calls) with a real rq worker killed mid-send, and Redis down
when a user sends."""
from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import PASSWORD, REDIS_URL, Browserish, build_app, need_service, worker_env
from jobs import messaging as jobs
from jobs.queue import enqueue
from models import Customer, FollowUp, User, db
from models.messaging import MailAccount, Outbox
from rules import messaging

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 Message accepted for delivery"

    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def queue_to(customer_ids: list[int], *, channel: str, body: str, subject: str | None = None,
             sender_id: int) -> int:
    customers = list(db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids)).order_by(Customer.id)))
    recipients = messaging.collect(db.session, customers, channel=channel)
    batch = messaging.queue_messages(db.session, recipients.send, channel=channel, body=body, subject=subject,
                                     sender=db.session.get(User, sender_id), now=jobs._now(), title="群发")
    db.session.commit()
    return batch.id


@pytest.mark.both_dbs
def test_bulk_email_travels_through_two_accounts_rotated_by_quota(app, make_user, make_customer, smtp_server):
    controller, inbox = smtp_server
    uid = make_user("chenxm", display_name="陈晓明")
    ids = [make_customer(name, uid) for name in ("甲公司", "乙公司", "丙公司")]
    with app.app_context():
        for i, cid in enumerate(ids):
            db.session.get(Customer, cid).email = f"buyer{i}@example.cn"
        db.session.add_all([
            MailAccount(name="主账户", host="127.0.0.1", port=controller.port, security="none",
                        from_address="sales1@kechi.test", daily_quota=2, sort_order=1),
            MailAccount(name="备用账户", host="127.0.0.1", port=controller.port, security="none",
                        from_address="sales2@kechi.test", daily_quota=2, sort_order=2),
        ])
        db.session.commit()
        batch_id = queue_to(ids, channel="email", subject="{客户名称}的报价",
                            body="<p>{客户名称}您好，报价请见下表。</p><script>alert(1)</script>", sender_id=uid)
        assert jobs.send_batch(batch_id) == 3
        assert jobs.send_batch(batch_id) == 0  # running again sends nothing more

        assert len(inbox.messages) == 3
        by_recipient = {}
        for mail_from, rcpts, content in inbox.messages:
            parsed = email.message_from_bytes(content, policy=policy.default)
            html = parsed.get_body(("html",)).get_content()
            by_recipient[rcpts[0]] = (mail_from, str(parsed["Subject"]), html)
        assert sorted(by_recipient) == ["buyer0@example.cn", "buyer1@example.cn", "buyer2@example.cn"]
        for i, name in enumerate(("甲公司", "乙公司", "丙公司")):
            sender, subject, html = by_recipient[f"buyer{i}@example.cn"]
            assert subject == f"{name}的报价"
            assert f"{name}您好，报价请见下表。" in html and "<script" not in html
        senders = sorted(sender for sender, _s, _h in by_recipient.values())
        assert senders == ["sales1@kechi.test", "sales1@kechi.test", "sales2@kechi.test"]
        accounts = {a.from_address: a for a in db.session.scalars(select(MailAccount))}
        assert (accounts["sales1@kechi.test"].success_count, accounts["sales2@kechi.test"].success_count) == (2, 1)
        assert accounts["sales1@kechi.test"].used_today == 2
        rows = list(db.session.scalars(select(Outbox)))
        assert {r.status for r in rows} == {"sent"}
        kinds = list(db.session.scalars(select(FollowUp.kind)))
        assert kinds == ["email"] * 3


def test_email_waits_for_tomorrow_when_every_account_is_used_up(app, make_user, make_customer, smtp_server):
    controller, inbox = smtp_server
    uid = make_user("chenxm")
    ids = [make_customer(name, uid) for name in ("甲公司", "乙公司")]
    with app.app_context():
        for i, cid in enumerate(ids):
            db.session.get(Customer, cid).email = f"buyer{i}@example.cn"
        db.session.add(MailAccount(name="唯一账户", host="127.0.0.1", port=controller.port, security="none",
                                   from_address="sales1@kechi.test", daily_quota=1))
        db.session.commit()
        batch_id = queue_to(ids, channel="email", subject="你好", body="<p>你好</p>", sender_id=uid)
        assert jobs.send_batch(batch_id) == 1
        waiting = db.session.scalar(select(Outbox).where(Outbox.status == "pending"))
        assert waiting is not None and "额度" in waiting.error and waiting.scheduled_at > jobs._now()
        assert len(inbox.messages) == 1


# --- an SMS gateway that counts calls, and a worker killed mid-send ---------------------------------
class Gateway:
    """A Chinese-style SMS gateway: POST /send (form fields, answers {"code": 0, "msgid": ...})
    and POST /query by our out_id. `on_send` runs after the message is accepted and before
    the answer goes back."""

    def __init__(self) -> None:
        self.sent: dict[str, dict] = {}
        self.calls = 0
        self.on_send = None
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fields = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/send":
                    gateway.calls += 1
                    gateway.sent[fields["out_id"]] = dict(fields, msgid=f"GW{gateway.calls:04d}")
                    answer = {"code": 0, "msgid": f"GW{gateway.calls:04d}"}
                    if gateway.on_send is not None:
                        gateway.on_send()
                elif fields.get("out_id") in gateway.sent:
                    answer = {"code": 0, "msgid": gateway.sent[fields["out_id"]]["msgid"]}
                else:
                    answer = {"code": 404}
                body = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the worker is gone

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def settings(self) -> dict:
        return {"kind": "http", "url": self.url + "/send", "method": "POST", "format": "form",
                "params": "account=kechi\nmobile={mobile}\ncontent={content}\nout_id={key}",
                "success_field": "code", "success_value": "0", "id_field": "msgid",
                "query_url": self.url + "/query", "query_params": "out_id={key}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    gw = Gateway()
    yield gw
    gw.close()


@pytest.fixture
def redis_url() -> str:
    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


WORKER = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url"]


def salesperson_with_customer(app, mobile: str = "13900000001") -> tuple[User, Customer]:
    from models import Role
    from rules import org

    role = db.session.scalar(select(Role).where(Role.name == "业务员"))
    user = org.create_user(db.session, username="chenxm", password=PASSWORD, display_name="陈晓明", role=role)
    customer = Customer(name="王芳", kind="person", owner_id=user.id, mobile=mobile)
    db.session.add(customer)
    db.session.commit()
    return user, customer


def test_a_worker_killed_after_the_gateway_accepted_does_not_send_twice(tmp_path, redis_url, gateway):
    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False)
    with app.app_context():
        user, customer = salesperson_with_customer(app)
        messaging.save_settings(db.session, {"provider": gateway.settings()})
        db.session.commit()
        queue_to([customer.id], channel="sms", body="{称呼}您好，新品到货", sender_id=user.id)
        row_id = db.session.scalar(select(Outbox.id))
        enqueue(jobs.send_message, row_id)

    env = worker_env(app, tmp_path, redis_url)
    worker = subprocess.Popen(WORKER + [redis_url, "kechi"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_worker() -> None:  # the gateway has the message; the worker dies before hearing back
        os.killpg(worker.pid, signal.SIGKILL)
        time.sleep(0.2)

    gateway.on_send = kill_worker
    assert worker.wait(timeout=120) == -signal.SIGKILL
    gateway.on_send = None
    assert gateway.calls == 1
    with app.app_context():
        row = db.session.get(Outbox, row_id)
        assert row.status == "sending" and row.provider_id is None

        enqueue(jobs.send_message, row_id)  # the same job, run again (as a retry would)
    result = subprocess.run(WORKER + [redis_url, "kechi"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert gateway.calls == 1  # asked the gateway by our key instead of sending again
    with app.app_context():
        db.session.expire_all()
        row = db.session.get(Outbox, row_id)
        assert (row.status, row.provider_id, row.attempts) == ("sent", "GW0001", 1)
        assert gateway.sent[row.key]["content"] == "王芳您好，新品到货"
        assert len(list(db.session.scalars(select(FollowUp)))) == 1


def test_redis_down_when_sending_keeps_the_messages_pending_until_it_is_back(tmp_path, redis_url):
    app = build_app("sqlite", tmp_path, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    with app.app_context():
        _user, customer = salesperson_with_customer(app)
        cid = customer.id
    client = Browserish(app.test_client())
    client.login("chenxm")
    form = {"channel": "sms", "ids": str(cid), "audience": "selected", "body": "{称呼}您好", "step": "confirm"}
    page = client.post_form(f"/admin/message_send/?ids={cid}", form, to="/admin/message_send/", follow=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "任务队列（Redis）暂时连不上：1 条消息已保存在发件箱" in text
    with app.app_context():
        assert [r.status for r in db.session.scalars(select(Outbox))] == ["pending"]

    # Redis is back: the every-minute dispatch (rq cron in production) sends what waited.
    from redis import Redis
    from rq import Queue, SimpleWorker

    from jobs.queue import init_queue

    class Worker(SimpleWorker):
        def subscribe(self) -> None:
            """No command channel: its listener thread's timed wait never returns under
            libfaketime (`make test-clock`), and a burst run takes no commands."""

    app.config["REDIS_URL"] = redis_url
    init_queue(app)
    with app.app_context():
        enqueue(jobs.dispatch_pending)
        queue = Queue(app.config["RQ_QUEUE_NAME"], connection=Redis.from_url(redis_url))
        Worker([queue], connection=queue.connection).work(burst=True)
        db.session.expire_all()
        rows = list(db.session.scalars(select(Outbox)))
        assert [(r.status, r.body) for r in rows] == [("sent", "王芳您好")]


@pytest.mark.both_dbs
def test_workers_racing_for_one_message_send_it_once(app, make_user, gateway):
    """Four workers pick up the same message at the same moment: one claims it, the gateway
    hears from exactly one of them."""
    make_user("chenxm")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "chenxm"))
        customer = Customer(name="王芳", kind="person", owner_id=user.id, mobile="13900000001")
        db.session.add(customer)
        messaging.save_settings(db.session, {"provider": gateway.settings()})
        db.session.commit()
        queue_to([customer.id], channel="sms", body="你好", sender_id=user.id)
        row_id = db.session.scalar(select(Outbox.id))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(jobs.deliver(row_id))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert gateway.calls == 1
    assert "sent" in outcomes and len(outcomes) == 4
    with app.app_context():
        row = db.session.get(Outbox, row_id)
        assert (row.status, row.attempts) == ("sent", 1)
        assert len(list(db.session.scalars(select(FollowUp)))) == 1


def test_an_email_sent_from_the_send_page_arrives_with_a_safe_body(app, client, admin_id, make_customer, smtp_server):
    controller, inbox = smtp_server
    cid = make_customer("西湖茶业", admin_id)
    with app.app_context():
        db.session.get(Customer, cid).email = "buyer@example.cn"
        db.session.add(MailAccount(name="主账户", host="127.0.0.1", port=controller.port, security="none",
                                   from_address="sales@kechi.test", from_name="客池科技", daily_quota=10))
        db.session.commit()
    client.login("admin")
    form = {"channel": "email", "ids": str(cid), "audience": "selected", "subject": "{客户名称}的报价",
            "body": '<p>{客户名称}您好</p><img src=x onerror="alert(1)"><script>alert(2)</script>', "step": "preview"}
    confirm = client.post_form(f"/admin/message_send/?ids={cid}", form, to="/admin/message_send/")
    html = confirm.get_data(as_text=True)
    assert 'data-testid="recipient-count">1<' in html
    assert 'onerror="alert(1)"' not in html and "<script>alert(2)" not in html  # the preview is inert
    done = client.post_form(f"/admin/message_send/?ids={cid}", dict(form, step="confirm"), to="/admin/message_send/",
                            follow=True)
    assert "已提交发送 1 条消息" in done.get_data(as_text=True)
    assert len(inbox.messages) == 1
    parsed = email.message_from_bytes(inbox.messages[0][2], policy=policy.default)
    assert str(parsed["Subject"]) == "西湖茶业的报价" and "客池科技" in str(parsed["From"])
    body = parsed.get_body(("html",)).get_content()
    assert "西湖茶业您好" in body and "onerror" not in body and "<script" not in body
    assert "西湖茶业您好" in parsed.get_body(("plain",)).get_content()
