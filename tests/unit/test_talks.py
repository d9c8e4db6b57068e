"""dashboard.talks: the slide shared by a presentation's two windows — joined by code, a
malformed or unknown code opens a talk, a move is seen by every holder, old talks go."""

from __future__ import annotations

from dashboard import talks as talks_module
from dashboard.talks import Talks


def test_a_second_window_joins_the_talk_and_sees_its_moves():
    registry = Talks()
    screen, joined = registry.open(None, slide=2)
    assert not joined and screen.slide == 2 and talks_module.CODE.match(screen.code)
    presenter, joined = registry.open(screen.code)
    assert joined and presenter is screen
    registry.move(presenter, 5)
    assert screen.slide == 5
    registry.set_cut(screen, ("title", "roi"), {"roi": "Worth it"})
    assert presenter.keys == ("title", "roi") and presenter.commentary == {"roi": "Worth it"}


def test_a_reloaded_url_keeps_its_code_and_a_bad_code_is_replaced():
    registry = Talks()
    talk, joined = registry.open("abcDEF123", slide=3)  # a server restart forgot it
    assert (talk.code, talk.slide, joined) == ("abcDEF123", 3, False)
    bad, _ = registry.open("<script>", slide=-4)
    assert bad.code != "<script>" and talks_module.CODE.match(bad.code) and bad.slide == 0


def test_the_oldest_talk_goes_beyond_the_cap(monkeypatch):
    monkeypatch.setattr(talks_module, "MAX_TALKS", 3)
    registry = Talks()
    first, _ = registry.open("talk-one")
    for code in ("talk-two", "talk-three", "talk-four"):
        registry.open(code)
    again, joined = registry.open("talk-one")
    assert not joined and again is not first
