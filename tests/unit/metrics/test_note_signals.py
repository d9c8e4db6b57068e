"""Note signals on a tiny hand-built database: counts and shares, churn within 90 days
after a signal against the signal-free baseline, the monthly trend, example notes.

The as-of date is 2024-12-31, so a note is *followed* (its 90-day outcome known) when it
is dated on or before 2024-10-02.

| customer | note(s) in 2024 (channel)                                   | fires            | churn      |
|---|---|---|---|
| 1 | 03-01 "wants to cancel, found a better offer elsewhere" (phone) | cancel, competitor | 04-15 (in 90 d) |
| 2 | 03-10 Hebrew "wants to cancel the subscription" (chat)          | cancel           | —          |
| 3 | 02-01 "does not want to cancel…" (phone), 05-01 neutral        | nothing (negated) | 04-01 (in 90 d of 02-01) |
| 4 | 06-01 neutral                                                    | nothing          | —          |
| 5 | 11-15 "too expensive" (after the cut-off)                       | price            | —          |
| 6 | 2023-12-20 cancel note (before the period), NULL and blank notes | —               | —          |
| 7 | 08-01 "wants to cancel…, call back on 050-1234567"              | cancel           | 07-01 (before the note) |
| 8 | 07-01 neutral                                                    | nothing          | —          |

Notes in the period: 8. Baseline (notes, no signal): customers 3, 4, 8 → 1 of 3 churned.
cancel_intent: customers 1, 2, 7; followed 1, 2 (7 had left) → 1 of 2 = 50 %, lift 1.5.
competitor: customer 1 → 1 of 1, lift 3. price: customer 5, not followed → NaN.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.note_signals import (
    EXAMPLE_COLUMNS,
    SUMMARY_COLUMNS,
    TREND_COLUMNS,
    note_signal_examples,
    note_signal_summary,
    note_signal_trend,
    redact_contact_details,
)
from analytics.risk.note_signals import classify_note

CANCEL_AND_COMPETITOR = "Customer wants to cancel, found a better offer elsewhere"
HEBREW_CANCEL = "הלקוח רוצה לבטל את המנוי"
NEGATED = "Customer does not want to cancel, asked about roaming"
NEUTRAL = "Password reset done"
NEUTRAL_2 = "Explained the new router settings"
NEUTRAL_3 = "Asked about the loyalty club"
PRICE = "Says it is too expensive"
CANCEL_WITH_PHONE = "Wants to cancel the service, call back on 050-1234567"

YEAR = RetentionFilter(date(2024, 1, 1), date(2024, 12, 31))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def notes_db(make_db):
    customers = [
        {"customer_id": 1, "signup_date": date(2023, 1, 1), "churn_date": date(2024, 4, 15), "region": "north"},
        {"customer_id": 2, "signup_date": date(2023, 1, 1), "region": "north"},
        {"customer_id": 3, "signup_date": date(2023, 1, 1), "churn_date": date(2024, 4, 1), "region": "south"},
        {"customer_id": 4, "signup_date": date(2023, 1, 1), "segment": "enterprise", "region": "south"},
        {"customer_id": 5, "signup_date": date(2023, 1, 1), "region": "north"},
        {"customer_id": 6, "signup_date": date(2023, 1, 1), "region": "north"},
        {"customer_id": 7, "signup_date": date(2023, 1, 1), "churn_date": date(2024, 7, 1), "region": "north"},
        {"customer_id": 8, "signup_date": date(2023, 1, 1), "region": "south"},
    ]
    touchpoints = [
        {"customer_id": 1, "occurred_at": at("2024-03-01 10:00"), "note": CANCEL_AND_COMPETITOR},
        {"customer_id": 2, "occurred_at": at("2024-03-10 11:00"), "channel": "chat", "note": HEBREW_CANCEL},
        {"customer_id": 3, "occurred_at": at("2024-02-01 09:00"), "note": NEGATED},
        {"customer_id": 3, "occurred_at": at("2024-05-01 09:00"), "note": NEUTRAL},
        {"customer_id": 4, "occurred_at": at("2024-06-01 09:00"), "note": NEUTRAL_2},
        {"customer_id": 5, "occurred_at": at("2024-11-15 09:00"), "channel": "email", "note": PRICE},
        {"customer_id": 6, "occurred_at": at("2023-12-20 09:00"), "note": "wants to cancel"},
        {"customer_id": 6, "occurred_at": at("2024-03-01 09:00"), "note": None},
        {"customer_id": 6, "occurred_at": at("2024-03-02 09:00"), "note": "   "},
        {"customer_id": 7, "occurred_at": at("2024-08-01 09:00"), "note": CANCEL_WITH_PHONE},
        {"customer_id": 8, "occurred_at": at("2024-07-01 09:00"), "note": NEUTRAL_3},
    ]
    return make_db(customers=customers, touchpoints=touchpoints)


def test_the_fixture_notes_fire_what_the_table_says():
    assert classify_note(CANCEL_AND_COMPETITOR) == {"cancel_intent", "competitor"}
    assert classify_note(HEBREW_CANCEL) == {"cancel_intent"}
    assert classify_note(NEGATED) == frozenset()
    assert classify_note(PRICE) == {"price"}
    assert classify_note(CANCEL_WITH_PHONE) == {"cancel_intent"}
    for text in (NEUTRAL, NEUTRAL_2, NEUTRAL_3):
        assert classify_note(text) == frozenset()


def test_summary_counts_shares_and_churn_lift(notes_db):
    df = note_signal_summary(notes_db, YEAR).set_index("signal")
    assert list(df.index) == ["cancel_intent", "competitor", "price", "moving", "dissatisfaction",
                              "billing", "any_signal"]
    assert (df["all_notes"] == 8).all()
    assert df["notes"].to_dict() == {"cancel_intent": 3, "competitor": 1, "price": 1, "moving": 0,
                                     "dissatisfaction": 0, "billing": 0, "any_signal": 4}
    assert df.loc["cancel_intent", "share_of_notes"] == pytest.approx(3 / 8)
    assert df.loc["any_signal", "share_of_notes"] == pytest.approx(4 / 8)

    # the negated note of customer 3 counts as signal-free: it is in the baseline
    assert (df["baseline_followed"] == 3).all() and (df["baseline_churned_90d"] == 1).all()
    assert df["baseline_churn_rate_90d"].iloc[0] == pytest.approx(1 / 3)

    cancel = df.loc["cancel_intent"]
    assert (cancel.customers, cancel.followed, cancel.churned_90d) == (3, 2, 1)
    assert cancel.churn_rate_90d == pytest.approx(0.5)
    assert cancel.lift == pytest.approx(1.5)
    competitor = df.loc["competitor"]
    assert (competitor.customers, competitor.followed, competitor.churned_90d) == (1, 1, 1)
    assert competitor.lift == pytest.approx(3.0)
    price = df.loc["price"]  # dated after 2024-10-02: outcome not known yet
    assert (price.customers, price.followed) == (1, 0)
    assert math.isnan(price.churn_rate_90d) and math.isnan(price.lift)
    anything = df.loc["any_signal"]
    assert (anything.customers, anything.followed, anything.churned_90d) == (4, 2, 1)


def test_channel_and_customer_filters_apply(notes_db):
    chat = note_signal_summary(notes_db, RetentionFilter(YEAR.start, YEAR.end, channels=("chat",)))
    chat = chat.set_index("signal")
    assert (chat["all_notes"] == 1).all()
    assert chat.loc["cancel_intent", "notes"] == 1 and chat.loc["cancel_intent", "share_of_notes"] == 1.0
    assert chat.loc["cancel_intent", "churned_90d"] == 0
    assert chat["baseline_followed"].iloc[0] == 0 and math.isnan(chat["lift"].iloc[0])

    south = note_signal_summary(notes_db, RetentionFilter(YEAR.start, YEAR.end, regions=("south",)))
    assert (south["all_notes"] == 4).all()  # customers 3 (two notes), 4 and 8
    assert south.set_index("signal").loc["any_signal", "notes"] == 0


def test_a_short_period_follows_nobody(notes_db):
    df = note_signal_summary(notes_db, RetentionFilter(date(2024, 10, 1), date(2024, 12, 31)))
    assert (df["all_notes"] == 1).all()  # only customer 5's note
    assert (df["followed"] == 0).all() and df["churn_rate_90d"].isna().all()


def test_trend_by_month(notes_db):
    trend = note_signal_trend(notes_db, YEAR)
    assert list(trend.columns) == list(TREND_COLUMNS)
    months = sorted(trend["month"].dt.strftime("%Y-%m").unique())
    assert months == ["2024-02", "2024-03", "2024-05", "2024-06", "2024-07", "2024-08", "2024-11"]
    march = trend[trend["month"] == pd.Timestamp("2024-03-01")].set_index("signal")
    assert (march["all_notes"] == 2).all()
    assert march.loc["cancel_intent", "notes"] == 2 and march.loc["cancel_intent", "share_of_notes"] == 1.0
    assert march.loc["competitor", "share_of_notes"] == 0.5
    assert march.loc["price", "notes"] == 0
    november = trend[trend["month"] == pd.Timestamp("2024-11-01")].set_index("signal")
    assert november.loc["price", "share_of_notes"] == 1.0
    assert not trend["partial"].any()

    clipped = note_signal_trend(notes_db, RetentionFilter(date(2024, 3, 5), date(2024, 12, 31)))
    march = clipped[clipped["month"] == pd.Timestamp("2024-03-01")].set_index("signal")
    assert march["partial"].all()
    assert (march["all_notes"] == 1).all() and march.loc["cancel_intent", "notes"] == 1  # the Hebrew note


def test_examples_alternate_languages_and_mask_phones(notes_db):
    ex = note_signal_examples(notes_db, YEAR, per_signal=3)
    assert list(ex.columns) == list(EXAMPLE_COLUMNS)
    assert "customer_id" not in ex.columns
    cancel = ex[ex["signal"] == "cancel_intent"]
    # Hebrew first, then the newest English, then the older English
    assert list(cancel["note"]) == [HEBREW_CANCEL, "Wants to cancel the service, call back on [phone]",
                                    CANCEL_AND_COMPETITOR]
    assert list(cancel["language"]) == ["he", "en", "en"]
    assert list(cancel["channel"]) == ["chat", "phone", "phone"]
    assert cancel["occurred_at"].iloc[0] == pd.Timestamp("2024-03-10 11:00")
    assert set(ex["signal"]) == {"cancel_intent", "competitor", "price"}
    assert NEGATED not in set(ex["note"])
    one = note_signal_examples(notes_db, YEAR, per_signal=1)
    assert list(one.loc[one["signal"] == "cancel_intent", "note"]) == [HEBREW_CANCEL]
    with pytest.raises(ValueError):
        note_signal_examples(notes_db, YEAR, per_signal=0)


def test_empty_selection_gives_empty_frames_with_columns(notes_db):
    nobody = RetentionFilter(YEAR.start, YEAR.end, segments=("enterprise",), regions=("north",))
    for fn, columns in ((note_signal_summary, SUMMARY_COLUMNS), (note_signal_trend, TREND_COLUMNS),
                        (note_signal_examples, EXAMPLE_COLUMNS)):
        df = fn(notes_db, nobody)
        assert df.empty and list(df.columns) == list(columns), fn.__name__


@pytest.mark.parametrize("text, expected", [
    ("call back on 050-1234567", "call back on [phone]"),
    ("tel +972 50 123 4567 please", "tel [phone] please"),
    ("wrote from dana.levi@example.co.il today", "wrote from [email] today"),
    ("visit on 2024-03-01, 30 NIS credit", "visit on 2024-03-01, 30 NIS credit"),
    ("חויב פעמיים, מספר 03-6123456", "חויב פעמיים, מספר [phone]"),
])
def test_redact_contact_details(text, expected):
    assert redact_contact_details(text) == expected


@pytest.mark.parametrize("flt", [YEAR, RetentionFilter(date(2024, 3, 5), date(2024, 12, 31), channels=("chat", "email")),
                                 RetentionFilter(YEAR.start, YEAR.end, segments=("enterprise",), regions=("north",))])
def test_summary_from_the_trend_equals_the_summary_alone(notes_db, flt):
    """The dashboard hands the summary the monthly trend it has cached: the note counts are
    its sums, and every column must equal the summary's own counting."""
    alone = note_signal_summary(notes_db, flt)
    pd.testing.assert_frame_equal(note_signal_summary(notes_db, flt, trend=note_signal_trend(notes_db, flt)), alone)


def test_summary_from_the_trend_on_the_sample(sample_db):
    for flt in (RetentionFilter(date(2025, 10, 1), date(2026, 9, 30)),
                RetentionFilter(date(2026, 2, 14), date(2026, 9, 30), segments=("consumer",), channels=("phone",))):
        alone = note_signal_summary(sample_db, flt)
        assert alone["notes"].sum() > 0
        pd.testing.assert_frame_equal(note_signal_summary(sample_db, flt, trend=note_signal_trend(sample_db, flt)), alone)


def _every_note_result(db, flt) -> list[pd.DataFrame]:
    return [note_signal_summary(db, flt), note_signal_trend(db, flt), note_signal_examples(db, flt)]


@pytest.mark.parametrize("flt", [YEAR, RetentionFilter(date(2024, 3, 5), date(2024, 12, 31), channels=("chat", "email")),
                                 RetentionFilter(YEAR.start, YEAR.end, segments=("enterprise",), regions=("north",))])
def test_texts_classified_once_and_in_the_query_agree(notes_db, flt, monkeypatch):
    """A read-only file's distinct texts are classified once and joined by text; a file
    with too many distinct texts classifies inside each query. Same numbers either way."""
    import analytics.metrics.note_signals as ns

    notes_db.read_only_facts.clear()
    kept = _every_note_result(notes_db, flt)
    assert notes_db.read_only_facts[ns._TEXT_FLAGS] is not None  # the kept classification was used
    notes_db.read_only_facts.clear()
    monkeypatch.setattr(ns, "MAX_KEPT_TEXTS", 0)
    in_query = _every_note_result(notes_db, flt)
    assert notes_db.read_only_facts[ns._TEXT_FLAGS] is None  # over the limit: not kept
    for a, b in zip(kept, in_query):
        pd.testing.assert_frame_equal(a, b)
    if flt == YEAR:
        assert kept[0]["notes"].sum() > 0 and not kept[2].empty


def test_texts_classified_once_on_the_sample(sample_db, monkeypatch):
    import analytics.metrics.note_signals as ns

    flt = RetentionFilter(date(2025, 10, 1), date(2026, 9, 30), segments=("consumer",))
    sample_db.read_only_facts.pop(ns._TEXT_FLAGS, None)
    kept = _every_note_result(sample_db, flt)
    monkeypatch.setattr(ns, "MAX_KEPT_TEXTS", 0)
    sample_db.read_only_facts.pop(ns._TEXT_FLAGS, None)
    in_query = _every_note_result(sample_db, flt)
    sample_db.read_only_facts.pop(ns._TEXT_FLAGS, None)
    for a, b in zip(kept, in_query):
        pd.testing.assert_frame_equal(a, b)


def test_example_candidates_merge_cells_into_the_selections_newest_texts():
    """`_example_candidates` is a top-k cube: each (cell, channel) keeps its newest texts,
    the slice takes each text's newest note over the selected cells and ranks again. A text
    newest in cell B (Y) outranks the one newest in cell A (X); equal times go to the
    higher touchpoint_id; a text counts once."""
    from analytics.metrics.note_signals import _newest_per_signal

    def row(segment, note, at_hour, tp):
        return dict(segment=segment, region="north", plan="basic", channel="phone", signal="price",
                    language="en", language_rank=0, touchpoint_id=tp, occurred_at=pd.Timestamp(2024, 5, 1, at_hour),
                    kind="complaint", note=note)

    rows = pd.DataFrame([row("a", "X", 5, 1), row("a", "Y", 4, 2), row("b", "Y", 6, 3), row("b", "Z", 3, 4),
                         row("b", "W", 5, 9)])
    both = _newest_per_signal(rows, 2, True)
    assert both["note"].tolist() == ["Y", "W"]  # Y at 6; W and X both at 5, W has the higher id
    assert both["touchpoint_id"].tolist() == [3, 9] and both["language_rank"].tolist() == [0, 1]
    only_a = _newest_per_signal(rows[rows["segment"] == "a"], 3, True)
    assert only_a["note"].tolist() == ["X", "Y"] and only_a["touchpoint_id"].tolist() == [1, 2]
    assert _newest_per_signal(rows.iloc[:0], 2, True).empty
