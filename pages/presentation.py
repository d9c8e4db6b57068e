"""Presentation mode (presenter): the leadership story on screen, one chart per screen in
large type, with the sidebar, header and toolbar hidden, sized to the window (a 1280×720
projector or a 1920×1080 screen) without scrolling. "← Previous" / "Next →" in a fixed
footer (and the Left / Right keys) move through the slides.

Two windows, one talk (docs/decisions/027-presenter-view.md): this page on the projector,
and `?view=presenter` on the presenter's laptop — the speaker notes, the presenter's line
and the next slide. Both URLs carry the talk's code (`?talk=`); the slide on screen is the
talk's (dashboard.talks, shared by the server's sessions), so either window moves both,
and each follows the other within a second. `?slide=N` opens a new talk on slide N.
The slides are the cut made on the Leadership report page (chosen slides, commentary).
Same story and numbers as the deck."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from analytics import formatting as fmt
from dashboard import data, sidebar
from dashboard.talks import talks
from reports.brand import Brand, load_brand
from reports.figures import kpi_table_html, slide_figure
from reports.story import speaker_notes, tailor

SLIDE_KEY = "presentation_slide"
CUT_KEY = "report_cut"  # written by the Leadership report page
POLL_SECONDS = 1.0
REPORT_PAGE = Path(__file__).resolve().parent / "leadership_report.py"

presenter_view = st.query_params.get("view") == "presenter"
try:
    brand = load_brand()
except ValueError:  # the report page says what is wrong with [brand]; the slides go on without it
    brand = Brand()

# Sidebar, header, toolbar and the page padding go. The main block is one viewport tall,
# a column whose slide area takes what the heading leaves; type scales with the viewport
# (vh), so a 720-px projector and a 1080-px screen both show the whole slide.
st.html(f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarNav"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stAppToolbar"], [data-testid="stDecoration"],
[data-testid="stMainMenu"], [data-testid="stStatusWidget"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ padding: 2.5vh 3vw calc(8vh + 1.2rem) 3vw; max-width: 100%;
  height: 100vh; box-sizing: border-box; }}
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] {{ height: 100%; gap: 1.2vh; }}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {{
  font-size: clamp(1rem, 2.6vh, 1.9rem); line-height: 1.35; margin-bottom: 0.2em; }}
h1 {{ font-size: clamp(1.8rem, 5.5vh, 3.6rem) !important; padding: 0.2em 0 !important; }}
h2 {{ font-size: clamp(1.35rem, 4.1vh, 2.7rem) !important; line-height: 1.2 !important; padding: 0 !important; }}
[data-testid="stCaptionContainer"] p {{ font-size: clamp(0.95rem, 2.3vh, 1.6rem) !important; }}
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > * {{ flex-shrink: 0; }}
[data-testid="stLayoutWrapper"]:has(> .st-key-slide_area) {{ flex: 1 1 0; min-height: 0; }}
.st-key-slide_area {{ height: 100%; min-height: 0; }}
.st-key-slide_area > [data-testid="stElementContainer"] {{ flex: 1 1 0; min-height: 0; }}
.kpi-table {{ width: 100%; border-collapse: collapse; font-size: clamp(0.95rem, 2.9vh, 2.3rem); }}
.kpi-table th {{ background: {brand.accent}; color: #fff; text-align: right; padding: 0.9vh 1vw; }}
.kpi-table td {{ text-align: right; padding: 0.75vh 1vw; border-bottom: 1px solid #e6e6e6; }}
.kpi-table th:first-child, .kpi-table td:first-child {{ text-align: left; }}
.kpi-table tbody tr:nth-child(odd) {{ background: #F4F5F7; }}
.st-key-presentation_nav kbd {{ display: none; }}  /* the arrow is in the label: one per button */
.st-key-commentary {{ padding-bottom: 0.5em; }}
.st-key-commentary p {{ color: {brand.accent}; font-weight: 600; margin: 0; }}
.st-key-presentation_nav {{ position: fixed; left: 0; right: 0; bottom: 0; z-index: 999; background: #ffffff;
  height: 8vh; min-height: 3.2rem; padding: 0 3vw; border-top: 1px solid #e3e3e3; justify-content: center; }}
.st-key-presentation_nav button p, .st-key-presentation_nav a p {{ font-size: clamp(1rem, 2.3vh, 1.5rem); }}
.st-key-presentation_next button {{ background: {brand.accent}; border-color: {brand.accent}; }}
</style>
""")

flt = sidebar.current_filter()
cut = st.session_state.get(CUT_KEY)
full = data.leadership_story(flt)  # cached per filter across sessions

# the talk: joined from the URL, else opened on the URL's slide
try:
    requested = int(st.query_params.get("slide", "1")) - 1
except ValueError:
    requested = 0
talk, _ = talks().open(st.query_params.get("talk"), requested)
if cut is not None:  # this window's session made the cut: the other window follows it
    talks().set_cut(talk, cut["keys"], cut["commentary"])
story = tailor(full, talk.keys, talk.commentary)
count = len(story.sections)
index = min(max(talk.slide, 0), count - 1)
if index != talk.slide:  # the cut got shorter than where the talk was: it ends on the last slide
    talks().move(talk, index)
st.session_state[SLIDE_KEY] = index
st.query_params["talk"] = talk.code
st.query_params["slide"] = str(index + 1)


def _move(step: int) -> None:
    slide = min(max(talk.slide + step, 0), count - 1)
    talks().move(talk, slide)
    st.session_state[SLIDE_KEY] = slide  # this window is there already: its poll must not rerun it again


@st.fragment(run_every=POLL_SECONDS)
def _follow() -> None:
    """The other window of the talk moved: show its slide here too."""
    if talk.slide != st.session_state.get(SLIDE_KEY):
        st.rerun(scope="app")


def _presenter_url() -> str:
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys() if k not in ("view", "slide")}
    return "presentation?" + urlencode({**params, "view": "presenter"}, doseq=True)


def _slide(section) -> None:
    """One slide, filling the window: title and subtitle, the presenter's line, the chart."""
    if section.key == "title":
        if brand.logo is not None:
            st.image(str(brand.logo), width=180)
        st.markdown(f"**{fmt.md_escape(brand.name)}**")
        # titles, subtitles and filter words name the data's categories: plain text, escaped
        st.title(fmt.md_escape(section.title), anchor=False)
        st.markdown(fmt.md_escape(section.subtitle))
        if section.commentary:
            st.container(key="commentary").markdown(fmt.md_escape(section.commentary))
        st.markdown("\n".join(f"- {fmt.md_escape(s.title)}" for s in story.sections[1:]))
        return
    st.header(fmt.md_escape(section.title), anchor=False)
    st.caption(fmt.md_escape(section.subtitle))
    if section.commentary:
        st.container(key="commentary").markdown(fmt.md_escape(section.commentary))
    if section.key == "kpis":  # a table in viewport units: fills a 720-px projector and a 1080-px screen alike
        with st.container(key="slide_area"):
            st.html(kpi_table_html(story))
        return
    figure = slide_figure(story, section.key, titled=False)
    figure.update_layout(height=None, autosize=True)  # the height comes from the viewport (CSS above)
    with st.container(key="slide_area"):
        st.plotly_chart(figure, key=f"slide_{section.key}", theme=None, height="stretch",
                        config={"displaylogo": False, "displayModeBar": False, "responsive": True})


def _presenter(section) -> None:
    """The presenter's window: where the talk is, the notes of this slide, the next one."""
    st.html("<style>[data-testid='stMainBlockContainer'] { height: auto; }</style>")
    st.header(f"Slide {index + 1} of {count}: {fmt.md_escape(section.title)}", anchor=False)
    notes, upcoming = st.columns([3, 2], gap="large")
    with notes.container(key="speaker_notes"):
        st.markdown("**Speaker notes**")
        if section.commentary:
            st.container(key="commentary").markdown(fmt.md_escape(section.commentary))
        # the notes after the title, without the presenter's line (shown above, in the accent colour)
        lines = speaker_notes(story, section).splitlines()[4 if section.commentary else 2:]
        st.markdown("  \n".join(fmt.md_escape(line) for line in lines))
    with upcoming:
        if index + 1 < count:
            following = story.sections[index + 1]
            st.markdown(f"**Next:** {fmt.md_escape(following.title)}")
            if following.key != "title":
                preview = slide_figure(story, following.key, titled=False)
                # a thumbnail: small type throughout (the slide's own is sized for the room)
                preview.update_layout(height=300, font_size=11, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
                preview.update_xaxes(tickfont_size=11, title_font_size=11, tickangle=-40)
                preview.update_yaxes(tickfont_size=11, title_font_size=11)
                preview.update_annotations(font_size=12)
                if following.key == "kpis":
                    preview.update_traces(cells_font_size=11, header_font_size=11, cells_height=22, header_height=24)
                else:
                    preview.update_traces(textfont_size=10)
                st.plotly_chart(preview, key=f"next_{following.key}", theme=None, config={"staticPlot": True})
        else:
            st.markdown("**Last slide.**")


section = story.sections[index]
if presenter_view:
    _presenter(section)
else:
    _slide(section)

nav = st.container(key="presentation_nav")
left, middle, right, other, out = nav.columns([1, 1.4, 1, 1.1, 0.8], vertical_alignment="center")
left.button("← Previous", on_click=_move, args=(-1,), disabled=index == 0,
            key="presentation_previous", shortcut="Left", width="stretch")
middle.markdown(f"<p style='text-align:center;margin:0'>Slide {index + 1} of {count}</p>", unsafe_allow_html=True)
right.button("Next →", on_click=_move, args=(1,), disabled=index == count - 1,
             key="presentation_next", shortcut="Right", type="primary", width="stretch")
if not presenter_view:
    other.link_button("Presenter view", _presenter_url(), icon=":material/speaker_notes:", width="stretch")
try:
    out.page_link(str(REPORT_PAGE), label="Exit", icon=":material/close:")
except StreamlitPageNotFoundError:  # the report page is not in the navigation (yet)
    pass
_follow()  # last: a poll's run touches nothing after it
