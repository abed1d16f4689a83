"""An order clerk (内勤) imports the product catalogue: from the product list to the wizard with
产品 chosen, the mapping with the product options, the background job to its end, and the
products in the list; weeks later, the job's page without its files."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from conftest import FIXED_NOW, log_in, screenshot
from jobs import file_retention
from jobs.queue import EXTENSION, EmbeddedRunner
from models import db
from models.job import JobRecord
from test_import_products import HEADER, ROWS, book, clerk  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_clerk_imports_products_from_the_product_list(app, page, clerk, tmp_path):
    from playwright.sync_api import expect

    app.config["EMBEDDED_JOBS_SYNC"] = False  # as `make run` serves it: a background thread
    app.extensions[EXTENSION] = EmbeddedRunner(app)
    path = tmp_path / "产品目录.xlsx"
    path.write_bytes(book([["2026年产品目录"], HEADER, *ROWS]))

    log_in(page, "zhaoli")
    page.goto(page.base + "/admin/product/")
    page.click("#kechi-import")
    expect(page.locator("#entity")).to_have_value("product")
    expect(page.locator("h4.mt-2")).to_contain_text("导入客户、联系人或产品")
    expect(page.get_by_text("下载产品导入模板")).to_be_visible()
    page.set_input_files("#file", str(path))
    screenshot(page, "45-import-products-upload")
    page.click("button[type=submit]:has-text('上传并识别列')")

    expect(page.locator("select[data-header='产品编号']")).to_have_value("code")
    expect(page.locator("select[data-header='产品类别']")).to_have_value("category")
    expect(page.locator("#preview-table")).to_contain_text("产品类别“不存在的类别”不存在")
    expect(page.get_by_text("遇到已有的产品编号时")).to_be_visible()
    screenshot(page, "46-import-products-mapping")
    page.click("#start-import")

    expect(page.locator("#kechi-job")).to_have_attribute("data-finished", "done", timeout=60_000)
    expect(page.locator("#c-imported")).to_have_text("2")
    expect(page.locator("#c-skipped")).to_have_text("2")
    expect(page.locator("#c-rejected")).to_have_text("5")
    expect(page.locator("#job-result")).to_be_visible()
    page.wait_for_timeout(800)  # the bar's width transition (0.6 s) ends before the picture
    screenshot(page, "47-import-products-done")
    job_url = page.url
    page.click("text=查看产品列表")
    expect(page.locator("table.model-list")).to_contain_text("激光打印机")

    # three weeks later the files are gone; the job's page says so instead of a dead link
    with app.app_context():
        db.session.execute(update(JobRecord).values(finished_at=FIXED_NOW - timedelta(days=21)))
        db.session.commit()
        file_retention.purge_expired_files()
    page.goto(job_url)
    expect(page.locator("#job-expired")).to_contain_text("文件已过期清理")
    expect(page.locator("#job-result")).to_be_hidden()
    expect(page.locator("#c-imported")).to_have_text("2")
    page.wait_for_timeout(800)
    screenshot(page, "48-import-files-expired")
    assert all(url.startswith(page.base) for url in page.requested)  # nothing loaded from elsewhere
