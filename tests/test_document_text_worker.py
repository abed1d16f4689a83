"""文档中心 with Redis: the upload request only queues the text extraction; a real `rq worker`
process (sharing FILES_DIR) reads the file, and only then is the document found by its words."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import REDIS_URL, Browserish, build_app, need_service, worker_env
from models import Role, db
from models.document import DocumentFolder, DocumentVersion, FolderKind, TextStatus
from rules import org

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url() -> str:
    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


def test_the_text_of_an_upload_is_read_by_an_rq_worker(tmp_path, redis_url):
    import docx

    shared = tmp_path / "shared"
    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False, FILES_DIR=str(shared))
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        org.create_user(db.session, username="chenxm", password="secret-123", display_name="陈晓明", role=role)
        db.session.commit()
    client = Browserish(app.test_client())
    client.login("chenxm", "secret-123")
    client.get("/admin/document/")
    with app.app_context():
        folder = db.session.scalar(select(DocumentFolder.id).where(DocumentFolder.kind == FolderKind.PERSONAL))
    document = docx.Document()
    document.add_paragraph("年度框架协议：质保期两年，验收后付款")
    body = io.BytesIO()
    document.save(body)
    token = client.token(f"/admin/document/?folder={folder}")
    html = client.post("/admin/document/upload", data={"csrf_token": token, "folder_id": str(folder),
                                                       "files": [(io.BytesIO(body.getvalue()), "框架协议.docx")]},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "已上传 1 个文件" in html
    with app.app_context():
        assert db.session.scalar(select(DocumentVersion.text_status)) == TextStatus.PENDING
    assert "框架协议.docx" not in client.get("/admin/document/?q=质保期").get_data(as_text=True)

    env = worker_env(app, tmp_path, redis_url, FILES_DIR=str(shared))
    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(DocumentVersion.text_status)) == TextStatus.DONE
    assert "框架协议.docx" in client.get("/admin/document/?q=质保期").get_data(as_text=True)
