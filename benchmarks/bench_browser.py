"""Browser-side timings and server memory, the way users feel them.

    .venv/bin/python -m benchmarks.bench_browser [--db PATH] [--sessions 10]

Starts `streamlit run dashboard/app.py` against the database (default: the 1M-customer
benchmark file that `bench_generate` writes, else the configured database), then with
Debian's headless Chromium:
- for every page in the navigation: time from `goto` to the app being idle (the script
  run finished, no running indicator), first visit (cold cache) and second (warm);
- the server's peak resident memory (VmHWM from /proc) after one session, and after
  `--sessions` concurrent sessions each opening the Overview.
Prints a table and writes JSON to bench-results/browser.json. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from analytics.config import PROJECT_ROOT, database_path
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_until_idle

BENCH_DB = Path("/tmp/retention-bench-1m.duckdb")
RESULTS = PROJECT_ROOT / "bench-results"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_visit(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    wait_until_idle(page, timeout_ms=180_000)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=BENCH_DB if BENCH_DB.exists() else database_path())
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()

    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    proc, base = start_server(args.db, log)
    rows, memory = [], {}
    try:
        with sync_playwright() as pw:
            # background tabs must not be throttled, or concurrent sessions would look serial
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows"])
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            # start on the glossary (no queries), so each page's first visit is really cold
            timed_visit(page, f"{base}/glossary")
            links = page.locator('[data-testid="stSidebarNavLink"]')
            pages = [(links.nth(i).inner_text().strip().splitlines()[-1], links.nth(i).get_attribute("href"))
                     for i in range(links.count())]
            for title, href in pages:
                url = href if href.startswith("http") else f"{base}/{href.lstrip('/')}"
                cold = timed_visit(page, url)
                warm = timed_visit(page, url)
                rows.append({"page": title, "cold_s": round(cold, 2), "warm_s": round(warm, 2)})
                print(f"{title:28s} cold {cold:6.2f} s   warm {warm:6.2f} s", flush=True)
            memory["one_session_peak_mib"] = round(peak_rss_mib(proc.pid), 1)

            # open every session's page first, then wait: the server works on all at once
            contexts = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(args.sessions)]
            started = time.perf_counter()
            pages_open = [c.new_page() for c in contexts]
            for p in pages_open:
                p.goto(base, wait_until="commit")
            for p in pages_open:
                wait_until_idle(p, timeout_ms=300_000)
            memory[f"{args.sessions}_sessions_wall_s"] = round(time.perf_counter() - started, 2)
            memory[f"{args.sessions}_sessions_peak_mib"] = round(peak_rss_mib(proc.pid), 1)
            for c in contexts:
                c.close()
            browser.close()
    finally:
        stop_server(proc)

    result = {"database": str(args.db), "pages": rows, "server_memory": memory}
    print(json.dumps(memory, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "browser.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
