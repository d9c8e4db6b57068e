"""AppTest: the Customer value page — CLV distribution, Pareto, tiers, CLV : CAC."""

from __future__ import annotations

import json


from analytics.filters import RetentionFilter
from analytics.metrics import clv_pareto, history_truncation, predicted_clv_quantiles
from analytics import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, no_match_database, run_page

PAGE = "customer_value.py"


def test_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Customer value"
    values = metric_values(at)
    assert list(values) == ["Average historical CLV", "Median historical CLV", "Value held by the top 20%",
                            "CLV : acquisition cost"]
    flt = default_filter(sample_db_path)
    pareto = clv_pareto(sample_db, RetentionFilter(flt.end, flt.end))
    assert values["Average historical CLV"] == fmt.money(pareto.total_clv / pareto.customers)
    assert values["Value held by the top 20%"] == fmt.percent(pareto.top_value_share, 0)
    # CLV by segment, Pareto curve, value tiers, CLV : CAC
    assert chart_count(at) == 4
    assert any("python -m analytics.score" in c.value for c in at.caption)
    assert "Predicted CLV by segment" not in [s.value for s in at.subheader]
    # the generator plants customers who signed up before the history starts: say so
    truncation = history_truncation(sample_db, RetentionFilter(flt.end, flt.end))
    assert 0 < truncation.truncated < truncation.customers
    caption = next(c.value for c in at.caption if "signed up before the history starts" in c.value)
    assert caption.startswith(f"{truncation.share:.0%} of these customers signed up before the history starts "
                              f"({truncation.history_start:%Y-%m-%d}); their historical CLV counts only the margin")


def test_predicted_clv_from_the_scores(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    no_exception(at)
    # CLV by segment, predicted CLV by segment, Pareto curve, value tiers, CLV : CAC
    assert chart_count(at) == 5
    assert "Predicted CLV by segment" in [s.value for s in at.subheader]
    flt = default_filter(scored_db_path)
    scored = predicted_clv_quantiles(scored_db, RetentionFilter(flt.end, flt.end))
    caption = next(c.value for c in at.caption if c.value.startswith("Churn scores as of"))
    assert f"{scored['scored_as_of'].iloc[0]:%d %b %Y}" in caption
    assert f"{fmt.count(scored['customers'].iloc[0])} active customers" in caption
    assert not any("python -m analytics.score" in c.value for c in at.caption)

    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    no_exception(at)
    ent = predicted_clv_quantiles(scored_db, RetentionFilter(flt.end, flt.end, segments=("enterprise",)))
    caption = next(c.value for c in at.caption if c.value.startswith("Churn scores as of"))
    assert f"{fmt.count(ent['customers'].iloc[0])} active customers" in caption
    median = ent.loc[ent["quantile"] == 0.5, "clv_predicted"].iloc[0]
    title = json.loads(at.get("plotly_chart")[1].proto.spec)["layout"]["title"]["text"]
    assert "Enterprise" in title and fmt.money(median) in title


def test_top_share_slider_and_filter(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    at.slider(key="value_top_share").set_value(10).run()
    no_exception(at)
    flt = default_filter(sample_db_path)
    top10 = clv_pareto(sample_db, RetentionFilter(flt.end, flt.end), 0.1)
    assert metric_values(at)["Value held by the top 10%"] == fmt.percent(top10.top_value_share, 0)
    everyone = metric_values(at)["Average historical CLV"]
    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    no_exception(at)
    ent = clv_pareto(sample_db, RetentionFilter(flt.end, flt.end, segments=("enterprise",)))
    assert metric_values(at)["Average historical CLV"] == fmt.money(ent.total_clv / ent.customers) != everyone
    at.selectbox(key="value_cac_by").set_value("acquisition_channel").run()
    no_exception(at)
    assert "Acquisition channel" in at.dataframe[-1].value.columns


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = no_match_database(tmp_path)
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No customers match these filters" in at.info[0].value
    assert chart_count(at) == 0
