"""The sidebar filters every page shares, bound to the URL's query string.

The widgets are drawn by the entry script on every run, so their state survives page
switches; their values are mirrored into `st.query_params` so a filtered view can be
shared as a link, and read back from the URL the first time a session starts.
URL keys: `start`, `end` (ISO dates), and repeated `segment`, `region`, `plan`, `channel`,
and `attr.<name>` for a custom attribute (the export's own customer columns).
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from analytics.filters import RetentionFilter
from analytics import formatting

# (URL key, session-state key, RetentionFilter field, label, dimension_values key)
DIMENSIONS = (
    ("segment", "flt_segments", "segments", "Segment", "segments"),
    ("region", "flt_regions", "regions", "Region", "regions"),
    ("plan", "flt_plans", "plans", "Plan", "plans"),
    ("channel", "flt_channels", "channels", "Contact channel", "channels"),
)
PERIOD_KEY = "flt_period"
ATTRIBUTE_STATE = "flt_attr:"  # + attribute name: the session-state key of its multiselect
ATTRIBUTE_URL = "attr."  # + attribute name: its URL key
DEFAULT_PERIOD_DAYS = 365


def label(value: str) -> str:
    """'small_business' -> 'Small business' (values stay raw in the URL and the filter)."""
    return formatting.label(value)


IGNORED_KEY = "flt_ignored"  # what a shared link asked for that the data does not have


def _parse_date(text: str | None, fallback: date, low: date, high: date, ignored: list[str], name: str) -> date:
    """The URL's date `text` within [low, high]; a date that does not parse falls back, one
    outside the data's span is moved to its edge — either way `ignored` says so."""
    if not text:
        return fallback
    try:
        value = date.fromisoformat(text)
    except ValueError:
        ignored.append(f"{name} '{text}' is not a date (YYYY-MM-DD)")
        return fallback
    kept = min(max(value, low), high)
    if kept != value:
        ignored.append(f"{name} {value:%d %b %Y} is outside the data ({low:%d %b %Y} – {high:%d %b %Y}); "
                       f"{kept:%d %b %Y} is used")
    return kept


def default_start(as_of: date, history_start: date) -> date:
    """The period a new session starts with: the last DEFAULT_PERIOD_DAYS days to the as-of
    date, or the whole history when shorter (`dashboard.serve` warms the caches for it)."""
    return max(history_start, as_of - timedelta(days=DEFAULT_PERIOD_DAYS - 1))


def _seed_from_url(as_of: date, history_start: date, choices: dict[str, list[str]]) -> None:
    """Once per session: take the filter from the URL (a shared link) into widget state,
    noting in `IGNORED_KEY` every value the data does not have (shown once in the sidebar)."""
    if st.session_state.get("flt_seeded"):
        return
    params = st.query_params
    ignored: list[str] = []
    first_day = default_start(as_of, history_start)
    start = _parse_date(params.get("start"), first_day, history_start, as_of, ignored, "start")
    end = _parse_date(params.get("end"), as_of, history_start, as_of, ignored, "end")
    if start > end:
        ignored.append(f"the period {start:%d %b %Y} – {end:%d %b %Y} ends before it starts; the default is used")
        start, end = first_day, as_of
    st.session_state[PERIOD_KEY] = (start, end)
    for url_key, state_key, _, title, choice_key in DIMENSIONS:
        allowed = set(choices.get(choice_key, []))
        asked = params.get_all(url_key)
        st.session_state[state_key] = [v for v in asked if v in allowed]
        unknown = [v for v in asked if v not in allowed]
        if unknown:
            ignored.append(f"{title.lower()} {', '.join(repr(v) for v in unknown)} (not in the data)")
    attributes = choices.get("attributes", {})
    for name, values in attributes.items():
        asked = params.get_all(ATTRIBUTE_URL + name)
        st.session_state[ATTRIBUTE_STATE + name] = [v for v in asked if v in set(values)]
        unknown = [v for v in asked if v not in set(values)]
        if unknown:
            ignored.append(f"{name} {', '.join(repr(v) for v in unknown)} (not in the data)")
    # a link's filter on a column this data does not have (another file's, or misspelt)
    for key in params.keys():
        if key.startswith(ATTRIBUTE_URL) and key[len(ATTRIBUTE_URL):] not in attributes:
            ignored.append(f"the column {key[len(ATTRIBUTE_URL):]!r} (not in the data)")
    st.session_state[IGNORED_KEY] = ignored
    st.session_state["flt_seeded"] = True


def _write_url(flt: RetentionFilter) -> None:
    wanted: dict[str, str | list[str]] = {"start": flt.start.isoformat(), "end": flt.end.isoformat()}
    for url_key, _, field, _, _ in DIMENSIONS:
        values = list(getattr(flt, field))
        if values:
            wanted[url_key] = values
    for name, values in flt.attributes:
        wanted[ATTRIBUTE_URL + name] = list(values)
    current = {k: (st.query_params.get_all(k) if _is_list_key(k) else st.query_params.get(k))
               for k in st.query_params.keys() if _is_filter_key(k)}
    if current != wanted:
        # a page's own parameters (the presentation's `slide`) are not the filter's: keep them
        kept = {k: st.query_params.get_all(k) for k in st.query_params.keys() if not _is_filter_key(k)}
        st.query_params.from_dict({**kept, **wanted})


def _is_list_key(key: str) -> bool:
    return key in DIMENSION_URL_KEYS or key.startswith(ATTRIBUTE_URL)


def _is_filter_key(key: str) -> bool:
    return key in FILTER_URL_KEYS or key.startswith(ATTRIBUTE_URL)


DIMENSION_URL_KEYS = {d[0] for d in DIMENSIONS}
FILTER_URL_KEYS = {"start", "end"} | DIMENSION_URL_KEYS


def render_filters(as_of: date, history_start: date, choices: dict[str, list[str]]) -> RetentionFilter:
    """Draw the shared filters in the sidebar and return the selection."""
    _seed_from_url(as_of, history_start, choices)
    with st.sidebar:
        st.subheader("Filters")
        ignored = st.session_state.pop(IGNORED_KEY, None)
        if ignored:  # once, on the run that read the link; st.text: the values are the link's, not ours
            st.warning("The link asked for what the data does not have, so it was ignored:",
                       icon=":material/link_off:")
            st.text("; ".join(ignored))
        period = st.date_input(
            "Period",
            key=PERIOD_KEY,
            min_value=history_start,
            max_value=as_of,
            help="Reporting period, both days inclusive. Point-in-time figures "
            "(active customers, MRR) are taken at its last day.",
        )
        for _, state_key, _, title, choice_key in DIMENSIONS:
            st.multiselect(
                title,
                choices.get(choice_key, []),
                key=state_key,
                format_func=label,
                placeholder=f"All {title.lower()}s",
                help="Empty means all." + (
                    " Applies to contact-based figures (service, funnel, notes)."
                    if choice_key == "channels" else ""),
            )
        attributes = choices.get("attributes", {})
        if attributes:
            chosen_any = any(st.session_state.get(ATTRIBUTE_STATE + n) for n in attributes)
            with st.expander("Your data's own columns", expanded=chosen_any):
                for name, values in attributes.items():
                    st.multiselect(formatting.md_escape(label(name)), values, key=ATTRIBUTE_STATE + name, format_func=label,
                                   placeholder="All", help="A column of your export, kept as a custom "
                                   "attribute by the import. Empty means all.")
        st.caption(f"Data as of {as_of:%d %b %Y}")
    if isinstance(period, (tuple, list)) and len(period) == 2:
        start, end = period
    else:  # the user has picked only the first day of a new range so far
        start = period[0] if isinstance(period, (tuple, list)) and period else as_of
        end = as_of
    flt = RetentionFilter(
        start=start,
        end=end,
        **{field: tuple(st.session_state[state_key]) for _, state_key, field, _, _ in DIMENSIONS},
        attributes=tuple((name, tuple(st.session_state.get(ATTRIBUTE_STATE + name, ())))
                         for name in choices.get("attributes", {})),
    )
    st.session_state["retention_filter"] = flt
    _write_url(flt)
    return flt


def current_filter() -> RetentionFilter:
    """The selection drawn by `render_filters` in this run (pages call this)."""
    return st.session_state["retention_filter"]
