"""Where the pages that need churn scores (At-risk, Model, margin at risk) say that the
scores are being computed in the background (`python -m analytics.score --swap`, started
by `make run`; docs/decisions/025-first-run-in-background.md).

The run writes its progress to `<database>.scoring.json`; a fragment re-reads it every few
seconds and reruns the whole page once the run has ended: the scored copy has then been
renamed over the database, whose new modification time makes `dashboard.data` reopen it
and recompute every cached result — the scores appear without a restart."""

from __future__ import annotations

import streamlit as st

from analytics import config
from analytics.score import ScoringStatus, read_scoring_status

REFRESH_SECONDS = 3
RUN_SCORER = "run `make scores` (or `python -m analytics.score`) with the dashboard stopped, then start it again"


def scoring_status() -> ScoringStatus | None:
    """The latest background run on the configured DuckDB file, or None (none, or done)."""
    try:
        if config.engine_settings()["kind"] == "spark":
            return None
    except ValueError:
        return None
    return read_scoring_status(config.database_path())


def show(what: str) -> bool:
    """Say what `what` (e.g. "The at-risk list") waits for, when a background run is under
    way (a progress bar, refreshed), failed (its one-line reason) or was interrupted.
    False when there is no run to speak of: the page says what it says without scores."""
    status = scoring_status()
    if status is None:
        return False
    if status.state == "failed":
        st.warning(f"{what} needs churn scores, and the background scoring run could not make them: "
                   f"{status.message}", icon=":material/error:")
        return True
    if status.state == "stopped":
        st.info(f"{what} needs churn scores; the background scoring run was interrupted before it finished. "
                f"To compute them, {RUN_SCORER}.", icon=":material/hourglass_disabled:")
        return True

    @st.fragment(run_every=REFRESH_SECONDS)
    def progress() -> None:
        now = scoring_status()
        if now is None or now.state != "running":
            st.rerun()  # the run ended: the whole page again, on the swapped-in file
        st.progress(min(1.0, max(0.0, now.fraction)),
                    text=f"Computing churn scores in the background — {now.message} "
                         f"({now.elapsed_s:.0f} s so far). {what} appears here when they are ready; "
                         "the other pages work meanwhile.")

    progress()
    return True
