"""The company's look on the leadership report: name, logo and accent colour from
`[brand]` in retention.toml (`analytics.config.brand_settings`).

The brand dresses the frame — the title slide, the footer, the KPI table's header, the
presentation's buttons — never the data series: churn stays red and retention blue on
every brand, so a chart reads the same in every company's deck (decision 027)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analytics.config import DEFAULT_BRAND_NAME, brand_settings

DEFAULT_ACCENT = "#262730"  # the dashboard's text colour: a neutral frame without a brand


@dataclass(frozen=True)
class Brand:
    name: str = DEFAULT_BRAND_NAME
    logo: Path | None = None
    colours: tuple[str, ...] = ()

    @property
    def accent(self) -> str:
        """The first configured colour, else the neutral frame colour."""
        return self.colours[0] if self.colours else DEFAULT_ACCENT


def load_brand() -> Brand:
    """The configured brand (a bad setting raises a one-line ValueError)."""
    return Brand(**brand_settings())
