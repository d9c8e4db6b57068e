"""Presentation mode (presenter): the leadership story on screen, one chart per screen in
large type, with the sidebar, header and toolbar hidden. Previous / next buttons (and the
Left / Right keys) move through the slides; the slide is kept in the session and in the
URL (`?slide=N`), so a link opens on that slide. Same story and numbers as the deck."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from analytics import formatting as fmt
from dashboard import data, sidebar
from reports.figures import slide_figure

SLIDE_KEY = "presentation_slide"
REPORT_PAGE = Path(__file__).resolve().parent / "leadership_report.py"

# Sidebar, header, toolbar and the page padding go; text and buttons grow for the room.
st.html("""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarNav"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stAppToolbar"], [data-testid="stDecoration"],
[data-testid="stMainMenu"], [data-testid="stStatusWidget"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 1.2rem 2.5rem 1rem 2.5rem; max-width: 100%; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.6rem; line-height: 1.45; }
[data-testid="stMarkdownContainer"] h1, h1 { font-size: 3rem; }
h2 { font-size: 2.3rem !important; line-height: 1.25 !important; }
[data-testid="stCaptionContainer"] p { font-size: 1.3rem !important; }
.stButton button p { font-size: 1.4rem; }
/* the slide fills what the viewport leaves under its title; navigation stays in a fixed footer */
.st-key-slide_area { height: calc(100vh - 15.5rem); min-height: 260px; }
.st-key-presentation_nav { position: fixed; left: 0; right: 0; bottom: 0; z-index: 999; background: #ffffff;
  padding: 0.35rem 2.5rem; border-top: 1px solid #e3e3e3; }
[data-testid="stMainBlockContainer"] { padding-bottom: 4.5rem; }
</style>
""")

flt = sidebar.current_filter()


story = data.leadership_story(flt)  # cached per filter across sessions
count = len(story.sections)

if SLIDE_KEY not in st.session_state:  # first visit: a shared link may name the slide
    try:
        requested = int(st.query_params.get("slide", "1"))
    except ValueError:
        requested = 1
    st.session_state[SLIDE_KEY] = min(max(requested, 1), count) - 1
st.session_state[SLIDE_KEY] = min(max(st.session_state[SLIDE_KEY], 0), count - 1)


def _move(step: int) -> None:
    st.session_state[SLIDE_KEY] = min(max(st.session_state[SLIDE_KEY] + step, 0), count - 1)


index = st.session_state[SLIDE_KEY]
st.query_params["slide"] = str(index + 1)
section = story.sections[index]

if section.key == "title":
    # titles, subtitles and filter lines name the data's categories: plain text, escaped
    st.title(fmt.md_escape(section.title), anchor=False)
    st.markdown(f"{fmt.md_escape(section.subtitle)}  \n" + "  \n".join(fmt.md_escape(s) for s in story.filter_lines))
    st.markdown("\n".join(f"- {fmt.md_escape(s.title)}" for s in story.sections[1:]))
else:
    st.header(fmt.md_escape(section.title), anchor=False)
    st.caption(fmt.md_escape(section.subtitle))
    figure = slide_figure(story, section.key, titled=False)
    figure.update_layout(height=None, autosize=True)  # the height comes from the viewport (CSS above)
    # the legend above the charts: below them it ran into rotated month labels at projector widths
    figure.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.1, xanchor="left", x=0))
    if section.key == "kpis":  # eight rows must fit a 720-px projector: tighter rows, no margins
        figure.update_traces(cells_height=38, header_height=40)
        figure.update_layout(margin=dict(t=0, b=0))
    with st.container(key="slide_area"):
        st.plotly_chart(figure, key=f"slide_{section.key}", theme=None, height="stretch",
                        config={"displaylogo": False, "displayModeBar": False})

nav = st.container(key="presentation_nav")
left, middle, right, out = nav.columns([1, 2, 1, 1], vertical_alignment="center")
left.button("Previous", on_click=_move, args=(-1,), disabled=index == 0,
            key="presentation_previous", shortcut="Left", width="stretch")
middle.markdown(f"<p style='text-align:center'>Slide {index + 1} of {count}</p>", unsafe_allow_html=True)
right.button("Next", on_click=_move, args=(1,), disabled=index == count - 1,
             key="presentation_next", shortcut="Right", type="primary", width="stretch")
try:
    out.page_link(str(REPORT_PAGE), label="Exit", icon=":material/close:")
except StreamlitPageNotFoundError:  # the report page is not in the navigation (yet)
    pass
