"""The layers import only downward: analytics/ ← charts/ ← reports/ ← dashboard/, pages/.

- analytics/ imports neither streamlit nor dashboard/, reports/ or charts/;
- charts/ (plotly builders) imports neither streamlit nor dashboard/ or reports/;
- reports/ (deck, PDF, story) imports neither streamlit nor dashboard/.

Imports are read with `ast` from every module of each package, including imports inside
functions, so a lazy import does not slip through. This test fails on main before the
chart split (issue 15): reports/figures.py and reports/specs.py imported
`dashboard.charts` for colours and fonts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "analytics": {"streamlit", "dashboard", "reports", "charts"},
    "charts": {"streamlit", "dashboard", "reports"},
    "reports": {"streamlit", "dashboard"},
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in the file at `path`; relative imports
    stay inside their own package and are skipped."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {module}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, module in imported_modules(path) if module in FORBIDDEN[package]]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_lower_layers(package):
    assert (ROOT / package / "__init__.py").exists(), f"{package}/ is not a package"
    assert violations(package) == []


def test_the_import_reader_sees_plain_from_and_function_level_imports(tmp_path):
    # the check itself must be able to fail: each import form below is found
    source = tmp_path / "module.py"
    source.write_text("import streamlit as st\nfrom dashboard.charts import BAD\n"
                      "def f():\n    import reports.deck\n    from . import sibling\n")
    assert imported_modules(source) == [(1, "streamlit"), (2, "dashboard"), (4, "reports")]
