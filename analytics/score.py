"""Score churn risk and customer value into the database.

    python -m analytics.score [--db PATH] [--as-of YYYY-MM-DD] [--if-missing]

Trains the churn-risk model on earlier month-end snapshots (a seeded sample of at most
200,000 customers), backtests it against a logistic regression and a simple rule, scores
every customer active on the as-of date and writes two tables (docs/data-model.md):

- `churn_scores`: per customer, P(churn in 90 days), historical CLV, future value (the
  expected discounted margin still to come), predictive CLV (historical + future),
  expected loss (= probability × future value), rank by expected loss, top-3 drivers in words;
- `model_runs`: the run's model card (`analytics.risk.model_card`) as JSON.

The same model also backfills the five month-ends before the as-of date
(`--history-months`), so each customer has a score history and margin at risk a trend.

Rows of the same as-of date are replaced (`Database.replace_rows`). On a DuckDB file, in
one transaction, so a reader sees the old scores or the new ones, never a mix; the file is
opened read-write through `analytics.db.open_database`, and when another program holds it
(a running dashboard), the command says so and exits with status 3, changing nothing.
Without `--db`, the configured engine is scored (`analytics.db.open_engine`): on Spark
(`[engine] kind = "spark"`) the features are computed by Spark, the model is trained in
pandas as on DuckDB, and each of the two tables is rewritten as Parquet in the engine's
output folder (`[engine] output`; decision 017), one after the other. `--if-missing` does nothing
when the as-of date is already scored (`make run` calls it before starting the dashboard).

Data without surveys, notes, touchpoints or revenue rows trains without those feature
groups (the model card lists them and why). When the data cannot train a model at all
(too short a history, fewer than `MIN_CHURNERS` churners or `MIN_STAYERS` stayers in a
labelled snapshot set), the command prints one sentence saying why and what data would
fix it, writes nothing and exits with status 4 (`EXIT_CANNOT_TRAIN`); the Makefile's
`scores` step tolerates exactly that status, so `make run` still starts the dashboard
(whose at-risk pages then say the scores are not computed).
Progress goes to stderr, the one-line summary to stdout.

`--swap` (what `make run` uses, in the background while the dashboard starts): a DuckDB
file that a running dashboard holds open read-only cannot be written (DuckDB's write
lock), so the scorer copies the file — holding a read-only connection meanwhile, so no
writer can change it mid-copy — scores the copy, and renames it over the original
(`os.replace`, atomic on one file system) when done. The dashboard notices the new
modification time and reopens the file on its next page view (`dashboard.data.database`),
so the scores appear without a restart. If the original changed meanwhile (an import),
the copy is thrown away and nothing is replaced. Progress is also written to
`<file>.scoring.json` (`scoring_status_path`; removed when done, kept with the reason
when the data cannot train), which the pages that need scores show as a progress bar.
See docs/decisions/025-first-run-in-background.md.

Defaults: the configured engine (`analytics.config.engine_settings()`; a DuckDB file from
`analytics.config.database_path()` unless Spark is configured), the as-of date from its
`schema_info.as_of_date`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from typing import TYPE_CHECKING

from analytics.config import database_path
from analytics.db import (Database, DatabaseError, DatabaseLocked, open_database, open_engine,
                          writer_locked_message)
from analytics.risk.defaults import (DEFAULT_HISTORY_MONTHS, DEFAULT_SAMPLE_SIZE, DEFAULT_SEED,
                                     DEFAULT_TRAIN_SNAPSHOTS, CannotTrain)
from analytics.schema import OPTIONAL_TABLES

if TYPE_CHECKING:  # the model stack (scikit-learn, pandas) is imported only when scoring
    import pandas as pd

    from analytics.risk.model import TrainingResult
    from analytics.risk.model_card import ModelCard

SCORE_TABLE = "churn_scores"
RUNS_TABLE = "model_runs"
SCORE_COLUMNS = tuple(OPTIONAL_TABLES[SCORE_TABLE])
RUN_COLUMNS = tuple(OPTIONAL_TABLES[RUNS_TABLE])

EXIT_OK, EXIT_ERROR, EXIT_LOCKED, EXIT_CANNOT_TRAIN = 0, 2, 3, 4


# --- progress of a background run (`--swap`), read by the dashboard ---------------------------

def scoring_status_path(db_path: Path) -> Path:
    """Where a `--swap` run of `db_path` writes its progress: `<file>.scoring.json` beside it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".scoring.json")


@dataclass(frozen=True)
class ScoringStatus:
    """A background scoring run as its status file tells it.

    `state`: "running" (its process is alive), "failed" (it ended without scores; `message`
    says why in one sentence) or "stopped" (the file says running but its process is gone:
    it was interrupted). `fraction` is an estimate in [0, 1] from the steps done so far."""

    state: str
    message: str
    fraction: float
    started: float  # time.time() of the start
    updated: float

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.updated - self.started)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def read_scoring_status(db_path: Path) -> ScoringStatus | None:
    """The status of the latest background run on `db_path`, or None when there is none
    (never started, or finished and its file removed). A file that cannot be read is None."""
    try:
        raw = json.loads(scoring_status_path(db_path).read_text())
        state = str(raw["state"])
        if state == "running" and not _process_alive(int(raw["pid"])):
            state = "stopped"
        return ScoringStatus(state, str(raw.get("message", "")), float(raw.get("fraction", 0.0)),
                             float(raw["started"]), float(raw.get("updated", raw["started"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# Estimated share of the run done when a progress line starting with the key is said
# (training features, the two fits, today's scores, the history months, the write).
_MILESTONES = (("training sample", 0.03), ("  fitting the gradient", 0.44), ("  fitting the logistic", 0.50),
               ("  held out", 0.55), ("  production", 0.65),
               ("scoring the customers", 0.66), ("scored ", 0.72), ("writing", 0.93), ("swapping", 0.98))


class StatusFile:
    """Writes a run's progress to `scoring_status_path(db_path)` (atomically: a reader never
    sees half a file). `say` is the run's progress callback."""

    def __init__(self, db_path: Path, snapshots: int, history_months: int):
        self.path = scoring_status_path(db_path)
        self.started = time.time()
        self.fraction = 0.0
        self.snapshots = max(1, snapshots)
        self.history_months = max(1, history_months)
        self.features_seen = self.history_seen = 0

    def write(self, state: str, message: str) -> None:
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}")
        tmp.write_text(json.dumps({"state": state, "message": message, "fraction": round(self.fraction, 3),
                                   "pid": os.getpid(), "started": self.started, "updated": time.time()}))
        os.replace(tmp, self.path)

    def say(self, message: str) -> None:
        if message.startswith("  features as of"):
            self.features_seen += 1
            self.fraction = 0.03 + 0.40 * min(1.0, self.features_seen / self.snapshots)
        elif message.startswith("backfilling"):
            self.history_seen += 1
            self.fraction = 0.72 + 0.2 * min(1.0, self.history_seen / self.history_months)
        else:
            self.fraction = next((f for key, f in _MILESTONES if message.startswith(key)), self.fraction)
        self.write("running", message.strip())

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class ScoringRun:
    """What one run produced (the rows are written by `write_scores`)."""

    as_of: date
    scores: pd.DataFrame  # columns SCORE_COLUMNS
    card: ModelCard
    training: TrainingResult
    timings: dict[str, float] = field(default_factory=dict)
    history: pd.DataFrame | None = None  # earlier month-ends, same columns (see score_customers)


def database_as_of(db: Database) -> date:
    value = db.schema_info().get("as_of_date")
    if not value:
        raise ValueError(f"{db.path} has no schema_info.as_of_date; pass --as-of")
    return date.fromisoformat(value)


def is_scored(db: Database, as_of: date) -> bool:
    """True when `churn_scores` already holds rows for `as_of`."""
    if not db.has_table(SCORE_TABLE):
        return False
    scores = db.table(SCORE_TABLE)
    return bool(db.ibis().execute(scores.filter(scores.as_of_date == as_of).count()))


def history_dates(as_of: date, months: int) -> list[date]:
    """The `months` month-ends before `as_of`, newest first (as_of 2026-09-30, 2 ->
    [2026-08-31, 2026-07-31]; as_of 2026-09-15, 1 -> [2026-08-31])."""
    first_of_month = as_of.replace(day=1)
    out, end = [], first_of_month - timedelta(days=1)
    for _ in range(months):
        out.append(end)
        end = end.replace(day=1) - timedelta(days=1)
    return out


def score_snapshot(db: Database, model, as_of: date, model_version: str, scored_at: datetime,
                   timings: dict[str, float] | None = None) -> pd.DataFrame:
    """Score every customer active on `as_of` with a trained `model`: one row per customer
    in the `churn_scores` layout (nothing is written). Empty when nobody is active."""
    import numpy as np
    import pandas as pd

    from analytics.risk.clv import clv_inputs, customer_value
    from analytics.risk.features import snapshot_features

    timings = timings if timings is not None else {}
    t0 = time.perf_counter()
    # the model's own categories (its `categories_`): a plan it never saw is unknown to it;
    # a model object without them (built before they were kept) gets the data's categories
    features = snapshot_features(db, as_of, categories=getattr(model, "categories_", None))
    specs = getattr(model, "attributes_", ())
    if specs:  # custom attributes the model was trained with (analytics.risk.attributes)
        from analytics.risk.attributes import read_attributes, with_attributes

        features = with_attributes(features, read_attributes(db, features["customer_id"]), specs)
    timings["score_features_s"] = timings.get("score_features_s", 0.0) + time.perf_counter() - t0
    if features.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SCORE_COLUMNS})

    t0 = time.perf_counter()
    p = model.predict_proba(features)
    drivers = model.explain(features, model.contributions(features))
    timings["score_predict_explain_s"] = timings.get("score_predict_explain_s", 0.0) + time.perf_counter() - t0

    t0 = time.perf_counter()
    inputs = clv_inputs(db, as_of)
    if not np.array_equal(inputs["customer_id"].to_numpy(), features["customer_id"].to_numpy()):
        raise RuntimeError("CLV inputs and features disagree on the active population")  # a bug, not user error
    value = customer_value(inputs, p)
    timings["score_clv_s"] = timings.get("score_clv_s", 0.0) + time.perf_counter() - t0

    scores = pd.DataFrame({
        "customer_id": features["customer_id"].to_numpy(),
        "as_of_date": pd.Timestamp(as_of),
        "churn_probability": p,
        "clv_historical": value["clv_historical"].to_numpy(),
        "clv_predicted": value["clv_predicted"].to_numpy(),
        "clv_future": value["clv_future"].to_numpy(),
        "expected_loss": value["expected_loss"].to_numpy(),
    })
    # rank 1 = the largest expected loss; ties by probability, then customer id
    order = np.lexsort((scores["customer_id"].to_numpy(), -scores["churn_probability"].to_numpy(),
                        -scores["expected_loss"].to_numpy()))
    rank = np.empty(len(scores), dtype="int64")
    rank[order] = np.arange(1, len(scores) + 1)
    scores["risk_rank"] = rank
    for k in (1, 2, 3):
        scores[f"driver_{k}"] = drivers[f"driver_{k}"].to_numpy()
        scores[f"driver_group_{k}"] = drivers[f"driver_group_{k}"].to_numpy()
    scores["model_version"] = model_version
    scores["scored_at"] = pd.Timestamp(scored_at)
    return scores.loc[:, list(SCORE_COLUMNS)]


def score_customers(
    db: Database,
    as_of: date,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    train_snapshots: int = DEFAULT_TRAIN_SNAPSHOTS,
    seed: int = DEFAULT_SEED,
    progress=None,
    history_months: int = 0,
) -> ScoringRun:
    """Train, backtest and score every customer active on `as_of` (nothing is written).

    With `history_months` = n, the same model also scores the n month-ends before `as_of`
    into `run.history` — a backfill that gives each customer a score history and the
    margin-at-risk trend. Those earlier scores come from today's model, not from the
    model that was live then (say so wherever they are shown)."""
    from analytics.risk.model import train_risk_model
    from analytics.risk.model_card import build_model_card

    say = progress or (lambda _msg: None)
    limit = database_as_of(db)
    if as_of > limit:
        raise ValueError(f"--as-of {as_of} is after the database's last day of history ({limit})")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    training = train_risk_model(db, as_of, sample_size=sample_size, n_train=train_snapshots,
                                seed=seed, progress=say)
    timings["training_s"] = time.perf_counter() - t0

    scored_at = datetime.now().replace(microsecond=0)
    say(f"scoring the customers active on {as_of}")
    scores = score_snapshot(db, training.model, as_of, training.model_version, scored_at, timings)
    if scores.empty:
        raise ValueError(f"no customer is active on {as_of}; nothing to score")
    say(f"scored {len(scores):,} customers")
    history = []
    t0 = time.perf_counter()
    for day in history_dates(as_of, history_months):
        say(f"backfilling score history for {day}")
        past = score_snapshot(db, training.model, day, training.model_version, scored_at, {})
        if not past.empty:
            history.append(past)
    timings["history_s"] = time.perf_counter() - t0
    card = build_model_card(training, len(scores), trained_at=scored_at,
                            history_start=db.schema_info().get("history_start"))
    import pandas as pd

    history_frame = pd.concat(history, ignore_index=True) if history else scores.iloc[0:0]
    return ScoringRun(as_of, scores, card, training, timings, history_frame)


def write_scores(db: Database, run: ScoringRun) -> None:
    """Replace the rows of every date the run scored (the as-of date and its history) in
    `churn_scores`, and the as-of date's row in `model_runs` (`Database.replace_rows`):
    in one transaction on DuckDB; on Spark each table is rewritten as Parquet in the
    engine's output folder (`SparkDatabase.write_table`), one after the other."""
    import ibis
    import pandas as pd

    if db.read_only:
        raise ValueError("the database was opened read-only; open it with read_only=False to write scores")
    scores = run.scores if run.history is None or run.history.empty else pd.concat(
        [run.scores, run.history], ignore_index=True)
    runs = pd.DataFrame({
        "model_version": [run.training.model_version],
        "trained_at": [pd.Timestamp(run.card.trained_at)],
        "as_of_date": [pd.Timestamp(run.as_of)],
        "card_json": [run.card.to_json()],
    })
    dates = sorted({pd.Timestamp(d).date() for d in scores["as_of_date"]})
    with db.transaction() as backend:
        for table, columns, frame, replaced in (
                (SCORE_TABLE, SCORE_COLUMNS, scores, dates),
                (RUNS_TABLE, RUN_COLUMNS, runs, [run.as_of])):
            # a table written by an older release gets today's columns (only ever added,
            # nullable, so old rows stay valid); the casts pin the stored types whatever
            # pandas inferred for the batch
            db.replace_rows(backend, table, OPTIONAL_TABLES[table], "as_of_date", replaced,
                            ibis.memtable(frame[list(columns)]))


def backtest_summary(card: ModelCard) -> str:
    """The backtest in a few lines: each scorer's metrics and the model's margin over each."""
    m = card.metrics
    if card.cross_sectional:
        head = (f"{card.evaluation['label']} of the snapshot {card.evaluation['snapshot_date']} "
                f"({m['model']['customers']:,} test customers, {m['model']['churners']:,} churned):")
    else:
        head = (f"backtest on {card.data_window['backtest']['target_date']} "
                f"({m['model']['customers']:,} customers, {m['model']['churners']:,} churned within 90 days):")
    lines = [head,
             f"  {'scorer':10s} {'ROC AUC':>8s} {'PR AUC':>8s} {'lift@10%':>9s} {'capture@10%':>12s} {'Brier':>8s}"]
    for name in ("model", "logistic", "rule", "base_rate"):
        x = m[name]
        lines.append(f"  {name:10s} {x['roc_auc']:8.4f} {x['pr_auc']:8.4f} {x['top_decile_lift']:9.2f} "
                     f"{x['top_decile_capture']:12.3f} {x['brier']:8.5f}")
    for name in ("logistic", "rule"):
        d, ci = card.improvement[name], card.auc_difference.get(name, {})
        lines.append(f"  model vs {name}: ROC AUC {d['roc_auc']:+.4f} (95% CI {ci.get('ci_low', float('nan')):+.4f}"
                     f"..{ci.get('ci_high', float('nan')):+.4f}), PR AUC {d['pr_auc']:+.4f}, "
                     f"lift {d['top_decile_lift']:+.2f}, capture {d['top_decile_capture']:+.3f}, "
                     f"Brier {-d['brier']:+.5f}")
    if card.choice_summary():
        lines.append("  " + card.choice_summary())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None,
                        help="DuckDB file (default: the configured engine: $RETENTION_DB, retention.toml's "
                        "[engine] or [database], or data/sample.duckdb)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="date to score, YYYY-MM-DD (default: the database's as_of_date)")
    parser.add_argument("--if-missing", action="store_true",
                        help="do nothing when churn_scores already has rows for the as-of date")
    parser.add_argument("--sample-size", type=int, default=DEFAULT_SAMPLE_SIZE,
                        help=f"customers sampled for training (default {DEFAULT_SAMPLE_SIZE:,})")
    parser.add_argument("--train-snapshots", type=int, default=DEFAULT_TRAIN_SNAPSHOTS,
                        help=f"monthly training snapshots (default {DEFAULT_TRAIN_SNAPSHOTS})")
    parser.add_argument("--history-months", type=int, default=DEFAULT_HISTORY_MONTHS,
                        help="earlier month-ends to backfill with the same model, for score history "
                        f"(default {DEFAULT_HISTORY_MONTHS}; 0 = none)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--swap", action="store_true",
                        help="score a copy of the DuckDB file and swap it in when done, so a running "
                        "dashboard keeps reading meanwhile; progress also in <file>.scoring.json")
    args = parser.parse_args(argv)
    if args.history_months < 0:
        parser.error("--history-months must be 0 or more")
    if args.sample_size < 1000:
        parser.error("--sample-size must be at least 1000")
    # --db names a DuckDB file; without it, the configured engine (a DuckDB file, or Spark
    # with `[engine] kind = "spark"`, which writes to its output folder)
    def open_db(read_only: bool) -> Database:
        return open_database(args.db, read_only=read_only) if args.db is not None else open_engine(read_only)

    path = args.db if args.db is not None else database_path()

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    if args.swap and (args.db is not None or not _spark_configured()):
        return _score_in_copy(args, Path(path), say, started)
    try:
        if args.if_missing:
            db = open_db(read_only=True)
            try:
                as_of = args.as_of or database_as_of(db)
                if is_scored(db, as_of):
                    print(f"{db.path}: churn scores for {as_of} already present; nothing to do")
                    return EXIT_OK
            finally:
                db.close()
        db = open_db(read_only=False)
        if db.kind == "spark":  # where the scores will go, checked before minutes of training
            try:
                path = f"{db.output_folder('scores')} (Spark, {db.path})"
            except DatabaseError:
                db.close()
                raise
    except DatabaseLocked as err:
        print(writer_locked_message("score", "analytics.score", path, err), file=sys.stderr)
        return EXIT_LOCKED
    except (DatabaseError, ValueError) as err:
        print(f"Cannot score: {err}", file=sys.stderr)
        return EXIT_ERROR
    try:
        as_of = args.as_of or database_as_of(db)
        say(f"scoring {path} as of {as_of}")
        run = score_customers(db, as_of, sample_size=args.sample_size, train_snapshots=args.train_snapshots,
                              seed=args.seed, progress=say, history_months=args.history_months)
        t0 = time.perf_counter()
        write_scores(db, run)
        run.timings["write_s"] = time.perf_counter() - t0
        if db.kind == "duckdb":  # a failed background run's note no longer applies
            scoring_status_path(db.path).unlink(missing_ok=True)
    except CannotTrain as err:  # the data's limit, not a failure: one sentence, nothing written
        print(str(err), file=sys.stderr)
        return EXIT_CANNOT_TRAIN
    except ValueError as err:
        print(f"Cannot score: {err}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        db.close()
    say(backtest_summary(run.card))
    say("timings: " + ", ".join(f"{k} {v:.1f}" for k, v in run.timings.items()))
    print(f"scored {len(run.scores):,} customers as of {as_of} into {path} "
          f"({run.training.model_version}, {time.perf_counter() - started:.0f} s)")
    return EXIT_OK


def _spark_configured() -> bool:
    from analytics.config import engine_settings

    try:
        return engine_settings()["kind"] == "spark"
    except ValueError:
        return False


def _score_in_copy(args, path: Path, say, started: float) -> int:
    """`--swap` on a DuckDB file: copy, score the copy, rename it over `path` (module
    docstring). Same exit statuses as a direct run; status 2 when `path` changed meanwhile."""
    import signal

    # `make run` stops the background run with SIGTERM when the dashboard stops: exit through
    # the cleanup (no copy, no "running" status left behind)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        return _swap_run(args, path, say, started)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _swap_run(args, path: Path, say, started: float) -> int:
    status_path = scoring_status_path(path)
    current = read_scoring_status(path)
    if current is not None and current.state == "running":
        print(f"{path}: a scoring run is already under way ({status_path}); nothing to do")
        return EXIT_OK
    copy = path.with_name(f".{path.name}.scoring-{os.getpid()}")
    copies = (copy, Path(f"{copy}.wal"))
    status = StatusFile(path, args.train_snapshots + 4, args.history_months)
    try:
        try:
            source = open_database(path, read_only=True)  # no writer can start while it is open
        except DatabaseLocked as err:
            print(writer_locked_message("score", "analytics.score", path, err), file=sys.stderr)
            return EXIT_LOCKED
        try:
            as_of = args.as_of or database_as_of(source)
            if args.if_missing and is_scored(source, as_of):
                print(f"{path}: churn scores for {as_of} already present; nothing to do")
                return EXIT_OK
            status.write("running", "copying the database to score it beside the running dashboard")
            before = path.stat()
            shutil.copyfile(path, copy)
            if Path(f"{path}.wal").exists():  # not yet checkpointed writes travel with the copy
                shutil.copyfile(f"{path}.wal", copies[1])
        finally:
            source.close()

        def progress(message: str) -> None:
            say(message)
            status.say(message)

        db = open_database(copy, read_only=False)
        try:
            progress(f"scoring {path} (in a copy) as of {as_of}")
            run = score_customers(db, as_of, sample_size=args.sample_size, train_snapshots=args.train_snapshots,
                                  seed=args.seed, progress=progress, history_months=args.history_months)
            progress("writing the scores")
            write_scores(db, run)
            db.checkpoint()
        finally:
            db.close()
        now = path.stat()
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns):
            message = (f"Cannot score: {path} was replaced or changed while scoring (an import?); the scores "
                       "were not written. Run `python -m analytics.score` again.")
            print(message, file=sys.stderr)
            status.write("failed", message)
            return EXIT_ERROR
        progress("swapping the scored copy in")
        os.replace(copy, path)
        status.remove()
    except CannotTrain as err:
        print(str(err), file=sys.stderr)
        status.write("failed", str(err))
        return EXIT_CANNOT_TRAIN
    except (DatabaseError, ValueError) as err:
        print(f"Cannot score: {err}", file=sys.stderr)
        status.write("failed", f"Cannot score: {err}")
        return EXIT_ERROR
    except BaseException:  # Ctrl+C of `make run`, or a bug: no half-written status or copy left behind
        status.remove()
        raise
    finally:
        for leftover in copies:
            leftover.unlink(missing_ok=True)
    say(backtest_summary(run.card))
    print(f"scored {len(run.scores):,} customers as of {as_of} into {path} "
          f"({run.training.model_version}, {time.perf_counter() - started:.0f} s)")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
