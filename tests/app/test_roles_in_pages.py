"""AppTest: what writes on the server is for the admin role only (issue 16; decision 023) —
the set-up page's "Generate the sample database" and the Data page's import — with the
session's user replaced by a signed-in non-admin (dashboard.auth.viewer), and the local
single user (no sign-in configured) being an admin who may."""

from __future__ import annotations

import pytest

from dashboard import auth
from tests.app.apptest import run_page
from tests.builders import build_database


def as_role(monkeypatch, role: str) -> None:
    who = auth.Viewer("ret-000", "Noa Levi", "noa@example.com", role, signed_in=True, local=False)
    monkeypatch.setattr(auth, "viewer", lambda: who)


@pytest.mark.parametrize("role", ["manager", "agent", "team_lead"])
def test_only_an_admin_may_generate_the_sample(monkeypatch, tmp_path, role):
    as_role(monkeypatch, role)
    at = run_page(monkeypatch, tmp_path / "missing.duckdb")
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Retention Radar needs a database"
    assert not at.main.button  # no button that writes a file on the server (the sidebar has Sign out)
    assert any("Only an admin can generate the sample" in i.value for i in at.info)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_local_user_is_an_admin_and_may_generate_it(monkeypatch, tmp_path):
    at = run_page(monkeypatch, tmp_path / "missing.duckdb")
    assert [b.label for b in at.button] == ["Generate the sample database"]
    assert any("single local user (Admin)" in c.value for c in at.sidebar.caption)


def test_the_import_page_refuses_a_team_lead(monkeypatch, tmp_path):
    path = build_database(tmp_path / "radar.duckdb")
    as_role(monkeypatch, "team_lead")
    monkeypatch.setenv("RETENTION_DB", str(path))
    from streamlit.testing.v1 import AppTest

    from tests.app.apptest import APP

    # not in the navigation for this role; the page checks again when reached anyway
    at = AppTest.from_file(str(APP).replace("dashboard/app.py", "pages/data_import.py"), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "admins only" in at.error[0].value
    assert not at.get("file_uploader")
