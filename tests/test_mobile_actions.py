"""手机版 actions: what a salesperson does on the phone at /m/ — a follow-up with a photo and the
location, the next contact date, the pool, opportunities by stage, approvals, orders, 我的. Each
page answers as the admin's for the same people (own, a subordinate's as their 主管, another
department's → 404), because both call the same rules."""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from approval_fake import DOC, actor, make_doc, make_flow, user_id
from attachment_files import png
from conftest import FIXED_NOW
from models import Customer, FollowUp, Order, OrderLine, Product, User, db
from models.approval import ApprovalRequest
from models.attachment import Attachment
from models.opportunity import Stage, StageGroup
from models.org import Department, Role
from models.pool import Pool
from models.opportunity import Opportunity
from opportunity_helpers import make_group, make_opportunity
from rules import approvals, settings
from rules import pool as pool_rules
from rules.pool_subject import CUSTOMERS

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


@pytest.fixture
def team(app, make_user, make_customer, tmp_path):
    app.config["FILES_DIR"] = str(tmp_path / "files")
    ids = {"lead": make_user("lead", role="主管"),
           "rep": make_user("rep", superior="lead"),
           "rep2": make_user("rep2", department=("销售部", "销售二部"))}
    ids["own"] = make_customer("甲公司", ids["rep"])
    ids["other"] = make_customer("乙公司", ids["rep2"])
    return ids


def signed_in(new_client, username):
    client = new_client()
    client.login(username)
    return client


def found(response) -> bool:
    assert response.status_code in (200, 302, 404), response.status_code
    return response.status_code != 404


def post(client, url: str, data: dict | None = None, follow: bool = True, **kw):
    return client.post(url, data={"csrf_token": client.token("/m/me/"), **(data or {})}, follow_redirects=follow, **kw)


def text(response) -> str:
    return response.get_data(as_text=True)


# --- 写跟进 -----------------------------------------------------------------------------------

def test_a_follow_up_with_the_location_is_stored_and_shown_and_one_without_still_saves(app, team, new_client):
    rep = signed_in(new_client, "rep")
    form = text(rep.get(f"/m/followups/new/{team['own']}/"))
    assert 'capture="environment"' in form and 'accept="image/*"' in form
    assert "未获取位置（未授权定位），跟进仍可保存" in form  # what the script shows when the phone refuses
    done = post(rep, f"/m/followups/new/{team['own']}/", {
        "kind": "visit", "content": "上门演示了新版本", "next_contact_at": "2026-11-30",
        "latitude": "31.2304", "longitude": "121.4737", "accuracy": "35.4"})
    assert "已添加联系记录" in text(done) and "未记录位置" not in text(done)
    plain = post(rep, f"/m/followups/new/{team['own']}/", {"kind": "phone", "content": "电话确认了报价",
                                                          "latitude": "", "longitude": "", "accuracy": ""})
    assert "已添加联系记录（未记录位置）" in text(plain)
    with app.app_context():
        visit, call = db.session.scalars(select(FollowUp).order_by(FollowUp.id)).all()
        assert (visit.latitude, visit.longitude, visit.location_accuracy) == (Decimal("31.230400"),
                                                                             Decimal("121.473700"), 35)
        assert visit.kind == "visit" and visit.user_id == team["rep"]
        assert call.latitude is None and call.location_accuracy is None
        assert db.session.get(Customer, team["own"]).next_contact_at is None  # the newest follow-up decides
    shown = "位置: 31.230400, 121.473700 (±35 米)"
    assert shown in text(rep.get(f"/admin/follow_up/details/?id={visit.id}"))
    assert shown in text(rep.get("/admin/follow_up/"))


def test_a_photo_over_the_limit_is_refused_with_the_reason_and_the_typed_text_is_kept(app, team, new_client):
    with app.app_context():
        settings.put(db.session, "attachment_max_mb", 1)
        db.session.commit()
    rep = signed_in(new_client, "rep")
    url = f"/m/followups/new/{team['own']}/"
    big = png() + b"\0" * (MB + 1)
    # Encoded in memory: the test client would spool a body over 500 KB to a file it never closes.
    boundary, body = encode_multipart({"csrf_token": rep.token("/m/me/"), "kind": "visit", "content": "客户想要三台样机",
                                       "photo": FileStorage(io.BytesIO(big), "IMG_1.png")})
    refused = rep.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    page = text(refused)
    assert refused.status_code == 200 and "超过单个文件上限 1 MB" in page
    assert "客户想要三台样机" in page and "请重新选择照片" in page
    with app.app_context():
        assert db.session.scalar(select(FollowUp.id)) is None  # all or nothing: no follow-up without its photo
    saved = post(rep, url, {"kind": "visit", "content": "客户想要三台样机", "photo": (io.BytesIO(png()), "IMG_2.png")},
                 content_type="multipart/form-data")
    assert "已添加联系记录" in text(saved)
    with app.app_context():
        photo = db.session.scalar(select(Attachment))
        follow_up = db.session.scalar(select(FollowUp))
        assert (photo.entity, photo.record_id, photo.file_name) == ("follow_up", follow_up.id, "IMG_2.png")


def test_writing_a_follow_up_reaches_the_customers_the_admin_lets_one_write_to(team, new_client):
    for who, expected in (("rep", True), ("lead", True), ("rep2", False)):
        client = signed_in(new_client, who)
        mobile = client.get(f"/m/followups/new/{team['own']}/")
        admin = client.post(f"/admin/customer/follow-up/?id={team['own']}",
                            data={"csrf_token": client.token("/admin/"), "kind": "phone", "content": "x"})
        assert found(mobile) == found(admin) == expected, who


def test_the_next_contact_date_is_set_and_a_past_or_malformed_one_is_refused(app, team, new_client):
    rep = signed_in(new_client, "rep")
    url = f"/m/followups/next-contact/{team['own']}/"
    assert "下次联系日期不能早于今天" in text(post(rep, url, {"date": "2026-11-01"}))
    assert "无法识别" in text(post(rep, url, {"date": "11/30"}))
    with app.app_context():
        assert db.session.get(Customer, team["own"]).next_contact_at is None
    assert "下次联系日期已设为 2026-11-30" in text(post(rep, url, {"date": "2026-11-30"}))
    with app.app_context():
        assert db.session.get(Customer, team["own"]).next_contact_at == date(2026, 11, 30)
    assert post(signed_in(new_client, "rep2"), url, {"date": "2026-11-30"}).status_code == 404


# --- 公海 -------------------------------------------------------------------------------------

def test_claim_and_release_answer_as_the_admins_actions(app, team, new_client, make_customer):
    ids = [make_customer(f"公海{i}号", None) for i in range(2)]
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        for cid in ids:
            db.session.get(Customer, cid).pool_id = pool.id
        db.session.commit()
    rep, rep2 = signed_in(new_client, "rep"), signed_in(new_client, "rep2")
    listing = text(rep.get("/m/pool/?q=1号"))
    assert "公海1号" in listing and "公海0号" not in listing
    assert "已领用 1 位客户" in text(post(rep, f"/m/pool/{ids[0]}/claim"))
    mobile = text(post(rep2, f"/m/pool/{ids[0]}/claim"))
    admin = text(rep2.action("/admin/pool/", "claim", [ids[0]]))
    assert "客户“公海0号”已被他人领用" in mobile and "客户“公海0号”已被他人领用" in admin
    assert "请填写放弃原因" in text(post(rep, f"/m/pool/{ids[0]}/release", {"reason": " "}))
    for who in ("lead", "rep2"):  # a subordinate's customer is released by its owner only; another's is unseen
        client = signed_in(new_client, who)
        assert post(client, f"/m/pool/{ids[0]}/release", {"reason": "不要了"}).status_code == 404
        assert client.post(f"/admin/customer/release/?ids={ids[0]}",
                           data={"csrf_token": client.token("/admin/"), "reason": "不要了"}).status_code == 404
    assert "data-confirm" in text(rep.get(f"/m/pool/{ids[0]}/release"))
    assert "已将 1 位客户放弃到客户池" in text(post(rep, f"/m/pool/{ids[0]}/release", {"reason": "客户没有预算"}))
    with app.app_context():
        assert db.session.get(Customer, ids[0]).owner_id is None


# --- 商机 -------------------------------------------------------------------------------------

@pytest.fixture
def deals(app, team):
    stages = make_group(app)
    own = make_opportunity(app, owner_id=team["rep"], customer_id=team["own"], stage_id=stages["初步接洽"],
                           amount="1234.50", title="甲公司 新机房")
    other = make_opportunity(app, owner_id=team["rep2"], customer_id=team["other"], stage_id=stages["初步接洽"],
                             amount="99", title="乙公司 扩容")
    return {**stages, "own": own, "other": other}


def test_opportunities_by_stage_and_the_detail_scope_match_the_admin(team, deals, new_client):
    board = text(signed_in(new_client, "rep").get("/m/opportunities/"))
    assert "甲公司 新机房" in board and "乙公司 扩容" not in board
    assert "初步接洽" in board and "¥1,234.50" in board and "进行中 1 个，合计 ¥1,234.50" in board
    for who, expected in (("rep", True), ("lead", True), ("rep2", False)):
        client = signed_in(new_client, who)
        assert found(client.get(f"/m/opportunities/{deals['own']}/")) == expected, who
        assert found(client.get(f"/admin/opportunity/details/?id={deals['own']}")) == expected, who


def test_a_refused_stage_move_explains_itself(app, team, deals, new_client):
    rep = signed_in(new_client, "rep")
    move = f"/m/opportunities/{deals['own']}/move"
    refused = text(post(rep, move, {"do": "move", "stage_id": deals["方案报价"], "note": "客户要正式报价"}))
    assert "进入「方案报价」需要先填写：预计成交日期" in refused
    assert 'value="客户要正式报价"' in refused  # what was typed is on the page again
    assert "请选择输单原因" in text(post(rep, move, {"do": "lose", "reason_id": ""}))
    assert "已移到「需求确认」" in text(post(rep, move, {"do": "move", "stage_id": deals["需求确认"]}))
    assert post(signed_in(new_client, "rep2"), move, {"do": "win"}).status_code == 404
    with app.app_context():
        moved = db.session.get(Opportunity, deals["own"])
        assert moved.stage_id == deals["需求确认"] and moved.outcome == "open"


# --- 订单 -------------------------------------------------------------------------------------

def _order(app, customer_id: int, salesperson_id: int, number: str, state: str) -> int:
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.code == "P1"))
        if product is None:
            product = Product(code="P1", name="服务器")
            db.session.add(product)
            db.session.flush()
        order = Order(number=number, customer_id=customer_id, salesperson_id=salesperson_id, state=state,
                      order_date=date(2026, 11, 20), total=Decimal("2000"), received=Decimal("500"))
        order.lines.append(OrderLine(product_id=product.id, quantity=2, amount=Decimal("2000")))
        db.session.add(order)
        db.session.commit()
        return order.id


def test_orders_by_state_and_the_detail_scope_match_the_admin(app, team, new_client):
    shipped = _order(app, team["own"], team["rep"], "DD001", "shipped")
    _order(app, team["own"], team["rep"], "DD002", "pending_review")
    foreign = _order(app, team["other"], team["rep2"], "DD003", "shipped")
    rep = signed_in(new_client, "rep")
    listing = text(rep.get("/m/orders/"))
    assert "DD001" in listing and "DD002" in listing and "DD003" not in listing and "已发货" in listing
    narrowed = text(rep.get("/m/orders/?state=pending_review"))
    assert "DD002" in narrowed and "DD001" not in narrowed
    page = text(rep.get(f"/m/orders/{shipped}/"))
    assert "服务器" in page and "¥2,000.00" in page and "欠款 ¥1,500.00" in page
    for who, expected in (("rep", True), ("lead", True), ("rep2", False)):
        client = signed_in(new_client, who)
        assert found(client.get(f"/m/orders/{shipped}/")) == expected, who
        assert found(client.get(f"/admin/order/details/?id={shipped}")) == expected, who
    assert rep.get(f"/m/orders/{foreign}/").status_code == 404


# --- 审批 -------------------------------------------------------------------------------------

def test_approvals_wait_for_me_reject_needs_a_reason_and_a_late_decision_says_so(app, team, make_user,
                                                                                 new_client):
    make_user("fin1", role="财务", department=("财务部",))
    make_user("fin2", role="财务", department=("财务部",))
    with app.app_context():
        make_doc(db.session, 1, title="测试单 1", owner_id=team["rep"], amount="1000.00")
        make_flow(db.session, {"kind": "role", "role": "财务", "name": "财务确认"})
        request_id = approvals.submit(db.session, DOC, 1, actor=actor(db.session, "rep"), now=FIXED_NOW).id
        db.session.commit()
    fin1, fin2 = signed_in(new_client, "fin1"), signed_in(new_client, "fin2")
    waiting = text(fin1.get("/m/approvals/"))
    assert "测试单 1" in waiting and "¥1,000.00" in waiting and "待我审批 1 项" in waiting
    detail = text(fin1.get(f"/m/approvals/{request_id}/"))
    assert "财务确认" in detail and "rep" in detail and 'data-testid="reject"' in detail
    decide = f"/m/approvals/{request_id}/decide"
    assert "请填写驳回原因" in text(post(fin1, decide, {"decision": "reject", "comment": " "}))
    for who, expected in (("rep", True), ("lead", True), ("rep2", False)):
        client = signed_in(new_client, who)
        assert found(client.get(f"/m/approvals/{request_id}/")) == expected, who
        assert found(client.get(f"/admin/approval/{request_id}/")) == expected, who
    assert post(signed_in(new_client, "rep2"), decide, {"decision": "approve"}).status_code == 404
    assert "已同意" in text(post(fin1, decide, {"decision": "approve", "comment": "同意"}))
    late = text(post(fin2, decide, {"decision": "approve"}))
    assert "审批已通过，无需再处理" in late
    with app.app_context():
        assert db.session.get(ApprovalRequest, request_id).status == "approved"


# --- 我的, English ----------------------------------------------------------------------------

def test_me_links_the_rest_and_an_english_user_reads_the_pages_in_english(app, team, new_client):
    with app.app_context():
        db.session.get(User, team["rep"]).locale = "en"
        db.session.commit()
    rep = signed_in(new_client, "rep")
    me = text(rep.get("/m/me/"))
    for label in ("My Orders", "Customer Pool", "Desktop Version", "Log Out", 'href="/m/orders/"', 'href="/admin/"'):
        assert label in me, label
    assert 'action="/logout"' in me and "csrf_token" in me
    pages = {url: text(rep.get(url)) for url in ("/m/me/", "/m/orders/", "/m/pool/", "/m/opportunities/",
                                                 "/m/approvals/")}
    with app.app_context():  # names people gave (departments, roles, pools, stages) are data, not labels
        data = {"简体中文", CUSTOMERS.default_pool_name} | {name for model in (Department, Role, Pool, Stage, StageGroup)
                               for name in db.session.scalars(select(model.name))}
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for url, page in pages.items():
        shown = re.sub(r"<[^>]+>", " ", page)
        for name in sorted(data, key=len, reverse=True):
            shown = shown.replace(name, "")
        assert not cjk.search(shown), (url, cjk.findall(shown)[:10])
    english = text(rep.get(f"/m/followups/new/{team['own']}/"))
    assert "No location (location not allowed); the follow-up can still be saved" in english


def test_every_string_of_the_mobile_action_pages_has_an_english_translation():
    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalogue = {m.id: m.string for m in read_po(po_file) if m.id}
    sources = [ROOT / "admin_views" / "mobile" / f"{name}.py"
               for name in ("followups", "pool", "opportunities", "approvals", "orders", "me")]
    sources += [path for path in (ROOT / "templates" / "mobile").glob("*.html")
                if path.name.startswith(("followup_", "pool", "opportunit", "approval", "order", "me."))]
    call = re.compile(r"""(?<![A-Za-z0-9_])(?:_l|gettext|_)\(\s*(?:"([^"]+)"|'([^']+)')""")
    missing = [s for path in sources for m in call.finditer(path.read_text(encoding="utf-8"))
               for s in [m.group(1) or m.group(2)] if not catalogue.get(s)]
    assert len(sources) >= 14 and not missing, missing
