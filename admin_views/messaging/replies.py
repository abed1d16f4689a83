"""查看客户回复短信, and the SMS provider's callback that brings replies and delivery receipts
in (no login: a shared secret)."""
from __future__ import annotations

import hmac
import json
from hashlib import sha256
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from admin_views.base import ScopedModelView
from admin_views.context import now
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import customer_link
from admin_views.transaction import commit_bookkeeping
from models import db
from models.messaging import SmsReply
from rules import messaging


class SmsReplyView(ScopedModelView):
    """查看客户回复短信: replies from customers in scope (rules/scope.sms_reply_clause)."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有客户回复。在“短信设置”里把回调地址和密钥交给短信网关后，客户的回复会出现在这里和客户的联系记录中。")
    permission_view = "message.send"
    column_list = ["received_at", "customer", "contact", "mobile", "content"]
    column_labels = {"received_at": _l("收到时间"), "customer": _l("客户"), "contact": _l("联系人"),
                     "mobile": _l("手机"), "content": _l("回复内容")}
    column_formatters = {"customer": customer_link}
    column_searchable_list = ["mobile", "content"]
    column_default_sort = ("received_at", True)

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(SmsReply.customer), joinedload(SmsReply.contact))


callback_bp = Blueprint("messaging_callback", __name__)


def _authentic(secret: str) -> bool:
    if not secret:
        return False
    signature = request.headers.get("X-Kechi-Signature", "")
    if signature:
        expected = hmac.new(secret.encode(), request.get_data(), sha256).hexdigest()
        return hmac.compare_digest(signature, expected)
    token = request.headers.get("X-Kechi-Token") or request.args.get("token", "")
    return hmac.compare_digest(token.encode(), secret.encode())


@callback_bp.route("/sms/callback", methods=["POST"])
def callback() -> Any:
    """Delivery receipts and replies, as JSON: one event or a list of events, e.g.
    {"type": "receipt", "key": "...", "status": "DELIVRD"} or
    {"type": "reply", "mobile": "139…", "content": "收到", "id": "gateway-id"}.
    Authenticated by HMAC-SHA256 of the body (X-Kechi-Signature) or the secret itself
    (X-Kechi-Token header or ?token=)."""
    config = messaging.load_settings(db.session)
    if not _authentic(config.get("callback_secret") or ""):
        return jsonify({"ok": False, "error": "forbidden"}), 403
    try:
        payload = json.loads(request.get_data() or b"null")
    except ValueError:
        return jsonify({"ok": False, "error": "bad json"}), 400
    events = payload if isinstance(payload, list) else [payload]
    moment = now()
    handled = 0
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("type") == "reply" and event.get("mobile"):
            messaging.receive_reply(db.session, mobile=str(event["mobile"]), content=str(event.get("content", "")),
                                    provider_id=str(event["id"]) if event.get("id") else None, now=moment,
                                    tz=current_app.config["TIMEZONE"])
            handled += 1
        elif event.get("type") == "receipt":
            handled += messaging.receive_receipt(db.session, key=event.get("key"), provider_id=event.get("provider_id"),
                                                 status=str(event.get("status", "")), now=moment)
    commit_bookkeeping()
    return jsonify({"ok": True, "handled": handled})


def views() -> list[Any]:
    return [SmsReplyView(SmsReply, name=_l("客户回复短信"), category=MESSAGING, endpoint="sms_reply", **fa("fa-reply"))]


def init_app(app: Any) -> None:
    app.register_blueprint(callback_bp)
