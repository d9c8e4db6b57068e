"""Every page on the data real exports start with: customers and their churn dates only
(no touchpoints, no revenue, history starting after some signups), nobody active at the
period start, one customer. No page raises, and each part that needs missing data says
which, in one line ("… needs monthly revenue … — your data has none."), instead of showing
0 or telling the user to widen a filter that is not the problem."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.app.apptest import run_page
from tests.builders import build_database

PAGES = ["overview.py", "retention_roi.py", "leadership_report.py", "presentation.py", "at_risk.py",
         "churn_funnel.py", "service_signals.py", "retention_by_segment.py", "customer_value.py",
         "data_quality.py", "model.py", "glossary.py"]


def _customer(i: int, signup: date, churn: date | None = None, **kw) -> dict:
    return {"customer_id": i, "signup_date": signup, "churn_date": churn, "full_name": f"Customer {i}",
            "monthly_revenue": None, **kw}


def _customers_only() -> list[dict]:
    rows = []
    for i in range(1, 61):
        signup = date(2022, 1, 1) + timedelta(days=17 * i)  # a third before the history starts
        churn = signup + timedelta(days=200 + 9 * i) if i % 3 == 0 else None
        rows.append(_customer(i, signup, churn if churn and churn <= date(2024, 12, 31) else None,
                              segment=("a", "b", "c")[i % 3]))
    rows.append(_customer(61, date(2024, 1, 15), date(2024, 12, 2)))  # churns on the 2nd
    return rows


@pytest.fixture(scope="module")
def customers_only(tmp_path_factory):
    return build_database(tmp_path_factory.mktemp("partial") / "customers_only.duckdb", _customers_only(),
                          schema_info={"history_start": "2023-01-01"})


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory):
    root = tmp_path_factory.mktemp("degenerate")
    return {
        # everyone signed up in the last fortnight: nobody active at any period start
        "nobody_active": build_database(root / "nobody.duckdb",
                                        [_customer(i, date(2024, 12, 20)) for i in range(1, 5)]),
        "one_customer": build_database(root / "one.duckdb", [_customer(1, date(2023, 5, 2), date(2024, 3, 2))]),
    }


def _notes(at) -> str:
    return " ".join(x.value for x in list(at.caption) + list(at.info) + list(at.warning))


@pytest.mark.parametrize("page", PAGES)
def test_customers_only_pages_render(monkeypatch, customers_only, page) -> None:
    at = run_page(monkeypatch, customers_only, page)
    assert not at.exception, [e.message for e in at.exception]


@pytest.mark.parametrize("page,part", [
    ("customer_value.py", "Customer value needs monthly revenue"),
    ("churn_funnel.py", "The churn funnel needs cancellation requests"),
    ("service_signals.py", "Service & signals needs service contacts"),
    ("retention_roi.py", "Programme ROI needs cancellation requests"),
    ("retention_roi.py", "The what-if needs monthly revenue"),
])
def test_each_part_says_which_data_it_needs(monkeypatch, customers_only, page, part) -> None:
    at = run_page(monkeypatch, customers_only, page)
    notes = _notes(at)
    assert part in notes and "your data has none" in notes, notes
    assert "Widen" not in notes  # the filter is not what is missing


def test_customer_value_shows_no_zero_clv_without_revenue(monkeypatch, customers_only) -> None:
    at = run_page(monkeypatch, customers_only, "customer_value.py")
    assert not [m for m in at.metric if "CLV" in m.label]  # before: "Average historical CLV ₪0"


def test_overview_counts_what_churn_dates_give(monkeypatch, customers_only) -> None:
    at = run_page(monkeypatch, customers_only, "overview.py")
    values = {m.label: m.value for m in at.metric}
    assert values["Active customers"] != "—" and values["Logo churn"] != "—"
    assert values["Net revenue retention"] == "—"  # needs revenue: not 0%
    assert "MRR" not in values  # not ₪0: one line instead
    assert "MRR, ARR, ARPA and the MRR movements need monthly revenue per customer — the data has none." \
        in _notes(at)


@pytest.mark.parametrize("name", ["nobody_active", "one_customer"])
@pytest.mark.parametrize("page", PAGES)
def test_degenerate_selections_render(monkeypatch, degenerate, name, page) -> None:
    at = run_page(monkeypatch, degenerate[name], page)
    assert not at.exception, [e.message for e in at.exception]
