"""The dependency direction of DESIGN §2 as a test: models ← rules ← admin_views, jobs ← app.py.
Imports are read from the source with `ast`; one inside a function counts as much as one at the
top of the module (a late import is still a dependency, only a hidden one)."""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A package (a folder at the top of the project), the top-level modules it must not import, and why.
FORBIDDEN = [
    ("rules", {"flask", "flask_admin", "flask_login", "wtforms", "admin_views", "jobs", "app"},
     "rules take an actor and a session (flask_babel is fine; requests, forms, views and jobs are not)"),
    ("models", {"rules", "admin_views", "jobs", "app"}, "tables hold no decisions"),
    ("adapters", {"rules", "admin_views", "jobs", "app"}, "I/O with the outside world, told what to do"),
    ("demo", {"admin_views", "jobs", "app"}, "demo data is written through models and rules"),
]

# Who may import the panel: the app factory that mounts it, and what measures it as a user would.
MAY_IMPORT_ADMIN_VIEWS = {"admin_views", "app.py", "tests", "bench"}
SKIPPED_FOLDERS = {"node_modules", "instance", "test-artifacts", "static", "templates", "__pycache__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    found = []
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            found.append((node.lineno, ".".join([*base, node.module] if node.module else base)))
    return found


def python_files(folder: Path) -> list[Path]:
    found = []
    for where, folders, files in os.walk(folder):
        folders[:] = [f for f in folders if f not in SKIPPED_FOLDERS and not f.startswith(".")]
        found += [Path(where) / name for name in files if name.endswith(".py")]
    return sorted(found)


def test_the_reader_sees_imports_inside_functions():
    late = imports(ROOT / "jobs" / "queue.py")
    assert any(name == "app" for _line, name in late), "jobs/queue.py builds an app with a late import"


@pytest.mark.parametrize(("package", "forbidden", "why"), FORBIDDEN, ids=[row[0] for row in FORBIDDEN])
def test_each_layer_imports_only_what_is_beneath_it(package: str, forbidden: set[str], why: str):
    folder = ROOT / package
    if not folder.is_dir():
        pytest.skip(f"{package}/ does not exist yet")
    files = python_files(folder)
    assert files, f"{package}/ has no Python files"
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for path in files for line, name in imports(path) if name.split(".")[0] in forbidden]
    assert not wrong, f"{package}/: {why}\n" + "\n".join(wrong)


def test_only_the_app_factory_imports_the_panel():
    wrong = []
    for path in python_files(ROOT):
        if path.relative_to(ROOT).parts[0] in MAY_IMPORT_ADMIN_VIEWS:
            continue
        wrong += [f"{path.relative_to(ROOT)}:{line} imports {name}"
                  for line, name in imports(path) if name.split(".")[0] == "admin_views"]
    assert not wrong, "only app.py mounts admin_views:\n" + "\n".join(wrong)
