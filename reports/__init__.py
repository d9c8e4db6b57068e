"""The leadership report: the retention story gathered once from the analytics module
(`story`), rendered as an editable PowerPoint deck (`deck`), an offline PDF (`pdf`) and
plotly figures for the presentation page (`figures`). Nothing here imports streamlit.
"""
