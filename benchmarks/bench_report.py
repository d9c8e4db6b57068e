"""Time to build the leadership report — gather the story, build the deck, render the
PDF — for the sidebar's default filter (the year to the as-of date) on the sample.

    python -m benchmarks.bench_report [--db data/sample.duckdb] [--repeat 3] [--segment consumer]

Target (measured, not asserted): story + deck + PDF ≤ 10 s on the 50,000-customer
sample. "cold" is the first build in a fresh process (imports, fonts, first queries);
"warm" is the median of `--repeat` further builds. Sizes are of the files produced.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0
DEFAULT_PERIOD_DAYS = 365


def build_once(db, flt) -> dict[str, float]:
    from reports.deck import build_deck
    from reports.pdf import build_pdf
    from reports.story import gather_story

    times: dict[str, float] = {}
    start = time.perf_counter()
    story = gather_story(db, flt)
    times["story"] = time.perf_counter() - start
    start = time.perf_counter()
    deck = build_deck(story)
    times["deck"] = time.perf_counter() - start
    start = time.perf_counter()
    pdf = build_pdf(story)
    times["pdf"] = time.perf_counter() - start
    times["total"] = times["story"] + times["deck"] + times["pdf"]
    times["deck_kib"], times["pdf_kib"] = len(deck) / 1024, len(pdf) / 1024
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=str(ROOT / "data" / "sample.duckdb"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--segment", action="append", default=[], help="restrict to a segment (repeatable)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from analytics.db import open_database
    from analytics.filters import RetentionFilter

    db = open_database(args.db)
    imports = time.perf_counter() - start
    info = db.schema_info()
    as_of = date.fromisoformat(info["as_of_date"])
    flt = RetentionFilter(as_of - timedelta(days=DEFAULT_PERIOD_DAYS - 1), as_of, segments=tuple(args.segment))
    customers = db.cursor().execute("select count(*) from customers").fetchone()[0]
    print(f"database {args.db}: {customers:,} customers, as of {as_of}; filter {flt.start} – {flt.end}"
          + (f", segments {', '.join(flt.segments)}" if flt.segments else ""))
    print(f"open database + imports: {imports:.2f} s")

    cold = build_once(db, flt)
    warm_runs = [build_once(db, flt) for _ in range(max(args.repeat, 1))]
    warm = {k: statistics.median(r[k] for r in warm_runs) for k in cold}
    print(f"{'':8}{'story':>8}{'deck':>8}{'pdf':>8}{'total':>8}")
    for name, t in (("cold", cold), ("warm", warm)):
        print(f"{name:8}{t['story']:>7.2f}s{t['deck']:>7.2f}s{t['pdf']:>7.2f}s{t['total']:>7.2f}s")
    print(f"files: deck {cold['deck_kib']:.0f} KiB, PDF {cold['pdf_kib']:.0f} KiB")
    verdict = "within" if cold["total"] <= TARGET_SECONDS else "OVER"
    print(f"cold build {cold['total']:.2f} s: {verdict} the {TARGET_SECONDS:.0f} s target")
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
