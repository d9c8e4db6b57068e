"""Churn signals in agents' free-text notes: how often each signal appears, whether
customers whose notes carry it churn more, its monthly trend, and example notes
(docs/metrics.md#note-signals).

A **note** is a touchpoint of the filter (selected customers, selected channels,
``occurred_at`` within ``[flt.start, flt.end]``; `analytics.filters.touchpoints`) whose
``note`` holds text (not NULL, not blank); every touchpoint kind counts. A note **fires** a
signal — ``cancel_intent``, ``competitor``, ``price``, ``moving``, ``dissatisfaction``,
``billing`` — when the transparent Hebrew/English lexicon of `analytics.risk.note_signals`
matches it and none of the class's negations does ("does not want to cancel" fires
nothing). The lexicon runs inside the database (`note_signal_columns`), each distinct note
text classified once. ``any_signal`` = the note fires at least one class.

Churn after a signal (customer level, outcomes known at ``flt.end``):
- a customer's **signal date** for class s = the day of their first note in the period
  firing s; the **baseline** group = customers with notes in the period, none firing any
  signal, dated by their first note;
- **followed** = customers whose date is at least `HORIZON_DAYS` (90) days before
  ``flt.end`` (so the whole 90-day outcome is known) and who had not churned before it;
- **churned within 90 days** = ``churn_date`` in ``[date, date + 90 days]``;
- churn_rate_90d = churned ÷ followed; **lift** = a signal's churn rate ÷ the baseline's.
"""

from __future__ import annotations

import re
from datetime import timedelta

import ibis
import pandas as pd

from analytics.cubes import POPULATION, cube, from_daily_rollup, with_cells
from analytics.db import Database
from analytics.filters import RetentionFilter, touchpoints
from analytics.metrics._common import FAR_FUTURE, conform, empty_frame, execute, periods, ratio
from analytics.risk.note_signals import NOTE_SIGNALS, note_signal_columns
from analytics.rollups import TOUCHPOINT_DAILY, fresh_rollup

HORIZON_DAYS = 90
ANY_SIGNAL = "any_signal"
SIGNAL_ROWS: tuple[str, ...] = NOTE_SIGNALS + (ANY_SIGNAL,)

SUMMARY_COLUMNS: dict[str, str] = {
    "signal": "string",
    "notes": "int64",
    "all_notes": "int64",
    "share_of_notes": "float64",
    "customers": "int64",
    "followed": "int64",
    "churned_90d": "int64",
    "churn_rate_90d": "float64",
    "baseline_followed": "int64",
    "baseline_churned_90d": "int64",
    "baseline_churn_rate_90d": "float64",
    "lift": "float64",
}

TREND_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "signal": "string",
    "notes": "int64",
    "all_notes": "int64",
    "share_of_notes": "float64",
    "partial": "bool",
}

EXAMPLE_COLUMNS: dict[str, str] = {
    "signal": "string",
    "occurred_at": "datetime64[ns]",
    "channel": "string",
    "kind": "string",
    "language": "string",
    "note": "string",
}

_HEBREW_LETTER = "[א-ת]"


def _flag(signal: str) -> str:
    return f"is_{signal}"


def _with_flags(texts: ibis.Table) -> ibis.Table:
    """`texts` (one row per distinct ``note``) with ``is_note`` — the text is not blank —
    the ``is_<signal>`` flags and ``is_any_signal``. A blank text fires no signal.

    Agents reuse a few hundred phrasings across millions of notes, so every regex runs
    once per distinct text. Blank texts are flagged, not filtered out: DuckDB pushes a
    filter on the text down through the DISTINCT into the scan of every row."""
    hits = note_signal_columns(texts.note)
    texts = texts.mutate(is_note=texts.note.re_search(r"\S"), **{_flag(s): hit for s, hit in hits.items()})
    # from the flag columns, in a second step: written as one expression, the SQL would
    # repeat every class's regexes (twice the text for Ibis to compile, ~0.1 s a query)
    return texts.mutate(**{_flag(ANY_SIGNAL): ibis.or_(*(texts[_flag(s)] for s in hits))})


# Up to this many distinct note texts are classified once and kept (see `_flagged`); a
# database of mostly unique free-text notes classifies inside each query instead.
MAX_KEPT_TEXTS = 20_000
_TEXT_FLAGS = "note_signals.text_flags"


def _flagged(db: Database, texts: ibis.Table) -> ibis.Table:
    """`texts` (one row per distinct ``note``, other columns kept) with the flags of
    `_with_flags` and ``is_hebrew``.

    Agents reuse a few hundred phrasings across millions of notes (188 in the sample, at
    50k as at 1M customers), so on a read-only database every distinct text of the file is
    classified once, kept in memory for as long as the file is open (it cannot change
    meanwhile), and joined by text: each note query is then a small join instead of a few
    dozen regexes — cheaper to compile (a filter change recompiles every query shape) and
    to run. Above `MAX_KEPT_TEXTS` distinct texts, or on a writable database, the regexes
    run inside the query, on the query's own distinct texts."""
    kept = _kept_text_flags(db) if db.read_only else None
    if kept is None:
        flagged = _with_flags(texts)
        return flagged.mutate(is_hebrew=flagged.note.re_search(_HEBREW_LETTER))
    return texts.inner_join(kept, "note")


def text_flags(db: Database, texts: ibis.Table) -> ibis.Table:
    """`_flagged`: the distinct note `texts` with ``is_note``, the ``is_<signal>`` flags
    and ``is_hebrew`` (for the daily rollup, analytics.metrics.service)."""
    return _flagged(db, texts)


def note_count_measures(t: ibis.Table) -> dict:
    """The note counts of `_note_counts` over rows `t` carrying the text flags (NULL flags
    — a row without a note — count nowhere): ``all_notes`` (non-blank notes) and one
    count per signal in `SIGNAL_ROWS`."""
    # NULL flags made false first: Spark counts a group of only NULL conditions as NULL, not 0
    return dict(all_notes=t.count(where=t.is_note.fill_null(False)),
                **{s: t.count(where=t[_flag(s)].fill_null(False)) for s in SIGNAL_ROWS})


def _stored(db: Database, flt: RetentionFilter) -> bool:
    """Whether `flt`'s note counts come from the fresh ``rollup_touchpoint_daily``."""
    return fresh_rollup(db, TOUCHPOINT_DAILY, flt=flt) is not None


def _note_counts_stored(db: Database, flt: RetentionFilter, by_month: bool) -> ibis.Table:
    return from_daily_rollup(db.table(TOUCHPOINT_DAILY), flt, ("all_notes", *SIGNAL_ROWS), "noted", by_month)


def _texts_kept(db: Database) -> bool:
    """Whether `_flagged` joins the kept classification (else: regexes in the query).
    The note queries' builders take it as an argument, so a plan built one way is never
    reused the other way (tests change `MAX_KEPT_TEXTS` on an open database)."""
    return db.read_only and _kept_text_flags(db) is not None


def _kept_text_flags(db: Database) -> ibis.Table | None:
    if _TEXT_FLAGS not in db.read_only_facts:
        db.read_only_facts[_TEXT_FLAGS] = _classify_every_text(db)
    return db.read_only_facts[_TEXT_FLAGS]


def _classify_every_text(db: Database) -> ibis.Table | None:
    t = db.table("touchpoints")
    # one pass over the notes: up to one text more than are kept, classified (cheap on so
    # few texts); more than `MAX_KEPT_TEXTS` of them means "classify inside each query"
    distinct = t.filter(t.note.notnull()).select("note").distinct().limit(MAX_KEPT_TEXTS + 1)
    flagged = _with_flags(distinct)
    flagged = flagged.mutate(is_hebrew=flagged.note.re_search(_HEBREW_LETTER))
    texts = execute(db, flagged)
    if len(texts) > MAX_KEPT_TEXTS:
        return None
    return ibis.memtable(texts, schema=flagged.schema())


def _notes(db: Database, flt: RetentionFilter) -> ibis.Table:
    """The filter's touchpoints with a non-NULL note (blank ones included)."""
    t = touchpoints(db, flt, in_period=True)
    return t.filter(t.note.notnull())


def _notes_and_texts(db: Database, flt: RetentionFilter) -> tuple[ibis.Table, ibis.Table]:
    """(`_notes`, its distinct texts `_with_flags`), to be joined on ``note``."""
    t = _notes(db, flt)
    return t, _flagged(db, t.select("note").distinct())


def classified_notes(db: Database, flt: RetentionFilter) -> ibis.Table:
    """The filter's notes (module docstring), one row per touchpoint, with a boolean
    ``is_<signal>`` column per class and ``is_any_signal``. Each distinct text is
    classified once and joined back (agents reuse phrasings; the regexes are the costly
    part)."""
    t, texts = _notes_and_texts(db, flt)
    cols = ["touchpoint_id", "customer_id", "occurred_at", "channel", "kind", "note"]
    j = t.select(*cols).inner_join(texts, "note")
    return j.filter(j.is_note).drop("is_note")


def _note_counts(db: Database, flt: RetentionFilter, *keys: str) -> ibis.Table:
    """Notes per population cell, channel and `keys` (columns or ``month``):
    ``all_notes`` and one count per signal in `SIGNAL_ROWS` — counts of touchpoints,
    additive over cells and channels (a cube, analytics/cubes.py). Counted per distinct
    text first — a few hundred texts per cell, not millions of rows, reach the join with
    the flags."""
    t = with_cells(db, flt, _notes(db, flt))
    group = {k: (t.occurred_at.truncate("M").cast("date") if k == "month" else t[k]) for k in keys}
    dims = {**{d: t[d] for d in POPULATION}, "channel": t.channel}
    per_text = t.group_by(note=t.note, **dims, **group).aggregate(n=t.count())
    # the texts from the per-text counts, not from a second scan of the notes
    j = per_text.inner_join(_flagged(db, per_text.select("note").distinct()), "note")
    sums = dict(all_notes=j.n.sum(where=j.is_note).fill_null(0),
                **{s: j.n.sum(where=j[_flag(s)]).fill_null(0) for s in SIGNAL_ROWS})
    return j.group_by(*POPULATION, "channel", *keys).aggregate(**sums)


def note_signal_summary(db: Database, flt: RetentionFilter, trend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per signal (the six classes, then ``any_signal``): notes in the period that fire it,
    their share of all notes, distinct customers, and churn within 90 days after the first
    such note against the signal-free baseline (module docstring).

    Columns ``signal``, ``notes``, ``all_notes``, ``share_of_notes`` (notes ÷ all_notes),
    ``customers``, ``followed``, ``churned_90d``, ``churn_rate_90d``,
    ``baseline_followed``, ``baseline_churned_90d``, ``baseline_churn_rate_90d`` (the same
    on every row), ``lift`` (churn_rate_90d ÷ baseline_churn_rate_90d; NaN when either is
    unknown or the baseline is 0). Rates are NaN when nobody was followed (a period shorter
    than 90 days). No notes in the selection -> empty frame.

    `trend`, when the caller has it, is `note_signal_trend(db, flt)`: the note counts are
    then its sums over the months instead of another pass over the notes."""
    kept = _texts_kept(db)
    if trend is None:
        totals = _note_totals(db, flt, kept, _stored(db, flt)).iloc[0]
    else:
        by_signal = trend.groupby("signal")["notes"].sum()
        totals = pd.Series({"all_notes": trend.loc[trend["signal"] == ANY_SIGNAL, "all_notes"].sum(),
                            **{s: by_signal.get(s, 0) for s in SIGNAL_ROWS}})
    all_notes = int(totals["all_notes"])
    if all_notes == 0:
        return empty_frame(SUMMARY_COLUMNS)
    cube = _signal_outcome_cube(db, flt, kept)

    def customers_with(mask) -> int:
        return int(cube.loc[mask, "n"].sum())

    row = {}
    for s in SIGNAL_ROWS:
        row[f"customers_{s}"] = customers_with(cube[s] >= 1)
        row[f"followed_{s}"] = customers_with(cube[s] >= 2)
        row[f"churned_{s}"] = customers_with(cube[s] == 3)
    signal_free = cube[ANY_SIGNAL] == 0
    row["baseline_followed"] = customers_with(signal_free & (cube["first_note"] >= 2))
    row["baseline_churned"] = customers_with(signal_free & (cube["first_note"] == 3))

    baseline_rate = ratio(row["baseline_churned"], row["baseline_followed"])
    records = []
    for s in SIGNAL_ROWS:
        rate = ratio(row[f"churned_{s}"], row[f"followed_{s}"])
        records.append({
            "signal": s,
            "notes": int(totals[s]),
            "all_notes": all_notes,
            "share_of_notes": totals[s] / all_notes,
            "customers": int(row[f"customers_{s}"]),
            "followed": int(row[f"followed_{s}"]),
            "churned_90d": int(row[f"churned_{s}"]),
            "churn_rate_90d": rate,
            "baseline_followed": int(row["baseline_followed"]),
            "baseline_churned_90d": int(row["baseline_churned"]),
            "baseline_churn_rate_90d": baseline_rate,
            "lift": ratio(rate, baseline_rate) if rate == rate else float("nan"),
        })
    return conform(pd.DataFrame(records), SUMMARY_COLUMNS)


@cube(by_channel=True)
def _note_totals(db: Database, flt: RetentionFilter, kept: bool, stored: bool) -> ibis.Table:
    """`_note_counts` over the whole period; its slice is one row (`kept`: `_texts_kept`;
    `stored`: summed from the fresh daily rollup, `_stored`)."""
    return _note_counts_stored(db, flt, by_month=False) if stored else _note_counts(db, flt)


@cube(keys=("month",), by_channel=True)
def _monthly_note_counts(db: Database, flt: RetentionFilter, kept: bool, stored: bool) -> ibis.Table:
    """`_note_counts` per month; its slice is ordered by month (`kept`, `stored` as in
    `_note_totals`)."""
    return _note_counts_stored(db, flt, by_month=True) if stored else _note_counts(db, flt, "month")


@cube(keys=("first_note", *SIGNAL_ROWS), by_channel=False)
def _signal_outcome_cube(db: Database, flt: RetentionFilter, kept: bool) -> ibis.Table:
    """`note_signal_summary`'s customers with notes counted per population cell and
    combination of outcome codes (0–3, see `outcome`) of their first note and of each
    signal's first note (`kept`: `_texts_kept`). Counts of customers: additive over cells
    (a customer is in one), not over channels (a customer's first note depends on which
    channels count), so the channel filter stays in the query."""
    t, texts = _notes_and_texts(db, flt)
    n = t.select("customer_id", "occurred_at", "note").inner_join(texts, "note")
    # the day of the earliest note = the earliest day; cast once per customer, not per note.
    # A customer whose notes are all blank gets NULL everywhere and counts nowhere below.
    firsts = n.group_by("customer_id").aggregate(
        first_note=n.occurred_at.min(where=n.is_note),
        **{f"first_{s}": n.occurred_at.min(where=n[_flag(s)]) for s in NOTE_SIGNALS})
    # the first note firing any class is the earliest of the classes' firsts (LEAST skips
    # NULLs): one aggregate fewer over millions of notes
    firsts = firsts.mutate(**{f"first_{ANY_SIGNAL}": ibis.least(*(firsts[f"first_{s}"] for s in NOTE_SIGNALS))})
    firsts = firsts.mutate(**{c: firsts[c].cast("date") for c in firsts.columns if c.startswith("first_")})
    c = db.table("customers")
    # Per customer once, not per signal: "not churned before `first`" as one comparison
    # with a never-churned customer's churn put at the end of time, and
    # churn_date <= first + 90 days as first >= churn_date - 90 days (NULL, so false,
    # for a customer who never churned).
    c = c.select("customer_id", *POPULATION,
                 left_on=c.churn_date.fill_null(FAR_FUTURE),
                 horizon_start=(c.churn_date - ibis.interval(days=HORIZON_DAYS)).cast("date"))
    j = firsts.inner_join(c, "customer_id")
    cutoff = flt.end - timedelta(days=HORIZON_DAYS)

    def outcome(first: ibis.DateValue) -> ibis.IntegerValue:
        """0 no such note; 1 not followed (dated after the cutoff, or churned before it);
        2 followed, no churn within 90 days; 3 followed, churned within 90 days."""
        followed = (first <= cutoff) & (j.left_on >= first)
        # horizon_start is NULL for a customer who never churned: not "churned", so 2
        return ibis.cases((first.isnull(), 0), (~followed, 1), (first >= j.horizon_start, 3), else_=2)

    # Customers counted per combination of outcomes (a few hundred rows), then summed per
    # signal below: one small expression per signal and customer instead of three counts.
    keys = {s: outcome(j[f"first_{s}"]) for s in SIGNAL_ROWS}
    return j.group_by(*POPULATION, first_note=outcome(j.first_note), **keys).aggregate(n=j.count())


def note_signal_trend(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Per calendar month of the period and signal (the six classes and ``any_signal``):
    notes firing it, all notes of the month and the share (notes ÷ all_notes). Months
    without notes are absent; ``partial`` marks a month clipped by the period. Columns
    ``month`` (first day), ``signal``, ``notes``, ``all_notes``, ``share_of_notes``,
    ``partial``; sorted by month, then signal in `SIGNAL_ROWS` order."""
    wide = _monthly_note_counts(db, flt, _texts_kept(db), _stored(db, flt))
    # a month whose notes are all blank has no notes: as if it were absent
    wide = wide[wide["all_notes"] > 0]
    if wide.empty:
        return empty_frame(TREND_COLUMNS)
    partial = {pd.Timestamp(p.start.replace(day=1)): p.partial for p in periods(flt.start, flt.end, "month")}
    wide["month"] = pd.to_datetime(wide["month"])
    long = wide.melt(id_vars=["month", "all_notes"], value_vars=list(SIGNAL_ROWS),
                     var_name="signal", value_name="notes")
    long["share_of_notes"] = ratio(long["notes"], long["all_notes"])
    long["partial"] = long["month"].map(partial).fillna(False).astype(bool)
    long["order"] = long["signal"].map(SIGNAL_ROWS.index)
    long = long.sort_values(["month", "order"])
    return conform(long, TREND_COLUMNS)


def note_signal_examples(db: Database, flt: RetentionFilter, per_signal: int = 3) -> pd.DataFrame:
    """Up to `per_signal` example notes per signal class, for reading what the lexicon
    catches: the most recent distinct texts firing the class, Hebrew and English
    alternating (Hebrew first; one language fills in when the other runs out). A text is
    Hebrew when it holds a Hebrew letter. Only the note, its date, channel and kind — no
    customer identifiers — and e-mail addresses and phone numbers inside the text are
    masked (`redact_contact_details`). Columns ``signal``, ``occurred_at``, ``channel``,
    ``kind``, ``language`` ('he' / 'en'), ``note``; classes in `NOTE_SIGNALS` order."""
    if per_signal < 1:
        raise ValueError(f"per_signal must be at least 1, got {per_signal}")
    df = _example_candidates(db, flt, per_signal, _texts_kept(db))
    if df.empty:
        return empty_frame(EXAMPLE_COLUMNS)
    picked = []
    for s in NOTE_SIGNALS:
        mine = df[df["signal"] == s]
        he = mine[mine["language"] == "he"].sort_values("language_rank").to_dict("records")
        en = mine[mine["language"] == "en"].sort_values("language_rank").to_dict("records")
        for taken in range(per_signal):
            if not (he or en):
                break
            source = he if (he and (taken % 2 == 0 or not en)) else en
            picked.append(source.pop(0))
    out = pd.DataFrame(picked)
    out["note"] = out["note"].map(redact_contact_details)
    return conform(out, EXAMPLE_COLUMNS)


EXAMPLE_CANDIDATE_COLUMNS = ("signal", "language", "language_rank", "touchpoint_id", "occurred_at",
                             "channel", "kind", "note")


def _newest_per_signal(rows: pd.DataFrame, per_signal: int, kept: bool) -> pd.DataFrame:
    """The merge of `_example_candidates`' cube: over the selected cells' rows, each text's
    newest note (latest occurred_at, then highest touchpoint_id) per class, then per class
    and language the newest `per_signal` texts, ranked 0, 1, … in ``language_rank``."""
    newest_first = rows.sort_values(["occurred_at", "touchpoint_id"], ascending=False, kind="mergesort")
    texts = newest_first.drop_duplicates(["signal", "note"])
    rank = texts.groupby(["signal", "language"], sort=False).cumcount()
    top = texts.assign(language_rank=rank)
    top = top[top["language_rank"] < per_signal]
    return top.loc[:, list(EXAMPLE_CANDIDATE_COLUMNS)].reset_index(drop=True)


@cube(by_channel=True, merge=_newest_per_signal)
def _example_candidates(db: Database, flt: RetentionFilter, per_signal: int, kept: bool) -> ibis.Table:
    """`note_signal_examples`' candidates, as an exact top-k cube: per population cell,
    channel, class and language, the newest `per_signal` distinct texts firing the class,
    each with its newest note in that cell and channel (``touchpoint_id``, ``occurred_at``,
    ``channel``, ``kind``; `kept`: `_texts_kept`). The slice (`_newest_per_signal`) takes
    each text's newest note over the selected cells and channels, then the newest
    `per_signal` texts per class and language again. Exact: a text among the selection's
    newest `per_signal` is among them in the cell holding its newest note (every text
    newer there is newer in the selection too)."""
    t = with_cells(db, flt, _notes(db, flt))  # a blank text fires nothing, so is never an example
    if kept:  # only notes whose text fires a class can be examples: dropped before grouping
        flags = _kept_text_flags(db)
        t = t.semi_join(flags.filter(flags[_flag(ANY_SIGNAL)]).select("note"), "note")
    # Each text's newest note per cell (latest occurred_at, then highest touchpoint_id),
    # picked in one pass (arg-max over that key) rather than by ranking every note; a text
    # fires the same classes wherever it occurs.
    newest = ibis.struct({"occurred_at": t.occurred_at, "touchpoint_id": t.touchpoint_id})
    dims = {**{d: t[d] for d in POPULATION}, "channel": t.channel}
    per_text = t.group_by("note", **dims).aggregate(
        touchpoint_id=t.touchpoint_id.argmax(newest), occurred_at=t.occurred_at.max(),
        kind=t.kind.argmax(newest))
    latest = per_text.inner_join(_flagged(db, per_text.select("note").distinct()), "note")
    # one row per text and class it fires: a cross join with the class names, not a union
    # of one copy of the query per class (a third less SQL for Ibis to compile)
    u = latest.cross_join(ibis.memtable({"signal": list(NOTE_SIGNALS)}))
    u = u.filter(ibis.cases(*[(u.signal == s, u[_flag(s)]) for s in NOTE_SIGNALS], else_=False))
    u = u.select(*POPULATION, "channel", "touchpoint_id", "occurred_at", "kind", "note", "signal",
                 language=ibis.ifelse(u.is_hebrew, "he", "en"))
    rank = ibis.row_number().over(group_by=[*(u[d] for d in POPULATION), u.channel, u.signal, u.language],
                                  order_by=_newest(u))
    u = u.mutate(language_rank=rank)
    return u.filter(u.language_rank < per_signal)


def _newest(t: ibis.Table) -> list:
    return [t.occurred_at.desc(), t.touchpoint_id.desc()]


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_CANDIDATE = re.compile(r"\+?\d[\d\s\-().]{5,}\d")
MIN_PHONE_DIGITS = 9  # Israeli numbers: 9 (landline) or 10 (mobile) digits; dates have 8


def redact_contact_details(text: str) -> str:
    """`text` with e-mail addresses replaced by "[email]" and digit runs of at least
    `MIN_PHONE_DIGITS` digits (spaces, dashes, dots or brackets between them allowed) by
    "[phone]" — notes shown as examples must not expose how to reach a customer."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)

    def phone(match: re.Match) -> str:
        digits = sum(ch.isdigit() for ch in match.group(0))
        return "[phone]" if digits >= MIN_PHONE_DIGITS else match.group(0)

    return _PHONE_CANDIDATE.sub(phone, text)
