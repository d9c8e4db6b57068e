"""The sidebar offers the export's own customer columns (custom attributes) as filters,
reads them from a shared link (`attr.<name>`) and every figure follows them."""

from __future__ import annotations

from datetime import date

from tests.app.apptest import metric_values, run_page
from tests.builders import build_database

ATTRIBUTES = {"customer_id": "BIGINT", "attribute": "VARCHAR", "value": "VARCHAR"}


def _database(tmp_path):
    # active on 2024-12-31: c1 (card), c3 (cash), c5 (no payment method); c2 (card) churned
    customers = [{"customer_id": i, "signup_date": date(2023, 3, i)} for i in range(1, 6)]
    customers[1]["churn_date"] = date(2024, 5, 2)
    customers[3]["churn_date"] = date(2024, 6, 2)
    rows = [(1, "card"), (2, "card"), (3, "cash"), (4, "cash")]
    return build_database(tmp_path / "attrs.duckdb", customers, extra_tables={"customer_attributes": (
        ATTRIBUTES, [{"customer_id": c, "attribute": "payment_method", "value": v} for c, v in rows])})


def test_a_shared_link_with_an_attribute_filters_every_figure(monkeypatch, tmp_path) -> None:
    path = _database(tmp_path)
    everyone = run_page(monkeypatch, path, "overview.py")
    assert metric_values(everyone)["Active customers"] == "3"
    card = run_page(monkeypatch, path, "overview.py", {"attr.payment_method": "card"})
    assert not card.exception
    box = card.sidebar.multiselect(key="flt_attr:payment_method")
    assert box.label == "Payment method" and box.value == ["card"]
    assert metric_values(card)["Active customers"] == "1"
    assert card.query_params["attr.payment_method"] in ("card", ["card"])  # AppTest keeps one value bare


def test_choosing_an_attribute_in_the_sidebar_filters(monkeypatch, tmp_path) -> None:
    at = run_page(monkeypatch, _database(tmp_path), "overview.py")
    at.sidebar.multiselect(key="flt_attr:payment_method").select("cash").run()
    assert metric_values(at)["Active customers"] == "1"
