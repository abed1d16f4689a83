"""The Content-Security-Policy lets a page run only our own script files and the inline blocks
that carry this response's nonce: markup smuggled into a name cannot run, even where an escape
was forgotten. Walked over every page of the demo company an administrator can open."""
from __future__ import annotations

import re

from sqlalchemy import select

from conftest import seeded_demo
from models import Customer, Order, Product, db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)  # an inline event handler attribute


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def _demo_pages(app) -> list[str]:
    """Every GET page without URL arguments under /admin/, plus a customer's, an order's and a
    product's own pages."""
    skip = ("export", "download", "logout", "print", "static")
    pages = sorted({r.rule for r in app.url_map.iter_rules()
                    if "GET" in r.methods and not r.arguments and r.rule.startswith("/admin/")
                    and not any(s in r.rule for s in skip)})
    with app.app_context():
        customer = db.session.scalar(select(Customer.id).where(Customer.owner_id.is_not(None)).limit(1))
        order = db.session.scalar(select(Order.id).limit(1))
        product = db.session.scalar(select(Product.id).limit(1))
    return pages + [f"/admin/customer/details/?id={customer}", f"/admin/customer/edit/?id={customer}",
                    f"/admin/order/details/?id={order}", f"/admin/order/edit/?id={order}",
                    f"/admin/product/edit/?id={product}", "/login"]


def test_every_demo_page_answers_with_a_nonce_policy_its_inline_scripts_carry(app, tmp_path, client):
    from demo import DEMO_PASSWORD

    seeded_demo(app, tmp_path)
    client.login("admin", DEMO_PASSWORD)
    pages = _demo_pages(app)
    assert len(pages) > 60, pages
    nonces = set()
    for url in pages:
        response = client.get(url)
        assert response.status_code < 500, url
        policy = _policy(response)
        script_src = policy["script-src"]
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, (url, script_src)
        nonce = re.fullmatch(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{24,})'", script_src)
        assert nonce, (url, script_src)
        assert policy["object-src"] == "object-src 'none'"
        assert policy["base-uri"] == "base-uri 'self'"
        assert policy["frame-ancestors"] == "frame-ancestors 'self'"
        nonces.add(nonce.group(1))
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        for attributes in SCRIPT_TAG.findall(html):
            if "src=" in attributes or 'type="application/json"' in attributes:
                continue  # a file of ours, or data the browser does not run
            assert f'nonce="{nonce.group(1)}"' in attributes, (url, attributes)
        assert not HANDLER.search(html), (url, HANDLER.search(html).group(0))
    assert len(nonces) == len(pages)  # a fresh nonce per response
