"""Leadership report (presenter): the retention story for the sidebar's filters as an
editable PowerPoint deck and a PDF, built on request, with the slide titles previewed.
Before building, the presenter picks the slides and may add a commentary line to each;
the same cut is what Presentation mode shows. The numbers and takeaways come from
reports.story (the analytics module, gathered once); name, logo and accent colour from
`[brand]` in retention.toml."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from analytics import formatting as fmt
from analytics.db import DatabaseError
from dashboard import auth, data, glossary as g, sidebar
from reports.brand import Brand, load_brand
from reports.deck import build_deck
from reports.pdf import build_pdf
from reports.story import COMMENTARY_CHARS, SLIDE_KEYS, SLIDE_NAMES, gather_story, tailor

STATE_KEY = "leadership_report"
CUT_KEY = "report_cut"  # {"keys": chosen slide keys, "commentary": {key: line}}; Presentation mode reads it
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PRESENTATION_PAGE = Path(__file__).resolve().parent / "presentation.py"

flt = sidebar.current_filter()
st.title("Leadership report")
st.caption("A deck and a PDF whose titles state the takeaway, from the same numbers as the dashboard. "
           "Charts in the deck are native PowerPoint charts: edit them, restyle them, or read their data sheet. "
           f"Every number is defined in the [metrics glossary]({g.GLOSSARY_URL}); the speaker notes quote it.")

with st.container(border=True):
    st.markdown("**Filters in effect** — change them in the sidebar")
    cols = st.columns(3)
    cols[0].markdown(f"**Period** {flt.start:%d %b %Y} – {flt.end:%d %b %Y}  \nAs of {flt.as_of:%d %b %Y}")
    cols[1].markdown("  \n".join(
        f"**{name}** {', '.join(fmt.md_escape(sidebar.label(v)) for v in values) if values else 'all'}"
        for name, values in (("Segments", flt.segments), ("Regions", flt.regions), ("Plans", flt.plans))))
    channels = ", ".join(fmt.md_escape(sidebar.label(v)) for v in flt.channels)
    cols[2].markdown(f"**Contact channels** {channels or 'all'}"
                     + ("  \n(funnel and contact counts only)" if flt.channels else ""))

try:
    brand = load_brand()
except ValueError as err:  # a bad [brand] setting: say which, build without it
    st.warning(f"{err}. The report is built without the brand.", icon=":material/palette:")
    brand = Brand()

saved = st.session_state.get(CUT_KEY, {"keys": SLIDE_KEYS, "commentary": {}})
with st.expander("Slides and your commentary", expanded=True, icon=":material/checklist:"):
    st.caption("Untick the slides to leave out (the title slide stays) and write a line to say on any slide: "
               "it shows on the slide and leads its speaker notes.")
    for key in SLIDE_KEYS:
        pick, line = f"report_pick_{key}", f"report_line_{key}"
        if pick not in st.session_state:  # back on the page: the widgets start from the saved cut
            st.session_state[pick] = key in saved["keys"]
            st.session_state[line] = saved["commentary"].get(key, "")
        left, right = st.columns([5, 8], vertical_alignment="center")
        left.checkbox(SLIDE_NAMES[key], key=pick, disabled=key == "title")
        right.text_input(f"Your line on “{SLIDE_NAMES[key]}”", key=line, max_chars=COMMENTARY_CHARS,
                         placeholder="Optional: one line you want the room to take away",
                         label_visibility="collapsed")
cut = {"keys": tuple(k for k in SLIDE_KEYS if k == "title" or st.session_state[f"report_pick_{k}"]),
       "commentary": {k: st.session_state[f"report_line_{k}"].strip() for k in SLIDE_KEYS
                      if st.session_state[f"report_line_{k}"].strip()}}
st.session_state[CUT_KEY] = cut

build = st.button("Build the deck and PDF", type="primary", icon=":material/slideshow:", key="report_build")
if build:
    with st.status("Building the leadership report…", expanded=True) as status:
        bar = st.progress(0.0, text="Gathering the numbers")
        try:
            story = gather_story(data.database(), flt,
                                 progress=lambda f, m: bar.progress(min(f * 0.6, 0.6), text=m))
            story = tailor(story, cut["keys"], cut["commentary"])
            bar.progress(0.65, text="Drawing the slides (native PowerPoint charts)")
            deck = build_deck(story, brand)
            bar.progress(0.8, text="Rendering the PDF")
            pdf = build_pdf(story, brand)
        except DatabaseError as err:
            status.update(label="The report could not be built", state="error")
            st.error(str(err))
        except Exception as err:  # noqa: BLE001 — shown to the user, not raised (house style)
            status.update(label="The report could not be built", state="error")
            st.error(f"Building the report failed: {err}")
        else:
            bar.progress(1.0, text="Done")
            st.session_state[STATE_KEY] = {"filter": flt, "cut": cut, "brand": brand, "deck": deck, "pdf": pdf,
                                           "titles": story.slide_titles}
            status.update(label=f"Report ready: {len(story.sections)} slides", state="complete", expanded=False)

report = st.session_state.get(STATE_KEY)
if report is None:
    st.info("Build the report to download it. It takes a few seconds for the whole base.", icon=":material/info:")
elif report["filter"] != flt:
    st.warning("The filters changed since the report was built. Build it again to match them.",
               icon=":material/filter_alt:")
elif report["cut"] != cut or report["brand"] != brand:
    st.warning("The slides or commentary changed since the report was built. Build it again to include them.",
               icon=":material/edit_note:")
else:
    stem = f"retention-review-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}"
    cols = st.columns([1, 1, 2])
    cols[0].download_button("Deck (PowerPoint)", auth.audited_file(f"{stem}.pptx (leadership deck)", 0,
                                                                     lambda: report["deck"]), file_name=f"{stem}.pptx", mime=PPTX_MIME,
                            icon=":material/download:", type="primary", on_click="ignore", key="report_pptx")
    cols[1].download_button("Report (PDF)", auth.audited_file(f"{stem}.pdf (leadership report)", 0,
                                                                lambda: report["pdf"]), file_name=f"{stem}.pdf", mime="application/pdf",
                            icon=":material/picture_as_pdf:", on_click="ignore", key="report_pdf")
    try:
        cols[2].page_link(str(PRESENTATION_PAGE), label="Present on screen", icon=":material/co_present:")
    except StreamlitPageNotFoundError:  # the presentation page is not in the navigation (yet)
        pass
    st.subheader("Slides")
    st.markdown("\n".join(f"{i}. {fmt.md_escape(title)}" for i, title in enumerate(report["titles"], start=1)))
