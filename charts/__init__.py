"""Plotly chart builders, one module per page family: a metric frame in, a `go.Figure` out.
No Streamlit here, and nothing from `dashboard/` or `reports/` (tests/unit/test_layering.py).

- `theme` — fonts, palette, one colour per dimension value, the plotly template, layout helpers
- `overview`, `churn` (funnel and segments), `value`, `service`, `roi`, `quality`, `risk`
  (customer 360 and the model card)

Conventions every builder follows:
- The title states the takeaway. The sentence comes from `analytics.takeaways` (one rule
  for page, deck and PDF); the subtitle says what is plotted.
- One fixed colour per value of a dimension (segment, plan, channel, …) on every page,
  from `theme.colour()`; rates red when bad, blue when good.
- Fonts sized for a projector; numbers through `analytics.formatting`; raw values
  through `formatting.label`.
- Empty input is the caller's business (pages show an st.info instead of a chart).
"""
