"""Margin at risk from the optional churn_scores table: expected loss of the selected
customers active at the as-of date, by segment and for the riskiest 10%, from the latest
scoring on or before the as-of date — checked against a pandas computation on a copy of
the sample with synthetic scores; and the deck's risk slide shows exactly those numbers."""

from __future__ import annotations

import io
import math
import shutil
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE

from analytics import metrics
from analytics.db import open_database
from analytics import formatting as fmt
from analytics.at_risk import margin_at_risk
from reports.deck import build_deck
from reports.story import gather_story
from tests.unit.reports.conftest import leaks, zip_text


def scored_copy(sample_db_path, directory, as_of, columns: str):
    """A copy of the sample with a churn_scores table: "full" = as written by
    analytics.score (as_of_date, churn_probability, clv_historical, clv_future,
    clv_predicted, expected_loss = p × clv_future; an older scoring and a future one too);
    "older" = as an older scorer wrote it (no clv_future; expected_loss = p × clv_predicted);
    "value" = probability and clv; "probability" = only the probability."""
    path = directory / f"scored-{columns}.duckdb"
    shutil.copy(sample_db_path, path)
    con = duckdb.connect(str(path))
    try:
        ids = np.array([r[0] for r in con.execute("select customer_id from customers").fetchall()])
        rng = np.random.default_rng(5)
        p = rng.uniform(0, 0.6, len(ids))
        value = rng.gamma(2.0, 800.0, len(ids))
        earned = rng.gamma(2.0, 1500.0, len(ids))
        frames = []
        if columns == "full":
            for day, scale in ((as_of, 1.0), (as_of - timedelta(days=30), 0.5), (as_of + timedelta(days=10), 3.0)):
                frames.append(pd.DataFrame({"customer_id": ids, "as_of_date": day, "churn_probability": p * scale,
                                            "clv_historical": earned, "clv_future": value,
                                            "clv_predicted": earned + value, "expected_loss": p * scale * value,
                                            "driver_1": "Unresolved complaints in the last 30 days"}))
        elif columns == "older":
            frames.append(pd.DataFrame({"customer_id": ids, "as_of_date": as_of, "churn_probability": p,
                                        "clv_historical": earned, "clv_predicted": earned + value,
                                        "expected_loss": p * (earned + value)}))
        elif columns == "value":
            frames.append(pd.DataFrame({"customer_id": ids, "churn_probability": p, "clv": value}))
        else:
            frames.append(pd.DataFrame({"customer_id": ids, "churn_probability": p}))
        scores = pd.concat(frames, ignore_index=True)  # noqa: F841 — read by DuckDB below
        con.execute("create or replace table churn_scores as select * from scores")
    finally:
        con.close()
    return open_database(path)


def superseded(c: pd.DataFrame) -> set:
    """Ids of duplicate records counted once (docs/metrics.md#duplicate-customers), in
    pandas: a record sharing normalised name + e-mail, or name + valid phone, with a lower id."""
    name = c["full_name"].str.strip().str.replace(r"\s+", " ", regex=True).str.lower()
    email = c["email"].str.strip().str.lower().where(c["email"].str.strip().str.len() > 0)
    phone = c["phone"].str.strip().where(c["phone"].str.match(r"^\s*05\d-\d{7}\s*$", na=False))
    out = set()
    for key in (email, phone):
        keyed = pd.DataFrame({"id": c["customer_id"], "name": name, "key": key}).dropna()
        first = keyed.groupby(["name", "key"])["id"].transform("min")
        out |= set(keyed.loc[keyed["id"] > first, "id"])
    return out


def superseded_in(con) -> list[int]:
    """`superseded` over a DuckDB file's customers, as a list for a `list_contains(?, id)`
    SQL oracle ([-1] when there is none, so the list is never empty)."""
    people = pd.DataFrame(con.execute("select customer_id, full_name, email, phone from customers").fetchall(),
                          columns=["customer_id", "full_name", "email", "phone"])
    return sorted(int(i) for i in superseded(people)) or [-1]


def expected(db, flt, loss: pd.DataFrame, top_share=0.1) -> pd.DataFrame:
    c = pd.DataFrame(db.cursor().execute(
        "select customer_id, segment, signup_date, churn_date, full_name, email, phone from customers").fetchall(),
        columns=["customer_id", "segment", "signup_date", "churn_date", "full_name", "email", "phone"])
    c = c[~c["customer_id"].isin(superseded(c))]  # each person once
    as_of = pd.Timestamp(flt.as_of)
    active = (pd.to_datetime(c["signup_date"]) <= as_of) & (
        c["churn_date"].isna() | (pd.to_datetime(c["churn_date"]) > as_of))
    c = c[active & c["segment"].isin(flt.segments)]
    j = loss.merge(c, on="customer_id").sort_values(["loss", "customer_id"], ascending=[False, True])
    j["top"] = np.arange(len(j)) < len(j) * top_share
    return j.groupby("segment").agg(customers=("loss", "size"), expected_loss=("loss", "sum"),
                                    top_expected_loss=("loss", lambda s: s[j.loc[s.index, "top"]].sum()))


@pytest.fixture(scope="module")
def scored_db(sample_db_path, tmp_path_factory, as_of):
    db = scored_copy(sample_db_path, tmp_path_factory.mktemp("scores"), as_of, "full")
    yield db
    db.close()


def test_latest_scoring_on_or_before_the_as_of_date(scored_db, report_filter):
    risk = margin_at_risk(scored_db, report_filter)
    assert risk.available and risk.scored_on == report_filter.as_of
    rows = scored_db.cursor().execute(
        "select customer_id, expected_loss from churn_scores where as_of_date = ?", [report_filter.as_of]).fetchall()
    want = expected(scored_db, report_filter, pd.DataFrame(rows, columns=["customer_id", "loss"]))
    got = risk.by_segment.set_index("segment")
    assert sorted(got.index) == sorted(want.index) == ["consumer", "small_business"]
    for segment in want.index:
        assert got.loc[segment, "customers"] == want.loc[segment, "customers"]
        assert got.loc[segment, "expected_loss"] == pytest.approx(want.loc[segment, "expected_loss"])
        assert got.loc[segment, "top_expected_loss"] == pytest.approx(want.loc[segment, "top_expected_loss"])
    assert risk.total_expected_loss == pytest.approx(want["expected_loss"].sum())
    assert risk.top_customers == math.ceil(risk.customers * 0.1)
    assert got["share_of_loss"].sum() == pytest.approx(1.0)


def test_older_scores_count_only_the_future_value(sample_db_path, tmp_path, report_filter, as_of):
    # an older scorer stored expected_loss = p × clv_predicted; the loss read is
    # p × (clv_predicted − clv_historical), never the stored column
    db = scored_copy(sample_db_path, tmp_path, as_of, "older")
    try:
        rows = db.cursor().execute(
            "select customer_id, churn_probability * (clv_predicted - clv_historical) from churn_scores").fetchall()
        want = expected(db, report_filter, pd.DataFrame(rows, columns=["customer_id", "loss"]))
        stored = db.cursor().execute("select customer_id, expected_loss from churn_scores").fetchall()
        old = expected(db, report_filter, pd.DataFrame(stored, columns=["customer_id", "loss"]))
        risk = margin_at_risk(db, report_filter)
        assert risk.total_expected_loss == pytest.approx(want["expected_loss"].sum())
        assert risk.total_expected_loss < 0.5 * old["expected_loss"].sum()  # the old reading counted earned margin
    finally:
        db.close()


@pytest.mark.parametrize("columns", ["value", "probability"])
def test_no_future_value_no_guess(sample_db_path, tmp_path, report_filter, as_of, columns):
    # a probability with one CLV column, or alone: the old reader used p × clv, else
    # p × historical CLV — margin already earned. Now the summary says what is missing.
    db = scored_copy(sample_db_path, tmp_path, as_of, columns)
    try:
        risk = margin_at_risk(db, report_filter)
        assert not risk.available and "clv_future" in risk.message
        assert math.isnan(risk.total_expected_loss)
    finally:
        db.close()


def test_no_scores_no_numbers(sample_db, report_filter):
    """The sample has no scores (an empty churn_scores table, or none at all)."""
    risk = margin_at_risk(sample_db, report_filter)
    assert not risk.available and risk.message.startswith("Churn scores are not computed yet")
    assert risk.by_segment.empty and math.isnan(risk.total_expected_loss)


def test_only_later_scorings(scored_db, report_filter):
    earlier = report_filter.with_period(report_filter.start - timedelta(days=60), report_filter.end - timedelta(days=45))
    risk = margin_at_risk(scored_db, earlier)
    assert not risk.available and "not computed yet for" in risk.message


def test_deck_shows_margin_at_risk(scored_db, report_filter, personal_data):
    story = gather_story(scored_db, report_filter)
    risk = margin_at_risk(scored_db, report_filter)
    section = story.section("risk")
    assert section.title.startswith(f"{fmt.money(risk.total_expected_loss)} of future margin at risk")
    assert story.kpi("margin_at_risk").value == pytest.approx(risk.total_expected_loss)
    blob = build_deck(story)
    deck = Presentation(io.BytesIO(blob))
    slide = deck.slides[[s.key for s in story.sections].index("risk")]
    chart = next(shape.chart for shape in slide.shapes if shape.has_chart)
    assert chart.chart_type == XL_CHART_TYPE.BAR_CLUSTERED
    assert list(chart.plots[0].categories) == [fmt.label(s) for s in risk.by_segment["segment"]]
    values = {s.name: s.values for s in chart.plots[0].series}
    assert values["Expected loss"] == pytest.approx(tuple(risk.by_segment["expected_loss"]))
    assert values["Riskiest 10% of customers"] == pytest.approx(tuple(risk.by_segment["top_expected_loss"]))
    assert leaks(zip_text(blob), personal_data) == []
