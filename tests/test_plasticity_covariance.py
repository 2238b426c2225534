"""The bounded covariance rule (spikingml.plasticity.covariance) in Brian2 and NumPy.

A tiny network with spike counts set by hand runs the rule's ``run_regularly`` statement
once per step; the weights are compared with the closed form and with the rule's own
NumPy update. NumPy code generation: the rule is a single statement.
"""

import brian2
import numpy as np
import pytest
from brian2 import ms

from spikingml import ValidationError
from spikingml.analysis.hopfield import bounded_covariance_weights, covariance_weights
from spikingml.plasticity.covariance import BoundedCovariance
from spikingml.simulation import brian_device

DT = 1 * ms
# a few products per step in double precision, in an order Brian2 may choose
RTOL = 1e-12


@pytest.fixture
def numpy_runtime():
    with brian_device("runtime", seed=0):
        brian2.prefs.codegen.target = "numpy"
        brian2.defaultclock.dt = DT
        yield


def _recurrent(rule, counts, w0, rate="1"):
    group = brian2.NeuronGroup(len(counts), "c : 1")
    group.c = counts
    syn = brian2.Synapses(group, group, "w : 1", namespace=rule.namespace())
    syn.connect(condition="i != j")
    syn.w = w0
    syn.run_regularly(rule.update_code("w", rate=rate, count="c"), dt=DT)
    return group, syn


def _matrix(syn, n):
    w = np.zeros((n, n))
    w[syn.j[:], syn.i[:]] = syn.w[:]  # w[post, pre]
    return w


def test_one_update_is_the_covariance_of_the_normalised_counts(numpy_runtime):
    rule = BoundedCovariance(learning_rate=0.1, coding_level=0.2, target_count=10, w_max=2)
    counts = np.array([0.0, 5.0, 10.0, 30.0])  # a = 0, 0.5, 1, 1 (clipped)
    group, syn = _recurrent(rule, counts, w0=0.5)
    brian2.Network(group, syn).run(DT)
    a = np.array([0.0, 0.5, 1.0, 1.0]) - 0.2
    expected = 0.5 + 0.1 * np.outer(a, a)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(_matrix(syn, 4), expected, rtol=RTOL)
    # co-active pairs grew, an active-inactive pair shrank
    assert expected[2, 3] > 0.5 > expected[0, 2]


def test_weights_stay_between_zero_and_w_max(numpy_runtime):
    # per step: +0.81 for the co-active pair, -0.09 for an active-inactive one
    rule = BoundedCovariance(learning_rate=1.0, coding_level=0.1, target_count=1, w_max=1)
    counts = np.array([0.0, 1.0, 1.0])
    group, syn = _recurrent(rule, counts, w0=0.5)
    brian2.Network(group, syn).run(10 * DT)
    w = _matrix(syn, 3)
    assert w[1, 2] == 1.0 and w[0, 1] == 0.0  # both bounds reached, not passed
    # the NumPy update gives the same after as many steps
    ref = np.full((3, 3), 0.5)
    for _ in range(10):
        ref = rule.numpy_update(ref, counts, counts)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(w, ref, rtol=RTOL)


def test_rate_zero_switches_learning_off(numpy_runtime):
    rule = BoundedCovariance()
    group, syn = _recurrent(rule, np.array([0.0, 10.0, 10.0]), w0=0.3, rate="0")
    brian2.Network(group, syn).run(5 * DT)
    np.testing.assert_array_equal(syn.w[:], 0.3)


def test_unbounded_sum_is_the_tsodyks_feigelman_covariance_rule():
    # small eta, offset w0 in the middle: no weight reaches a bound, so (w - w0) / eta
    # summed over the patterns is N f (1 - f) times the covariance matrix
    rng = np.random.default_rng(3)
    f, n = 0.1, 50
    xi = (rng.random((8, n)) < f).astype(float)
    eta = 1e-3
    w = bounded_covariance_weights(xi, f, eta, w0=0.5, w_max=1.0)
    rule = BoundedCovariance(learning_rate=eta, coding_level=f, target_count=1.0, w_max=1.0)
    ref = np.full((n, n), 0.5)
    for x in xi:
        ref = rule.numpy_update(ref, x, x)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(w, ref, rtol=1e-12)
    eff = (w - 0.5) / eta
    np.fill_diagonal(eff, 0.0)
    np.testing.assert_allclose(eff / (n * f * (1 - f)), covariance_weights(xi, f), atol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [{"learning_rate": -1.0}, {"coding_level": 1.0}, {"target_count": 0.0}, {"w_max": 0.0}],
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValidationError, match="BoundedCovariance"):
        BoundedCovariance(**kwargs)


def test_bad_names_are_refused():
    rule = BoundedCovariance()
    with pytest.raises(ValidationError, match="update_code"):
        rule.update_code("w x")
    with pytest.raises(ValidationError, match="rate"):
        rule.update_code("w", rate=" ")
