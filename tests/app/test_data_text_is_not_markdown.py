"""AppTest: text from the data (customer names, phones, e-mails, owners, drivers, notes) is
never rendered as Markdown — a crafted value shows as typed, not as a tracking image, a
live link, coloured text, KaTeX or HTML (issue 16). Pages that show customer or note text:
At-risk customers (customer 360) and Service & signals (example notes)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from analytics import formatting as fmt
from analytics.schema import OPTIONAL_TABLES
from tests.app.apptest import no_exception, run_page
from tests.builders import build_database
from tests.unit.test_at_risk_list import score

CRAFTED = "![x](http://host/track.png) [ext](http://evil) :red[boom] $x^2$ <b>b</b>"
# a construct of CRAFTED left live: `](http`, `![x`, `:red[boom`, `$x^2`, `<b>` not preceded
# by a backslash (the app's own links are relative, `[Definition](glossary?term=…)`)
LIVE = re.compile(r"(?<!\\)\]\(http|(?<!\\)!(?<!\\)\[x|(?<!\\):red(?<!\\)\[boom|(?<!\\)\$x\^2|(?<!\\)<b>")
AS_OF = date(2024, 12, 31)


def markdown_texts(at) -> list[str]:
    """Every value on the page Streamlit renders as Markdown: text elements, alerts, metric
    labels / values / deltas / help, widget labels and help, expander labels."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        texts += [e.value for e in getattr(at, kind)]
    for m in at.metric:
        texts += [m.label, m.value, m.delta or "", m.proto.help or ""]
    for kind in ("selectbox", "multiselect", "slider", "button", "text_input", "radio"):
        for w in getattr(at, kind):
            texts += [w.label or "", w.help or ""]
    texts += [e.proto.label for e in at.get("expandable")]
    return [t for t in texts if isinstance(t, str)]


def assert_escaped(at) -> list[str]:
    texts = markdown_texts(at)
    live = [t for t in texts if LIVE.search(t)]
    assert not live, live
    return texts


@pytest.fixture(scope="module")
def crafted_db(tmp_path_factory):
    customers = [
        {"customer_id": 1, "full_name": CRAFTED, "phone": "050-1234567", "email": "[a](http://evil)@x.com",
         "account_owner": CRAFTED, "segment": "consumer", "signup_date": date(2023, 1, 1), "monthly_revenue": 100.0},
        {"customer_id": 2, "full_name": "Dana Levi", "segment": "consumer", "signup_date": date(2023, 1, 1)},
    ]
    touchpoints = [
        {"customer_id": 1, "occurred_at": "2024-12-01 10:00:00", "kind": "complaint",
         "note": f"wants to cancel {CRAFTED}", "agent": CRAFTED},
        {"customer_id": 2, "occurred_at": "2024-11-01 10:00:00", "kind": "service_request",
         "note": "asked about the bill"},
    ]
    scores = [score(1, AS_OF, 0.5, 1000, ("complaints", None, None), texts=(f"complaints: {CRAFTED}", None, None)),
              score(2, AS_OF, 0.2, 1000, rank=2)]
    return build_database(
        tmp_path_factory.mktemp("crafted") / "crafted.duckdb", customers=customers, touchpoints=touchpoints,
        monthly_revenue=[{"customer_id": 1, "month": date(2024, 12, 1), "mrr": 100.0}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2023-01-01"},
        extra_tables={"churn_scores": (OPTIONAL_TABLES["churn_scores"], scores)},
    )


def test_md_escape_shows_the_crafted_text_as_typed():
    escaped = fmt.md_escape(CRAFTED)
    assert escaped == (r"\!\[x\]\(http\://host/track\.png\) \[ext\]\(http\://evil\) \:red\[boom\] "
                       r"\$x^2\$ \<b\>b\</b\>")
    assert not LIVE.search(escaped)
    assert fmt.md_escape("line\nbreak # not a heading") == r"line break \# not a heading"
    assert fmt.md_escape(None) == "—"
    assert fmt.plotly_text('<a href="http://evil">x</a> & co') == '&lt;a href="http://evil"&gt;x&lt;/a&gt; &amp; co'


def test_customer_360_escapes_name_contact_owner_drivers(monkeypatch, crafted_db):
    at = run_page(monkeypatch, crafted_db, "at_risk.py")
    no_exception(at)
    # the list itself is a dataframe: the name as typed
    assert CRAFTED in at.dataframe[0].value["Customer"].tolist()
    at.selectbox(key="at_risk_customer").set_value(1).run()
    no_exception(at)
    texts = assert_escaped(at)
    escaped = fmt.md_escape(CRAFTED)
    assert f"### {escaped} · #1" in texts
    caption = next(t for t in texts if "☎" in t)
    assert f"owner {escaped}" in caption and fmt.md_escape("✉ [a](http://evil)@x.com") in caption
    assert any(t.startswith("**Why the model flags this customer:** " + fmt.md_escape(f"complaints: {CRAFTED}"))
               for t in texts)
    # the timeline's note and agent are in a dataframe (plain text), as typed
    timeline = at.dataframe[-1].value
    assert timeline["Note"].tolist() == [f"wants to cancel {CRAFTED}"]
    assert timeline["Agent"].tolist() == [CRAFTED]


def test_service_signals_notes_are_plain_text(monkeypatch, crafted_db):
    at = run_page(monkeypatch, crafted_db, "service_signals.py")
    no_exception(at)
    assert_escaped(at)
    notes = [v for df in at.dataframe if "Note" in df.value.columns for v in df.value["Note"].tolist()]
    assert f"wants to cancel {CRAFTED}" in notes


def test_chart_categories_and_titles_are_plain_text_in_plotly():
    # plotly reads a subset of HTML in titles, ticks, legends and hover text
    import plotly.graph_objects as go

    from charts.theme import base

    link = '<a href="http://evil">x</a>'
    fig = base(go.Figure(), f"{link} churns most", "by segment")
    assert fig.layout.title.text.replace("<br>", " ") == '&lt;a href="http://evil"&gt;x&lt;/a&gt; churns most'
    assert fmt.chart_label(link) == '&lt;a href="http://evil"&gt;x&lt;/a&gt;'
