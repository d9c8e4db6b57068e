"""Who may see and do what (issue 16, "Sign-in, roles, personal data"; decision 023).

Pure functions, no Streamlit: the dashboard asks `may(role, capability)` and
`may_open(role, page)`, and `role_for(...)` turns a signed-in user's e-mail and group claim
into a role with the `[access]` settings of retention.toml and the agents directory.

Roles (`ROLES`):

- **manager** — every KPI page and the at-risk list's numbers, but no customer names,
  phones, e-mails or free-text notes, no case actions and no export of personal data;
- **agent** (a retention agent) — the at-risk page limited to *their own* list (the open
  cases they own) plus any customer they search; log actions on those, take a case;
  export their own list;
- **team_lead** — every page but the admin ones; any agent's list and the whole ranked
  list; assign; export;
- **admin** — everything: the data import, the sample generator, settings, the audit log.

With no sign-in configured the app runs as one local user, who is an admin (the person
running it on their own machine owns the data already).

Role of a signed-in user (first hit wins): the e-mail in `[access.emails]`; the agents
directory entry with that e-mail (its ``role``, "agent" when it names none); the groups of
the group claim in `[access.groups]` (the most privileged of the matches, `ROLE_RANK`);
`[access] default_role`; else no role — the user is told so and sees nothing. E-mails
compare case-insensitively; group names exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ROLES: tuple[str, ...] = ("manager", "agent", "team_lead", "admin")
ROLE_LABELS: dict[str, str] = {"manager": "Manager", "agent": "Retention agent", "team_lead": "Team lead",
                               "admin": "Admin"}
# when several groups match: the most privileged wins (admin > team lead > manager > agent)
ROLE_RANK: dict[str, int] = {"agent": 0, "manager": 1, "team_lead": 2, "admin": 3}
DEFAULT_GROUP_CLAIM = "groups"

# --- capabilities ------------------------------------------------------------------------------
SEE_PERSONAL_DATA = "see_personal_data"      # names, phones, e-mails, notes of customers
EXPORT_PERSONAL_DATA = "export_personal_data"  # the at-risk list's CSV / Excel (phones in it)
SEE_ALL_LISTS = "see_all_lists"              # the whole ranked list and any agent's list
LOG_ACTIONS = "log_actions"                  # record an action on a case, take a case
ASSIGN = "assign"                            # give cases to someone else (bulk or one)
IMPORT_DATA = "import_data"                  # the Data page's import (replaces the analytics file)
GENERATE_SAMPLE = "generate_sample"          # the set-up page's "Generate the sample database"
CHANGE_SETTINGS = "change_settings"
VIEW_AUDIT_LOG = "view_audit_log"

CAPABILITIES: dict[str, frozenset[str]] = {
    "manager": frozenset({SEE_ALL_LISTS}),
    "agent": frozenset({SEE_PERSONAL_DATA, EXPORT_PERSONAL_DATA, LOG_ACTIONS}),
    "team_lead": frozenset({SEE_PERSONAL_DATA, EXPORT_PERSONAL_DATA, SEE_ALL_LISTS, LOG_ACTIONS, ASSIGN}),
    "admin": frozenset({SEE_PERSONAL_DATA, EXPORT_PERSONAL_DATA, SEE_ALL_LISTS, LOG_ACTIONS, ASSIGN,
                        IMPORT_DATA, GENERATE_SAMPLE, CHANGE_SETTINGS, VIEW_AUDIT_LOG}),
}

# --- pages (by the page file's stem, which is also its URL path) --------------------------------
KPI_PAGES: tuple[str, ...] = (
    "overview", "retention_roi", "leadership_report", "presentation", "churn_funnel", "service_signals",
    "retention_by_segment", "customer_value", "data_quality", "model",
)
PAGES: dict[str, frozenset[str]] = {
    **{name: frozenset({"manager", "team_lead", "admin"}) for name in KPI_PAGES},
    "at_risk": frozenset(ROLES),
    "glossary": frozenset(ROLES),
    "data_import": frozenset({"admin"}),
    "setup": frozenset(ROLES),  # shown without a database; its button asks `GENERATE_SAMPLE`
    "audit_log": frozenset({"admin"}),
}


def check_role(role: str) -> str:
    """`role` as stored ("Team lead" and "team-lead" are "team_lead"); `ValueError` naming
    the roles when it is not one of them."""
    name = str(role).strip().lower().replace(" ", "_").replace("-", "_")
    if name not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    return name


def may(role: str | None, capability: str) -> bool:
    """Whether `role` has `capability` (`CAPABILITIES`); no role has none."""
    if capability not in {c for caps in CAPABILITIES.values() for c in caps}:
        raise ValueError(f"unknown capability {capability!r}")
    return role is not None and capability in CAPABILITIES.get(role, frozenset())


def may_open(role: str | None, page: str) -> bool:
    """Whether `role` may open the page whose file is ``pages/<page>.py`` (`PAGES`). A page
    not listed is refused: a new page must be given its roles."""
    return role is not None and role in PAGES.get(page, frozenset())


def list_owner(role: str | None, me: str, requested: str | None) -> tuple[str | None, str | None]:
    """Whose at-risk list a user sees, and a one-line note when their request was refused.

    `me` is the user's owner id (the directory id, else their e-mail); `requested` the agent
    id asked for (e.g. the ``agent`` URL parameter), None or "" for none. Returns (owner,
    note): owner None = the whole ranked list. An agent always gets their own list — asking
    for another agent's is refused with a note; a role that may see all lists gets the
    requested agent's list, or the whole list when none is asked."""
    wanted = (requested or "").strip() or None
    if may(role, SEE_ALL_LISTS):
        return wanted, None
    if role is None:
        return me, None
    if wanted is not None and wanted.casefold() != me.casefold():
        return me, "You can open only your own list; showing yours."
    return me, None


def role_for(email: str | None, groups: Iterable[str] | str | None, access: Mapping,
             directory_roles: Mapping[str, str] | None = None) -> str | None:
    """The role of a signed-in user (module docstring for the order), or None.

    `access` is the `[access]` table (keys ``emails``: e-mail -> role, ``groups``: group ->
    role, ``default_role``); `directory_roles` maps an agents-directory e-mail to its role.
    `groups` is the group claim's value (a list, or one string). Raises `ValueError` for a
    role name that is not one of `ROLES` in the settings."""
    mail = (email or "").strip().casefold()
    emails = {str(k).strip().casefold(): v for k, v in dict(access.get("emails", {})).items()}
    if mail and mail in emails:
        return check_role(emails[mail])
    directory = {str(k).strip().casefold(): v for k, v in dict(directory_roles or {}).items()}
    if mail and mail in directory:
        return check_role(directory[mail] or "agent")
    if isinstance(groups, str):
        groups = [groups]
    by_group = dict(access.get("groups", {}))
    matched = [check_role(by_group[g]) for g in (groups or []) if isinstance(g, str) and g in by_group]
    if matched:
        return max(matched, key=ROLE_RANK.__getitem__)
    default = access.get("default_role")
    return check_role(default) if default else None
