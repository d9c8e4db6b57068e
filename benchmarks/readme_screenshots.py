"""Make the README's screenshots: start the dashboard on the configured database (the
sample `make run` builds), open every page of the navigation in Debian's headless Chromium
at 1440×900 (Presentation mode at 1280×720) and save PNGs to docs/screenshots/.

    python -m benchmarks.readme_screenshots            # or: make screenshots
    python -m benchmarks.readme_screenshots --only overview,model

A shot is taken when the page has finished: Streamlit's script run is over (no "Running…"
widget), no skeleton is left and every Plotly chart has drawn its SVG. Each page is then
looked over and what reads as broken is printed (an error box, a KPI shown as "—", a page
or table that scrolls sideways) — the PNGs are for people to look at; this script checks
nothing else and never runs in the test suite. With --whole, each page is also saved whole
(the main block's full height) to artifacts/screenshots-whole/ for review.

Lives beside the benchmarks because it drives the same real server and browser.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from analytics.config import database_path
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, assert_no_error, start_server, stop_server, wait_until_idle

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
WHOLE_OUT = ROOT / "artifacts" / "screenshots-whole"
WIDE = (1440, 900)
PROJECTOR = (1280, 720)


@dataclass(frozen=True)
class Shot:
    name: str            # docs/screenshots/<name>.png
    path: str            # URL path (dashboard/app.py: the page file's name)
    caption: str         # the README's line under the picture
    viewport: tuple[int, int] = WIDE
    whole: bool = False  # the whole page (stretched to the main block), not the first screen


# Every page of dashboard/app.py's navigation, in its order (the at-risk list is shot with
# one customer open: `_open_first_customer`).
SHOTS = (
    Shot("overview", "", "Overview: KPI cards naming their window, MRR movements, targets and trends",
         whole=True),
    Shot("retention-roi", "retention_roi",
         "Retention ROI: the programme measured against its control group, then the what-if"),
    Shot("leadership-report", "leadership_report",
         "Leadership report: pick the slides, add a line to each, build the deck and the PDF"),
    Shot("presentation", "presentation?slide=3",
         "Presentation mode at 1280×720: one chart per screen, navigation in the footer",
         viewport=PROJECTOR),
    Shot("at-risk", "at_risk",
         "At-risk customers: the call list and one customer's 360 view", whole=True),
    Shot("churn-funnel", "churn_funnel",
         "Churn funnel: requests → attempted → reached → offer → retained, "
         "and the reach rate against its baseline"),
    Shot("service-signals", "service_signals",
         "Service & signals: first-contact resolution, repeat contacts, SLA, CSAT and NPS with their trend"),
    Shot("retention-by-segment", "retention_by_segment",
         "Retention by segment: Kaplan–Meier curves with bands and the log-rank test"),
    Shot("customer-value", "customer_value",
         "Customer value: CLV, the share of value the top 20% hold, and CLV by segment"),
    Shot("data-quality", "data_quality",
         "Data quality: each check's failing records and what they cost"),
    Shot("data-import", "data_import",
         "Import your data: upload, map, check every row, then swap the file in"),
    Shot("audit-log", "audit_log", "Audit log (admin): every action, export and import"),
    Shot("model", "model",
         "Model: the churn model card — the candidate models compared on held-out data, then the backtest"),
    Shot("glossary", "glossary", "Metrics glossary: search, contents, plain words first"),
)

# Drawn = Streamlit idle, no skeleton left, every Plotly chart with its SVG laid out.
CHARTS_DRAWN = """() => {
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => {
    const svg = c.querySelector('svg.main-svg'), gd = c.querySelector('.js-plotly-plot');
    return svg && svg.getBoundingClientRect().width > 0 && gd && gd._fullLayout;  // plotted
  });
}"""

# What reads as broken on a finished page.
LOOK_OVER = """() => {
  const found = [];
  const boxes = [['page', document.scrollingElement],
    ...['stAppViewContainer', 'stMain', 'stMainBlockContainer'].map(
      id => [id, document.querySelector(`[data-testid="${id}"]`)])];
  for (const [name, e] of boxes)
    if (e && e.scrollWidth > e.clientWidth + 1) found.push(`${name} scrolls sideways (${e.scrollWidth} > ${e.clientWidth} px)`);
  document.querySelectorAll('[data-testid="stDataFrame"]').forEach((d, i) => {
    const s = d.querySelector('.dvn-scroller');
    if (d.offsetParent !== null && s && s.scrollWidth > s.clientWidth + 1)
      found.push(`table ${i + 1} scrolls sideways (${s.scrollWidth} > ${s.clientWidth} px)`);
  });
  document.querySelectorAll('[data-testid="stException"]').forEach(e => found.push('exception: ' + e.innerText.slice(0, 120)));
  document.querySelectorAll('[data-testid="stAlertContentError"]').forEach(e => found.push('error box: ' + e.innerText.slice(0, 120)));
  document.querySelectorAll('[data-testid="stMetric"]').forEach(m => {
    const v = m.querySelector('[data-testid="stMetricValue"]');
    const l = m.querySelector('[data-testid="stMetricLabel"]');
    if (v && v.innerText.trim() === '—') found.push(`KPI "${l ? l.innerText.trim() : '?'}" shows —`);
  });
  return found;
}"""


def _page_height(page) -> int:
    """The content's height: the main block container's (stMain itself fills the viewport)."""
    return page.evaluate(
        "() => { const e = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return e ? e.scrollHeight : 0; }")


def _finished(page, timeout_ms: int = 120_000) -> None:
    wait_until_idle(page, timeout_ms)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout_ms)
    page.wait_for_timeout(700)  # plotly's transitions and the grids' first paint


def _open_first_customer(page) -> None:
    """The at-risk list with its first customer's 360 view open."""
    from playwright.sync_api import expect

    picker = page.get_by_role("combobox", name=re.compile(r"^Customer"))
    picker.scroll_into_view_if_needed()
    picker.click()
    option = page.get_by_role("option").first
    page.wait_for_timeout(500)
    if not option.is_visible():  # as in tests/e2e: the first click can land before the list opens
        picker.press("ArrowDown")
    option.wait_for(timeout=20_000)
    option.click()
    _finished(page)
    expect(page.get_by_text("Why the model flags this customer")).to_be_visible(timeout=30_000)


def _stretch(page, width: int, cap: int = 4000) -> None:
    """Streamlit scrolls inside its main block: stretch the viewport to it for a whole-page
    shot, again while the page still grows (grids and charts lay out when they come into view)."""
    height = page.viewport_size["height"]
    for _ in range(4):
        content = _page_height(page)
        if content + 80 <= height or height >= cap:
            break
        height = min(content + 80, cap)
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1000)
        page.wait_for_function(CHARTS_DRAWN, timeout=60_000)


def shoot(url: str, out: Path, shots=SHOTS, whole_out: Path | None = None) -> list[tuple[Path, list[str]]]:
    """Save each shot; return (file, what looked broken on that page) per shot."""
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for shot in shots:
            width, height = shot.viewport
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{url}/{shot.path}")
            _finished(page)
            assert_no_error(page)
            if shot.name == "at-risk":
                _open_first_customer(page)
            problems = page.evaluate(LOOK_OVER)
            if shot.whole:
                _stretch(page, width)
            target = out / f"{shot.name}.png"
            page.screenshot(path=str(target))
            if whole_out is not None and not shot.whole:
                _stretch(page, width, cap=12_000)
                page.screenshot(path=str(whole_out / f"{shot.name}.png"))
            saved.append((target, problems))
            context.close()
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="database (default: the configured one)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", default="", help="comma-separated shot names (default: all)")
    parser.add_argument("--whole", action="store_true",
                        help=f"also save every page whole to {WHOLE_OUT.relative_to(ROOT)}/ for review")
    args = parser.parse_args(argv)
    db = args.db or database_path()
    if not Path(db).is_file():
        print(f"No database at {db}: run `make run` (or `make rollups`) first.", file=sys.stderr)
        return 2
    names = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = names - {s.name for s in SHOTS}
    if unknown:
        print(f"Unknown shot(s): {', '.join(sorted(unknown))}; known: {', '.join(s.name for s in SHOTS)}",
              file=sys.stderr)
        return 2
    shots = [s for s in SHOTS if not names or s.name in names]
    args.out.mkdir(parents=True, exist_ok=True)
    if args.whole:
        WHOLE_OUT.mkdir(parents=True, exist_ok=True)
    log = ROOT / "artifacts" / "screenshots-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(Path(db), log)
    try:
        for path, problems in shoot(url, args.out, shots, WHOLE_OUT if args.whole else None):
            print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
            for problem in problems:
                print(f"  looks broken: {problem}")
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
