"""adapters/ does the I/O and decides nothing: it imports nothing of the application above it,
and rules/ never reaches for an adapter (the callers in jobs/ and admin_views/ wire the two)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_an_adapter_imports_nothing_of_the_application(path: Path):
    assert not _imported(path) & {"rules", "admin_views", "jobs", "app", "demo"}


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("*.py")), ids=lambda p: p.name)
def test_a_rule_gets_its_io_handed_in(path: Path):
    assert "adapters" not in _imported(path)
