"""Who is using the app and what they may do (issue 16; decision 023): Streamlit's own OIDC
sign-in (`st.login` / `st.user` / `st.logout`, configured by an ``[auth]`` table in
.streamlit/secrets.toml), the role from retention.toml (`analytics.access.role_for`), and
the audit of exports and imports.

With no ``[auth]`` in the secrets the app runs as one local user, an admin, and the
sidebar says so. With it, nothing but the sign-in screen shows until the user signs in,
and a signed-in user without a role sees only a note saying so.

Pages ask `may(capability)` / `may_open(page)`; they never look at the role themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analytics import access, actions, agents, config
from analytics.actions import ActionStoreError
from analytics.config import access_settings
from dashboard import data

LOCAL_USER = "local user"
AUDIT_ERRORS = (ActionStoreError, ValueError)  # the store cannot be opened or refuses the row


@dataclass(frozen=True)
class Viewer:
    """The person using this session.

    ``owner`` is the id stored on the cases they take and in the audit log: their agents-
    directory id when their e-mail is in it, else their e-mail (else name), or `LOCAL_USER`
    without sign-in. ``role`` is None for a signed-in user the settings give no role."""

    owner: str
    name: str
    email: str | None
    role: str | None
    signed_in: bool
    local: bool  # no sign-in configured: the single local user

    @property
    def role_label(self) -> str:
        return access.ROLE_LABELS.get(self.role, "no role") if self.role else "no role"


def auth_configured() -> bool:
    """Whether sign-in is configured: an ``[auth]`` table in Streamlit's secrets."""
    try:
        return bool(st.secrets.get("auth"))
    except FileNotFoundError:  # no secrets file at all (StreamlitSecretNotFoundError)
        return False


def viewer() -> Viewer:
    """This session's user (read per run: `st.user` changes on sign-in and sign-out)."""
    if not auth_configured():
        return Viewer(LOCAL_USER, LOCAL_USER, None, "admin", signed_in=False, local=True)
    user = st.user
    if not user.get("is_logged_in"):
        return Viewer("", "", None, None, signed_in=False, local=False)
    email = user.get("email")
    email = str(email) if email else None
    name = str(user.get("name") or email or "signed-in user")
    settings = access_settings()
    directory = data.agent_directory()
    entry = agents.agent_for_email(directory, email)
    groups = user.get(str(settings.get("group_claim") or access.DEFAULT_GROUP_CLAIM))
    role = access.role_for(email, groups, settings, agents.directory_roles(directory))
    owner = entry["id"] if entry else (email or name)
    return Viewer(owner, entry["name"] if entry else name, email, role, signed_in=True, local=False)


def may(capability: str) -> bool:
    """Whether this session's user has `capability` (analytics.access)."""
    return access.may(viewer().role, capability)


def may_open(page: str) -> bool:
    """Whether this session's user may open ``pages/<page>.py``."""
    return access.may_open(viewer().role, page)


# The page app.py marks default=True: Streamlit gives it the empty URL path.
DEFAULT_PAGE = "overview"


def allowed(sections: dict[str, list]) -> dict[str, list]:
    """The navigation's sections with only the pages (`st.Page`, keyed by their URL path =
    the page file's stem) this user's role may open; empty sections dropped. A page left
    out is not routed at all, so its URL leads to the first allowed page instead."""
    role = viewer().role
    kept = {name: [p for p in pages if access.may_open(role, p.url_path or DEFAULT_PAGE)]
            for name, pages in sections.items()}
    kept = {name: pages for name, pages in kept.items() if pages}
    dropped_default = any(p.url_path == "" for pages in sections.values() for p in pages) \
        and not access.may_open(role, DEFAULT_PAGE)
    if dropped_default and kept:
        # Streamlit serves the default page at "/" only: had the first allowed page become the
        # default, its own URL (/at_risk?agent=…) would answer "Page not found". A hidden
        # default page sends "/" on to the first allowed page instead.
        first = next(iter(kept.values()))[0]
        home = st.Page(lambda: st.switch_page(first), title="Home", url_path="home", default=True,
                       visibility="hidden")
        first_section = next(iter(kept))
        kept[first_section] = [home, *kept[first_section]]
    return kept


def gate() -> Viewer:
    """Run before routing: the sign-in screen (and `st.stop`) while sign-in is configured
    but the user has not signed in, or is signed in without a role; else the viewer."""
    try:
        who = viewer()
    except ValueError as err:  # a role or agent entry in retention.toml that is not one
        st.error(f"The sign-in settings cannot be used: {err}", icon=":material/error:")
        st.stop()
    if who.local or (who.signed_in and who.role):
        return who
    st.title("Retention Radar")
    if not who.signed_in:
        st.write("Sign in to see the retention dashboard.")
        if st.button("Sign in", type="primary", icon=":material/login:", key="auth_login"):
            st.login()
    else:
        st.warning(f"You are signed in as {_escaped(who.email or who.name)}, but no role is given to you. "
                   "Ask an admin to add your e-mail or group to the [access] settings.", icon=":material/lock:")
        if st.button("Sign out", key="auth_logout"):
            st.logout()
    st.stop()
    return who  # not reached


def sidebar_identity(who: Viewer) -> None:
    """Who is working and as what, at the top of the sidebar, with the sign-out button."""
    with st.sidebar:
        if who.local:
            st.caption(f"Working as the single local user ({access.ROLE_LABELS['admin']}): "
                       "no sign-in is configured, so everyone who opens this app is this admin.")
            return
        st.caption(f"Signed in as **{_escaped(who.name)}** ({who.role_label})"
                   + (f" · {_escaped(who.email)}" if who.email and who.email != who.name else ""))
        if st.button("Sign out", key="auth_logout", type="tertiary", icon=":material/logout:"):
            st.logout()


def _escaped(text) -> str:
    from analytics.formatting import md_escape

    return md_escape(text)


# --- audit of exports and imports ------------------------------------------------------------------

def audit(action: str, detail: str, rows: int = 0) -> None:
    """Write one audit row for this session's user (raises when the store cannot take it)."""
    data.audit(viewer().owner, action, detail, rows)


def audited_download(what: str, frame: Callable[[], pd.DataFrame],
                     to_bytes: Callable[[pd.DataFrame], bytes]) -> Callable[[], bytes]:
    """The `data` callable of a `st.download_button` that writes an ``export`` audit row
    (who, `what`, how many rows of `frame()`) when the file is made, i.e. when it is
    downloaded; no file without its audit row. The user and the store are taken now: the
    callable runs outside the script run."""
    def rows_and_payload():
        table = frame()
        return len(table), to_bytes(table)

    return _audited(what, rows_and_payload)


def audited_file(what: str, rows: int, payload: Callable[[], bytes]) -> Callable[[], bytes]:
    """As `audited_download` for a file that is not a table (a deck, a PDF, a mapping):
    `rows` is recorded as given."""
    return _audited(what, lambda: (rows, payload()))


def _audited(what: str, make: Callable[[], tuple[int, bytes]]) -> Callable[[], bytes]:
    # The store is opened when the file is asked for, not when the button is drawn: a page
    # of charts must not create the store (or fail) just by showing its CSV buttons.
    who = viewer().owner
    try:
        url, problem = config.actions_url(), None
    except ValueError as err:
        url, problem = None, str(err)

    def download() -> bytes:
        if url is None:
            raise ActionStoreError(f"exports are written to the audit log, which cannot be opened: {problem}")
        rows, payload = make()
        actions.audit(data.action_store_at(url), who, "export", what, rows)
        return payload

    return download
