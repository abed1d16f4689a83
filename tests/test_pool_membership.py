"""Pool membership (issue 16 item 12): a department pool no longer empties anyone's 公共客户
silently. Saving it says who stops drawing from which pool, the settings page and the user's
公共客户 page show the pools each user draws from, a user may draw from several pools, and a
customer leaving its owner still goes to one well-defined pool."""
from __future__ import annotations

from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import Customer, Department, Pool, db
from rules import pool as pool_rules


def _pool_customer(app, name: str, pool_id: int) -> int:
    with app.app_context():
        customer = Customer(name=name, kind="company", pool_id=pool_id, pool_reason="new", pool_entered_at=FIXED_NOW)
        db.session.add(customer)
        db.session.commit()
        return customer.id


def _pool_form(name: str, **extra) -> dict:
    return {"name": name, "max_owned": "0", "max_claims_per_day": "0", "cooldown_days": "0", "warn_days": "7",
            **extra}


def test_a_department_pool_says_who_leaves_the_public_pool_and_users_may_draw_from_both(
        app, client, new_client, admin_id, make_user):
    sun = make_user("sunwei", department=("销售部", "销售二部"), display_name="孙伟")
    make_user("chenxm", department=("销售部", "销售一部"), display_name="陈晓明")
    with app.app_context():
        public = pool_rules.default_pool(db.session)
        db.session.commit()
        public_id = public.id
        second = db.session.scalar(select(Department.id).where(Department.name == "销售二部"))
    _pool_customer(app, "公海老客户", public_id)
    rep = new_client()
    rep.login("sunwei")
    assert "公海老客户" in list_table(rep.get("/admin/pool/").get_data(as_text=True))

    client.login("admin")
    saved = client.post_form("/admin/pool_settings/new/", _pool_form("销售二部池", member_departments=str(second)),
                             follow=True).get_data(as_text=True)
    assert "孙伟 将不再从“公共客户池”领用客户，今后从“销售二部池”领用" in saved
    assert "他们放弃或被回收的客户今后进入“销售二部池”" in saved
    assert "陈晓明 将不再" not in saved and "陈晓明、" not in saved  # 销售一部 keeps the public pool
    with app.app_context():
        dept_pool = db.session.scalar(select(Pool.id).where(Pool.name == "销售二部池"))
    _pool_customer(app, "二部新客户", dept_pool)

    page = rep.get("/admin/pool/").get_data(as_text=True)
    assert "您从以下客户池领用" in page and "销售二部池" in page
    assert "公海老客户" not in list_table(page) and "二部新客户" in list_table(page)
    settings = client.get("/admin/pool_settings/").get_data(as_text=True)
    assert "员工领用范围" in settings
    row = next(r for r in settings.split("<tr>") if "孙伟" in r)
    assert "销售二部池" in row and "公共客户池" not in row

    # The administrator keeps 销售二部 in the public pool too: 孙伟 draws from both.
    client.post_form(f"/admin/pool_settings/edit/?id={public_id}",
                     _pool_form("公共客户池", is_default="y", member_departments=str(second)))
    table = list_table(rep.get("/admin/pool/").get_data(as_text=True))
    assert "公海老客户" in table and "二部新客户" in table
    row = next(r for r in client.get("/admin/pool_settings/").get_data(as_text=True).split("<tr>") if "孙伟" in r)
    assert "“公共客户池”、“销售二部池”" in row
    # Someone no pool names still draws from the default pool.
    with app.app_context():
        assert pool_rules.pools_of(db.session, sun) == [public_id, dept_pool]
        assert pool_rules.home_pool(db.session, sun) == public_id


def test_a_released_customer_goes_to_the_owners_home_pool_whatever_they_draw_from(app, client, admin_id,
                                                                                    make_user, make_customer):
    sun = make_user("sunwei", department=("销售部", "销售二部"), display_name="孙伟")
    with app.app_context():
        second = db.session.scalar(select(Department).where(Department.name == "销售二部"))
        first = Pool(name="二部池", members=[])
        later = Pool(name="二部大客户池")
        db.session.add_all([first, later])
        db.session.flush()
        from models import PoolMember
        db.session.add_all([PoolMember(pool_id=later.id, department_id=second.id),
                            PoolMember(pool_id=first.id, user_id=sun)])
        db.session.commit()
        first_id = first.id
    mine = make_customer("孙伟的客户", sun)
    rep = client
    rep.login("sunwei")
    rep.post_form(f"/admin/customer/release/?ids={mine}", {"ids": str(mine), "reason": "不需要了"})
    with app.app_context():
        released = db.session.get(Customer, mine)
        assert released.owner_id is None and released.pool_id == first_id
