"""Determinism and time-step stability of every circuit (slow: quick runs, several each).

* The same circuit, parameters, seed and device give identical spikes, and another seed
  gives other spikes (so the first check could fail).
* Halving the time step leaves each circuit's headline metric within a stated tolerance.
  A finer step also changes every random draw (Poisson inputs are drawn per step), so
  the change holds the metric's seed-to-seed noise besides the discretisation error;
  each tolerance is therefore about twice the spread of the metric over seeds 0-2 of the
  quick preset (``benchmarks/results/<circuit>.md``). The change measured on seed 0 when
  these tolerances were set is given beside each (``dt -> dt / 2``).

Runtime and ``cpp_standalone`` agreement is tested in each circuit's test module.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from spikingml.circuits import REGISTRY, get_circuit

pytestmark = pytest.mark.slow

#: circuit -> (headline metric, tolerance of |metric(dt / 2) - metric(dt)|, why)
HEADLINE = {
    "attractor": (
        "recall_overlap",
        0.15,
        "8 trials at load 0.05: one trial that fails moves the mean by about 0.12; "
        "measured 0.986 -> 0.988",
    ),
    "hebbian-tsne": (
        "trustworthiness_ratio",
        0.05,
        "deterministic inputs, but the Kenyon cells' and outputs' spike steps move with "
        "dt and 300 passes of learning carry the change along; quick seeds 0-2 span "
        "0.834-0.844; measured 0.838 -> 0.857",
    ),
    "hierarchy": (
        "top_accuracy",
        0.05,
        "quick seeds 0-2 span 0.940-0.965 (200 test digits: one digit is 0.005); the "
        "units fire on the step grid, so their spike times move with dt; measured "
        "0.940 -> 0.945",
    ),
    "neural-sampling": (
        "kl_joint_nats",
        0.03,
        "quick seeds 0-2 span 0.089-0.097 (1000 samples of 1024 states: mostly the finite "
        "sample); measured 0.097 -> 0.106",
    ),
    "eprop-memory": (
        "recall_accuracy_long",
        0.1,
        "quick seed 0: 0.947 -> 1.000 at dt / 2 (38 test trials in the longer half of the "
        "delays: one trial is 0.026)",
    ),
    "td-conditioning": (
        "delta_correlation",
        0.03,
        "quick seeds 0-4 span 0.887-0.900; measured 0.889 -> 0.893",
    ),
    "rescorla-wagner": (
        "curve_correlation_min",
        0.02,
        "learning curves vs twin, seeds 0-2 span 0.978-0.99; measured 0.978 -> 0.980",
    ),
    "bayesian-neuron": (
        "logodds_correlation",
        0.01,
        "quick seeds 0-2 span 0.984-0.987; measured 0.9845 -> 0.9857",
    ),
    "wta-em": (
        "nmi_gap_digits",
        0.1,
        "quick seeds 0-2 span 0.067-0.123; measured 0.123 -> 0.142",
    ),
    "tempotron": (
        "timing_task_accuracy",
        0.03,
        "quick seeds 0-2 span 0.97-0.99 (200 test samples); measured 0.99 -> 0.98",
    ),
    "v1-ica": (
        "ceiling_ratio",
        0.15,
        "quick seeds 0-2 span 0.76-0.86; measured 0.859 -> 0.790",
    ),
    "actor-critic": (
        "value_map_correlation",
        0.15,
        "quick seeds 0, 3, 4 span 0.70-0.79 (10 trials); measured 0.784 -> 0.752",
    ),
    "reservoir": (
        "mc_total_lsm",
        0.5,
        "quick seeds 0-2 span 1.30-1.77 (N = 100); measured 1.424 -> 1.236",
    ),
    "stochastic-synapses": (
        "gap_p100",
        1e-12,
        "the copy at p = 1 draws no random number and its decisions do not depend on dt "
        "(inputs and decisions on the window grid): exact; measured 0.28 -> 0.28",
    ),
    "three-factor-synapse": (
        "weight_max_abs_error",
        1e-9,
        "exact at any dt (float rounding on weights ~100); measured 2.8e-14 -> 2.8e-14",
    ),
}


def test_every_circuit_has_a_headline():
    assert set(HEADLINE) == set(REGISTRY)


@functools.cache
def _run(name: str, seed: int, halve_dt: bool = False):
    module = get_circuit(name)
    params = module.Params.quick()
    if halve_dt:
        params = params.replace(dt=params.dt / 2)
    result = module.simulate(params, seed=seed, progress=False)
    metrics = module.compare(result, module.twin(params, seed=seed))
    return result, metrics


def _spikes(result) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {k: (np.asarray(p.indices), np.asarray(p.times)) for k, p in result.populations.items()}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_same_seed_gives_identical_spikes(name):
    first, _ = _run(name, 0)
    module = get_circuit(name)
    again = module.simulate(module.Params.quick(), seed=0, progress=False)
    a, b = _spikes(first), _spikes(again)
    assert a.keys() == b.keys()
    for population in a:
        np.testing.assert_array_equal(a[population][0], b[population][0], err_msg=population)
        np.testing.assert_array_equal(a[population][1], b[population][1], err_msg=population)
    other, _ = _run(name, 1)
    assert any(
        len(a[k][1]) != len(s[1]) or not np.array_equal(a[k][1], s[1])
        for k, s in _spikes(other).items()
    ), "seed 1 gave the spikes of seed 0: the seed does not reach the simulation"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_headline_metric_stable_when_dt_is_halved(name):
    metric, tolerance, why = HEADLINE[name]
    _, coarse = _run(name, 0)
    _, fine = _run(name, 0, halve_dt=True)
    assert abs(fine[metric] - coarse[metric]) <= tolerance, (
        f"{metric}: {coarse[metric]:.4f} at dt, {fine[metric]:.4f} at dt/2 ({why})"
    )
