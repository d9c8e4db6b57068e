"""Defaults of a scoring run, in a module light enough for `analytics.score` to read
before it decides whether to import scikit-learn at all (`--if-missing` is a no-op on
most `make run`s)."""

DEFAULT_SAMPLE_SIZE = 200_000  # customers sampled for training
DEFAULT_TRAIN_SNAPSHOTS = 12  # monthly training snapshots
DEFAULT_SEED = 7
DEFAULT_HISTORY_MONTHS = 5  # earlier month-ends scored with the same model, for score history
