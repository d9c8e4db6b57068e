"""The start-up warm-up (`dashboard.serve`) leaves the first page nothing heavy to import
(issue 17: first page after a server start <= 3 s; decision 025).

The Overview's first script run after the warm-up used to pay for imports the warm-up did
not make: pandas' Styler (the targets table's Met/Missed colours), whose module imports
matplotlib (~2 s on a busy box), and Streamlit's emoji catalogue for the page icon (~1 s).
Each check runs in a fresh interpreter, as a server starts: warm, then run the app's
default page once through AppTest and list the modules that run imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# packages whose import a first page must not pay for once the warm-up is done
HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "plotly", "ibis", "duckdb", "pyarrow", "sqlalchemy",
         "sklearn", "lifelines", "reportlab", "pptx", "pyspark", "analytics", "charts", "reports", "dashboard",
         "streamlit.emojis")


def _imported_by_first_run(db_path: Path, warm: bool) -> list[str]:
    script = textwrap.dedent(f"""
        import json, logging, sys
        logging.disable(logging.WARNING)  # cached calls outside a server warn
        from streamlit.testing.v1 import AppTest
        if {warm!r}:
            from dashboard import serve
            serve.warm_default_view()
        before = set(sys.modules)
        at = AppTest.from_file({str(ROOT / "dashboard" / "app.py")!r}, default_timeout=240).run()
        assert not at.exception, [e.message for e in at.exception]
        assert at.title and at.title[0].value == "Overview", [t.value for t in at.title]
        print(json.dumps(sorted(set(sys.modules) - before)))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**__import__("os").environ, "RETENTION_DB": str(db_path), "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_the_first_page_after_the_warm_up_imports_nothing_heavy(sample_db_path):
    assert _heavy(_imported_by_first_run(sample_db_path, warm=True)) == []


def test_without_the_warm_up_the_first_page_imports_the_heavy_modules(sample_db_path):
    # the check can fail: a cold first run imports the Styler, matplotlib and the emojis
    heavy = _heavy(_imported_by_first_run(sample_db_path, warm=False))
    for expected in ("pandas.io.formats.style", "matplotlib.pyplot", "streamlit.emojis", "dashboard.data"):
        assert expected in heavy


def _exit_after_freezing(db_path: Path, freeze: str) -> str:
    """stderr of an interpreter that runs an Ibis query on the database, freezes the
    objects alive (`freeze`: a statement) and exits."""
    script = textwrap.dedent(f"""
        import gc
        from analytics.db import open_database
        from dashboard import serve
        db = open_database({str(db_path)!r}, read_only=True)
        db.ibis().to_pandas(db.table("customers").limit(1))
        {freeze}
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def test_frozen_warm_objects_are_unfrozen_at_exit_so_nothing_leaks(sample_db_path):
    # gc.freeze keeps the warm objects out of every post-run collection, but DuckDB objects
    # in reference cycles then survive the interpreter's last collection, and nanobind
    # prints "leaked instance" lines at exit (issue 17: a clean run must look clean)
    assert "leaked" in _exit_after_freezing(sample_db_path, "gc.collect(); gc.freeze()")
    assert "leaked" not in _exit_after_freezing(sample_db_path, "serve._freeze_warm_objects()")
