"""The presenter's cut and the deck's frame (issue 17, "Presenter"): the selection said in
words, slides picked with a commentary line each, the title slide without the database
file's name, and the company's name, logo and accent colour from `[brand]`."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu

from analytics.config import brand_settings
from analytics.filters import RetentionFilter
from reports.brand import DEFAULT_ACCENT, Brand, load_brand
from reports.deck import build_deck
from reports.story import COMMENTARY_CHARS, SLIDE_KEYS, filter_words, speaker_notes, tailor

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def slide_text(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


# --- the selection in words -----------------------------------------------------------------

@pytest.mark.parametrize("dimensions, words", [
    ({}, "All customers"),
    ({"segments": ("enterprise",), "regions": ("tel_aviv",)}, "Enterprise, Tel Aviv"),
    ({"segments": ("consumer", "small_business")}, "Consumer or Small business"),
    ({"plans": ("premium",), "attributes": (("payment_method", ("card",)),)}, "Premium, Payment method Card"),
    ({"channels": ("phone",)}, "All customers, contacts by Phone"),
    ({"regions": ("haifa",), "channels": ("chat", "email")}, "Haifa, contacts by Chat or Email"),
])
def test_filter_words(dimensions, words):
    assert filter_words(RetentionFilter(*YEAR, **dimensions)) == words


def test_story_says_its_filter_in_words(story):
    assert story.filter_words == "Consumer or Small business"
    title = story.section("title")
    assert title.subtitle.endswith("· Consumer or Small business")
    assert story.database_name not in title.subtitle and ".duckdb" not in title.subtitle


# --- picking slides, commentary -------------------------------------------------------------

def test_tailor_keeps_the_chosen_slides_in_story_order_and_the_title(story):
    cut = tailor(story, ["roi", "kpis"], {"roi": "  Worth\n every shekel ", "trend": "not shown"})
    assert [s.key for s in cut.sections] == ["title", "kpis", "roi"]
    assert cut.section("roi").commentary == "Worth every shekel"  # one line
    assert cut.section("kpis").commentary == ""
    assert cut.section("roi").title == story.section("roi").title  # the numbers are the story's
    assert [s.key for s in tailor(story).sections] == list(SLIDE_KEYS)


def test_tailor_cuts_a_long_line_and_refuses_unknown_slides(story):
    cut = tailor(story, None, {"kpis": "x" * (COMMENTARY_CHARS + 50)})
    assert len(cut.section("kpis").commentary) == COMMENTARY_CHARS
    with pytest.raises(ValueError, match="unknown slide.*churn_party"):
        tailor(story, ["kpis", "churn_party"])


def test_speaker_notes_lead_with_the_presenters_line(story):
    section = tailor(story, None, {"trend": "Spring campaign worked"}).section("trend")
    notes = speaker_notes(story, section).splitlines()
    assert notes[0] == section.title and notes[2] == "Your line: Spring campaign worked"
    assert "Your line" not in speaker_notes(story, story.section("trend"))


# --- the deck's title slide and frame ---------------------------------------------------------

def test_title_slide_has_no_file_name_and_says_the_filter_in_words(deck, story):
    text = slide_text(deck.slides[0])
    assert story.database_name not in text and ".duckdb" not in text
    assert "Consumer or Small business" in text
    assert "Segments:" not in text  # the words, not the filter's field list
    for slide in deck.slides:  # the footer says it the same way
        assert "Consumer or Small business" in slide_text(slide)


@pytest.fixture(scope="module")
def logo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("brand") / "logo.png"
    Image.new("RGB", (300, 100), "#0B3D91").save(path)
    return path


@pytest.fixture(scope="module")
def branded(story, logo):
    brand = Brand("Acme Telecom", logo, ("#0B3D91", "#F2A900"))
    cut = tailor(story, ["kpis", "trend", "roi"], {"trend": "Churn is down since the spring", "title": "For the board"})
    return cut, Presentation(io.BytesIO(build_deck(cut, brand)))


def test_branded_deck_shows_name_logo_and_accent(branded):
    cut, deck = branded
    assert len(deck.slides) == 4
    title = deck.slides[0]
    names = [shape.name for shape in title.shapes]
    assert "brand_logo" in names and "brand_band" in names
    assert "Acme Telecom" in slide_text(title)
    band = next(s for s in title.shapes if s.name == "brand_band")
    assert str(band.fill.fore_color.rgb) == "0B3D91"
    logo = next(s for s in title.shapes if s.name == "brand_logo")
    assert abs(logo.width / logo.height - 3.0) < 0.01  # the logo keeps its aspect ratio
    for slide in deck.slides:  # the logo and the company's name on every slide
        assert any(s.name == "brand_logo" for s in slide.shapes)
        assert "Acme Telecom ·" in slide_text(slide)
    kpis = next(s for s in deck.slides[1].shapes if s.has_table).table
    assert str(kpis.cell(0, 0).fill.fore_color.rgb) == "0B3D91"


def test_commentary_shows_on_its_slide_and_leads_the_notes(branded):
    cut, deck = branded
    trend = deck.slides[2]
    box = next(s for s in trend.shapes if s.name == "commentary")
    assert box.text_frame.text == "Churn is down since the spring"
    assert all(Emu(c.top + c.height) <= box.top for c in trend.shapes if c.has_chart)  # under the charts
    assert "Your line: Churn is down since the spring" in trend.notes_slide.notes_text_frame.text
    assert "For the board" in slide_text(deck.slides[0])
    assert not any(s.name == "commentary" for s in deck.slides[3].shapes)  # none written for the ROI slide


def test_unbranded_deck_uses_the_neutral_frame(deck):
    assert not any(s.name == "brand_logo" for slide in deck.slides for s in slide.shapes)
    band = next(s for s in deck.slides[0].shapes if s.name == "brand_band")
    assert str(band.fill.fore_color.rgb) == DEFAULT_ACCENT.lstrip("#").upper()


# --- [brand] in retention.toml ----------------------------------------------------------------

def write_config(tmp_path, monkeypatch, body: str) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(body, encoding="utf-8")
    monkeypatch.setenv("RETENTION_CONFIG", str(path))


def test_brand_from_config(tmp_path, monkeypatch, logo):
    write_config(tmp_path, monkeypatch,
                 f'[brand]\nname = "Acme Telecom"\nlogo = "{logo}"\ncolours = ["#0b3d91", "F2A900"]\n')
    assert load_brand() == Brand("Acme Telecom", logo, ("#0B3D91", "#F2A900"))
    assert load_brand().accent == "#0B3D91"


def test_brand_defaults_without_a_table(tmp_path, monkeypatch):
    write_config(tmp_path, monkeypatch, "[display]\ncurrency = \"$\"\n")
    assert load_brand() == Brand()
    assert load_brand().accent == DEFAULT_ACCENT


@pytest.mark.parametrize("body, message", [
    ('colours = ["navy"]', r"\[brand\] colours has 'navy'; write colours as hex codes"),
    ('logo = "nowhere/logo.png"', r"\[brand\] logo = 'nowhere/logo.png'; no such file"),
    ('logo = "logo.svg"', r"use a PNG, JPEG or GIF file"),
    ('name = ""', r"\[brand\] name = ''"),
])
def test_bad_brand_settings_say_which_in_one_line(tmp_path, monkeypatch, body, message):
    write_config(tmp_path, monkeypatch, f"[brand]\n{body}\n")
    with pytest.raises(ValueError, match=message) as err:
        brand_settings()
    assert "\n" not in str(err.value)
