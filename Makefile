# Retention Radar — the two commands: `make run` and `make test`.
# Needs only Python 3.11+ and make; everything else is installed here.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
ADDRESS ?= 127.0.0.1
SAMPLE_CUSTOMERS ?= 50000

.PHONY: run test sample scores rollups import bench screenshots install install-test system-test-deps clean

# --- environments ---------------------------------------------------------------
# pip's own lines (Collecting / Downloading with a progress bar) are the install's progress
$(VENV)/.installed: requirements.txt constraints.txt
	@echo "== Installing Python packages into $(VENV) (a few minutes the first time) =="
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt -c constraints.txt
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian packages the tests need: Chromium for the browser tests (Playwright drives
# /usr/bin/chromium; it never downloads a browser), pdftoppm for report checks, a Java
# runtime for the Spark equality tests (tests/spark/; PySpark itself comes from PyPI), and
# PostgreSQL for the action store's tests on Postgres (tests/postgres.py starts a throw-away
# cluster from /usr/lib/postgresql/*/bin; the package's own cluster service is not used).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-test-deps:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null || { \
	  echo "Installing Debian packages: chromium poppler-utils"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium poppler-utils >/dev/null; }
	@command -v java >/dev/null || { \
	  echo "Installing a Java runtime for Spark: openjdk-17-jre-headless (or default-jre-headless)"; \
	  $(SUDO) apt-get update -qq && \
	  { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null || \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq default-jre-headless >/dev/null; }; }
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  echo "Installing PostgreSQL for the action store's Postgres tests: postgresql"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# --- the product ------------------------------------------------------------------
# The sample goes to the configured database path ($RETENTION_DB, retention.toml, or
# data/sample.duckdb) and is generated only when that file is missing.
sample: $(VENV)/.installed
	@echo "== Sample data (only when the database file is missing) =="
	$(BIN)/python -m sample_data.generate --if-missing --customers $(SAMPLE_CUSTOMERS)

# Churn-risk scores for the at-risk list and margin at risk: trained and written once per
# as-of date (pages never train on page load). In the foreground, the dashboard must not be
# running: the scorer needs DuckDB's write lock (`run` scores in the background instead). Status 4 means the data cannot train a model (the
# scorer printed why and wrote nothing): `run` goes on and the dashboard shows the at-risk
# list as not computed; any other failure stops here.
scores: sample
	@echo "== Churn-risk scores =="
	$(BIN)/python -m analytics.score --if-missing || test $$? -eq 4

# Precomputed metric rollups (docs/decisions/009-metric-rollups.md): rebuilt only when the
# data changed since they were built; the generator already builds them for the sample.
# They do not read the scores, so `run` builds them before scoring starts.
rollups: sample
	@echo "== Metric rollups (only when the data changed since they were built) =="
	$(BIN)/python -m analytics.rollups --if-stale

# Import your own exports (CSV, Parquet, Excel) described by a mapping file into the
# configured database path (README, "Your own data"); the previous file is kept as .bak.
# Stop the dashboard first only if it writes; the swap is atomic either way.
import: $(VENV)/.installed
	@test -n "$(MAPPING)" || { echo "usage: make import MAPPING=path/to/mapping.toml [OUT=file.duckdb]"; exit 2; }
	$(BIN)/python -m analytics.load --mapping $(MAPPING) $(if $(OUT),--out $(OUT))

# The dashboard starts at once; when the as-of date has no churn scores yet they are
# computed in the background (`--swap`: a copy of the file is scored and renamed in, since
# the running dashboard holds it open; docs/decisions/025-first-run-in-background.md). Its
# progress shows on this terminal and on the pages that need the scores, which fill in
# when it is done. Ctrl+C stops both. `dashboard.serve` is `streamlit run dashboard/app.py`
# with the caches for the default view warmed at start-up. The scorer runs at a lower
# priority (nice): on two cores it would otherwise halve the speed of the pages meanwhile.
run: rollups
	@echo "== Retention Radar: open http://$(ADDRESS):$(PORT) (Ctrl+C stops it) =="
	@nice -n 10 $(BIN)/python -m analytics.score --if-missing --swap & scorer=$$!; \
	trap 'kill $$scorer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m dashboard.serve --server.port $(PORT) --server.address $(ADDRESS)

# RETENTION_TEST_POSTGRES=required: the Postgres cases fail, not skip, when no cluster starts
test: $(VENV)/.installed-test system-test-deps
	RETENTION_TEST_POSTGRES=required $(BIN)/python -m pytest tests

bench: $(VENV)/.installed-test system-test-deps
	$(BIN)/python -m benchmarks.run_all

# The README's screenshots, from the sample `make run` builds (headless Debian chromium).
screenshots: scores rollups $(VENV)/.installed-test system-test-deps
	$(BIN)/python -m benchmarks.readme_screenshots

clean:
	rm -rf $(VENV) .pytest_cache artifacts bench-results
