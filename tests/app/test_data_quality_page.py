"""AppTest: the Data quality page — checks, examples and 1-10-100 costs."""

from __future__ import annotations


from analytics.filters import RetentionFilter
from analytics.metrics import data_quality_report
from analytics import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, no_match_database, run_page

PAGE = "data_quality.py"


def test_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Data quality"
    values = metric_values(at)
    assert list(values) == ["Customer records checked", "Failures found", "Cost to fix now",
                            "Cost if they cause failures"]
    flt = default_filter(sample_db_path)
    report = data_quality_report(sample_db, RetentionFilter(flt.end, flt.end))
    assert values["Failures found"] == fmt.count(report["failing"].sum())
    assert values["Cost to fix now"] == fmt.money(report["correction_cost"].sum())
    assert chart_count(at) == 1
    table = at.dataframe[0].value
    assert {"Check", "Failing", "Rate", "Examples", "Correct now (×10)"} <= set(table.columns)
    assert len(table) == len(report)
    assert (table["Check"] == "Missing email").any()  # labelled, not snake_case


def test_page_states_the_duplicate_policy(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    # the generator plants 1% copies (100 of the 10,000 sample customers, each a copy of a
    # record with a lower id and no history of its own, recorded in injected_defects); the
    # check finds those whose e-mail or phone still matches (a copy that also drew a broken
    # e-mail and phone cannot be matched: 99 or 100 depending on the draw), and the page's
    # count is exactly the check's (whole file)
    planted = int(sample_db.cursor().execute(
        "select count(*) from injected_defects where defect = 'duplicate_customer'").fetchone()[0])
    assert planted == 100
    flt = default_filter(sample_db_path)
    report = data_quality_report(sample_db, RetentionFilter(flt.end, flt.end)).set_index("check")
    found = int(report.loc["duplicate_customer", "failing"])
    assert planted - 3 <= found <= planted
    expected = (f"{found} duplicate customer records are counted once (policy: records with the same name and "
                "e-mail, or the same name and valid phone, are one person; of each group the record with the "
                "lowest customer id is kept and the others are left out of every KPI, with their 0 contacts "
                "and 0 revenue months).")
    assert any(c.value.startswith(expected) for c in at.caption)


def test_unit_cost_and_filter(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    at.number_input(key="dq_unit_cost").set_value(10.0).run()
    no_exception(at)
    flt = default_filter(sample_db_path)
    report = data_quality_report(sample_db, RetentionFilter(flt.end, flt.end), unit_cost=10.0)
    assert metric_values(at)["Cost to fix now"] == fmt.money(report["correction_cost"].sum())
    everyone = metric_values(at)["Customer records checked"]
    at.sidebar.multiselect(key="flt_regions").select("north").run()
    no_exception(at)
    assert metric_values(at)["Customer records checked"] != everyone


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = no_match_database(tmp_path)
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No customers match these filters" in at.info[0].value
    assert chart_count(at) == 0
