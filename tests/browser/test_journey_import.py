"""A salesperson imports a messy customer sheet: uploads it from the customer list, changes one
column's mapping, watches the progress bar of the background job finish, and downloads the rows
that were not imported, with the reason for each."""
from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from conftest import log_in, screenshot
from jobs.queue import EXTENSION, EmbeddedRunner

pytestmark = pytest.mark.browser


def sheet(path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户资料（2023 年度）"])
    ws.merge_cells("A1:E1")
    ws.append(["公司名称", "手机号码", "所在省份", "备注说明", "Email"])
    for i in range(120):
        ws.append([f"西湖茶业{i:03d}有限公司", 13905710000 + i, "浙江", f"老客户 {i}", f"tea{i}@example.com"])
    ws.append(["", 13905719999, "浙江", "没有名称", None])
    ws.append(["龙井贸易有限公司", "139057", "浙江", "手机号不全", None])
    ws.append(["西湖茶业001有限公司", 13905710001, "浙江", "重复", None])
    wb.save(path)


def test_upload_map_watch_progress_and_download_rejected_rows(app, page, make_user, tmp_path):
    from playwright.sync_api import expect

    # Embedded mode as `make run` serves it: the import runs in a background thread of the server.
    app.config["EMBEDDED_JOBS_SYNC"] = False
    app.config["IMPORT_BATCH_SIZE"] = 20
    app.extensions[EXTENSION] = EmbeddedRunner(app)
    make_user("chenxm", display_name="陈晓明")
    path = tmp_path / "客户资料.xlsx"
    sheet(path)

    log_in(page, "chenxm")
    page.goto(page.base + "/admin/customer/")
    page.click("#kechi-import")
    page.set_input_files("#file", str(path))
    screenshot(page, "40-import-upload")
    page.click("button[type=submit]:has-text('上传并识别列')")

    expect(page.locator("#mapping-table")).to_be_visible()
    notes = page.locator("select[data-header='备注说明']")
    expect(notes).to_have_value("")  # not a known header: not imported unless the user says so
    expect(page.locator("select[data-header='公司名称']")).to_have_value("name")
    notes.select_option("notes")
    page.click("button[value=preview]")
    expect(page.locator("select[data-header='备注说明']")).to_have_value("notes")
    expect(page.locator("#preview-table")).to_contain_text("将导入")
    screenshot(page, "41-import-mapping")
    page.click("#start-import")

    expect(page.locator("#job-bar")).to_be_visible()
    expect(page.locator("#kechi-job")).to_have_attribute("data-finished", "done", timeout=60_000)
    expect(page.locator("#job-bar")).to_have_text("100%")
    expect(page.locator("#c-imported")).to_have_text("120")
    expect(page.locator("#c-warned")).to_have_text("1")  # 139057: imported, the mobile left empty
    expect(page.locator("#c-skipped")).to_have_text("1")
    expect(page.locator("#c-rejected")).to_have_text("1")
    screenshot(page, "42-import-done")

    page.reload()  # the progress survives a reload: it lives in the job's record
    expect(page.locator("#c-imported")).to_have_text("120")
    expect(page.locator("#c-warned")).to_have_text("1")
    with page.expect_download() as info:
        page.click("#job-result")
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    reasons = {row[0]: row[-1] for row in list(book["未导入的行"].iter_rows(values_only=True))[1:]}
    assert "请填写客户名称" in reasons[123]
    warnings = {row[0]: row[-1] for row in list(book["导入（有警告）的行"].iter_rows(values_only=True))[1:]}
    assert "手机“139057”已留空" in warnings[124] and "手机号码格式不正确" in warnings[124]

    page.goto(page.base + "/admin/customer/?search=西湖茶业007")
    expect(page.locator("table.model-list")).to_contain_text("西湖茶业007有限公司")
    page.click("#kechi-export-xlsx")  # the export keeps the list's search
    expect(page.locator("input#c_name")).to_be_checked()
    screenshot(page, "43-export-columns")
    with page.expect_download() as info:
        page.click("button[type=submit]:has-text('导出')")
    rows = list(openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active.values)
    assert [r[0] for r in rows[1:]] == ["西湖茶业007有限公司"]
    assert all(url.startswith(page.base) for url in page.requested)  # nothing loaded from elsewhere
