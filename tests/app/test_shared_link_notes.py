"""A shared link with values the data does not have opens with a note of what was ignored
(the filter keeps what the data has); see also tests/app/test_overview_page.py."""

from __future__ import annotations

from tests.app.apptest import no_exception, run_page


def test_a_link_filtering_on_a_column_the_data_lacks_says_so(monkeypatch, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, None,
                  {"attr.payment_methd": "card", "region": ["north", "atlantis"], "start": "2026-13-01"})
    no_exception(at)
    assert "ignored" in at.sidebar.warning[0].value
    note = at.sidebar.text[0].value
    assert "the column 'payment_methd' (not in the data)" in note
    assert "region 'atlantis' (not in the data)" in note
    assert "start '2026-13-01' is not a date" in note
    assert at.sidebar.multiselect(key="flt_regions").value == ["north"]  # what the data has is kept
    assert "attr.payment_methd" not in at.query_params  # the URL now says the filter in force
    at.sidebar.multiselect(key="flt_regions").unselect("north").run()
    assert not at.sidebar.warning  # said once, on the run that read the link
