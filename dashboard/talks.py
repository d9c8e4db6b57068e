"""A talk: what the windows of one presentation share — the slide on screen and the
presenter's cut (chosen slides, a commentary line per slide).

The projector window (`/presentation?talk=CODE`) and the presenter view
(`/presentation?talk=CODE&view=presenter`) are two browser windows, so two Streamlit
sessions: neither session state nor the URL is shared between them. The talk lives in
the server process (`st.cache_resource`), keyed by a random code both URLs carry; each
window moves it and polls it about once a second (docs/decisions/027-presenter-view.md).

Only the slide number and the presenter's choices are kept — no data. A server restart
forgets the talks; both windows then carry on from their URL's slide.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

MAX_TALKS = 200  # the oldest are forgotten beyond this: a talk is a few numbers, not data
CODE = re.compile(r"^[A-Za-z0-9_-]{6,24}$")


@dataclass
class Talk:
    code: str
    slide: int = 0                        # index into the presenter's cut
    keys: tuple[str, ...] | None = None   # the chosen slides (None = all)
    commentary: dict[str, str] = field(default_factory=dict)
    touched: float = field(default_factory=time.monotonic)


class Talks:
    """The talks of this server process; safe across sessions (one lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._talks: dict[str, Talk] = {}

    def open(self, code: str | None, slide: int = 0) -> tuple[Talk, bool]:
        """The talk `code` and True when it already existed; else a new talk (with that
        code when it is well formed, so a reloaded URL keeps its code) on `slide`."""
        with self._lock:
            talk = self._talks.get(code) if code else None
            if talk is not None:
                talk.touched = time.monotonic()
                return talk, True
            if not code or not CODE.match(code):
                code = secrets.token_urlsafe(8)
            talk = self._talks[code] = Talk(code, slide=max(slide, 0))
            if len(self._talks) > MAX_TALKS:
                oldest = min(self._talks.values(), key=lambda t: t.touched)
                del self._talks[oldest.code]
            return talk, False

    def move(self, talk: Talk, slide: int) -> None:
        with self._lock:
            talk.slide = slide
            talk.touched = time.monotonic()

    def set_cut(self, talk: Talk, keys: tuple[str, ...] | None, commentary: dict[str, str]) -> None:
        with self._lock:
            talk.keys, talk.commentary = keys, dict(commentary)


@st.cache_resource
def talks() -> Talks:
    """The server's talks (one object shared by every session)."""
    return Talks()
