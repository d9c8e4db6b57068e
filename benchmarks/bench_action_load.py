"""Load on the action store (issue 16, "Load and faults"): 20 agents updating case statuses
at once for 5 minutes, through the real Streamlit server.

    .venv/bin/python -m benchmarks.bench_action_load [--minutes 5] [--agents 20] [--browsers 3]
                                                     [--think 1.0] [--db PATH]

What runs, and so what is measured (20 real browsers do not fit on a 2-core machine):

- `streamlit run dashboard/app.py` over a scored sample (3,000 customers, built once at
  /tmp/retention-bench-actions.duckdb unless `--db`), with a fresh SQLite action store
  (RETENTION_ACTIONS_URL) — the default embedded store of decision 021.
- `--browsers` agents are headless Chromium sessions (Playwright) on the At-risk page, each
  on its own customer: pick a status in the 360's case form, type a note, press "Save
  action", and count the save acknowledged when the page shows the case's action log one
  row longer ("Actions — n+1 logged", read back from the store). Their latency is the
  user's: click → the case panel showing the save (one run of the panel, a fragment whose
  submit callback writes first; before, two script runs of the whole At-risk page),
  timed twice: by Playwright (from before its click, which first waits for the button to
  be visible and stable, to its polling seeing the line) and by the page's own clock
  (`PAGE_CLOCK`: pointer down on the button → the first frame painted with the line), the
  one without the instrument's own waits.
- the other agents (`--agents` − `--browsers`) are threads of this process calling
  `analytics.actions.record_action` on one shared `open_store` engine — exactly what the
  page's `dashboard.data.record_action` does inside the server (one shared engine, a
  connection per session). Their latency is the store write alone. Each works 5 customers
  of its own and, one save in four, one of 5 *hot* customers every agent shares (two agents
  on one case at the same instant); one save in five also changes the owner, one in seven
  the follow-up date. Between saves an agent waits `--think` seconds (× 0.5–1.5).

Then the store is read back and checked:
- **lost** = acknowledged saves not in the store; **duplicated** = notes stored more than
  once (every save's note is unique);
- **stale** = rows whose owner or follow-up, left as KEEP, differ from the case's previous
  row (a write built on a stale read — the lost update of a read-then-append);
- wrong content = an acknowledged save's row with another status or customer than chosen;
- failed = saves that raised (e.g. a busy timeout) — not acknowledged, not lost.
Prints the totals and p50 / p95 / max save latency per kind of agent, and writes JSON to
bench-results/action_load.json. Asserts nothing; the figures go in decision 024.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from analytics import actions, formatting as fmt
from analytics.config import PROJECT_ROOT
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

BENCH_DB = Path("/tmp/retention-bench-actions.duckdb")
RESULTS = PROJECT_ROOT / "bench-results"
CYCLE = ("attempted", "reached", "offer_made", "not_now", "saved", "lost")
HOT_CUSTOMERS = 5
OWN_CUSTOMERS = 5


@dataclass
class Save:
    """One acknowledged save: what it set (None = KEEP) and how long it took."""
    note: str
    customer_id: int
    status: str
    owner_set: bool
    follow_up_set: bool
    seconds: float
    kind: str  # "browser" or "writer"
    clicked_at: datetime | None = None  # browser saves: the click, naive UTC like the store's created_at
    page_seconds: float | None = None  # browser saves: the page's own clock, pointer down → row painted


@dataclass
class Clock:
    """Everyone starts together once the browser sessions are on their case, for `seconds`."""
    seconds: float
    go: threading.Event = field(default_factory=threading.Event)
    until: float = float("inf")

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds
        self.go.set()

    def stop(self) -> None:
        self.until = 0.0
        self.go.set()


@dataclass
class Tally:
    saves: list[Save] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, save: Save) -> None:
        with self.lock:
            self.saves.append(save)

    def fail(self, why: str) -> None:
        with self.lock:
            self.failures.append(why)


def scored_sample(path: Path) -> Path:
    if path.exists():
        return path
    from analytics.score import main as score_main
    from sample_data.generate import generate

    print(f"building {path} (3,000 customers, scored) …", flush=True)
    generate(path, customers=3_000, seed=5)
    if score_main(["--db", str(path), "--quiet", "--sample-size", "3000"]) != 0:
        raise SystemExit("scoring the benchmark sample failed")
    return path


# --- writer agents (threads through analytics.actions, as the page's data layer) ---------------

def writer_agent(store: actions.ActionStore, agent: int, customers: list[int], hot: list[int], clock: Clock,
                 think: float, tally: Tally, seed: int) -> None:
    rng = np.random.default_rng(seed)
    seq = 0
    clock.go.wait()
    while time.monotonic() < clock.until:
        time.sleep(think * rng.uniform(0.5, 1.5))
        cid = int(rng.choice(hot)) if seq % 4 == 3 else customers[seq % len(customers)]
        status = CYCLE[seq % len(CYCLE)]
        owner_set, follow_up_set = seq % 5 == 0, seq % 7 == 0
        note = f"w{agent}-{seq}"
        started = time.perf_counter()
        try:
            actions.record_action(store, cid, by=f"agent {agent}", status=status,
                                  owner=f"agent {agent}" if owner_set else actions.KEEP,
                                  follow_up_date=date.today() + timedelta(days=seq % 9) if follow_up_set
                                  else actions.KEEP, note=note)
        except Exception as err:  # counted, and the agent carries on like a user would
            tally.fail(f"{note}: {type(err).__name__}: {str(err)[:200]}")
        else:
            tally.add(Save(note, cid, status, owner_set, follow_up_set, time.perf_counter() - started, "writer"))
        seq += 1


# --- browser agents (Playwright, async: several sessions at once from one thread) --------------

async def idle(page, timeout_ms: int = 120_000) -> None:
    await page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]'); }", timeout=timeout_ms)


# The page's own clock (performance.now): the pointer going down on "Save action", and the
# first frame painted after the case's "Actions — n logged" line shows n. Unlike the
# Playwright-side figure, it leaves out Playwright's actionability checks before the click
# (scroll, two frames of "stable") and its polling round trips after — the instrument's
# time, not the user's. A mutation observer notes the line's change; the next animation
# frame is when it is on screen.
PAGE_CLOCK = """() => {
  const rr = window.__rr = {click: null, shown: {}};
  document.addEventListener('pointerdown', e => {
    const b = e.target.closest && e.target.closest('button');
    if (b && b.innerText.includes('Save action')) rr.click = performance.now();
  }, true);
  const seen = text => {
    const m = /Actions — (\\d+) logged/.exec(text || '');
    if (m && !(m[1] in rr.shown)) { rr.shown[m[1]] = null; requestAnimationFrame(() => { rr.shown[m[1]] = performance.now(); }); }
  };
  new MutationObserver(records => {
    for (const r of records) {
      if (r.type === 'characterData') seen(r.target.parentElement && r.target.parentElement.textContent);
      else for (const n of r.addedNodes) seen(n.textContent);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


async def page_seconds(page, logged: int) -> float | None:
    """Seconds on the page's clock from the click to the frame showing `logged` actions."""
    key = str(logged)
    await page.wait_for_function(f"() => window.__rr && window.__rr.shown['{key}'] != null", timeout=10_000)
    click, shown = await page.evaluate(f"() => [window.__rr.click, window.__rr.shown['{key}']]")
    return None if click is None else (shown - click) / 1000


async def open_case(browser, base: str, agent: int):
    """A browser session on the At-risk page with the 360 of the list's `agent`-th customer
    open: (context, page, customer id, actions already logged)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/at_risk", timeout=300_000)
    await page.wait_for_selector('[data-testid="stMain"] h1', timeout=300_000)
    await idle(page, 300_000)
    picker = page.get_by_role("combobox", name=re.compile(r"^Customer"))
    await picker.click()
    for _ in range(agent + 1):  # the list's `agent`-th customer, by keyboard (the option list re-renders)
        await picker.press("ArrowDown")
    await picker.press("Enter")
    heading = page.locator("h3", has_text=re.compile(r" · #\d+"))
    await heading.first.wait_for(timeout=120_000)
    customer_id = int(re.search(r"#(\d+)", await heading.first.inner_text()).group(1))
    await page.get_by_text(re.compile(r"^Case — ")).first.wait_for(timeout=120_000)
    await idle(page)
    await page.evaluate(PAGE_CLOCK)
    shown = await page.get_by_text(re.compile(r"Actions — \d+ logged")).all_inner_texts()
    logged = int(re.search(r"— (\d+) logged", shown[0]).group(1)) if shown else 0
    return context, page, customer_id, logged


async def browser_agent(session, agent: int, clock: Clock, think: float, tally: Tally, seed: int) -> None:
    context, page, customer_id, logged = session
    rng = np.random.default_rng(seed)
    seq = 0
    while time.monotonic() < clock.until:
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        status = CYCLE[seq % len(CYCLE)]
        note = f"b{agent}-{seq}"
        try:
            # by keyboard, as the customer picker: the option list re-renders under a click
            box = page.get_by_role("combobox", name="Status", exact=True)
            await box.click()
            await box.press_sequentially(fmt.label(status))
            await box.press("Enter")
            await page.get_by_label("Note", exact=True).fill(note)
            started = time.perf_counter()
            clicked_at = datetime.now(timezone.utc).replace(tzinfo=None)
            await page.get_by_role("button", name="Save action").click()
            await page.get_by_text(f"Actions — {logged + 1} logged").first.wait_for(timeout=120_000)
            seconds = time.perf_counter() - started
            on_page = await page_seconds(page, logged + 1)
            await idle(page)
        except Exception as err:
            tally.fail(f"{note}: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
            await page.screenshot(path=str(Path(tempfile.gettempdir()) / f"bench-action-load-b{agent}.png"))
            break  # the session's state is unknown; stop this agent rather than count guesses
        logged += 1
        tally.add(Save(note, customer_id, status, False, False, seconds, "browser", clicked_at, on_page))
        seq += 1
    await context.close()


async def run_browsers(base: str, n: int, clock: Clock, think: float, tally: Tally) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"])
        sessions = [await open_case(browser, base, i) for i in range(n)]  # one by one: the first load is slow
        clock.start()
        await asyncio.gather(*[browser_agent(s, i, clock, think, tally, seed=100 + i)
                               for i, s in enumerate(sessions)])
        await browser.close()


# --- checking the store ------------------------------------------------------------------------

def check(store: actions.ActionStore, tally: Tally) -> dict:
    a = actions.customer_actions
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.id, a.c.customer_id, a.c.status, a.c.owner, a.c.follow_up_date,
                                      a.c.note, a.c.created_at)
                            .order_by(a.c.id)).all()
        integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    notes: dict[str, int] = {}
    for r in rows:
        notes[r.note] = notes.get(r.note, 0) + 1
    acked = {s.note: s for s in tally.saves}
    lost = [n for n in acked if n not in notes]
    # the row of an acknowledged save holds what the agent chose (browser: the form's status)
    wrong = sum(1 for r in rows if r.note in acked and (r.status != acked[r.note].status
                                                        or r.customer_id != acked[r.note].customer_id))
    duplicated = [n for n, k in notes.items() if k > 1]
    # a KEEP field must equal the case's previous row (rows of a case in id order)
    stale, previous = 0, {}
    for r in rows:
        save, before = acked.get(r.note), previous.get(r.customer_id)
        if save is not None and before is not None and save.kind == "writer":
            if (not save.owner_set and r.owner != before.owner) or \
                    (not save.follow_up_set and r.follow_up_date != before.follow_up_date):
                stale += 1
        previous[r.customer_id] = r
    # browser saves: click → the row's created_at (the server's write), apart from the page's rerun
    committed = {r.note: r.created_at for r in rows}
    to_commit = [Save(s.note, s.customer_id, s.status, False, False,
                      (committed[s.note] - s.clicked_at).total_seconds(), "click_to_write")
                 for s in tally.saves if s.clicked_at is not None and s.note in committed]
    return {"rows_in_store": len(rows), "lost": len(lost), "duplicated": len(duplicated), "stale": stale,
            "wrong_content": wrong, "integrity": integrity, "lost_examples": lost[:5],
            "latency_click_to_write": latency(to_commit)}


def latency(saves: list[Save]) -> dict:
    if not saves:
        return {"n": 0}
    s = np.array([x.seconds for x in saves])
    return {"n": len(s), "p50_s": round(float(np.percentile(s, 50)), 3),
            "p95_s": round(float(np.percentile(s, 95)), 3), "max_s": round(float(s.max()), 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--browsers", type=int, default=3, help="of the agents, how many are real browser sessions")
    parser.add_argument("--think", type=float, default=1.0, help="seconds an agent waits between saves (× 0.5–1.5)")
    parser.add_argument("--db", type=Path, default=BENCH_DB)
    args = parser.parse_args()
    if not 0 <= args.browsers <= args.agents:
        parser.error("--browsers must be between 0 and --agents")

    db = scored_sample(args.db)
    workdir = Path(tempfile.mkdtemp(prefix="bench-action-load-"))
    url = f"sqlite:///{workdir / 'actions.sqlite'}"
    os.environ["RETENTION_ACTIONS_URL"] = url  # the server's store (start_server passes the environment on)
    store = actions.open_store(url)
    proc, base = start_server(db, workdir / "streamlit.log", ready_s=180)
    tally = Tally()
    writers = args.agents - args.browsers
    hot = list(range(900_001, 900_001 + HOT_CUSTOMERS))
    try:
        # the browser sessions open their case first; then everyone starts together
        clock = Clock(60 * args.minutes)
        threads = [threading.Thread(target=writer_agent, daemon=True, args=(
            store, i, [800_000 + 10 * i + j for j in range(OWN_CUSTOMERS)], hot, clock, args.think, tally, i))
            for i in range(writers)]
        for t in threads:
            t.start()
        if args.browsers:
            try:
                asyncio.run(run_browsers(base, args.browsers, clock, args.think, tally))
            except BaseException:
                clock.stop()  # the writers end too
                raise
        else:
            clock.start()
        started = clock.until - clock.seconds
        for t in threads:
            t.join()
        load = os.getloadavg()  # the machine is shared: say how busy it was
        wall = time.monotonic() - started
    finally:
        stop_server(proc)
    result = check(store, tally)
    store.close()
    browser_saves = [s for s in tally.saves if s.kind == "browser"]
    on_page = [Save(s.note, s.customer_id, s.status, False, False, s.page_seconds, "page_clock")
               for s in browser_saves if s.page_seconds is not None]
    writer_saves = [s for s in tally.saves if s.kind == "writer"]
    summary = {
        "minutes": args.minutes, "agents": args.agents, "browsers": args.browsers, "writers": writers,
        "think_s": args.think, "wall_s": round(wall, 1),
        "load_avg_1_5_15": [round(x, 1) for x in load], "database": str(db), "store": url,
        "total_updates": len(tally.saves), "failed": len(tally.failures), **result,
        "latency_all": latency(tally.saves), "latency_browser": latency(browser_saves),
        "latency_browser_page_clock": latency(on_page),
        "latency_writer": latency(writer_saves), "failures": tally.failures[:10],
    }
    print(f"{args.agents} agents ({args.browsers} browser sessions through the server, {writers} writer threads "
          f"on the page's code path), {wall:.0f} s, think {args.think:g} s, load average at the end "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"total updates {len(tally.saves)} · lost {result['lost']} · duplicated {result['duplicated']} · "
          f"stale carry-forward {result['stale']} · wrong content {result['wrong_content']} · "
          f"failed {len(tally.failures)} · integrity {result['integrity']}")
    for name, lat in (("all", summary["latency_all"]), ("browser (click → saved row shown), timed by Playwright",
                                                         summary["latency_browser"]),
                      ("browser, the page's clock: pointer down → row painted",
                       summary["latency_browser_page_clock"]),
                      ("browser, click → row written by the server", result["latency_click_to_write"]),
                      ("writer (record_action)", summary["latency_writer"])):
        if lat["n"]:
            print(f"  save latency, {name}: n={lat['n']} p50 {lat['p50_s']:.3f} s · p95 {lat['p95_s']:.3f} s · "
                  f"max {lat['max_s']:.3f} s")
    for why in tally.failures[:10]:
        print("  failed:", why)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "action_load.json").write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
