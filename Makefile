# spikingml: `make demo` runs the flagship circuit, `make test` runs the test suite.
# Both create the virtual environment .venv (Python >= 3.11) on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.spikingml-installed
DEMO_OUT ?= demo-output/td-conditioning
# 1: also install NEST (extra `nest`, for the NEST parity tests); if it fails to
# install, carry on without it (its tests are then skipped). 0: do not try.
WITH_NEST ?= 1

.PHONY: demo test test-slow test-all lint format bench bench-targets bench-nest bench-nest-network bench-sweep bench-reuse clean venv docs docs-fast

venv: $(STAMP)

# What `make demo` needs: the package and its core dependencies only (no test, NEST or
# docs extras), so a fresh machine runs the demo after the shortest install.
CORE := $(VENV)/.spikingml-core

$(CORE): pyproject.toml
	@echo "setting up $(VENV): spikingml and its core dependencies (Brian2, NumPy, SciPy, ..."
	@echo "  about 1-2 minutes the first time, most of it downloading)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e .
	@touch $(CORE)

$(STAMP): pyproject.toml
	@echo "setting up $(VENV): spikingml with its test and development extras (first time: minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# twice: one broken download (IncompleteRead from the registry) must not cost NEST
	@if [ "$(WITH_NEST)" = 1 ] && { $(PY) -m pip install --quiet -e ".[dev,nest]" || \
		$(PY) -m pip install --quiet -e ".[dev,nest]"; }; then \
		echo "installed spikingml[dev,nest]"; \
	else \
		[ "$(WITH_NEST)" != 1 ] || echo "NEST did not install: its parity tests will skip (fail if SPIKINGML_REQUIRE_NEST=1)"; \
		$(PY) -m pip install --quiet -e ".[dev]"; \
	fi
	@touch $(STAMP) $(CORE)

## Run the flagship job: dopamine neurons learn a TD error (outputs in $(DEMO_OUT)).
demo: $(CORE)
	$(VENV)/bin/spikingml run td-conditioning --out $(DEMO_OUT) --force

# Test processes (pytest-xdist); test files are kept whole on one worker, so a file's
# shared simulation runs once; each circuit of the conformance test is scheduled on its
# own (tests/conftest.py). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

## Default test suite (minutes on 2 cores; long science runs excluded).
test: $(STAMP)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

## Long science tests (default presets, several seeds).
test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow

test-all: $(STAMP)
	$(VENV)/bin/pytest -m "not docs"

lint: $(STAMP)
	$(VENV)/bin/ruff check spikingml tests examples benchmarks
	$(VENV)/bin/ruff format --check spikingml tests examples benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format spikingml tests examples benchmarks

## Performance of every circuit: default and quick presets, runtime and cpp_standalone
## (wall, compile, real-time factor, memory, synaptic events/s; about 40 minutes).
bench: $(STAMP)
	$(PY) benchmarks/bench_performance.py

## Issue targets of every circuit over seeds (about an hour; eprop-memory alone ~30 min).
bench-targets: $(STAMP)
	$(PY) benchmarks/bench_td_conditioning.py
	$(PY) benchmarks/bench_v1_ica.py
	$(PY) benchmarks/bench_rescorla_wagner.py
	$(PY) benchmarks/bench_actor_critic.py
	$(PY) benchmarks/bench_bayesian_neuron.py
	$(PY) benchmarks/bench_wta_em.py
	$(PY) benchmarks/bench_tempotron.py
	$(PY) benchmarks/bench_attractor.py
	$(PY) benchmarks/bench_three_factor_synapse.py
	$(PY) benchmarks/bench_reservoir.py
	$(PY) benchmarks/bench_eprop_memory.py
	$(PY) benchmarks/bench_stochastic_synapses.py
	$(PY) benchmarks/bench_neural_sampling.py
	$(PY) benchmarks/bench_hopfield_capacity.py --sizes 500,1000,2000 --networks 6
	$(PY) benchmarks/bench_representations.py
	$(PY) benchmarks/bench_hierarchy_twins.py
	$(PY) benchmarks/bench_hebbian_tsne.py
	$(PY) benchmarks/bench_hierarchy.py

## Parallel efficiency of `spikingml sweep` (20 quick runs on 1 and 2 workers; idle machine).
bench-sweep: $(STAMP)
	$(PY) benchmarks/bench_sweep.py

## Seeds 0-9 of td-conditioning under cpp_standalone, compiled once: cost per seed vs
## the first run (two compilations; a few minutes on an idle machine).
bench-reuse: $(STAMP)
	$(PY) benchmarks/bench_standalone_reuse.py

## NEST vs spikingml deviations of the three-factor rule (needs NEST; half a minute).
bench-nest: $(STAMP)
	$(PY) benchmarks/bench_nest_parity.py

## The same plastic 1000-neuron network in NEST and spikingml: rates, then run times
## (needs NEST; about 25 CPU minutes, most of it NEST with its default deliver_interval).
bench-nest-network: $(STAMP)
	$(PY) benchmarks/bench_nest_network.py

DOCS_STAMP := $(VENV)/.spikingml-docs-installed
SPHINX     := $(VENV)/bin/sphinx-build -b html docs docs/_build/html

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e ".[docs]"
	@touch $(DOCS_STAMP)

## Documentation site in docs/_build/html: runs every example (quick presets) for the
## gallery, warnings are errors; then checks the pages in headless Chromium. The examples'
## Brian2 code is compiled with -O0 (SPIKINGML_FAST_COMPILE), like the tests': twice as
## fast to compile, and after `make test` already in the cache.
docs: $(DOCS_STAMP)
	SPIKINGML_FAST_COMPILE=1 $(SPHINX) -W --keep-going
	$(VENV)/bin/pytest -m docs tests/test_docs_site.py

## The same without running the examples (for editing text; missing figures allowed).
docs-fast: $(DOCS_STAMP)
	$(SPHINX) -D plot_gallery=0 --keep-going

clean:
	rm -rf demo-output spikingml-output .pytest_cache docs/_build docs/api/generated \
		docs/auto_examples
