"""Products: the category tree moves whole subtrees, duplicate codes are refused and
duplicate names warned (再次录入提醒), named prices, search by code/name/拼音首字母."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models import PriceLevel, Product, ProductCategory, db
from rules import products
from rules.errors import DuplicateEntry, InvalidValue, NeedsConfirmation, RuleViolation


def test_categories_nest_to_any_depth_and_move_with_their_subtree(app):
    with app.app_context():
        s = db.session
        tea = products.ensure_category_path(s, ["饮品", "茶叶", "绿茶", "龙井", "明前"])
        assert tea.depth == 4
        drinks = s.scalar(select(ProductCategory).where(ProductCategory.name == "饮品"))
        gifts = products.ensure_category_path(s, ["礼品"])
        green = s.scalar(select(ProductCategory).where(ProductCategory.name == "绿茶"))
        products.place_category(s, green, gifts)
        s.commit()
        paths = {c.name: c.path for c in s.scalars(select(ProductCategory))}
        assert paths["明前"].startswith(paths["礼品"] + f"{green.id}/")
        assert not paths["龙井"].startswith(drinks.path)
        with pytest.raises(InvalidValue, match="不能把类别移到它自己或它的下级类别之下"):
            products.place_category(s, green, s.scalar(select(ProductCategory).where(ProductCategory.name == "龙井")))
        s.rollback()
        product = Product(code="P1", name="明前龙井", category_id=tea.id)
        s.add(product)
        s.flush()
        under_gifts = set(s.scalars(select(Product.code).where(products.subtree_clause(gifts.id, s))))
        assert under_gifts == {"P1"}
        with pytest.raises(RuleViolation, match="还有下级类别或产品"):
            products.check_category_delete(s, tea)


def test_entering_a_product_again_is_warned_by_name_and_refused_by_code(app):
    with app.app_context():
        s = db.session
        first = Product(code="cha-001", name="西湖龙井", spec="250g")
        products.validate(s, first, confirmed=False)
        s.add(first)
        s.commit()
        assert (first.code, first.mnemonic) == ("CHA-001", "xhlj")
        again = Product(code="CHA-002", name=" 西湖龙井 ")
        with pytest.raises(NeedsConfirmation, match="已有同名产品“西湖龙井”（编号 CHA-001，250g）"):
            products.validate(s, again, confirmed=False)
        products.validate(s, again, confirmed=True)  # confirmed: saved anyway
        clash = Product(code="Cha-001", name="别的茶")
        with pytest.raises(DuplicateEntry, match="产品编号“CHA-001”已被“西湖龙井”使用"):
            products.validate(s, clash, confirmed=True)
        with pytest.raises(InvalidValue, match="请填写产品名称"):
            products.validate(s, Product(code="X", name=" "), confirmed=False)


def test_named_prices_and_search(app):
    with app.app_context():
        s = db.session
        retail, wholesale, vip = products.ensure_default_levels(s)
        assert [lv.name for lv in (retail, wholesale, vip)] == ["零售价", "批发价", "VIP价"]
        tea = Product(code="T1", name="铁观音", mnemonic="tgy")
        s.add(tea)
        products.set_prices(s, tea, {retail.id: "¥1,280.50", wholesale.id: "980", vip.id: ""})
        s.commit()
        assert {p.level.name: p.price for p in tea.prices} == {"零售价": Decimal("1280.50"), "批发价": Decimal("980.00")}
        products.set_prices(s, tea, {wholesale.id: ""})
        s.commit()
        assert [p.level.name for p in tea.prices] == ["零售价"]
        with pytest.raises(InvalidValue, match="价格格式不正确"):
            products.set_prices(s, tea, {retail.id: "abc"})
        s.rollback()
        for term in ("t1", "观音", "TGY"):
            assert s.scalars(select(Product.code).where(products.search_clause(term))).all() == ["T1"], term
        assert s.get(PriceLevel, vip.id).active
