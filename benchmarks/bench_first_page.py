"""The first page after a server start, as a user meets it (issue 17: <= 3 s).

    .venv/bin/python -m benchmarks.bench_first_page --db /tmp/sample-50k.duckdb [--before main] [--runs 2]

Starts the dashboard the way `make run` does — `python -m dashboard.serve` (the caches
warmed for the default view at start-up) when the tree has it, else `streamlit run
dashboard/app.py` — waits for the server to answer its health check, then opens the
default page (the Overview) in Debian's headless Chromium and times `goto` until the app
is idle (script run finished), on a fresh server each run. Printed per run:

- `first_page_s`: the visit made as soon as the server answers (what `make run`'s user
  gets when they click the printed URL at once; with warming, it waits for what is left);
- `after_warmup_s`: the visit made `--delay` seconds after the server answers (default
  20 s: the user reading the terminal first), when warming has had time to finish;
- `server_up_s`: process start to the health check answering.

`--before REV` runs the same on git revision REV's tree (exported to a temporary folder)
first and prints the ratios; on a shared box both runs meet the same load. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, stop_server, wait_until_idle  # noqa: E402


def _export_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], stdout=subprocess.PIPE, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _start(code_root: Path, db: Path, log: Path) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    options = ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    if (code_root / "dashboard" / "serve.py").exists():
        cmd = [sys.executable, "-m", "dashboard.serve", *options]
    else:
        cmd = [sys.executable, "-m", "streamlit", "run", str(code_root / "dashboard" / "app.py"), *options]
    env = {**os.environ, "RETENTION_DB": str(db), "PYTHONPATH": str(code_root)}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=code_root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < 120:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"the server did not answer within 120 s; see {log}")


def _visit(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        wait_until_idle(page, timeout_ms=300_000)
        return time.perf_counter() - started - 0.3  # wait_until_idle's settling pause
    finally:
        context.close()


def measure(browser, code_root: Path, db: Path, runs: int, delay: float) -> dict:
    out: dict[str, list[float]] = {"server_up_s": [], "first_page_s": [], "after_warmup_s": []}
    with tempfile.TemporaryDirectory(prefix="bench-first-page-") as tmp:
        for i in range(runs):
            for key, wait in (("first_page_s", 0.0), ("after_warmup_s", delay)):
                proc, url, up = _start(code_root, db, Path(tmp) / f"server-{i}-{key}.log")
                try:
                    time.sleep(wait)
                    out[key].append(round(_visit(browser, url), 2))
                    if key == "first_page_s":
                        out["server_up_s"].append(round(up, 2))
                finally:
                    stop_server(proc)
                print(f"  {code_root.name}: run {i + 1} {key} {out[key][-1]:.2f} s", file=sys.stderr, flush=True)
    return {**{k: v for k, v in out.items()}, **{f"median_{k}": statistics.median(v) for k, v in out.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the database the server opens (read-only)")
    parser.add_argument("--before", default=None, metavar="REV", help="also time git revision REV's tree first")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--delay", type=float, default=20.0,
                        help="seconds between the server answering and the second visit (default 20)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    result: dict = {"database": str(args.db), "target": "first page after a server start <= 3 s (issue 17)",
                    "cpus": os.cpu_count()}
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="bench-first-page-tree-") as tree:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            if args.before:
                result["before"] = {"revision": args.before,
                                    **measure(browser, _export_tree(args.before, Path(tree)), args.db, args.runs,
                                              args.delay)}
            result["after" if args.before else "run"] = measure(browser, ROOT, args.db, args.runs, args.delay)
        finally:
            browser.close()
    result["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    if args.before:
        b, a = result["before"], result["after"]
        result["ratio_before_over_after"] = {k: round(b[k] / a[k], 2) for k in
                                             ("median_first_page_s", "median_after_warmup_s") if a[k]}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
