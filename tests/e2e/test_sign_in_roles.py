"""Sign-in and roles in headless Chromium (issue 16; decision 023): a real Streamlit server
whose secrets point `st.login` at an OpenID Connect provider run inside this test
(tests/e2e/oidc_provider.py), users signed in through it as each role, and what each one
sees and cannot reach — pages, the at-risk list's personal columns, export buttons, the
``?agent=`` link to another agent's list — plus the audit of an export."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from analytics import actions
from tests.e2e.conftest import _free_port, assert_no_error, screenshot, start_server, stop_server, wait_until_idle
from tests.e2e.oidc_provider import OIDCProvider, Person, secrets_toml

pytestmark = pytest.mark.e2e

ADMIN = Person("admin@example.com", "Ada Admin")
MANAGER = Person("mia@example.com", "Mia Manager", ["managers"])
AGENT = Person("noa@example.com", "Noa Levi")                  # an agent through the directory
LEAD = Person("lea@example.com", "Lea Lead", ["retention-leads"])
STRANGER = Person("zed@example.com", "Zed Nobody", ["finance"])  # matched by nothing: no role

RETENTION_TOML = """
[access]
group_claim = "groups"
[access.emails]
"admin@example.com" = "admin"
[access.groups]
"managers" = "manager"
"retention-leads" = "team_lead"

[[team.agents]]
id = "ret-000"
name = "Noa Levi"
email = "noa@example.com"

[[team.agents]]
id = "ret-001"
name = "Eli Cohen"
email = "eli@example.com"
"""
KPI_PAGES = ("Overview", "Churn funnel", "Customer value")
ADMIN_PAGES = ("Import your data", "Audit log")


@pytest.fixture(scope="module")
def signin_app(e2e_db, tmp_path_factory):
    """(base URL, action store URL) of a server with sign-in configured."""
    folder = tmp_path_factory.mktemp("signin")
    provider = OIDCProvider([ADMIN, MANAGER, AGENT, LEAD, STRANGER]).start()
    port = _free_port()
    (folder / "secrets.toml").write_text(secrets_toml(provider, port))
    (folder / "retention.toml").write_text(RETENTION_TOML)
    store_url = f"sqlite:///{folder / 'actions.sqlite'}"
    proc, url = start_server(e2e_db, folder / "streamlit.log", config=folder / "retention.toml", port=port,
                             args=("--secrets.files", str(folder / "secrets.toml")),
                             env_extra={"RETENTION_ACTIONS_URL": store_url})
    yield url, store_url
    stop_server(proc)
    provider.stop()


def sign_in(page, url: str, who: Person) -> None:
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=f"Sign in as {who.email}").click()  # the provider's page
    page.wait_for_url(lambda u: u.startswith(url) and "oauth2callback" not in u, timeout=30_000)  # back home
    wait_until_idle(page)


def nav_links(page) -> list[str]:
    """The navigation's page titles (each link's text is its icon's name, then the title)."""
    return [t.strip().splitlines()[-1].strip() for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def open_page(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    wait_until_idle(page)


def assert_page_found(page) -> None:
    expect(page.get_by_text("Page not found")).to_have_count(0)


def table_columns(page) -> list[str]:
    """The column headers of the first table (the grid's accessible header cells)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid.locator('[role="columnheader"]').first).to_be_attached(timeout=30_000)
    return [t.strip() for t in grid.locator('[role="columnheader"]').all_text_contents()]


def test_sign_in_is_required_and_a_user_without_a_role_sees_nothing(page, signin_app):
    url, _ = signin_app
    page.goto(url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    assert nav_links(page) == []  # nothing routed before sign-in
    sign_in(page, url, STRANGER)
    expect(page.get_by_text("no role is given to you")).to_be_visible()
    assert nav_links(page) == []
    open_page(page, url, "at_risk")
    expect(page.locator("h1", has_text="At-risk customers")).to_have_count(0)
    assert_no_error(page)


def test_manager_sees_kpis_without_personal_data_or_admin_pages(page, signin_app):
    url, _ = signin_app
    sign_in(page, url, MANAGER)
    links = nav_links(page)
    assert set(KPI_PAGES) <= set(links) and "At-risk customers" in links
    assert not set(ADMIN_PAGES) & set(links)
    expect(page.get_by_text("Signed in as Mia Manager (Manager)")).to_be_visible()
    open_page(page, url, "at_risk")
    expect(page.locator("h1", has_text="At-risk customers")).to_be_visible()
    columns = table_columns(page)
    assert "ID" in columns and "Risk" in columns and "Customer" not in columns
    expect(page.get_by_role("button", name="Export CSV")).to_have_count(0)
    expect(page.get_by_role("button", name="Export Excel")).to_have_count(0)
    expect(page.get_by_text("Find any customer")).to_have_count(0)
    screenshot(page, "signin-manager-at-risk")
    for path in ("data_import", "audit_log"):  # not routed: the URL lands elsewhere
        open_page(page, url, path)
        expect(page.locator("h1", has_text=re.compile("Import your data|Audit log"))).to_have_count(0)
    assert_no_error(page)


def test_agent_sees_own_list_exports_it_and_cannot_open_another_agents(page, signin_app, tmp_path):
    url, store_url = signin_app
    sign_in(page, url, AGENT)
    links = nav_links(page)
    assert "At-risk customers" in links and not set(KPI_PAGES) & set(links)
    assert not set(ADMIN_PAGES) & set(links)
    open_page(page, url, "at_risk?agent=ret-001")  # the URL attack: Eli's list
    expect(page.get_by_text("You can open only your own list; showing yours.")).to_be_visible()
    assert_page_found(page)  # the agent's at-risk page answers at its own URL
    assert "Customer" in table_columns(page)
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
    expect(page.get_by_text("Assign these customers")).to_have_count(0)  # assigning is the team lead's
    screenshot(page, "signin-agent-at-risk")
    page.get_by_role("radio", name="For a dialer or CRM").click()  # the machine layout: an `owner` column
    wait_until_idle(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    exported = pd.read_csv(path)
    assert len(exported) > 0 and set(exported["owner"]) == {"ret-000"}  # Noa's customers only
    store = actions.open_store(store_url)
    try:
        audit = actions.audit_entries(store, actor="ret-000", action="export")
    finally:
        store.close()
    assert audit["row_count"].tolist() == [len(exported)]
    assert audit["detail"].iloc[0].endswith("(the list of ret-000)")
    assert_no_error(page)


def test_team_lead_opens_an_agents_list_by_name_and_assigns(page, signin_app):
    url, _ = signin_app
    sign_in(page, url, LEAD)
    links = nav_links(page)
    assert set(KPI_PAGES) <= set(links) and not set(ADMIN_PAGES) & set(links)
    open_page(page, url, "at_risk?agent=ret-001")
    expect(page.get_by_text("The list of Eli Cohen, from the link.")).to_be_visible()
    expect(page.get_by_text("You can open only your own list")).to_have_count(0)
    expect(page.get_by_text("Assign these customers")).to_be_visible()
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
    assert_no_error(page)


def test_admin_reaches_import_and_the_audit_log(page, signin_app):
    url, store_url = signin_app
    store = actions.open_store(store_url)
    try:  # a crafted entry: the page shows text, never Markdown
        actions.audit(store, "ret-009", "export", "![x](http://host/track.png) :red[x]", 3)
    finally:
        store.close()
    sign_in(page, url, ADMIN)
    links = nav_links(page)
    assert set(ADMIN_PAGES) <= set(links) and set(KPI_PAGES) <= set(links)
    open_page(page, url, "audit_log")
    expect(page.locator("h1", has_text="Audit log")).to_be_visible()
    assert table_columns(page)[:5] == ["When (UTC)", "User", "Kind", "What", "Rows"]
    assert page.locator('img[src*="host/track.png"]').count() == 0
    screenshot(page, "signin-admin-audit-log")
    open_page(page, url, "data_import")
    expect(page.locator("h1", has_text="Import your data")).to_be_visible()
    assert_no_error(page)
