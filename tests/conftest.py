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


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, but each circuit of the conformance test on its own.

    A test file stays whole on one xdist worker, so its module fixtures (its shared
    simulations) run once. ``tests/test_contract.py`` is split by circuit (the
    parameter in brackets), so that the circuits' conformance runs are spread over the
    workers. Other ``--dist`` modes are left as they are.
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileOrCircuit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path, _, name = nodeid.partition("::")
            if path.endswith("test_contract.py") and name.endswith("]"):
                return f"{path}::{name[name.index('[') + 1 : -1]}"
            return path

    return FileOrCircuit(config, log)
