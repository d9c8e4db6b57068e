"""Custom attributes (the export's own customer columns, kept by the importer in
`customer_attributes`) as filter dimensions: the population, the cubes and the sidebar's
choices follow them; labels for the user's own values come from retention.toml."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import catalog, formatting, metrics
from analytics.cubes import CUBES
from analytics.db import open_database
from analytics.filters import RetentionFilter
from tests.builders import build_database

ATTRIBUTES = {"customer_id": "BIGINT", "attribute": "VARCHAR", "value": "VARCHAR"}


@pytest.fixture()
def db(tmp_path):
    # Five customers active on 2024-01-01 (signed up 2023); in 2024 c2 and c4 churn.
    # payment_method: c1 card, c2 card, c3 cash, c4 cash, c5 none recorded.
    # streaming: c2 yes, c4 yes.
    customers = [{"customer_id": i, "signup_date": date(2023, 3, i)} for i in range(1, 6)]
    customers[1]["churn_date"] = date(2024, 5, 2)
    customers[3]["churn_date"] = date(2024, 6, 2)
    attrs = [(1, "payment_method", "card"), (2, "payment_method", "card"), (3, "payment_method", "cash"),
             (4, "payment_method", "cash"), (2, "streaming", "yes"), (4, "streaming", "yes")]
    path = build_database(tmp_path / "attrs.duckdb", customers,
                          extra_tables={"customer_attributes": (ATTRIBUTES, [
                              {"customer_id": c, "attribute": a, "value": v} for c, a, v in attrs])})
    database = open_database(path)
    yield database
    database.close()


def _flt(**kw) -> RetentionFilter:
    return RetentionFilter(date(2024, 1, 1), date(2024, 12, 31), **kw)


def test_the_sidebar_offers_each_attribute_with_its_values(db) -> None:
    assert catalog.custom_attributes(db) == {"payment_method": ["card", "cash"], "streaming": ["yes"]}


def test_an_attribute_filter_restricts_the_population(db) -> None:
    # card: c1, c2 active at the start; c2 churns → 1 of 2 = 50%. Whole base: 2 of 5 = 40%.
    card = metrics.churn_summary(db, _flt(attributes={"payment_method": ("card",)})).iloc[0]
    assert (card.active_start, card.churned_from_start, card.churn_rate) == (2, 1, 0.5)
    assert metrics.churn_summary(db, _flt()).iloc[0].churn_rate == pytest.approx(0.4)


def test_attributes_combine_with_and_values_with_or(db) -> None:
    # (card or cash) and streaming=yes: c2, c4 — both churn
    both = metrics.churn_summary(db, _flt(attributes={"payment_method": ("card", "cash"),
                                                      "streaming": ("yes",)})).iloc[0]
    assert (both.active_start, both.churned_from_start) == (2, 2)


def test_a_customer_without_the_attribute_is_only_in_all(db) -> None:
    # c5 has no payment_method: in neither card nor cash, in the whole base
    card_or_cash = metrics.active_customers(db, _flt(attributes={"payment_method": ("card", "cash")}))
    assert card_or_cash == 2 and metrics.active_customers(db, _flt()) == 3


def test_cubes_answer_an_attribute_filter_exactly(db) -> None:
    flt = _flt(attributes={"payment_method": ("cash",)})
    counts = CUBES["analytics.metrics.customer_base._signup_churn_counts"]
    assert counts(db, flt, "quarter").equals(counts.live(db, flt, "quarter"))


def test_the_filter_keeps_attributes_sorted_and_hashable() -> None:
    a = _flt(attributes={"b": ("x",), "a": ("y",), "c": ()})
    assert a.attributes == (("a", ("y",)), ("b", ("x",))) and hash(a) == hash(_flt(attributes=a.attributes))


def test_a_file_without_attributes_offers_none(tmp_path) -> None:
    database = open_database(build_database(tmp_path / "plain.duckdb", [{"customer_id": 1, "signup_date": date(2024, 1, 1)}]))
    try:
        assert catalog.custom_attributes(database) == {}
    finally:
        database.close()


def test_labels_for_the_users_own_values_come_from_config(tmp_path, monkeypatch) -> None:
    config = tmp_path / "retention.toml"
    config.write_text('[labels]\n"FO" = "Fiber optic"\n')
    monkeypatch.setenv("RETENTION_CONFIG", str(config))
    assert formatting.label("FO") == "Fiber optic"
    assert formatting.label("small_business") == "Small business"
