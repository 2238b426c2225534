# spikingml: `make demo` runs the flagship circuit, `make test` runs the test suite.
# Both create the virtual environment .venv (Python >= 3.11) on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.spikingml-installed
DEMO_OUT ?= demo-output/td-conditioning

.PHONY: demo test test-slow test-all lint format bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

## Run the flagship job: dopamine neurons learn a TD error (outputs in $(DEMO_OUT)).
demo: $(STAMP)
	$(VENV)/bin/spikingml run td-conditioning --out $(DEMO_OUT) --force

## Default test suite (minutes on 2 cores; long science runs excluded).
test: $(STAMP)
	$(VENV)/bin/pytest

## Long science tests (default presets, several seeds).
test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow

test-all: $(STAMP)
	$(VENV)/bin/pytest -m "slow or not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check spikingml tests examples benchmarks
	$(VENV)/bin/ruff format --check spikingml tests examples benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format spikingml tests examples benchmarks

## Benchmarks: issue targets of every circuit over seeds (about 20 minutes).
bench: $(STAMP)
	$(PY) benchmarks/bench_td_conditioning.py
	$(PY) benchmarks/bench_v1_ica.py
	$(PY) benchmarks/bench_rescorla_wagner.py

clean:
	rm -rf demo-output spikingml-output .pytest_cache
