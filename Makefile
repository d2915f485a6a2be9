# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -c requirements.lock
DEMO_INSTALLED := $(VENV)/.installed-demo
TEST_INSTALLED := $(VENV)/.installed-test

# Telemetry has nowhere to go on an offline machine.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test bench bench-oneshot bench-jobs faults stop clean

$(DEMO_INSTALLED): pyproject.toml requirements.lock
	@echo "Installing guildflow and its pinned dependencies into $(VENV) (the first time takes 1-5 minutes)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --progress-bar on -e .
	touch $@

# The test tools on top (pytest, ruff, mypy, the emulators' libraries): only `make test` needs them.
$(TEST_INSTALLED): $(DEMO_INSTALLED)
	@echo "Installing the test tools into $(VENV)"
	$(PIP) --quiet -e '.[test]'
	touch $@

install: $(DEMO_INSTALLED)

# The demo also summarises a week of examples/summaries/ into .guildflow/summaries (since the last summary: a second
# `make demo` finds nothing new there and says so).
SUMMARY_EXPORT := examples/summaries/*.json

# The daily pipeline on examples/. Without PREFECT_API_URL it starts Prefect's server in the background once
# (the first start sets up its database: up to a minute); `make stop` stops it.
demo: $(DEMO_INSTALLED)
	$(BIN)/guildflow check
	GUILDFLOW_DISCORD_EXPORT='$(SUMMARY_EXPORT)' $(BIN)/guildflow summary now --guild 820713432859803648 \
		--channel 1574000000000000001 --action-items --technical-terms --title "This week in #dev-core" \
		--to file:.guildflow/summaries
	$(BIN)/guildflow run daily

test: $(TEST_INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(TEST_INSTALLED)
	$(BIN)/python -m benchmarks

bench-oneshot: $(TEST_INSTALLED)  # item 7 alone: `guildflow run daily` as new processes
	$(BIN)/python -m benchmarks.oneshot

bench-jobs: $(TEST_INSTALLED)  # jobs at scale on PostgreSQL (benchmarks/JOBS.md)
	$(BIN)/python -m benchmarks.jobs

# The fault campaign (README, "Fault campaign"): `make faults TRIALS=200 SEED=7`, or one trial: `TRIAL=12`.
TRIALS ?= 50
SEED ?= 1
faults: $(TEST_INSTALLED)
	$(BIN)/python -m faults --trials $(TRIALS) --seed $(SEED) $(if $(TRIAL),--trial $(TRIAL))

stop:
	$(BIN)/prefect server stop

clean:
	rm -rf .guildflow
