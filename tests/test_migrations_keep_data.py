"""Upgrading a database of the first release to the newest schema keeps every customer,
contact, follow-up and ownership move (a recycle's rule label becomes its key), and quick
search still finds them (on PostgreSQL through the token array that a later migration adds to
rows that already exist)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import app_at_revision, empty_database_app
from models import Contact, Customer, FollowUp, OwnershipEvent, db
from rules import search

FIRST_RELEASE = "b7d840e9fed1"
NOW = "2026-11-01 08:00:00"


def release_one_rows(conn) -> None:
    """Rows as the first release wrote them, with only the columns it had."""
    conn.execute(text(
        "INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) VALUES "
        "(1, '业务员', 'self', '[]', :now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, locale, "
        "session_version, created_at, updated_at) VALUES "
        "(1, 'chenxm', '陈晓明', 'x', 1, '/1/', true, 'zh_CN', 1, :now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO customers (id, kind, name, mobile, owner_id, custom, has_deal, created_at, updated_at) VALUES "
        "(1, 'company', '杭州瑞和科技有限公司', '13800138000', 1, '{}', false, :now, :now), "
        "(2, 'person', '王小明', NULL, 1, '{\"grade\": \"A\"}', false, :now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO contacts (id, customer_id, name, is_primary, mobile, custom, created_at, updated_at) VALUES "
        "(1, 1, '李经理', true, '13900139000', '{}', :now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO follow_ups (customer_id, user_id, kind, content, happened_at, created_at, updated_at) VALUES "
        "(1, 1, 'phone', '约了下周拜访', :now, :now, :now)"), {"now": NOW})
    # The recycle rule was stored as its label in the note (Chinese, or English from a run in an
    # English context); a person's note is kept as written.
    conn.execute(text(
        "INSERT INTO ownership_events (id, customer_id, from_user_id, to_user_id, reason, note, at) VALUES "
        "(1, 1, 1, NULL, 'recycle', '领用后未联系', :now), (2, 2, 1, NULL, 'recycle', 'No deal', :now), "
        "(3, 1, NULL, 1, 'claim', NULL, :now), (4, 2, 1, NULL, 'release', '未成交', :now), "
        "(5, 1, 1, NULL, 'recycle', '长期未联系', :now)"), {"now": NOW})
    for cid, values in ((1, ["杭州瑞和科技有限公司", "13800138000", "李经理", "13900139000"]), (2, ["王小明"])):
        row = search.index_row(cid, [search.normalised(v) for v in values])
        conn.execute(text("INSERT INTO customer_search (customer_id, body, tokens) VALUES (:customer_id, :body, "
                          ":tokens)"), row)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrading_from_the_first_release_keeps_every_record_and_search_works(tmp_path, kind):
    with empty_database_app(tmp_path, kind):
        upgrade(directory=MIGRATIONS_DIR, revision=FIRST_RELEASE)
        with db.engine.begin() as conn:
            release_one_rows(conn)
        upgrade(directory=MIGRATIONS_DIR)
        names = list(db.session.scalars(select(Customer.name).order_by(Customer.id)))
        assert names == ["杭州瑞和科技有限公司", "王小明"]
        first = db.session.get(Customer, 1)
        assert first.mobile == "13800138000" and first.purchase_count == 0 and first.points == 0
        assert db.session.get(Customer, 2).custom == {"grade": "A"}
        assert [c.name for c in db.session.scalars(select(Contact))] == ["李经理"]
        # rows from before optimistic locking start at version 1, and the next save moves it on
        assert [first.version, db.session.get(Contact, 1).version] == [1, 1]
        first.notes = "升级后第一次修改"
        db.session.commit()
        assert db.session.get(Customer, 1).version == 2
        assert [f.content for f in db.session.scalars(select(FollowUp))] == ["约了下周拜访"]
        moves = db.session.execute(select(OwnershipEvent.id, OwnershipEvent.reason, OwnershipEvent.recycle_rule,
                                          OwnershipEvent.note).order_by(OwnershipEvent.id)).all()
        assert [tuple(m) for m in moves] == [(1, "recycle", "no_contact", None), (2, "recycle", "no_deal", None),
                                             (3, "claim", None, None), (4, "release", None, "未成交"),
                                             (5, "recycle", "idle", None)]
        for term, expected in (("科技", ["杭州瑞和科技有限公司"]), ("李经理", ["杭州瑞和科技有限公司"]),
                               ("小明", ["王小明"]), ("13900", ["杭州瑞和科技有限公司"])):
            where = search.clause(db.session, term)
            assert list(db.session.scalars(select(Customer.name).where(where))) == expected, term


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_report_definitions_migration_fills_creators_and_funnel_steps(tmp_path, kind):
    """Issue 16: customers learn who entered them from the log of their entry (import or 新建;
    a customer without one keeps no creator), 搁置/流失 stop being funnel steps, and the
    existing choice and yes/no custom fields become dimensions of 客户数量报表."""
    from models import CustomField, DictItem

    with app_at_revision(kind, tmp_path, "a1c3e5f7b9d2"):
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) "
                              "VALUES (1, '业务员', 'self', '[]', :now, :now)"), {"now": NOW})
            conn.execute(text(
                "INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, "
                "locale, session_version, created_at, updated_at) VALUES "
                "(1, 'liqiang', '李强', 'x', 1, '/1/', true, 'zh_CN', 1, :now, :now), "
                "(2, 'wangfang', '王芳', 'x', 1, '/2/', true, 'zh_CN', 1, :now, :now)"), {"now": NOW})
            conn.execute(text(
                "INSERT INTO customers (id, kind, name, owner_id, custom, has_deal, created_at, updated_at) VALUES "
                "(1, 'company', '李强录入的', NULL, '{}', false, :now, :now), "
                "(2, 'company', '王芳导入的', 1, '{}', false, :now, :now), "
                "(3, 'company', '没有记录的', 1, '{}', false, :now, :now)"), {"now": NOW})
            # 李强 entered customer 1, which the recycle then took; 王芳 imported customer 2 for 李强
            conn.execute(text(
                "INSERT INTO ownership_events (customer_id, from_user_id, to_user_id, actor_id, reason, at) VALUES "
                "(1, NULL, 1, 1, 'created', :now), (1, 1, NULL, NULL, 'recycle', :later), "
                "(2, NULL, 1, 2, 'import', :now)"), {"now": NOW, "later": "2026-11-20 08:00:00"})
            conn.execute(text(
                "INSERT INTO dict_items (kind, name, sort_order, active) VALUES "
                "('stage', '成交', 4, true), ('stage', '搁置', 5, true), ('stage', '流失', 6, true), "
                "('category', '搁置', 1, true)"))
            conn.execute(text(
                "INSERT INTO custom_fields (entity, key, label, field_type, options, required, show_in_list, "
                "searchable, importable, sort_order, active, updated_at) VALUES "
                "('customer', 'grade', '客户级别', 'choice', '[\"A\", \"B\"]', false, false, true, true, 1, true, :now), "
                "('customer', 'memo', '备忘', 'text', '[]', false, false, true, true, 2, true, :now)"), {"now": NOW})
        upgrade(directory=MIGRATIONS_DIR)
        creators = dict(db.session.execute(select(Customer.name, Customer.created_by_id)).all())
        assert creators == {"李强录入的": 1, "王芳导入的": 2, "没有记录的": None}
        steps = {(i.kind, i.name): i.funnel_step for i in db.session.scalars(select(DictItem))}
        assert steps == {("stage", "成交"): True, ("stage", "搁置"): False, ("stage", "流失"): False,
                         ("category", "搁置"): True}
        assert {f.key: f.statistics for f in db.session.scalars(select(CustomField))} == {"grade": True,
                                                                                        "memo": False}
