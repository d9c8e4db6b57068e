"""Number formatting shared by every page: one look for counts, money and rates.

The currency symbol comes from `[display] currency` in retention.toml (default ₪).
"""

from __future__ import annotations

import math

from analytics.config import settings

DEFAULT_CURRENCY = "₪"


def currency_symbol() -> str:
    return settings().get("display", {}).get("currency", DEFAULT_CURRENCY)


def _missing(value) -> bool:
    # pandas' NA (nullable string/boolean columns) is missing too; `str(pd.NA)` is "<NA>"
    return value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NAType"


def count(value) -> str:
    """12345 -> '12,345'; missing -> '—'."""
    return "—" if _missing(value) else f"{int(round(value)):,}"


def compact_count(value) -> str:
    """A count in few characters: 950 -> '950', 13234 -> '13.2K', 2_450_000 -> '2.45M'."""
    if _missing(value):
        return "—"
    v = abs(value)
    if v >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if v >= 10_000:
        return f"{value / 1_000:.1f}K"
    return f"{int(round(value)):,}"


def percent(value, digits: int = 1) -> str:
    """A rate in [0, 1] as a percentage: 0.0243 -> '2.4%'; missing -> '—'."""
    return "—" if _missing(value) else f"{value * 100:.{digits}f}%"


def percent_of(value, n, digits: int = 1) -> str:
    """A rate with the n behind it: (0.978, 92) -> '97.8% (n=92)'; a missing rate with n = 0
    -> '— (n=0)'."""
    return f"{percent(value, digits)} (n={count(n)})"


def points(value, digits: int = 1) -> str:
    """A change of a rate in percentage points: 0.004 -> '+0.4 pp'."""
    return "—" if _missing(value) else f"{value * 100:+.{digits}f} pp"


def money(value, compact: bool = True) -> str:
    """Money with the configured symbol: compact '₪4.26M' / '₪12.3K', else '₪4,258,664'."""
    if _missing(value):
        return "—"
    symbol = currency_symbol()
    sign = "-" if value < 0 else ""
    value = abs(value)
    if compact and value >= 1_000_000:
        return f"{sign}{symbol}{value / 1_000_000:.2f}M"
    if compact and value >= 10_000:
        return f"{sign}{symbol}{value / 1_000:.1f}K"
    return f"{sign}{symbol}{value:,.0f}"


# Display names for raw values and column names that `str.capitalize` would get wrong.
LABEL_OVERRIDES: dict[str, str] = {
    "tel_aviv": "Tel Aviv",
    "jerusalem": "Jerusalem",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "facebook": "Facebook",
    "nrr": "NRR",
    "grr": "GRR",
    "clv": "CLV",
    "cac": "CAC",
    "csat": "CSAT",
    "nps": "NPS",
    "fcr": "FCR",
    "sla": "SLA",
    "mrr": "MRR",
    "arpu": "ARPU",
    "month_to_month": "Month to month",
    "two_year": "Two-year",
    "product_fit": "Product fit",
    "non_payment": "Non-payment",
    "true": "Yes",
    "false": "No",
    "all": "All",
}


def label(value) -> str:
    """A raw value or column name for display: 'small_business' -> 'Small business',
    'tel_aviv' -> 'Tel Aviv', 'nrr' -> 'NRR'. Values stay raw in URLs and filters."""
    if _missing(value):
        return "—"
    text = str(value)
    key = text.lower()
    # `[labels]` of retention.toml: display names of the user's own values ("FO" = "Fiber
    # optic"), which come from their data, not from a list of ours
    configured = settings().get("labels", {})
    if text in configured:
        return str(configured[text])
    if key in LABEL_OVERRIDES:
        return LABEL_OVERRIDES[key]
    words = text.replace("_", " ").split(" ")
    out = " ".join(LABEL_OVERRIDES.get(w.lower(), w) for w in words)
    return out[:1].upper() + out[1:]


def multiple(value, digits: int = 1) -> str:
    """A ratio as a multiple: 3.24 -> '3.2×'; missing -> '—'."""
    return "—" if _missing(value) else f"{value:.{digits}f}×"


def duration(seconds) -> str:
    """A wait or response time: 45 -> '45 s', 150 -> '2.5 min', 7200 -> '2.0 h',
    172800 -> '2.0 days'; missing -> '—'."""
    if _missing(seconds):
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def months(value, digits: int = 1) -> str:
    """A lifetime in months: 27.34 -> '27.3 months'; inf -> 'beyond the data'."""
    if _missing(value):
        return "—"
    if math.isinf(value):
        return "beyond the data"
    return f"{value:.{digits}f} months"


def p_value(value) -> str:
    """A p-value: '< 0.001' below a thousandth, else three decimals."""
    if _missing(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def signed_count(value) -> str:
    """A change of a count: 12 -> '+12', -1234 -> '-1,234'."""
    return "—" if _missing(value) else f"{int(round(value)):+,}"


def signed_money(value) -> str:
    """A change of money: '+₪12.3K' / '-₪4,210'."""
    if _missing(value):
        return "—"
    return ("+" if value >= 0 else "") + money(value)


# Markdown and Streamlit's extensions to it: links and images `[ ]( )` `!`, emphasis `* _ ~`,
# code `` ` ``, headings `#`, quotes and HTML `< >`, tables `|`, lists `+ -` and `1.`, colour
# directives `:red[…]` `:`, KaTeX `$`, the escape itself `\`, entities `&`. CommonMark lets a
# backslash escape any ASCII punctuation, and shows the character alone.
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~:$&")
# a blank line or a line break would start a new block (a heading, a list) mid-value
_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " "})


def md_escape(value) -> str:
    """Text from the data (a customer name, a note, a category, a file name) made safe to put
    into Markdown (`st.markdown`, `st.caption`, `st.subheader`, alerts, metric and widget
    labels, help tooltips): every Markdown special (`MARKDOWN_SPECIALS`) is backslash-escaped
    and line breaks become spaces, so `![x](http://host/p.png)`, `[a](http://x)`, `:red[a]`,
    `$x^2$` or `<b>` show as typed, never as an image, a link, colour, KaTeX or HTML.
    Missing -> '—'. Use it on the data value only, never on the Markdown around it."""
    if _missing(value):
        return "—"
    text = str(value).translate(_LINE_BREAKS)
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in text)


def plotly_text(value) -> str:
    """Text from the data made safe for a plotly title, axis label, legend or hover text,
    which read a subset of HTML (`<a href>`, `<b>`, `<br>`): `&`, `<` and `>` become entities,
    shown as typed. Missing -> '—'."""
    if _missing(value):
        return "—"
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chart_label(value) -> str:
    """`label(value)` for a plotly tick, legend entry or hover text: a category from the data
    (a segment, a churn reason, a channel) shown as typed (`plotly_text`)."""
    return plotly_text(label(value))
