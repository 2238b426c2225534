"""Shared fixtures: one quick run of the TD-conditioning circuit for the whole session."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")

# Compile Brian2's generated code without optimisation (-O0): the suite compiles
# hundreds of code objects and runs each for seconds at most, so this halves a cold run.
# The modules go to a cache of their own (spikingml.simulation.FAST_COMPILE_ENV). Set
# SPIKINGML_FAST_COMPILE=0 to test optimised code.
os.environ.setdefault("SPIKINGML_FAST_COMPILE", "1")


def pytest_report_header(config) -> str:
    """Say whether a missing optional test dependency skips or fails (tests/_optional.py)."""
    from _optional import REQUIRE_ENV, optional_required

    if optional_required():
        return f"optional test dependencies: required (CI or {REQUIRE_ENV}=1; missing = error)"
    return f"optional test dependencies: skipped where missing (set {REQUIRE_ENV}=1 to require)"


@pytest.fixture(scope="session")
def td_quick():
    """(params, result, twin, metrics) of the quick preset, seed 0, runtime device."""
    from spikingml.circuits import td_conditioning as td

    params = td.Params.quick()
    result = td.simulate(params, seed=0, progress=False)
    twin = td.twin(params)
    return params, result, twin, td.compare(result, twin)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """One xdist group per test file (``--dist loadgroup``): a file's tests stay on one
    worker, so its module fixtures (shared simulations) run once, as with ``loadfile``.
    Tests that name their own group keep it: each circuit of ``test_contract.py`` is a
    group of its own, so the circuits are spread over the workers."""
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
