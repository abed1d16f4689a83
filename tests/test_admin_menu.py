"""The menu is put together one way: every view module offers `views()` and is listed once in
admin_views.MODULES; the administrator sees the categories in menu order, each module's pages
side by side."""
from __future__ import annotations

import importlib
import pkgutil
import re

from flask import Flask

import admin_views
from admin_views import MODULES, menu


def _modules_offering_views() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(admin_views.__path__, "admin_views."):
        if hasattr(importlib.import_module(info.name), "views"):
            names.add(info.name)
    return names


def _listed(modules) -> list[str]:
    """The modules listed, and those a listed package lists in its own MODULES (admin_views.mobile:
    the pages under /m/, which have no menu entries)."""
    names = []
    for module in modules:
        names.append(module.__name__)
        names.extend(_listed(getattr(module, "MODULES", ())))
    return names


def test_every_module_that_offers_views_is_listed_once():
    listed = _listed(MODULES)
    assert len(listed) == len(set(listed))
    assert set(listed) == _modules_offering_views()


def test_each_module_files_its_pages_under_one_category_side_by_side(app: Flask):
    admin = app.extensions["admin"][0]
    seen: list[tuple[str, str]] = []  # (category, module) in menu order, one entry per run
    for item in admin._menu:
        for child in item._children if item.is_category() else [item]:
            key = (str(item.name), type(child._view).__module__)
            if not seen or seen[-1] != key:
                seen.append(key)
    modules = [module for _category, module in seen if module != "admin_views.workbench"]
    assert len(modules) == len(set(modules)), "a module's pages are split across the menu"


def test_the_administrator_sees_the_categories_in_menu_order(client, admin_id):
    client.login("admin")
    html = client.get("/admin/").get_data(as_text=True)
    shown = re.findall(r'class="dropdown-toggle nav-link"[^>]*>(?:\s|<!--.*?-->)*([^<]+?)\s*<i class="glyphicon',
                       html)
    assert shown == [str(c) for c in menu.CATEGORIES]
