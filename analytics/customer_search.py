"""Find any customer — a caller on the phone, a name from an e-mail — not only the rows the
at-risk list draws (issue 16), and the few columns a work queue shows about a set of
customers. Ibis over the ``customers`` table (and ``churn_scores`` for expected loss).

Search definition (`search_customers`), for a query text q (surrounding spaces ignored):

- **id**: q is a whole number (an optional leading ``#``) equal to ``customer_id``;
- **name**: ``full_name`` contains q, case-insensitively;
- **e-mail**: ``email`` contains q, case-insensitively;
- **phone**: the digits of ``phone`` contain the digits of q, when q has at least
  `MIN_PHONE_DIGITS` digits and nothing but digits, spaces, ``+ - ( ) .``; an
  international +972 prefix is also tried as the local leading 0 (``+972 53-337-5963``
  finds ``053-3375963``).

A customer matching any rule is a match; the exact id comes first, then by name and id;
at most `limit` rows. Text is compared as text (``contains``), never as a pattern, so
``%`` or ``_`` in q match themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import ibis
import pandas as pd

from analytics.at_risk import SCORES_TABLE, expected_loss, missing_loss_inputs, scoring_date
from analytics.db import Database
from analytics.metrics._common import conform, empty_frame, execute

MIN_PHONE_DIGITS = 4
DEFAULT_LIMIT = 20
COUNTRY_CODE = "972"  # the sample's and analytics.at_risk.phone_e164's country

SEARCH_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "full_name": "string",
    "phone": "string",
    "email": "string",
    "account_owner": "string",
    "segment": "string",
}
BRIEF_COLUMNS: dict[str, str] = {**SEARCH_COLUMNS, "expected_loss": "float64"}

_PHONE_TEXT = re.compile(r"^[\d\s+\-().]+$")
_ID_TEXT = re.compile(r"^#?\s*(\d+)$")


def phone_digit_forms(text: str) -> list[str]:
    """The digit strings a phone query matches (see the module docstring): [] when `text`
    is not a phone-like query of at least `MIN_PHONE_DIGITS` digits."""
    if not _PHONE_TEXT.match(text):
        return []
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return []
    forms = [digits]
    if digits.startswith(COUNTRY_CODE) and len(digits) > len(COUNTRY_CODE) + 6:
        forms.append("0" + digits[len(COUNTRY_CODE):])
    return forms


def search_customers(db: Database, text: str, limit: int = DEFAULT_LIMIT) -> pd.DataFrame:
    """Customers matching `text` by id, name, e-mail or phone (module docstring), at most
    `limit`, columns `SEARCH_COLUMNS`. Empty for an empty query."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    q = (text or "").strip()
    if not q:
        return empty_frame(SEARCH_COLUMNS)
    c = db.table("customers")
    id_match = _ID_TEXT.match(q)
    exact_id = int(id_match.group(1)) if id_match else None
    needle = ibis.literal(q.lower())
    rules = [c.full_name.lower().contains(needle), c.email.lower().contains(needle)]
    if exact_id is not None:
        rules.append(c.customer_id == exact_id)
    phone_digits = c.phone.re_replace(r"[^0-9]", "")
    rules += [phone_digits.contains(ibis.literal(form)) for form in phone_digit_forms(q)]
    found = c.filter(ibis.or_(*[r.fill_null(False) for r in rules]))
    first = (found.customer_id == exact_id) if exact_id is not None else ibis.literal(False)
    found = found.mutate(exact=first.cast("int8"))
    ordered = found.order_by([ibis.desc(found.exact), found.full_name, found.customer_id]).limit(limit)
    return conform(execute(db, ordered.select(*SEARCH_COLUMNS)), SEARCH_COLUMNS)


def customer_briefs(db: Database, customer_ids: Iterable[int], as_of) -> pd.DataFrame:
    """For the given customers (unknown ids are absent): `SEARCH_COLUMNS` plus
    ``expected_loss`` = churn probability × future value from the latest scoring on or
    before `as_of` (analytics.at_risk; NaN when not scored then or the scores define no
    loss), ordered by id. What a work queue shows next to a case."""
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return empty_frame(BRIEF_COLUMNS)
    c = db.table("customers")
    c = c.filter(c.customer_id.isin(ids)).select(*SEARCH_COLUMNS)
    scored_on = scoring_date(db, as_of)
    if scored_on is not None and not missing_loss_inputs(db.table(SCORES_TABLE).columns):
        s = db.table(SCORES_TABLE)
        s = s.filter(s.as_of_date.cast("date") == scored_on, s.customer_id.isin(ids))
        s = s.select(score_id=s.customer_id, expected_loss=expected_loss(s))
        c = c.left_join(s, c.customer_id == s.score_id).select(*SEARCH_COLUMNS, "expected_loss")
    else:
        c = c.mutate(expected_loss=ibis.null("float64"))
    return conform(execute(db, c.order_by("customer_id")), BRIEF_COLUMNS)
