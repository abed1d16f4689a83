"""打印模板: saving a template the administrator designed (checked before it is stored: it parses,
every field it reads is in the document's catalogue, nothing in it reaches outside the sandbox,
and it renders on sample data within the budget), one default per document type, copies, the
recycle, and turning a template plus a record's data into the printed page."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from jinja2 import nodes
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.printing import Paper, PrintDocType, PrintTemplate
from rules import print_data, print_fields, print_render
from rules.actor import Actor
from rules.errors import TemplateRefused

MAX_SOURCE = 200_000  # characters of a template's body
MARGIN_MAX = 60
CUSTOM_MM = (30, 1200)
# Methods a template may call on its plain data (dict.items(), str.upper() …); anything else
# after a dot must be a field of the catalogue.
SAFE_METHODS = frozenset({"items", "keys", "values", "get", "upper", "lower", "strip", "title", "replace",
                          "split", "startswith", "endswith", "join", "format", "count"})
ACTIVE_MARKUP = re.compile(r"<\s*(script|iframe|object|embed|frame|base|meta|link)\b|javascript:|\son[a-z]+\s*=",
                           re.IGNORECASE)


@dataclass
class TemplateInput:
    """What the designer's form typed, as strings and lists (kept as typed on a refusal)."""

    doc_type: str
    name: str = ""
    body: str = ""
    header: str = ""
    footer: str = ""
    paper: str = Paper.A4.value
    landscape: bool = False
    width_mm: Any = None
    height_mm: Any = None
    margins: tuple[Any, Any, Any, Any] = (15, 15, 15, 15)
    columns: list[str] = field(default_factory=list)
    is_default: bool = False
    active: bool = True
    logo_key: str | None = None
    version: Any = None

    @classmethod
    def of(cls, template: PrintTemplate) -> TemplateInput:
        return cls(doc_type=template.doc_type, name=template.name or "", body=template.body or "",
                   header=template.header or "", footer=template.footer or "", paper=template.paper or "A4",
                   landscape=bool(template.landscape), width_mm=template.width_mm, height_mm=template.height_mm,
                   margins=(template.margin_top, template.margin_right, template.margin_bottom, template.margin_left),
                   columns=list(template.columns or []), is_default=bool(template.is_default),
                   active=template.active if template.active is not None else True, logo_key=template.logo_key,
                   version=template.version)


# --- the check on save ----------------------------------------------------------------------------

def _path(node: nodes.Node) -> list[str] | None:
    """["customer", "name"] for customer.name / customer['name']; lines[0].x reads "lines[]"."""
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Getattr):
        head = _path(node.node)
        return None if head is None else [*head, node.attr]
    if isinstance(node, nodes.Getitem):
        head = _path(node.node)
        if head is None:
            return None
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return [*head, node.arg.value]
        return [*head[:-1], head[-1] + "[]"]
    return None


def _names(target: nodes.Node) -> list[str]:
    """The names an assignment target binds (x, or k and v of `for k, v in …`)."""
    if isinstance(target, nodes.Name):
        return [target.name]
    return [n.name for n in target.find_all(nodes.Name)]


class _FieldCheck:
    """Walks the template's tree with the names each block binds (loop variables stand for an
    item of their list), and refuses the first field the catalogue lacks or the first reach for
    a private attribute (the classic escape: ''.__class__.__mro__)."""

    def __init__(self, doc_type: PrintDocType) -> None:
        self.known = print_fields.known_paths(doc_type)
        self.tops = {p.split(".")[0].removesuffix("[]") for p in self.known}

    def refuse_private(self, name: str) -> None:
        if name.startswith("_"):
            raise TemplateRefused(_l("模板试图访问不允许的内容：%(n)s（打印模板只能使用字段列表中的字段）", n=name))

    def resolve(self, node: nodes.Node, env: dict[str, str | None], *, called: bool = False) -> str | None:
        """The catalogue path `node` reads ("lines[].amount"), None for local values, or a refusal."""
        for sub in reversed((node, *node.find_all((nodes.Getattr,)))):
            if isinstance(sub, nodes.Getattr):
                self.refuse_private(sub.attr)
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            self.refuse_private(node.arg.value)
        parts = _path(node)
        if parts is None:
            return None
        if called:
            if len(parts) == 1:
                return None  # range() or a macro; the sandbox has no other callables
            if parts[-1] not in SAFE_METHODS:
                raise TemplateRefused(_l("模板中不能调用「%(n)s」", n=".".join(parts)))
            parts = parts[:-1]
        root = parts[0].removesuffix("[]")
        if root in env:
            base = env[root]
            if base is None:
                return None  # a name the template set itself, a macro argument, loop
            full = ".".join([base, *parts[1:]])
        elif root in self.tops:
            full = ".".join(parts)
        else:
            raise TemplateRefused(_l("字段 %(f)s 不存在", f=".".join(parts)))
        normalised = re.sub(r"\[\]", "[]", full)
        if normalised not in self.known and normalised.removesuffix("[]") not in self.known:
            raise TemplateRefused(_l("字段 %(f)s 不存在", f=".".join(parts)))
        return normalised

    def walk(self, node: nodes.Node, env: dict[str, str | None]) -> None:
        if isinstance(node, nodes.For):
            self.walk(node.iter, env)
            source = self.resolve(node.iter, env) if isinstance(node.iter, (nodes.Name, nodes.Getattr,
                                                                            nodes.Getitem)) else None
            inner = dict(env, loop=None)
            for name in _names(node.target):
                inner[name] = (source + "[]") if source and isinstance(node.target, nodes.Name) \
                    and not source.endswith("[]") else None
            for child in [*node.body, *(node.else_ or [])]:
                self.walk(child, inner)
            if node.test is not None:
                self.walk(node.test, inner)
            return
        if isinstance(node, (nodes.Macro, nodes.CallBlock)):
            inner = dict(env, caller=None)
            for arg in getattr(node, "args", []):
                inner[arg.name] = None
            for child in node.body:
                self.walk(child, inner)
            return
        if isinstance(node, (nodes.Assign, nodes.AssignBlock)):
            for name in _names(node.target):
                env[name] = None
            for child in node.iter_child_nodes(exclude=("target",)):
                self.walk(child, env)
            return
        if isinstance(node, nodes.With):
            inner = dict(env)
            for target in node.targets:
                for name in _names(target):
                    inner[name] = None
            for value in node.values:
                self.walk(value, env)
            for child in node.body:
                self.walk(child, inner)
            return
        if isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            raise TemplateRefused(_l("打印模板不能引用其他模板文件"))
        if isinstance(node, nodes.Call):
            self.resolve(node.node, env, called=True)
            for child in [*node.args, *node.kwargs, *(x for x in (node.dyn_args, node.dyn_kwargs) if x)]:
                self.walk(child, env)
            if not isinstance(node.node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
                self.walk(node.node, env)
            elif isinstance(node.node, nodes.Getattr):
                self._walk_inside(node.node.node, env)
            return
        if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Name) and node.ctx != "load":
                return
            self.resolve(node, env)
            self._walk_inside(node, env)
            return
        for child in node.iter_child_nodes():
            self.walk(child, env)

    def _walk_inside(self, node: nodes.Node, env: dict[str, str | None]) -> None:
        """Subscripts and computed bases inside a chain (lines[i] — the i; ('x' ~ y).upper — the y)."""
        while isinstance(node, (nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
                self.walk(node.arg, env)
            node = node.node
        if not isinstance(node, nodes.Name):
            self.walk(node, env)


def check_source(doc_type: PrintDocType | str, source: str, *, part: str = "") -> None:
    """Refuse a template (or its header/footer) that does not parse, reads a field the
    document lacks, or reaches for anything outside its data."""
    where = f"{part}：" if part else ""
    if len(source or "") > MAX_SOURCE:
        raise TemplateRefused(_l("%(w)s模板内容过长（上限 %(n)d 个字符）", w=where, n=MAX_SOURCE))
    found = ACTIVE_MARKUP.search(source or "")
    if found:
        raise TemplateRefused(_l("%(w)s打印模板中不能包含脚本或外部页面（发现「%(s)s」）", w=where, s=found.group(0).strip()))
    try:
        tree = print_render.parse(source or "")
        _FieldCheck(PrintDocType(doc_type)).walk(tree, {})
    except TemplateRefused as exc:
        raise TemplateRefused(f"{where}{exc}") from None


def trial(doc_type: PrintDocType | str, values: TemplateInput) -> None:
    """Render every part on the sample data in the sandbox (a loop of 10**9 steps stops here)."""
    data = with_columns(print_data.sample(doc_type), doc_type, values.columns)
    for part, source in ((_l("正文"), values.body), (_l("页眉"), values.header), (_l("页脚"), values.footer)):
        if source:
            try:
                print_render.render(source, data)
            except TemplateRefused as exc:
                raise TemplateRefused(f"{part}：{exc}") from None


def _int(raw: Any, label: Any, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise TemplateRefused(_l("%(l)s请填写整数（毫米）", l=label)) from None
    if not low <= value <= high:
        raise TemplateRefused(_l("%(l)s应在 %(a)d 到 %(b)d 毫米之间", l=label, a=low, b=high))
    return value


def validate(values: TemplateInput) -> dict[str, Any]:
    """The model's columns from what was typed, or the first reason it cannot be saved."""
    try:
        doc_type = PrintDocType(values.doc_type)
    except ValueError:
        raise TemplateRefused(_l("请选择单据类型")) from None
    name = (values.name or "").strip()
    if not name:
        raise TemplateRefused(_l("请填写模板名称"))
    if len(name) > 100:
        raise TemplateRefused(_l("模板名称不能超过 100 个字"))
    try:
        paper = Paper(values.paper)
    except ValueError:
        raise TemplateRefused(_l("请选择纸张")) from None
    width = height = None
    if paper is Paper.CUSTOM:
        width = _int(values.width_mm, _l("纸张宽度"), *CUSTOM_MM)
        height = _int(values.height_mm, _l("纸张高度"), *CUSTOM_MM)
    labels = (_l("上边距"), _l("右边距"), _l("下边距"), _l("左边距"))
    margins = [_int(m, label, 0, MARGIN_MAX) for m, label in zip(values.margins, labels)]
    offered = [c.key for c in print_fields.columns_for(doc_type)]
    unknown = [c for c in values.columns if c not in offered]
    if unknown:
        raise TemplateRefused(_l("「%(t)s」没有明细列 %(c)s", t=print_fields.DOC_LABELS[doc_type], c="、".join(unknown)))
    columns = [c for c in offered if c in values.columns]
    for part, source in ((_l("正文"), values.body), (_l("页眉"), values.header), (_l("页脚"), values.footer)):
        check_source(doc_type, source, part=str(part))
    trial(doc_type, values)
    return {"doc_type": doc_type.value, "name": name, "body": values.body or "", "header": values.header or None,
            "footer": values.footer or None, "paper": paper.value, "landscape": bool(values.landscape),
            "width_mm": width, "height_mm": height, "margin_top": margins[0], "margin_right": margins[1],
            "margin_bottom": margins[2], "margin_left": margins[3], "columns": columns,
            "active": bool(values.active) or bool(values.is_default), "logo_key": values.logo_key or None}


# --- storing --------------------------------------------------------------------------------------

def save(session: Session, template: PrintTemplate | None, values: TemplateInput, *, actor: Actor | None,
         now: datetime) -> PrintTemplate:
    """Create (template None) or change a template after `validate`; the default moves to it
    when asked (one default per document type)."""
    columns = validate(values)
    if template is None:
        template = PrintTemplate(created_at=now, created_by_id=actor.user_id if actor else None)
        session.add(template)
    elif values.version not in (None, "") and str(values.version) != str(template.version):
        raise TemplateRefused(_l("这个模板已被他人修改，请刷新后再改（您填写的内容仍在下方）"))
    elif template.doc_type != columns["doc_type"]:
        raise TemplateRefused(_l("模板的单据类型不能修改；请新建或复制一个模板"))
    for key, value in columns.items():
        setattr(template, key, value)
    template.updated_at, template.updated_by_id = now, actor.user_id if actor else None
    template.options = dict(template.options or {})
    session.flush()
    if values.is_default:
        make_default(session, template)
    else:  # unticked: the type prints with its first active template until another is chosen
        template.is_default = False
        session.flush()
    return template


def make_default(session: Session, template: PrintTemplate) -> None:
    """This template becomes its type's default: one guarded UPDATE clears the others (no
    moment with two defaults for a reader to see)."""
    session.execute(update(PrintTemplate).where(PrintTemplate.doc_type == template.doc_type,
                                                PrintTemplate.id != template.id,
                                                PrintTemplate.is_default.is_(True))
                    .values(is_default=False, version=PrintTemplate.version + 1)
                    .execution_options(synchronize_session="fetch"))
    template.is_default, template.active = True, True
    session.flush()


def copy(session: Session, template: PrintTemplate, *, actor: Actor | None, now: datetime) -> PrintTemplate:
    twin = PrintTemplate(doc_type=template.doc_type, name=f"{template.name}{_l('（副本）')}"[:100],
                         body=template.body, header=template.header, footer=template.footer,
                         logo_key=template.logo_key, paper=template.paper, landscape=template.landscape,
                         width_mm=template.width_mm, height_mm=template.height_mm,
                         margin_top=template.margin_top, margin_right=template.margin_right,
                         margin_bottom=template.margin_bottom, margin_left=template.margin_left,
                         columns=list(template.columns or []), options=dict(template.options or {}),
                         is_default=False, active=True, created_at=now, updated_at=now,
                         created_by_id=actor.user_id if actor else None, updated_by_id=actor.user_id if actor else None)
    session.add(twin)
    session.flush()
    return twin


def delete(session: Session, template: PrintTemplate, *, actor: Actor | None, now: datetime) -> None:
    """Away from the lists (kept for the audit); a default hands over to the oldest other active one."""
    template.deleted_at, template.updated_at = now, now
    template.updated_by_id = actor.user_id if actor else None
    was_default, template.is_default = template.is_default, False
    session.flush()
    if was_default:
        heir = session.scalar(_live(template.doc_type).where(PrintTemplate.active.is_(True))
                              .order_by(PrintTemplate.id).limit(1))
        if heir is not None:
            make_default(session, heir)


def _live(doc_type: Any) -> Any:
    return select(PrintTemplate).where(PrintTemplate.doc_type == str(PrintDocType(doc_type)),
                                       PrintTemplate.deleted_at.is_(None))


def for_doc_type(session: Session, doc_type: str, *, include_inactive: bool = False) -> list[PrintTemplate]:
    """A document type's templates, the default first (a print menu offers the active ones)."""
    stmt = _live(PrintDocType(doc_type))
    if not include_inactive:
        stmt = stmt.where(PrintTemplate.active.is_(True))
    return list(session.scalars(stmt.order_by(PrintTemplate.is_default.desc(), PrintTemplate.name,
                                              PrintTemplate.id)))


def default_for(session: Session, doc_type: str) -> PrintTemplate | None:
    """The template a 打印 button uses: the default, or the first active one."""
    return session.scalar(_live(PrintDocType(doc_type)).where(PrintTemplate.active.is_(True))
                          .order_by(PrintTemplate.is_default.desc(), PrintTemplate.id).limit(1))


def live_template(session: Session, ident: Any) -> PrintTemplate | None:
    template = session.get(PrintTemplate, ident) if ident else None
    return template if template is not None and template.deleted_at is None else None


# --- printing -------------------------------------------------------------------------------------

def _cell(line: dict[str, Any], key: str) -> str:
    value = line.get(key)
    if key in ("unit_price", "amount"):
        return print_render.money(value)
    return "" if value is None else str(value)


def with_columns(data: dict[str, Any], doc_type: Any, keys: list[str] | None) -> dict[str, Any]:
    """The data with the template's chosen line-item columns (in catalogue order) and each
    line's cells in that order, so `{{ 明细表 }}` is one loop over plain strings."""
    offered = print_fields.columns_for(doc_type)
    chosen = [c for c in offered if c.key in (keys or [])] or [
        c for c in offered if c.key in print_fields.default_columns(doc_type)]
    if not offered:
        return data
    columns = [{"key": c.key, "label": str(c.label), "align": "num" if c.numeric else ""} for c in chosen]
    lines = [{**line, "cells": [_cell(line, c["key"]) for c in columns]} for line in data.get("lines", [])]
    return {**data, "columns": columns, "lines": lines}


def page_of(template: PrintTemplate | TemplateInput, *, files_root: str | Path | None, title: str = "",
            header: str = "", footer: str = "") -> print_render.Page:
    margins = template.margins if isinstance(template, TemplateInput) else (
        template.margin_top, template.margin_right, template.margin_bottom, template.margin_left)
    return print_render.Page(
        paper=str(template.paper or "A4"), landscape=bool(template.landscape),
        width_mm=_maybe_int(template.width_mm), height_mm=_maybe_int(template.height_mm),
        margins=tuple(_maybe_int(m) or 0 for m in margins), header=header, footer=footer,
        logo_data_uri=print_render.logo_data_uri(files_root, template.logo_key) if files_root else None,
        title=title, classes=[f"kechi-doc-{template.doc_type}"])


def _maybe_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def sheet_css(page: print_render.Page) -> str:
    """On screen the page is drawn as a sheet of its paper with its margins, header on top and
    footer at the foot, so a preview shows what paper and margins do; print and PDF ignore it."""
    width, height = page.size_mm()
    top, right, bottom, left = (max(0, min(int(m), MARGIN_MAX)) for m in page.margins)
    return ("@media screen { html { background: #dee2e6; }"
            f" body {{ position: relative; box-sizing: border-box; width: {width}mm; min-height: {height}mm; margin: 4mm auto;"
            f" padding: {top}mm {right}mm {bottom}mm {left}mm; background: #fff; box-shadow: 0 0 3mm rgba(0,0,0,.3);"
            " display: flex; flex-direction: column; } .kechi-print-body { flex: 1; }"
            " .kechi-print-footer { order: 3; } }\n"
            "@media screen and (max-width: 860px) { html { zoom: 0.78; } }\n")


def render_page(session: Session | None, template: PrintTemplate | TemplateInput, data: dict[str, Any], *,
                files_root: str | Path | None, screen: bool = False) -> str:
    """The whole printable HTML page of `data` in `template` (the browser preview and the PDF
    input), or TemplateRefused with the reason in Chinese. `screen` draws it as a sheet of paper
    when looked at (the designer's preview)."""
    data = with_columns(data, template.doc_type, list(template.columns or []))
    body = print_render.render(template.body or "", data)
    header = print_render.render(template.header, data) if template.header else ""
    footer = print_render.render(template.footer, data) if template.footer else ""
    title = " ".join(x for x in (data.get("title", ""), _number(data)) if x)
    page = page_of(template, files_root=files_root, title=title, header=header, footer=footer)
    if screen:
        page.extra_css = sheet_css(page)
    return print_render.document(page, body)


def _number(data: dict[str, Any]) -> str:
    for key in ("order", "quote", "contract", "receipt", "invoice", "ticket", "customer", "recipient"):
        part = data.get(key)
        if isinstance(part, dict):
            return str(part.get("number") or part.get("name") or "")
    return ""
