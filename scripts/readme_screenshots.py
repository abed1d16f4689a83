"""Refresh the README's screenshots from a running demo (`make run`), in headless Chromium.

    .venv/bin/python scripts/readme_screenshots.py [http://127.0.0.1:5000]
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SHOTS = {  # login -> [(file name, path)]
    "chenxm": [("workbench", "/admin/"), ("customers", "/admin/customer/")],
    "admin": [("roles", "/admin/role/edit/?id=5"), ("staff", "/admin/user/"), ("departments", "/admin/department/")],
}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for username, shots in SHOTS.items():
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(BASE + "/login")
            if username == "chenxm":
                page.screenshot(path=str(OUT / "login.png"))
            page.fill("#username", username)
            page.fill("#password", "kechi123")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for name, path in shots:
                page.goto(BASE + path)
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(OUT / f"{name}.png")
            if username == "chenxm":
                page.goto(BASE + "/admin/customer/new/")
                page.wait_for_timeout(500)  # the region pickers load their data
                page.screenshot(path=str(OUT / "customer-form.png"))
                page.goto(BASE + "/admin/customer/")
                page.click("table.model-list tbody tr:first-child td:nth-child(4) a")
                page.click("a[href='#tab-timeline']")
                page.wait_for_timeout(300)
                page.screenshot(path=str(OUT / "customer-360.png"))
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
