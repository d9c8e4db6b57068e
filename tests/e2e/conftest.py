"""Browser-test fixtures: a real Streamlit server on a free loopback port over a small
generated database, and Debian's headless Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium (installed by
`make test`). Screenshots of every page go to artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_path: Path | None, log_path: Path, config: Path | None = None,
                 ready_s: float = 60, port: int | None = None, args: tuple[str, ...] = (),
                 env_extra: dict[str, str] | None = None, launcher: tuple[str, ...] = ("-m", "streamlit"),
                 new_session: bool = False) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run dashboard/app.py` against `db_path` (or, with `config`, against
    what that retention.toml names — e.g. Spark); return (process, base URL). `port` (a free
    one by default), extra Streamlit `args` (e.g. ``--secrets.files``) and environment.
    `launcher`: what follows the Python interpreter in place of ``-m streamlit`` (e.g. a
    module that starts something in the server's process first, then runs Streamlit's CLI);
    `new_session`: the server leads a process group of its own (to SIGKILL it whole)."""
    port = port or _free_port()
    env = {k: v for k, v in os.environ.items() if k != "RETENTION_DB"}
    env.update(env_extra or {})
    if db_path is not None:
        env["RETENTION_DB"] = str(db_path)
    if config is not None:
        env["RETENTION_CONFIG"] = str(config)
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, *launcher, "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=new_session,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not answer within {ready_s:.0f} s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def e2e_db(tmp_path_factory) -> Path:
    """3,000 generated customers, scored like `make run` does (the at-risk list and the
    model card need the scores)."""
    from analytics.score import main as score_main
    from sample_data.generate import generate

    path = generate(tmp_path_factory.mktemp("e2e") / "e2e.duckdb", customers=3_000, seed=5).path
    assert score_main(["--db", str(path), "--quiet", "--sample-size", "3000"]) == 0
    return path


@pytest.fixture(scope="session")
def app_url(e2e_db, tmp_path_factory):
    proc, url = start_server(e2e_db, tmp_path_factory.mktemp("logs") / "streamlit.log")
    yield url
    stop_server(proc)


# `browser` (one Playwright Chromium for the whole session) is in tests/conftest.py: the
# Spark browser test shares it — Playwright's sync API allows one instance per process.


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def wait_until_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait for the app to render and finish its script run: a heading in the main block,
    and the app root's script state back to "notRunning" (Streamlit's own marker; the
    running indicator alone appears only after a delay, so it can miss a run just begun)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] :is(h1, h2)', timeout=timeout_ms)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]'); }",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a Streamlit exception is shown"
    assert "Traceback" not in page.inner_text("body")


def screenshot(page, name: str) -> Path:
    """Save the whole page: Streamlit scrolls inside its main block, so the viewport is
    stretched to that block's height (capped) for the shot, then restored."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stMainBlockContainer\"]')].map(e => e.scrollHeight), 0)"
    )
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 80, 8000)})
        page.wait_for_timeout(800)  # let charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    if size:
        page.set_viewport_size(size)
    return path
