"""Defaults of a scoring run, in a module light enough for `analytics.score` to read
before it decides whether to import scikit-learn at all (`--if-missing` is a no-op on
most `make run`s)."""

# Training cost grows with customers x snapshots; scoring still covers every active customer.
# 25,000 customers over 6 month-ends (~70k labelled rows on the 50k sample, ~3,500 churn
# events) keeps the backtest's ROC AUC within its own bootstrap interval of the former
# 200,000 x 12 and trains in a fraction of the time (issue 17; decision 025).
DEFAULT_SAMPLE_SIZE = 25_000  # customers sampled for training
DEFAULT_TRAIN_SNAPSHOTS = 6  # monthly training snapshots
DEFAULT_SEED = 7
DEFAULT_HISTORY_MONTHS = 5  # earlier month-ends scored with the same model, for score history

# The fewest churners (label 1) and stayers (label 0) each labelled set of a run needs: the
# backtest's training snapshots, its calibration and test snapshots, and the production
# training and calibration snapshots. Below 20 churners the Platt calibration rests on a
# handful of events and the backtest's ROC AUC has a 95 % interval wider than ±0.1, so the
# card could not tell the model from chance; the scorer explains instead of training.
MIN_CHURNERS = 20
MIN_STAYERS = 20


class CannotTrain(ValueError):
    """The data cannot train the churn-risk model; the message is one sentence saying why
    and what data would fix it (`analytics.score` prints it and exits with status 4)."""
