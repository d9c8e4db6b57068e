"""Metrics glossary: docs/metrics.md, the definitions every number links to.

A "Definition" link (`glossary?term=nrr`, dashboard.glossary.help_link) opens here with
that entry first and open; a search box narrows the entries and a table of contents
links to each one. Every entry says what the number means in plain words first, then how
it is computed."""

import streamlit as st

from analytics import formatting as fmt
from analytics.config import PROJECT_ROOT
from dashboard import glossary as g

THIS_PAGE = PROJECT_ROOT / "pages" / "glossary.py"
OPEN_MATCHES = 3  # a search with at most this many matches opens them


def definition(entry: g.Entry) -> None:
    """The entry's plain-language definition, then its formula and details."""
    if entry.plain:
        st.markdown(f"**{entry.plain}**")
    if entry.body:
        if entry.plain:
            st.caption("How it is computed")
        st.markdown(g.linked_body(entry.body))


def contents(entries: list[g.Entry]) -> None:
    """Links to every entry in three columns, `###` entries indented under their `##`."""
    columns = st.columns(3)
    per_column = -(-len(entries) // 3)
    for i, entry in enumerate(entries):
        columns[i // per_column].page_link(
            THIS_PAGE, label=("\u2003" if entry.level == 3 else "") + entry.title.replace("`", ""),
            query_params={g.TERM_PARAM: entry.slug})


st.title("Metrics glossary")
st.caption("How every number in Retention Radar is defined: in plain words first, then the formula. "
           "Source: docs/metrics.md.")
entries = g.entries()
if not entries:
    st.info("The metrics glossary (docs/metrics.md) is missing from this installation.", icon=":material/menu_book:")
    st.stop()
titles = {e.slug: e.title.replace("`", "") for e in entries}
parents = {e.slug: titles.get(e.parent or "", "") for e in entries}

requested = st.query_params.get(g.TERM_PARAM)
chosen = next((e for e in entries if e.slug == requested), None)
if requested and chosen is None:
    st.caption(f":material/info: The glossary has no entry “{fmt.md_escape(requested)}”; here are all of them.")

search = st.text_input("Search the glossary", key="glossary_search", placeholder="A word or two: churn, margin, NRR…",
                       help="Keeps the entries whose heading or text holds every word you type.")

if chosen is not None and not search.strip():
    with st.container(border=True, key="glossary_chosen"):
        st.subheader(titles[chosen.slug], anchor=chosen.slug)
        if parents[chosen.slug]:
            st.caption(f"Part of {parents[chosen.slug]}")
        definition(chosen)

matching = g.search(entries, search)
if search.strip():
    if not matching:
        st.info("No entry holds all of these words. Try fewer or shorter words.", icon=":material/search_off:")
        st.stop()
    st.caption(f"{fmt.count(len(matching))} of {fmt.count(len(entries))} entries match.")
else:
    with st.expander("Contents", icon=":material/toc:", expanded=chosen is None):
        contents(entries)

for entry in matching:
    if chosen is not None and entry is chosen and not search.strip():
        continue  # already open above
    label = titles[entry.slug] if entry.level == 2 else f"{parents[entry.slug]} › {titles[entry.slug]}"
    with st.expander(label, expanded=bool(search.strip()) and len(matching) <= OPEN_MATCHES):
        definition(entry)
