"""First run: from the install finishing to a useful dashboard (issue 17: within 2 minutes).

    .venv/bin/python -m benchmarks.bench_first_run [--rev HEAD] [--timeout 1200] [--keep]

Clones this repository at `--rev` into a temporary folder (a fresh checkout: no
data/sample.duckdb, no action store), links the installed virtual environment into it as
`.venv` — the install is out of scope, the clock starts "after the install finishes"; make
is told with `-o .venv/.installed` not to reinstall although the clone's requirements files
are newer than the venv's marker — and runs `make run PORT=<a free port>` there, with
RETENTION_DB and RETENTION_CONFIG unset, so it generates the 50k sample, builds the
rollups, starts the scorer in the background and the server. Python's output is
unbuffered (PYTHONUNBUFFERED=1), as on a terminal. Printed, in seconds from `make run`'s
start:

- `server_answers_s`: the server's health check answers;
- `overview_kpis_s`: the Overview (the default page), opened in headless Chromium the
  moment the server answers, shows its KPI cards;
- `at_risk_first_s`: the At-risk page, opened next in a second tab, shows either the
  background scoring's progress bar or the list; `at_risk_progress_shown` says which;
- `at_risk_list_s`: that tab, never reloaded (no restart, no refresh), shows the scored
  list;
- `overview_after_scores_s`: the Overview opened in a new tab once the server has warmed
  the swapped-in file (it says so; at most 60 s), from opening until idle — the first
  page after the scores arrive.

And what the user sees on the terminal: every line make printed with its time, the
longest silence before the server answered (a step over a few seconds should print
progress), the URL printed, and the addresses the server listens on (127.0.0.1 only
unless configured). At the end everything is stopped as Ctrl+C would: SIGINT to make's
process group (make, the shell, the server and the background scorer; the Makefile's trap
stops the scorer), then SIGTERM and SIGKILL for what is left, which is reported. Asserts
nothing; the browser is started before the clock (the user's browser is already open).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, wait_until_idle  # noqa: E402

TARGET_S = 120
REWARM_WAIT_S = 60  # longest wait for the server to warm the swapped-in file
LIST_HEADING = "customers with the largest expected loss"  # pages/at_risk.py's section over the list


def _venv() -> Path:
    """The installed virtual environment: the one running this script (make's .venv)."""
    return Path(sys.prefix)


def fresh_checkout(rev: str, into: Path) -> Path:
    """A clone of this repository at `rev` in `into`/retention-radar, with the installed
    venv linked in as `.venv`."""
    tree = into / "retention-radar"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(tree)], check=True)
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", rev], check=True, capture_output=True,
                         text=True).stdout.strip()
    subprocess.run(["git", "-C", str(tree), "checkout", "--quiet", sha], check=True)
    (tree / ".venv").symlink_to(_venv())
    return tree


class Output:
    """make's output, line by line with the time each arrived (a reader thread)."""

    def __init__(self, stream, started: float) -> None:
        self.lines: list[tuple[float, str]] = []
        self._started = started
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append((time.perf_counter() - self._started, line.rstrip("\n")))

    def longest_silence(self, until: float) -> tuple[float, str]:
        """The longest gap between two lines (or from the start) before `until`, and the line
        printed before it."""
        best, after, last = 0.0, "(start)", 0.0
        for t, line in self.lines:
            if t > until:
                break
            if t - last > best:
                best, after = t - last, self._previous(t)
            last = t
        if until - last > best:
            best, after = until - last, self._previous(until + 1e-9)
        return round(best, 1), after

    def _previous(self, t: float) -> str:
        earlier = [line for s, line in self.lines if s < t]
        return earlier[-1] if earlier else "(start)"


def _listening(port: int) -> list[str]:
    """The local addresses a TCP socket listens on at `port` (`ss`; ["unknown"] without it)."""
    if shutil.which("ss") is None:
        return ["unknown (no ss)"]
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return sorted({row.split()[3] for row in out.splitlines() if len(row.split()) > 3})


def _wait_for_server(url: str, make: subprocess.Popen, started: float, timeout: float) -> float:
    while time.perf_counter() - started < timeout:
        if make.poll() is not None:
            raise RuntimeError(f"make run exited ({make.returncode}) before the server answered")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_everything(make: subprocess.Popen) -> str:
    """Ctrl+C to make's process group; then SIGTERM, then SIGKILL for what is left.
    Returns one line saying how it ended."""
    pgid = make.pid  # start_new_session: make leads its own group
    steps = []
    for sig, wait_s in ((signal.SIGINT, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if not _group_alive(pgid):
            break
        steps.append(sig.name)
        os.killpg(pgid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            make.poll()
            if not _group_alive(pgid):
                break
            time.sleep(0.2)
    make.poll()
    left = "something is still running" if _group_alive(pgid) else "nothing left running"
    return f"stopped with {' then '.join(steps) or 'nothing'}: {left}"


def measure(tree: Path, browser, timeout: float) -> dict:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("RETENTION_DB", "RETENTION_CONFIG", "VIRTUAL_ENV")}
    env["PYTHONUNBUFFERED"] = "1"
    result: dict = {"tree": str(tree), "port": port}
    started = time.perf_counter()
    make = subprocess.Popen(["make", "-o", ".venv/.installed", "run", f"PORT={port}"], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            start_new_session=True)
    output = Output(make.stdout, started)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        up = _wait_for_server(url, make, started, timeout)
        result["server_answers_s"] = round(up, 1)
        result["listening_on"] = _listening(port)
        overview = context.new_page()
        overview.goto(url, timeout=timeout * 1000)
        overview.wait_for_selector('[data-testid="stMetric"]', timeout=timeout * 1000)
        result["overview_kpis_s"] = round(time.perf_counter() - started, 1)
        at_risk = context.new_page()
        at_risk.goto(f"{url}/at_risk", timeout=timeout * 1000)
        listed = at_risk.get_by_text(LIST_HEADING)
        progress = at_risk.locator('[data-testid="stProgress"]')
        at_risk.wait_for_selector(f'[data-testid="stProgress"], :text("{LIST_HEADING}")', timeout=timeout * 1000)
        result["at_risk_first_s"] = round(time.perf_counter() - started, 1)
        result["at_risk_progress_shown"] = progress.count() > 0
        left_ms = max(1.0, timeout - (time.perf_counter() - started)) * 1000
        listed.first.wait_for(timeout=left_ms)
        at_risk.wait_for_selector('[data-testid="stDataFrame"]', timeout=left_ms)
        result["at_risk_list_s"] = round(time.perf_counter() - started, 1)
        # the swap made every cached result stale: the Overview again, once the server has
        # warmed it for the new file (or after REWARM_WAIT_S), timed until idle
        waited = time.perf_counter()
        while time.perf_counter() - waited < REWARM_WAIT_S and not any(
                "again after the database file changed" in line for _, line in output.lines):
            time.sleep(0.5)
        again = context.new_page()
        opened = time.perf_counter()
        again.goto(url, timeout=timeout * 1000)
        wait_until_idle(again, timeout_ms=int(timeout * 1000))
        result["overview_after_scores_s"] = round(time.perf_counter() - opened - 0.3, 2)  # less the settling pause
    except Exception as err:  # report what was reached; the output below says why
        result["error"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
    finally:
        context.close()
        result["stop"] = stop_everything(make)
    server_at = result.get("server_answers_s", time.perf_counter() - started)
    result["longest_silence_before_server_s"], result["silence_after_line"] = output.longest_silence(server_at)
    result["url_printed"] = next((line.strip() for _, line in output.lines if "http://" in line), None)
    result["output"] = [f"{t:7.1f}  {line}" for t, line in output.lines]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="HEAD", help="the revision to check out (default HEAD)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for the scored list")
    parser.add_argument("--keep", action="store_true", help="keep the temporary checkout (its path is printed)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    where = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    try:
        tree = fresh_checkout(args.rev, where)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                result = measure(tree, browser, args.timeout)
            finally:
                browser.close()
    finally:
        if not args.keep:
            shutil.rmtree(where, ignore_errors=True)
    result = {"revision": args.rev, "target": f"useful within {TARGET_S} s of the install finishing (issue 17)",
              "cpus": os.cpu_count(), **result, "load_average_1m_after": round(os.getloadavg()[0], 2)}
    output = result.pop("output")
    print(json.dumps(result, indent=2))
    print("make run's output (seconds from its start):")
    print("\n".join(output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
