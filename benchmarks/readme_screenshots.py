"""Make the README's screenshots: start the dashboard on the configured database (the
sample `make run` builds), open each page in Debian's headless Chromium at 1440×900
(Presentation mode at 1280×720) and save PNGs to docs/screenshots/.

    python -m benchmarks.readme_screenshots            # or: make screenshots

Lives beside the benchmarks because it drives the same real server and browser; it checks
nothing and never runs in the test suite.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from analytics.config import database_path
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, assert_no_error, start_server, stop_server, wait_until_idle

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"

# (file name, URL path, viewport, whole page?)
SHOTS = (
    ("overview", "", (1440, 900), True),
    ("churn-funnel", "churn_funnel", (1440, 900), False),
    ("presentation", "presentation?slide=3", (1280, 720), False),
)


def _page_height(page) -> int:
    return page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stMainBlockContainer\"]')].map(e => e.scrollHeight), 0)")


def shoot(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name, path, (width, height), whole in SHOTS:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{url}/{path}")
            wait_until_idle(page, 120_000)
            assert_no_error(page)
            if whole:  # Streamlit scrolls inside its main block: stretch the viewport to it
                page.set_viewport_size({"width": width, "height": min(_page_height(page) + 80, 4000)})
                page.wait_for_timeout(1000)
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            saved.append(target)
            context.close()
        # the at-risk list with one customer's 360 view open
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/at_risk")
        wait_until_idle(page, 120_000)
        picker = page.get_by_role("combobox", name=re.compile(r"^Customer"))
        picker.scroll_into_view_if_needed()
        picker.click()
        option = page.get_by_role("option").first
        page.wait_for_timeout(500)
        if not option.is_visible():  # as in tests/e2e: the first click can land before the list opens
            picker.press("ArrowDown")
        option.wait_for(timeout=20_000)
        option.click()
        wait_until_idle(page, 120_000)
        expect(page.get_by_text("Why the model flags this customer")).to_be_visible(timeout=30_000)
        page.set_viewport_size({"width": 1440, "height": min(_page_height(page) + 80, 4000)})
        page.wait_for_timeout(1000)
        target = out / "at-risk.png"
        page.screenshot(path=str(target))
        saved.append(target)
        context.close()
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="database (default: the configured one)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    db = args.db or database_path()
    if not Path(db).is_file():
        print(f"No database at {db}: run `make run` (or `make rollups`) first.", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out.parent.parent / "artifacts" / "screenshots-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(Path(db), log)
    try:
        for path in shoot(url, args.out):
            print(f"saved {path.relative_to(ROOT)}")
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
