"""The homeostatic threshold rule (spikingml.plasticity.homeostasis) in Brian2."""

import brian2
import numpy as np
import pytest
from brian2 import ms

from spikingml import ValidationError
from spikingml.plasticity import HomeostaticThreshold
from spikingml.simulation import brian_device

DT = 1 * ms


@pytest.fixture
def numpy_runtime():
    with brian_device("runtime", seed=0):
        brian2.prefs.codegen.target = "numpy"  # one statement: nothing worth compiling
        brian2.defaultclock.dt = DT
        yield


def test_threshold_moves_by_the_count_error(numpy_runtime):
    # counts held fixed: every update adds rate * learning_rate * (n - target)
    rule = HomeostaticThreshold(learning_rate=0.1, target_count=0.5)
    n = np.array([0.0, 0.5, 3.0])
    group = brian2.NeuronGroup(3, "theta : 1\nn : 1", namespace=rule.namespace())
    group.theta = 1.0
    group.n = n
    group.run_regularly(rule.update_code("theta", rate="0.25", count="n"), dt=DT)
    brian2.Network(group).run(4 * DT)
    # a few multiply-adds in double precision, possibly in another order than NumPy's
    np.testing.assert_allclose(group.theta[:], 1.0 + 4 * 0.25 * 0.1 * (n - 0.5), rtol=1e-12)
    assert group.theta[1] == 1.0  # at the target the threshold stays where it is


def test_threshold_brings_a_driven_neuron_to_the_target_count(numpy_runtime):
    """A leaky neuron with a constant suprathreshold drive, presentations of 20 steps.

    At threshold 0.5 it fires at every step (20 spikes per presentation); the rule raises
    the threshold until it fires ``target_count`` on average. Counts are integers, so the
    threshold hovers around the value where the neuron fires in every other presentation;
    over the last 200 presentations the mean count equals the target within 0.05
    (measured: exactly 0.5, one spike every second presentation).
    """
    rule = HomeostaticThreshold(learning_rate=0.05, target_count=0.5)
    T = 20 * DT
    group = brian2.NeuronGroup(
        1,
        "du/dt = (3 - u) / (5*ms) : 1\ntheta : 1\nn : 1\nlast : 1",
        threshold="u > theta",
        reset="u = 0\nn += 1",
        method="exact",
        namespace=rule.namespace(),
    )
    group.theta = 0.5
    group.run_regularly(rule.update_code() + "\nlast = n\nn = 0\nu = 0", dt=T, when="start")
    counts = brian2.StateMonitor(group, "last", record=0, dt=T, when="end")
    brian2.Network(group, counts).run(600 * T)
    last = counts.last[0]
    assert last[1] >= 5  # strongly driven at first (theta 0.5)
    assert abs(last[-200:].mean() - 0.5) < 0.05


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: HomeostaticThreshold(learning_rate=-1.0), "HomeostaticThreshold.learning_rate"),
        (lambda: HomeostaticThreshold(target_count=0), "HomeostaticThreshold.target_count"),
        (lambda: HomeostaticThreshold(target_count=True), "HomeostaticThreshold.target_count"),
        (
            lambda: HomeostaticThreshold().update_code("theta + 1"),
            r"HomeostaticThreshold.update_code\(threshold\)",
        ),
        (
            lambda: HomeostaticThreshold().update_code(rate=" "),
            r"HomeostaticThreshold.update_code\(rate\)",
        ),
    ],
)
def test_bad_parameters_are_named(make, name):
    with pytest.raises(ValidationError, match=name):
        make()
