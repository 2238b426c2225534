"""Shared fixtures: one quick run of the TD-conditioning circuit for the whole session."""

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def td_quick():
    """(params, result, twin, metrics) of the quick preset, seed 0, runtime device."""
    from spikingml.circuits import td_conditioning as td

    params = td.Params.quick()
    result = td.simulate(params, seed=0, progress=False)
    twin = td.twin(params)
    return params, result, twin, td.compare(result, twin)
