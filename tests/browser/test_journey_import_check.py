"""Issue 17: a firm's legacy sheet, imported whole. The salesperson's administrator uploads it,
keeps the guessed columns, checks every row (a progress bar, then totals by outcome and reason),
matches the sources the dictionary lacks (one to an existing source, one added), sees the
check again with nothing left to match, pages through the rows with warnings, and commits."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import log_in, screenshot
from jobs.queue import EXTENSION, EmbeddedRunner
from models import Customer, DictItem, db

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots/importa")


def sheet(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户资料（老系统导出）"])
    ws.merge_cells("A1:E1")
    ws.append(["客户名称", "客户来源", "所属行业", "手机", "邮箱"])
    for i in range(80):
        ws.append([f"沧州农机{i:03d}有限公司", ["自主开发", "老客户介绍", "展会"][i % 3], "制造业行业",
                   13905710000 + i, f"nj{i}@example.com" if i % 10 else "没有邮箱"])
    ws.append([None, "展会", None, 13905719999, None])
    wb.save(path)


def shot(page, name: str) -> None:
    path = screenshot(page, name)
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def test_upload_map_match_values_check_every_row_and_commit(app, page, make_user, tmp_path):
    from playwright.sync_api import expect

    app.config["EMBEDDED_JOBS_SYNC"] = False  # the check and the import run in the server's background
    app.config["IMPORT_BATCH_SIZE"] = 20
    app.extensions[EXTENSION] = EmbeddedRunner(app)
    make_user("boss", role="系统管理员", display_name="王总")
    path = tmp_path / "老客户资料.xlsx"
    sheet(path)

    log_in(page, "boss")
    page.goto(page.base + "/admin/excel/")
    page.set_input_files("#file", str(path))
    page.click("button[type=submit]:has-text('上传并识别列')")
    expect(page.locator("#mapping-table")).to_be_visible()
    expect(page.locator("select[data-header='客户来源']")).to_have_value("source")
    page.click("#check-import")

    expect(page.locator("#values-step")).to_be_visible(timeout=60_000)  # reloaded once the check is done
    expect(page.locator("td[data-outcome=total]")).to_have_text("81")
    expect(page.locator("td[data-outcome=rejected]")).to_have_text("1")
    expect(page.locator("#check-reasons")).to_contain_text("请填写客户名称")
    shot(page, "50-import-values-step")
    page.select_option("select[data-value='自主开发']", label="对应到：网络推广")
    page.select_option("select[data-value='老客户介绍']", label="添加到数据字典：老客户介绍")
    page.click("#save-values")

    expect(page.locator("#check-totals")).to_be_visible(timeout=60_000)
    expect(page.locator("#values-step")).to_have_count(0)
    expect(page.locator("td[data-outcome=imported]")).to_have_text("72")
    expect(page.locator("td[data-outcome=imported_warned]")).to_have_text("8")
    expect(page.locator("td[data-outcome=rejected]")).to_have_text("1")
    page.click("#check-tabs >> text=将导入（有警告）")
    expect(page.locator("#check-rows tbody tr")).to_have_count(8)
    expect(page.locator("#check-rows")).to_contain_text("邮箱“没有邮箱”已留空")
    shot(page, "51-import-dry-run")
    page.click("#commit-import")

    expect(page.locator("#kechi-job")).to_have_attribute("data-finished", "done", timeout=60_000)
    expect(page.locator("#c-imported")).to_have_text("72")
    expect(page.locator("#c-warned")).to_have_text("8")
    expect(page.locator("#c-rejected")).to_have_text("1")
    shot(page, "52-import-committed")
    with app.app_context():
        from sqlalchemy import select

        sources = {c.source.name for c in db.session.scalars(select(Customer))}
        assert sources == {"网络推广", "老客户介绍", "展会"}
        assert db.session.scalar(select(DictItem).where(DictItem.name == "老客户介绍")).kind == "source"
    assert all(url.startswith(page.base) for url in page.requested)
