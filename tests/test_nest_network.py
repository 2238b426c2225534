"""The network of benchmarks/bench_nest_network.py, small, in NEST and in spikingml/Brian2.

The two simulators build the same network (the same connectivity, neuron, synapse and
plasticity parameters; their own random drive), so their firing rates must agree within
sampling noise, and the plastic weights must move in both (about 11 CPU seconds with a
warm Cython cache). Needs NEST; skipped without it, except when
``SPIKINGML_REQUIRE_NEST=1``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from brian2 import ms

from spikingml.errors import ValidationError
from spikingml.peers.nest_network import NetworkParams, connectivity, simulate_brian2

try:
    from spikingml.peers.nest_three_factor import import_nest

    import_nest()
except ImportError as exc:
    if os.environ.get("SPIKINGML_REQUIRE_NEST") == "1":
        raise ImportError(f"SPIKINGML_REQUIRE_NEST=1, but NEST is missing: {exc}") from exc
    pytest.skip(f"NEST is not installed ({exc})", allow_module_level=True)

from spikingml.peers.nest_network import simulate_nest  # noqa: E402

pytestmark = pytest.mark.nest


@pytest.fixture(scope="module")
def runs():
    """NEST and Brian2 (runtime) runs of the quick network: 200 neurons, 2 s."""
    params = NetworkParams.quick()
    return params, simulate_nest(params, seed=3), simulate_brian2(params, seed=3)


# a cold Brian2 compile of this network costs a minute, and the default suite is at its
# budget: the two simulations run with `make test-slow`
@pytest.mark.slow
def test_rates_agree(runs):
    # Seed to seed, NEST's rates in this network vary by 2.3% (excitatory) and 4.6%
    # (inhibitory, 40 neurons) of their mean (8 seeds); Brian2's came out 3-4% higher
    # on average over 4 seeds (within that noise). Tolerances: about 3 standard
    # deviations of the difference. A network built wrong (weights, units, inhibition,
    # drive) moves the rates by far more.
    params, nest_run, brian2_run = runs
    assert 2 < nest_run.rate_E < 20
    assert brian2_run.rate_E == pytest.approx(nest_run.rate_E, rel=0.15)
    assert brian2_run.rate_I == pytest.approx(nest_run.rate_I, rel=0.25)
    pooled = [(r.rate_E * params.N_E + r.rate_I * params.N_I) / params.N for r in runs[1:]]
    assert pooled[1] == pytest.approx(pooled[0], rel=0.15)


@pytest.mark.slow
def test_weights_plastic_in_both(runs):
    params, nest_run, brian2_run = runs
    for run in (nest_run, brian2_run):
        assert run.w_mean_start == pytest.approx(params.J_E)
        assert run.w_mean_end != run.w_mean_start
        # dopamine at 1 Hz for 2 s moves the weights by well under 1% on average
        assert abs(run.w_mean_end - run.w_mean_start) < 0.01 * params.J_E


def test_connectivity_fixed_outdegree():
    params = NetworkParams.quick()
    sources, targets = connectivity(params, seed=0)
    assert np.array_equal(np.bincount(sources), np.full(params.N, params.outdegree))
    assert not np.any(sources == targets)
    assert targets.min() >= 0 and targets.max() < params.N


def test_params_validation():
    with pytest.raises(ValidationError, match="NetworkParams.outdegree"):
        NetworkParams(N_E=8, N_I=2, outdegree=10)
    with pytest.raises(ValidationError, match="NetworkParams.dopa_dt"):
        NetworkParams(dopa_dt=0.25 * ms)  # not a whole number of dt (0.1 ms)
    with pytest.raises(ValidationError, match="NetworkParams.dopa_dt"):
        NetworkParams(dopa_dt=2 * ms)  # does not divide the 3 ms dopamine delay
