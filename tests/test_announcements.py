"""公告: who reads what (audience scope, drafts, expiry), pinned first, who may write, the
workbench's 最新公告 widget, HTML cleaning, notifications on publishing, and the migration."""
from __future__ import annotations

import re
import warnings
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, list_table, seeded_demo
from models import Announcement, Department, Notification, User, db
from models.customer import alembic_include_object

TODAY = date(2026, 11, 23)  # FIXED_NOW in Asia/Shanghai


@pytest.fixture
def office(app, make_user):
    """张总 (总经理, 总经办), 王经理 (经理, 销售部), 李主管 and 陈 (销售一部), 孙 (销售二部)."""
    return {
        "boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总"),
        "wang": make_user("wang", role="经理", department=("销售部",), display_name="王经理"),
        "li": make_user("li", role="主管", department=("销售部", "销售一部"), display_name="李主管"),
        "chen": make_user("chen", role="业务员", department=("销售部", "销售一部"), display_name="陈晓明"),
        "sun": make_user("sun", role="业务员", department=("销售部", "销售二部"), display_name="孙伟"),
    }


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def dept_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Department.id).where(Department.name == name))


def add(app, author: int, title: str, *, published: datetime | None = FIXED_NOW, pinned: bool = False,
        departments: tuple[str, ...] = (), expires_on: date | None = None, body: str = "内容") -> int:
    with app.app_context():
        record = Announcement(title=title, body=body, author_id=author, published_at=published, pinned=pinned,
                              whole_company=not departments, expires_on=expires_on,
                              departments=list(db.session.scalars(select(Department).where(
                                  Department.name.in_(departments)))))
        db.session.add(record)
        db.session.commit()
        return record.id


def feed_titles(html: str) -> list[str]:
    """Titles in the order the 公告 page lists them."""
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<strong class="text-truncate">(.*?)</strong>', html)]


def widget_titles(html: str) -> list[str]:
    start = html.index('data-widget="announcements"')
    block = html[start:html.index("</ul>", start)]
    return re.findall(r'<a class="text-truncate" href="[^"]+">(.*?)</a>', block)


def widget_keys(html: str) -> list[str]:
    return re.findall(r'data-widget="([a-z_]+)"', html)


@pytest.mark.both_dbs
def test_audience_drafts_and_expiry_decide_who_reads_what(app, office, new_client):
    team = add(app, office["boss"], "销售一部周会改到周五", departments=("销售一部",))
    sales = add(app, office["boss"], "销售部十二月冲刺", departments=("销售部",))  # sub-departments too
    everyone = add(app, office["boss"], "元旦放假通知")
    draft = add(app, office["boss"], "草稿：年终奖方案", published=None)
    expired = add(app, office["boss"], "双十一活动", expires_on=TODAY - timedelta(days=1))
    last_day = add(app, office["boss"], "今天截止报名", expires_on=TODAY)

    chen = login(new_client, "chen")
    seen = feed_titles(chen.get("/admin/announcement/").get_data(as_text=True))
    assert sorted(seen) == sorted(["销售一部周会改到周五", "销售部十二月冲刺", "元旦放假通知", "今天截止报名"])
    workbench = chen.get("/admin/").get_data(as_text=True)
    assert sorted(widget_titles(workbench)) == sorted(seen)
    for ident in (team, sales, everyone, last_day):
        assert chen.get(f"/admin/announcement/{ident}/").status_code == 200

    sun = login(new_client, "sun")  # 销售二部: not addressed by the 销售一部 notice
    html = sun.get("/admin/announcement/").get_data(as_text=True)
    assert "周会" not in html and sorted(feed_titles(html)) == sorted(["销售部十二月冲刺", "元旦放假通知", "今天截止报名"])
    assert "周会" not in sun.get("/admin/").get_data(as_text=True)
    for ident in (team, draft, expired, 999999):
        assert sun.get(f"/admin/announcement/{ident}/").status_code == 404
    assert sun.get("/admin/announcement/abc/").status_code == 404

    boss = login(new_client, "boss")  # 总经办 reads only what is addressed to it ...
    assert boss.get(f"/admin/announcement/{team}/").status_code == 404
    managed = list_table(boss.get("/admin/announcement_manage/").get_data(as_text=True))
    for title in ("销售一部周会改到周五", "草稿：年终奖方案", "双十一活动"):  # ... and manages all of them
        assert title in managed
    assert "草稿" in managed and "已过期" in managed
    assert boss.get(f"/admin/announcement_manage/details/?id={draft}").status_code == 200


def test_pinned_first_then_newest_and_the_widget_shows_five(app, office, new_client):
    for day in range(1, 8):
        add(app, office["boss"], f"第{day}号通知", published=datetime(2026, 11, day, 2, tzinfo=timezone.utc))
    add(app, office["boss"], "置顶：公司制度", pinned=True, published=datetime(2026, 10, 1, 2, tzinfo=timezone.utc))
    chen = login(new_client, "chen")
    assert feed_titles(chen.get("/admin/announcement/").get_data(as_text=True)) == \
        ["置顶：公司制度"] + [f"第{d}号通知" for d in range(7, 0, -1)]
    html = chen.get("/admin/").get_data(as_text=True)
    assert widget_titles(html) == ["置顶：公司制度", "第7号通知", "第6号通知", "第5号通知", "第4号通知"]
    block = html[html.index('data-widget="announcements"'):]
    assert "最新公告" in html and 'href="/admin/announcement/"' in block[:600] and "更多" in block[:600]
    assert "2026-11-07" in block and "置顶" in block


def test_list_pages_and_empty_states(app, office, new_client):
    chen = login(new_client, "chen")
    html = chen.get("/admin/announcement/").get_data(as_text=True)
    assert "暂无公告。公司发布新公告时" in html and "写公告" not in html
    assert "暂无公告。公司发布新公告时" in chen.get("/admin/").get_data(as_text=True)
    boss = login(new_client, "boss")
    assert "写公告" in boss.get("/admin/announcement/").get_data(as_text=True)
    assert "还没有公告。点击“创建”" in boss.get("/admin/announcement_manage/").get_data(as_text=True)
    for n in range(23):
        add(app, office["boss"], f"通知{n:02d}", published=FIXED_NOW - timedelta(minutes=n))
    first = chen.get("/admin/announcement/").get_data(as_text=True)
    second = chen.get("/admin/announcement/?page=2").get_data(as_text=True)
    assert len(feed_titles(first)) == 20 and feed_titles(second) == ["通知20", "通知21", "通知22"]
    assert "下一页" in first


def test_a_salesperson_cannot_write_or_manage_announcements(app, office, new_client):
    ident = add(app, office["boss"], "草稿", published=None)
    chen = login(new_client, "chen")
    assert chen.get("/admin/announcement_manage/").status_code == 403
    assert chen.get("/admin/announcement_manage/new/").status_code == 403
    assert chen.get(f"/admin/announcement_manage/edit/?id={ident}").status_code == 403
    token = chen.token("/admin/")
    response = chen.post("/admin/announcement_manage/new/", data={"title": "我也发", "body": "x",
                                                                  "whole_company": "y", "csrf_token": token})
    assert response.status_code == 403
    response = chen.post("/admin/announcement_manage/action/", data={"action": "publish", "rowid": [str(ident)],
                                                                     "csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Announcement.id))) == 1
        assert db.session.get(Announcement, ident).published_at is None
    menu = chen.get("/admin/").get_data(as_text=True)
    assert "/admin/announcement/" in menu and "/admin/announcement_manage/" not in menu


def test_a_manager_manages_only_announcements_written_in_their_scope(app, office, new_client):
    boss_note = add(app, office["boss"], "总经办的草稿", published=None)
    own = add(app, office["wang"], "王经理的草稿", published=None)
    wang = login(new_client, "wang")
    table = list_table(wang.get("/admin/announcement_manage/").get_data(as_text=True))
    assert "王经理的草稿" in table and "总经办的草稿" not in table
    assert wang.get(f"/admin/announcement_manage/edit/?id={boss_note}").status_code == 404
    assert wang.get(f"/admin/announcement_manage/edit/?id={own}").status_code == 200
    wang.action("/admin/announcement_manage/", "publish", [boss_note], follow=False)
    with app.app_context():
        assert db.session.get(Announcement, boss_note).published_at is None


@pytest.mark.both_dbs
def test_create_publish_notify_withdraw(app, office, new_client):
    boss = login(new_client, "boss")
    team = dept_id(app, "销售一部")
    form = {"title": "  新品培训  ", "body": "周三下午两点\n三楼会议室", "departments": [str(team)],
            "pinned": "y", "expires_on": "2026-12-31"}
    html = boss.post_form("/admin/announcement_manage/new/", dict(form, whole_company=""),
                          follow=True).get_data(as_text=True)
    assert "新品培训" in html
    with app.app_context():
        record = db.session.scalar(select(Announcement))
        ident = record.id
        assert record.title == "新品培训" and record.published_at is None and record.author_id == office["boss"]
        assert [d.name for d in record.departments] == ["销售一部"] and record.pinned
    chen = login(new_client, "chen")
    assert chen.get(f"/admin/announcement/{ident}/").status_code == 404  # a draft

    html = boss.action("/admin/announcement_manage/", "publish", [ident]).get_data(as_text=True)
    assert "已发布 1 条公告，已提醒 2 人。" in html  # 李主管 and 陈, not 孙 of 销售二部, not the author
    page = chen.get(f"/admin/announcement/{ident}/").get_data(as_text=True)
    assert "周三下午两点<br>\n三楼会议室" in page and "销售一部" in page and "2026-12-31" in page
    assert "新公告：新品培训" in chen.get("/admin/").get_data(as_text=True)  # under the bell
    with app.app_context():
        notified = set(db.session.scalars(select(Notification.user_id).where(
            Notification.dedupe_key == f"announcement:{ident}")))
        assert notified == {office["li"], office["chen"]}

    html = boss.action("/admin/announcement_manage/", "withdraw", [ident]).get_data(as_text=True)
    assert "已撤回 1 条公告。" in html
    assert chen.get(f"/admin/announcement/{ident}/").status_code == 404
    li = login(new_client, "li").get("/admin/").get_data(as_text=True)
    assert "新品培训" not in li  # neither in the widget nor under the bell any more
    boss.action("/admin/announcement_manage/", "publish", [ident])  # again: nobody is told twice
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.dedupe_key == f"announcement:{ident}")) == 2


def test_whole_company_publish_now_and_refusals_keep_what_was_typed(app, office, new_client):
    boss = login(new_client, "boss")
    html = boss.post_form("/admin/announcement_manage/new/", {"title": "只发给没人", "body": "x", "whole_company": ""},
                          follow=True).get_data(as_text=True)
    assert "请选择接收部门，或勾选“全公司”" in html and "只发给没人" in html
    html = boss.post_form("/admin/announcement_manage/new/", {"title": "过期的", "body": "x", "whole_company": "y",
                                                              "expires_on": "2026-11-01", "publish_now": "y"},
                          follow=True).get_data(as_text=True)
    assert "有效期已过" in html
    html = boss.post_form("/admin/announcement_manage/new/", {"title": "全员大会", "body": "x", "whole_company": "y",
                                                              "publish_now": "y"}, follow=True).get_data(as_text=True)
    assert "公告“全员大会”已发布。" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Announcement.id))) == 1
        active = db.session.scalar(select(func.count(User.id)).where(User.active.is_(True)))
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.title == "新公告：全员大会")) == active - 1  # everyone but the author
    assert "全员大会" in login(new_client, "sun").get("/admin/announcement/").get_data(as_text=True)


def test_html_bodies_are_cleaned(app, office, new_client):
    boss = login(new_client, "boss")
    body = ('<p>请<b>准时</b>参加</p><script>alert("x")</script>'
            '<a href="javascript:alert(1)" onclick="steal()">链接</a><img src=x onerror="alert(2)">')
    boss.post_form("/admin/announcement_manage/new/", {"title": "HTML 公告", "body": body, "whole_company": "y",
                                                       "publish_now": "y"}, follow=True)
    with app.app_context():
        record = db.session.scalar(select(Announcement))
        ident, stored = record.id, record.body
        # A row written around the form (SQL, an import) is cleaned on the way out as well.
        sneaky = add(app, office["boss"], "绕过表单", body="<p>hi</p><script>alert(3)</script>")
    assert "<script" not in stored and "javascript:" not in stored and "onclick" not in stored
    assert "onerror" not in stored and "<b>准时</b>" in stored
    html = login(new_client, "chen").get(f"/admin/announcement/{ident}/").get_data(as_text=True)
    assert "<b>准时</b>" in html and 'alert("x")' not in html and "steal()" not in html
    html = login(new_client, "chen").get(f"/admin/announcement/{sneaky}/").get_data(as_text=True)
    assert "<p>hi</p>" in html and "alert(3)" not in html
    plain = add(app, office["boss"], "纯文本", body="a < b & c")
    assert "a &lt; b &amp; c" in login(new_client, "chen").get(f"/admin/announcement/{plain}/").get_data(as_text=True)


def test_the_widget_hides_and_moves_like_the_others(app, office, new_client):
    add(app, office["boss"], "元旦放假通知")
    chen = login(new_client, "chen")
    keys = widget_keys(chen.get("/admin/").get_data(as_text=True))
    assert "announcements" in keys
    form = {f"show_{k}": "1" for k in keys}
    form.update({f"pos_{k}": str(i + 2) for i, k in enumerate(keys)})
    form["pos_announcements"] = "1"
    html = chen.post_form("/admin/", form, to="/admin/workbench/layout", follow=True).get_data(as_text=True)
    assert widget_keys(html)[0] == "announcements"
    form.pop("show_announcements")
    html = chen.post_form("/admin/", form, to="/admin/workbench/layout", follow=True).get_data(as_text=True)
    assert "announcements" not in widget_keys(html) and "元旦放假通知" not in html.split('id="kechi-layout"')[-1]
    assert '<label for="show_announcements" class="mb-0">最新公告</label>' in html  # can be shown again


def test_the_widget_costs_one_query(app, office):
    from sqlalchemy import event

    from rules import announcements
    from rules.actor import Actor

    add(app, office["boss"], "元旦放假通知")
    add(app, office["boss"], "销售部通知", departments=("销售部",))
    with app.app_context():
        actor = Actor.from_user(db.session.get(User, office["chen"]), today=TODAY)
        statements: list[tuple] = []
        listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = announcements.feed(db.session, actor, limit=5)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert [r.title for r in rows] == ["销售部通知", "元旦放假通知"] and len(statements) == 1
        sql, params = statements[0]
        plan = " ".join(str(r[-1]) for r in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert "ix_announcements_feed" in plan, plan


def test_migration_creates_the_announcement_tables_as_modelled(tmp_path):
    import config
    from app import create_app

    class Cfg(config.TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'm.db'}"

    application = create_app(Cfg)
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression")
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"include_object": alembic_include_object}), db.metadata)
        assert [d for d in diff if "announcement" in repr(d)] == []
        db.session.remove()
        db.engine.dispose()


def test_demo_company_has_announcements_on_the_workbench(app, tmp_path, new_client):
    from demo import DEMO_PASSWORD, seed_demo

    seeded_demo(app, tmp_path)
    with app.app_context():
        seed_demo(db.session, customers=20)  # idempotent
        assert db.session.scalar(select(func.count(Announcement.id))) == 4
    chen = new_client()
    chen.login("chenxm", DEMO_PASSWORD)
    titles = widget_titles(chen.get("/admin/").get_data(as_text=True))
    assert titles[0] == "关于全面启用客池CRM的通知" and "十二月销售冲刺动员" in titles and "年终总结会安排" not in titles
    clerk = new_client()
    clerk.login("zhouqin", DEMO_PASSWORD)  # 商务部: not addressed by the 销售部 notice
    assert "十二月销售冲刺动员" not in widget_titles(clerk.get("/admin/").get_data(as_text=True))


def test_deleting_an_addressed_department_drops_only_its_links(app, office, new_client):
    from rules import org

    with app.app_context():
        org.ensure_department_path(db.session, ["临时小组"])
        db.session.commit()
    add(app, office["boss"], "小组通知", departments=("销售一部", "临时小组"))
    with app.app_context():
        group = db.session.scalar(select(Department).where(Department.name == "临时小组"))
        db.session.delete(group)
        db.session.commit()
        record = db.session.scalar(select(Announcement))
        assert [d.name for d in record.departments] == ["销售一部"]
    assert feed_titles(login(new_client, "chen").get("/admin/announcement/").get_data(as_text=True)) == ["小组通知"]


def test_a_department_manager_addresses_only_their_own_departments(app, office, new_client):
    wang = login(new_client, "wang")  # 经理 of 销售部 (本部门及下属部门)
    form_page = wang.get("/admin/announcement_manage/new/").get_data(as_text=True)
    picker = form_page[form_page.index('name="departments"'):]
    picker = picker[:picker.index("</select>")]
    assert "销售一部" in picker and "销售二部" in picker and "总经办" not in picker
    assert not re.search(r'<input[^>]*checked[^>]*name="whole_company"|<input[^>]*name="whole_company"[^>]*checked', form_page)
    boss_form = login(new_client, "boss").get("/admin/announcement_manage/new/").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="whole_company"|<input[^>]*name="whole_company"[^>]*checked', boss_form)
    html = wang.post_form("/admin/announcement_manage/new/", {"title": "全员通知", "body": "x", "whole_company": "y"},
                          follow=True).get_data(as_text=True)
    assert "您只能向本部门及下属部门发布公告" in html
    html = wang.post_form("/admin/announcement_manage/new/",
                          {"title": "总经办通知", "body": "x", "departments": [str(dept_id(app, "总经办"))]},
                          follow=True).get_data(as_text=True)
    assert "总经办通知" in html  # the form is shown again with what was typed
    html = wang.post_form("/admin/announcement_manage/new/",
                          {"title": "二部通知", "body": "x", "departments": [str(dept_id(app, "销售二部"))],
                           "publish_now": "y"}, follow=True).get_data(as_text=True)
    assert "公告“二部通知”已发布。" in html
    with app.app_context():
        assert db.session.scalars(select(Announcement.title)).all() == ["二部通知"]
    assert "二部通知" in login(new_client, "sun").get("/admin/").get_data(as_text=True)
