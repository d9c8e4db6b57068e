"""The leadership story, deck and PDF of the session sample (10,000 customers), built
once per session for one filtered selection, plus a sample of the personal data the
files must never contain."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from pptx import Presentation

from analytics.db import Database
from analytics.filters import RetentionFilter
from reports.deck import build_deck
from reports.pdf import build_pdf
from reports.story import Story, gather_story

SEGMENTS = ("consumer", "small_business")
PHONE = re.compile(r"05\d-\d{7}")


@pytest.fixture(scope="session")
def as_of(sample_db: Database) -> date:
    return date.fromisoformat(sample_db.schema_info()["as_of_date"])


@pytest.fixture(scope="session")
def report_filter(as_of: date) -> RetentionFilter:
    """The sidebar's default year to the as-of date, two segments selected."""
    return RetentionFilter(as_of - timedelta(days=364), as_of, segments=SEGMENTS)


@pytest.fixture(scope="session")
def story(sample_db: Database, report_filter: RetentionFilter) -> Story:
    return gather_story(sample_db, report_filter)


@pytest.fixture(scope="session")
def deck_bytes(story: Story) -> bytes:
    return build_deck(story)


@pytest.fixture(scope="session")
def deck(deck_bytes: bytes):
    return Presentation(io.BytesIO(deck_bytes))


@pytest.fixture(scope="session")
def pdf_path(story: Story, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    path.write_bytes(build_pdf(story))
    return path


def zip_text(blob: bytes) -> str:
    """Every XML part of an Office file, embedded workbooks included, as one string."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for name in z.namelist():
            data = z.read(name)
            if name.endswith((".xlsx", ".xlsm")):
                parts.append(zip_text(data))
            elif name.endswith((".xml", ".rels")):
                parts.append(unescape(data.decode("utf-8", errors="replace")))
    return "\n".join(parts)


@pytest.fixture(scope="session")
def personal_data(sample_db: Database) -> dict[str, list[str]]:
    """Full names and e-mails of a sample of customers — every 10th, plus the 50 most
    valuable (the ones a "top customers" list would name) — for leak checks. First names
    alone are not checked: they could appear in ordinary text."""
    rows = sample_db.cursor().execute(
        """
        with revenue as (
            select customer_id, sum(mrr) as total from monthly_revenue group by customer_id
        ), ranked as (
            select c.customer_id, c.full_name, c.email,
                   row_number() over (order by coalesce(v.total, 0) desc, c.customer_id) as value_rank
            from customers c left join revenue v using (customer_id)
        )
        select full_name, email from ranked
        where customer_id % 10 = 0 or value_rank <= 50
        """
    ).fetchall()
    names = sorted({n.strip() for n, _ in rows if n and len(n.strip().split()) >= 2})
    emails = sorted({e.strip() for _, e in rows if e and "@" in e})
    return {"names": names, "emails": emails}


def leaks(text: str, personal: dict[str, list[str]]) -> list[str]:
    found = [n for n in personal["names"] if n in text]
    found += [e for e in personal["emails"] if e.lower() in text.lower()]
    found += PHONE.findall(text)
    return found
