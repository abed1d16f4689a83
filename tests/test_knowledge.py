"""知识库 and 问答库: Chinese search with customer search's tokens, drafts kept to editors on every
path, the publish/archive state machine with a stale move refused, 有帮助 counted once, scripts
stripped from the editor form, 转为知识库文章 within the ticket scope, and the reply picker's JSON."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW
from models import AuditLog, Role, User, db
from models.knowledge import ArticleKind, ArticleStatus, KbArticle, KbArticleSearch, KbCategory
from models.service import EntryKind, Ticket, TicketEntry
from rules import kb_search, knowledge, search, ticket_statuses
from rules.actor import Actor

LIST = "/admin/kb_article/"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def people(make_user):
    """编辑 小周 (客服: knowledge.edit), 读者 陈 (业务员: knowledge.view only)."""
    return {"editor": make_user("zhou", role="客服", department=("客服部",), display_name="周婷"),
            "reader": make_user("chen", role="业务员", display_name="陈晓明")}


def actor(user_id: int) -> Actor:
    return Actor.from_user(db.session.get(User, user_id))


def add(app, author: int, title: str, *, answer: str = "", body: str = "", status: str = "published",
        tags: tuple[str, ...] = ()) -> int:
    """An article written through the rules, then moved to `status`."""
    with app.app_context():
        who = actor(author)
        category = db.session.scalar(select(KbCategory).where(KbCategory.name == "净水器")) or KbCategory(name="净水器")
        kind = ArticleKind.QA if answer else ArticleKind.ARTICLE
        article = KbArticle(kind=kind, title=title, question=title if answer else None, answer=answer or None,
                            body=body or None, category=category)
        knowledge.save(db.session, article, actor=who, tags=list(tags), created=True)
        if status != "draft":
            knowledge.move(db.session, article.id, "publish", actor=who, now=FIXED_NOW)
        if status == "archived":
            knowledge.move(db.session, article.id, "archive", actor=who, now=FIXED_NOW)
        db.session.commit()
        return article.id


def login(new_client, username: str):
    client = new_client()
    client.login(username)
    return client


def list_titles(client, query: str = "") -> list[str]:
    html = client.get(LIST + query).get_data(as_text=True)
    return re.findall(r"<a href='/admin/kb_article/details/\?id=\d+'>([^<]+)</a>", html)


@pytest.mark.both_dbs
def test_search_finds_chinese_words_inside_the_text_cut_as_customer_search_cuts(app, people, new_client):
    filter_id = add(app, people["editor"], "净水器滤芯多久更换一次",
                    answer="建议PP棉每6个月更换，RO反渗透膜两年更换；水质差的地区缩短周期。", tags=("滤芯", "保养"))
    leak_id = add(app, people["editor"], "安装后接头漏水怎么办",
                  body="<p>先关闭进水阀，再用生料带重新缠绕接头。</p>")
    add(app, people["editor"], "复印机卡纸处理", answer="打开前盖，按箭头方向取出纸张。")
    with app.app_context():
        row = db.session.get(KbArticleSearch, leak_id)
        assert set(row.tokens.split()) == search.tokens_of(row.body.split("\n"))  # the same tokenisation

        def found(term: str) -> set[int]:
            clause = kb_search.clause(db.session, term)
            return set(db.session.scalars(select(KbArticle.id).where(clause)))

        assert found("滤芯") == {filter_id}           # in the title and a tag
        assert found("反渗透") == {filter_id}         # three characters inside the answer
        assert found("进水阀") == {leak_id}           # inside an HTML body
        assert found("ro") == {filter_id}             # letters, as typed in either case
        assert found("水") == {filter_id, leak_id}    # one character
        assert found("漏水阀") == set()               # every token present, the phrase is not
        assert found("接头 进水阀") == {leak_id}      # words apart in the text, each must be there
        assert found("滤芯 漏水") == set()
    reader = login(new_client, "chen")
    assert list_titles(reader, "?search=进水阀") == ["安装后接头漏水怎么办"]
    assert list_titles(reader, "?flt0_3=保养") == ["净水器滤芯多久更换一次"]  # 按标签


@pytest.mark.both_dbs
def test_drafts_and_archived_articles_are_for_editors_only_on_every_path(app, people, new_client):
    published = add(app, people["editor"], "净水器显示E1故障", answer="E1 表示进水压力不足，请检查进水阀。")
    draft = add(app, people["editor"], "净水器E2故障（草稿）", answer="E2 表示漏水保护。", status="draft")
    archived = add(app, people["editor"], "净水器旧款E3故障", answer="旧款机型已停产。", status="archived")
    reader = login(new_client, "chen")
    assert list_titles(reader) == ["净水器显示E1故障"]
    assert list_titles(reader, "?search=故障") == ["净水器显示E1故障"]
    assert reader.get(f"{LIST}details/?id={published}").status_code == 200
    for hidden in (draft, archived):
        assert reader.get(f"{LIST}details/?id={hidden}").status_code == 404
    assert reader.get(f"{LIST}new/").status_code == 302  # readers do not write: back to the list
    picked = reader.get(f"{LIST}picker/?q=故障").get_json()["results"]
    assert [r["id"] for r in picked] == [published]
    editor = login(new_client, "zhou")
    assert sorted(list_titles(editor, "?search=故障")) == sorted(
        ["净水器显示E1故障", "净水器E2故障（草稿）", "净水器旧款E3故障"])
    assert editor.get(f"{LIST}details/?id={draft}").status_code == 200
    # the picker offers published answers only, even to an editor
    assert [r["id"] for r in editor.get(f"{LIST}picker/?q=故障").get_json()["results"]] == [published]


def test_publish_archive_unarchive_and_a_stale_move_is_refused(app, people, new_client, make_user):
    make_user("wu", role="客服主管", department=("客服部",), display_name="吴主管")
    article = add(app, people["editor"], "滤芯寿命提醒如何复位", answer="长按复位键5秒。", status="draft")
    first, second = login(new_client, "zhou"), login(new_client, "wu")
    page = f"{LIST}details/?id={article}"
    seen_version = re.search(r'name="version" value="(\d+)"', second.get(page).get_data(as_text=True)).group(1)
    done = first.post_form(page, {"version": re.search(r'name="version" value="(\d+)"', first.get(page).get_data(
        as_text=True)).group(1)}, to=f"{LIST}move/publish/?id={article}", follow=True)
    assert "现为“已发布”" in done.get_data(as_text=True)
    # 吴 still has the draft's page open and archives it: refused, saying what it is now
    stale = second.post_form(page, {"version": seen_version}, to=f"{LIST}move/archive/?id={article}", follow=True)
    assert "状态已被他人修改为“已发布”" in stale.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(KbArticle, article)
        assert (row.status, row.published_at) == (ArticleStatus.PUBLISHED, FIXED_NOW)
        moves = db.session.scalars(select(AuditLog.changes).where(AuditLog.entity == "KbArticle",
                                                                  AuditLog.entity_id == str(article),
                                                                  AuditLog.action == "update")).all()
        assert {"status": ["draft", "published"]} in moves
        who = actor(people["editor"])
        knowledge.move(db.session, article, "archive", actor=who, now=FIXED_NOW)
        with pytest.raises(knowledge.InvalidValue):  # an archived article is not published straight away
            knowledge.move(db.session, article, "publish", actor=who, now=FIXED_NOW)
        assert knowledge.move(db.session, article, "unarchive", actor=who, now=FIXED_NOW).status == ArticleStatus.DRAFT
        with pytest.raises(knowledge.PermissionDenied):
            knowledge.move(db.session, article, "publish", actor=actor(people["reader"]), now=FIXED_NOW)
        db.session.commit()
    assert "已处理 1 篇文章" in first.action(LIST, "publish", [article]).get_data(as_text=True)  # 批量发布
    with app.app_context():
        assert db.session.get(KbArticle, article).status == ArticleStatus.PUBLISHED


def test_helpful_is_counted_once_per_person(app, people, new_client, clock):
    article = add(app, people["editor"], "如何申请上门安装", answer="拨打400热线预约。")
    clock.advance(hours=3)
    reader = login(new_client, "chen")
    page = f"{LIST}details/?id={article}"
    assert "感谢您的反馈" in reader.post_form(page, {"helpful": "1"}, to=f"{LIST}vote/?id={article}",
                                             follow=True).get_data(as_text=True)
    again = reader.post_form(page, {"helpful": "0"}, to=f"{LIST}vote/?id={article}", follow=True)
    assert "您已评价过这篇文章" in again.get_data(as_text=True)
    assert "1 人觉得有帮助，0 人觉得没帮助" in again.get_data(as_text=True)
    login(new_client, "zhou").post_form(page, {"helpful": "0"}, to=f"{LIST}vote/?id={article}")
    with app.app_context():
        row = db.session.get(KbArticle, article)
        assert (row.helpful_yes, row.helpful_no) == (1, 1)
        assert row.views >= 3 and row.updated_at == FIXED_NOW  # reading and voting are not edits


def test_the_editor_form_strips_scripts_and_keeps_what_was_typed_when_refused(app, people, new_client):
    editor = login(new_client, "zhou")
    refused = editor.post_form(f"{LIST}new/", {"kind": "qa", "title": "", "question": "滤芯多少钱一支？",
                                               "answer": "", "tags_text": "价格"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "请填写答案" in html and "滤芯多少钱一支？" in html
    editor.post_form(f"{LIST}new/", {
        "kind": "article", "title": "净水器安装注意事项",
        "body": '<p onclick="steal()">安装前关闭总阀</p><script>alert("x")</script><img src=x onerror="steal()">',
        "answer": '<b onmouseover="x()">答</b><script>alert(2)</script>', "tags_text": "安装，注意事项"})
    with app.app_context():
        row = db.session.scalar(select(KbArticle).where(KbArticle.title == "净水器安装注意事项"))
        assert row.status == ArticleStatus.DRAFT and row.author_id == people["editor"]
        assert "安装前关闭总阀" in row.body
        for stored in (row.body, row.answer):
            assert "script" not in stored and "onclick" not in stored and "onerror" not in stored
        assert row.answer == "答" and row.tags == ["安装", "注意事项"]
        article_id = row.id
    page = editor.get(f"{LIST}details/?id={article_id}").get_data(as_text=True)
    assert "alert(" not in page and "steal()" not in page

    # its category is stopped later: editing the article keeps it there
    with app.app_context():
        category = KbCategory(name="旧分类", active=False)
        db.session.add(category)
        db.session.flush()
        db.session.get(KbArticle, article_id).category_id = category.id
        db.session.commit()
    form = editor.get(f"{LIST}edit/?id={article_id}").get_data(as_text=True)
    assert "旧分类" in form
    chosen = form.split('name="category"', 1)[1].split("</select>", 1)[0]
    picked = chosen.split("selected", 1)[1].split(">", 1)[1].split("<", 1)[0] if "selected" in chosen else ""
    assert picked == "旧分类"


def _ticket(app, customer_id: int, created_by: int, subject: str, reply: str) -> int:
    with app.app_context():
        status = ticket_statuses.initial(db.session)
        ticket = Ticket(number=f"GD-{customer_id}", customer_id=customer_id, subject=subject, created_by_id=created_by,
                        description="客户说净水器出水很慢。", status_id=status.id, status_category=status.category)
        db.session.add(ticket)
        db.session.flush()
        db.session.add(TicketEntry(ticket_id=ticket.id, kind=EntryKind.REPLY, author_id=created_by, body="旧的回复"))
        db.session.add(TicketEntry(ticket_id=ticket.id, kind=EntryKind.NOTE, author_id=created_by, body="内部备注"))
        db.session.add(TicketEntry(ticket_id=ticket.id, kind=EntryKind.REPLY, author_id=created_by, body=reply))
        db.session.commit()
        return ticket.id


def test_from_ticket_prefills_a_draft_qa_within_the_ticket_scope(app, people, make_user, make_customer, new_client):
    with app.app_context():  # a salesperson who may also write the knowledge base (data scope: self)
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        role.permissions = [*role.permissions, "knowledge.edit"]
        db.session.commit()
    other = make_user("sun", display_name="孙伟")
    mine = _ticket(app, make_customer("海淀实验中学", people["reader"]), people["reader"], "出水慢",
                   "更换了前置PP棉滤芯后出水恢复正常。")
    theirs = _ticket(app, make_customer("朝阳物业", other), other, "漏水", "已上门处理")
    chen = login(new_client, "chen")
    assert chen.get(f"{LIST}new/?ticket={theirs}").status_code == 404
    form = chen.get(f"{LIST}new/?ticket={mine}").get_data(as_text=True)
    assert "出水慢" in form and "更换了前置PP棉滤芯后出水恢复正常。" in form and "内部备注" not in form
    chen.post_form(f"{LIST}new/?ticket={mine}", {"kind": "qa", "title": "出水慢", "question": "出水慢",
                                                 "answer": "更换前置PP棉滤芯。", "from_ticket": str(mine)})
    forged = chen.post_form(f"{LIST}new/?ticket={mine}", {"kind": "qa", "title": "别人的工单", "question": "漏水",
                                                          "answer": "x", "from_ticket": str(theirs)})
    assert "别人的工单" in forged.get_data(as_text=True)  # refused, the form kept
    with app.app_context():
        rows = db.session.execute(select(KbArticle.title, KbArticle.kind, KbArticle.status,
                                         KbArticle.source_ticket_id)).all()
        assert rows == [("出水慢", ArticleKind.QA, ArticleStatus.DRAFT, mine)]


def test_the_reply_picker_answers_published_text_at_most_ten(app, people, new_client):
    for n in range(12):
        add(app, people["editor"], f"滤芯型号{n:02d}", answer=f"第{n}号滤芯适用于<b>KC-{n}</b>机型。")
    add(app, people["editor"], "滤芯草稿", answer="未发布", status="draft")
    reader = login(new_client, "chen")
    results = reader.get(f"{LIST}picker/?q=滤芯").get_json()["results"]
    assert len(results) == 10 and all(r["title"].startswith("滤芯型号") for r in results)
    first = results[0]
    assert first["answer"] == "第11号滤芯适用于KC-11机型。"  # plain text, as it goes into a reply
    assert "滤芯" in first["snippet"]
    assert reader.get(f"{LIST}picker/?q=").get_json() == {"results": []}
    assert new_client().get(f"{LIST}picker/?q=滤芯").status_code == 302  # signed-in readers only
    script = (ROOT / "static/js/kechi-kb-picker.js").read_text()
    assert "#ticket-reply-body" not in script and "textContent" in script  # the target comes from the markup
    assert "setRangeText" in script or "selectionStart" in script  # at the cursor


def _picker_html(app, username: str) -> str:
    """The ticket page's include as that user would get it, for ticket 5."""
    from types import SimpleNamespace

    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context("/admin/"):
        login_user(db.session.scalar(select(User).where(User.username == username)))
        return render_template_string("{% include 'admin/knowledge/_reply_picker.html' %}",
                                      ticket=SimpleNamespace(id=5))


def test_the_picker_partial_offers_search_to_readers_and_from_ticket_to_editors(app, people, make_user):
    reader, editor = _picker_html(app, "chen"), _picker_html(app, "zhou")
    for html in (reader, editor):
        assert 'data-kb-picker-url="/admin/kb_article/picker/"' in html and 'data-kb-picker-target="#ticket-reply-body"' in html
        assert "/static/js/kechi-kb-picker.js" in html and "<script>" not in html  # CSP: no inline script
    assert "转为知识库文章" not in reader
    assert 'href="/admin/kb_article/new/?ticket=5"' in editor
    make_user("cw", role="财务", department=("财务部",))  # no knowledge.view: nothing at all
    assert _picker_html(app, "cw").strip() == ""

def test_demo_knowledge_base_is_searchable_and_seeded_once(app, people, make_user, clock):
    from demo.knowledge import seed_knowledge

    make_user("wu", role="客服主管", department=("客服部",), display_name="吴主管")
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        for _ in range(2):
            seed_knowledge(db.session, users, now=clock.now)
            db.session.commit()
        states = dict(db.session.execute(select(KbArticle.status, func.count()).group_by(KbArticle.status)).all())
        assert states == {"published": 20, "draft": 1, "archived": 1}
        assert {r["title"] for r in knowledge.picker(db.session, "紫砂壶")} == {
            "新紫砂壶第一次怎么用？", "紫砂壶壶盖和壶身不严怎么办？", "收到的茶具破损了怎么办？"}
        used = db.session.scalar(select(KbCategory).where(KbCategory.name == "茶具使用与保养"))
        with pytest.raises(knowledge.InvalidValue, match="还有 4 篇文章，不能删除"):
            knowledge.check_category_delete(db.session, used)
