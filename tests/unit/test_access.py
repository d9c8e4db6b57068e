"""Roles and what they may see and do (analytics.access; decision 023): every role ×
capability and role × page pair listed by hand from the issue's wording, the order in
which a signed-in user's role is found, and whose at-risk list a URL may open."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import access
from analytics.access import (ASSIGN, CHANGE_SETTINGS, EXPORT_PERSONAL_DATA, GENERATE_SAMPLE, IMPORT_DATA,
                              LOG_ACTIONS, SEE_ALL_LISTS, SEE_PERSONAL_DATA, VIEW_AUDIT_LOG)
from analytics.agents import agent_directory, agent_for_email, directory_from_settings, directory_roles, owner_name

# (capability, manager, agent, team_lead, admin) — written out from issue 16, not derived
CAPABILITY_TABLE = [
    (SEE_PERSONAL_DATA,    False, True,  True,  True),   # manager: no names / phones / e-mails
    (EXPORT_PERSONAL_DATA, False, True,  True,  True),   # agent: export of their list
    (SEE_ALL_LISTS,        True,  False, True,  True),   # agent: own list only
    (LOG_ACTIONS,          False, True,  True,  True),
    (ASSIGN,               False, False, True,  True),   # team lead: assign
    (IMPORT_DATA,          False, False, False, True),   # admin: data import
    (GENERATE_SAMPLE,      False, False, False, True),   # admin: writes on the server
    (CHANGE_SETTINGS,      False, False, False, True),
    (VIEW_AUDIT_LOG,       False, False, False, True),
]

# (page, manager, agent, team_lead, admin)
PAGE_TABLE = [
    ("overview",             True,  False, True,  True),
    ("retention_roi",        True,  False, True,  True),
    ("leadership_report",    True,  False, True,  True),
    ("presentation",         True,  False, True,  True),
    ("churn_funnel",         True,  False, True,  True),
    ("service_signals",      True,  False, True,  True),
    ("retention_by_segment", True,  False, True,  True),
    ("customer_value",       True,  False, True,  True),
    ("data_quality",         True,  False, True,  True),
    ("model",                True,  False, True,  True),
    ("at_risk",              True,  True,  True,  True),
    ("glossary",             True,  True,  True,  True),
    ("setup",                True,  True,  True,  True),
    ("data_import",          False, False, False, True),
    ("audit_log",            False, False, False, True),
]
ROLE_ORDER = ("manager", "agent", "team_lead", "admin")


@pytest.mark.parametrize("row", CAPABILITY_TABLE, ids=[r[0] for r in CAPABILITY_TABLE])
def test_each_role_has_exactly_the_listed_capabilities(row):
    capability, *expected = row
    assert [access.may(role, capability) for role in ROLE_ORDER] == expected
    assert access.may(None, capability) is False  # signed in without a role: nothing


@pytest.mark.parametrize("row", PAGE_TABLE, ids=[r[0] for r in PAGE_TABLE])
def test_each_role_opens_exactly_the_listed_pages(row):
    page, *expected = row
    assert [access.may_open(role, page) for role in ROLE_ORDER] == expected
    assert access.may_open(None, page) is False


def test_every_page_file_has_its_roles_and_unknown_names_are_refused():
    from pathlib import Path

    pages = {p.stem for p in (Path(access.__file__).parents[1] / "pages").glob("*.py") if p.stem != "__init__"}
    assert pages == {r[0] for r in PAGE_TABLE}  # a new page must be added to both tables
    assert access.may_open("admin", "no_such_page") is False
    with pytest.raises(ValueError, match="unknown capability 'fly'"):
        access.may("admin", "fly")


SETTINGS = {
    "emails": {"Dana@Example.com": "admin"},
    "groups": {"retention-agents": "agent", "retention-leads": "team-lead", "management": "Manager"},
}
DIRECTORY_ROLES = {"noa@example.com": "agent", "eli@example.com": "team_lead"}


@pytest.mark.parametrize("email, groups, expected", [
    ("dana@example.com", ["retention-agents"], "admin"),      # the e-mail list wins, any case
    ("eli@example.com", ["management"], "team_lead"),          # then the directory's role
    ("noa@example.com", None, "agent"),
    ("zoe@example.com", ["retention-agents", "retention-leads"], "team_lead"),  # most privileged group
    ("zoe@example.com", "management", "manager"),              # a claim given as one string
    ("zoe@example.com", ["finance"], None),                    # matched by nothing: no role
    (None, [], None),
])
def test_role_for_follows_the_documented_order(email, groups, expected):
    assert access.role_for(email, groups, SETTINGS, DIRECTORY_ROLES) == expected


def test_default_role_and_a_misspelt_role_in_the_settings():
    assert access.role_for("zoe@example.com", ["finance"], {"default_role": "manager"}) == "manager"
    with pytest.raises(ValueError, match="unknown role 'superuser'; use one of: manager, agent, team_lead, admin"):
        access.role_for("x@example.com", None, {"emails": {"x@example.com": "superuser"}})


@pytest.mark.parametrize("role, requested, expected", [
    ("agent", None, ("ret-002", None)),
    ("agent", "ret-002", ("ret-002", None)),
    ("agent", "RET-002", ("ret-002", None)),                  # their own id in another case
    ("agent", "ret-001", ("ret-002", "You can open only your own list; showing yours.")),  # the URL attack
    ("team_lead", "ret-001", ("ret-001", None)),
    ("team_lead", None, (None, None)),                        # the whole ranked list
    ("admin", " ", (None, None)),
    ("manager", "ret-001", ("ret-001", None)),
])
def test_whose_list_a_url_may_open(role, requested, expected):
    assert access.list_owner(role, "ret-002", requested) == expected


def rows(frame: pd.DataFrame) -> list[list]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def test_agents_directory_from_config_names_owners():
    directory = directory_from_settings([
        {"id": "ret-001", "name": "Noa Levi", "email": "Noa@Example.com"},
        {"id": "ret-002", "email": "eli@example.com", "role": "team lead"},
    ])
    assert rows(directory) == [["ret-001", "Noa Levi", "Noa@Example.com", None],
                               ["ret-002", "ret-002", "eli@example.com", "team_lead"]]
    assert owner_name(directory, "ret-001") == "Noa Levi"
    assert owner_name(directory, "ret-999") == "ret-999"    # not listed: the code as stored
    assert owner_name(directory, pd.NA) == ""
    assert agent_for_email(directory, "noa@example.com")["id"] == "ret-001"
    assert agent_for_email(directory, "nobody@example.com") is None
    assert directory_roles(directory) == {"Noa@Example.com": "agent", "eli@example.com": "team_lead"}


@pytest.mark.parametrize("entries, message", [
    ([{"name": "No id"}], "entry 1 has no id"),
    ([{"id": "a"}, {"id": "a"}], "the id 'a' appears twice"),
    (["ret-001"], "entry 1 is not a table"),
    ([{"id": "a", "role": "boss"}], "unknown role 'boss'"),
])
def test_a_bad_directory_entry_is_named(entries, message):
    with pytest.raises(ValueError, match=message):
        directory_from_settings(entries)


def test_agents_table_in_the_database_when_config_has_none(tmp_path):
    from analytics.db import open_database
    from tests.builders import build_database

    path = build_database(tmp_path / "agents.duckdb", extra_tables={"agents": (
        {"agent_id": "varchar", "name": "varchar", "email": "varchar"},
        [{"agent_id": "ret-002", "name": "Eli Cohen", "email": "eli@example.com"},
         {"agent_id": "ret-001", "name": None, "email": None}])})
    db = open_database(path)
    try:
        directory = agent_directory([], db)
        assert rows(directory) == [["ret-001", "ret-001", None, None],
                                   ["ret-002", "Eli Cohen", "eli@example.com", None]]
        # config entries win over the table
        assert agent_directory([{"id": "x", "name": "X"}], db)["id"].tolist() == ["x"]
    finally:
        db.close()
    bare = open_database(build_database(tmp_path / "bare.duckdb"))
    try:
        assert agent_directory([], bare).empty  # no agents table: no directory
    finally:
        bare.close()
