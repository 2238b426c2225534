"""Hebbian and anti-Hebbian presentation rules (spikingml.plasticity.hebbian) in Brian2.

Each rule runs in a tiny network whose inputs, counts and drives are set by hand, with
``run_regularly`` on the network's clock (one update per time step), and the weights are
compared with the closed form or the same update in NumPy. NumPy code generation: the
rules are single statements, nothing worth compiling for.
"""

import brian2
import numpy as np
import pytest
from brian2 import ms

from spikingml import ValidationError
from spikingml.plasticity import (
    AntiHebbianDecorrelation,
    NonlinearPCA,
    VoltageAntiHebbian,
)
from spikingml.simulation import brian_device

DT = 1 * ms
# The updates are a few products per step in double precision; Brian2 may multiply the
# factors in another order than NumPy does, which changes the last bits (relative 1e-16
# per operation, a few dozen operations here).
RTOL = 1e-12

X = np.array([0.5, -1.0, 2.0])  # inputs k
C = np.array([1.0, 3.0])  # (clipped) spike counts of units i


def _run(objects, steps):
    net = brian2.Network(*objects)
    net.run(steps * DT)


@pytest.fixture
def numpy_runtime():
    with brian_device("runtime", seed=0):
        brian2.prefs.codegen.target = "numpy"
        brian2.defaultclock.dt = DT
        yield


def _feedforward(rule_code, namespace, Q0, R=None, extra_unit=""):
    """Inputs x (and prediction R) -> units c: the synapses hold Q[i, k] at k * n + i."""
    inputs = brian2.NeuronGroup(len(X), "x : 1\nR : 1")
    inputs.x = X
    inputs.R = np.zeros(len(X)) if R is None else R
    units = brian2.NeuronGroup(len(C), "c : 1\n" + extra_unit)
    units.c = C
    syn = brian2.Synapses(inputs, units, "Q : 1", namespace=namespace)
    syn.connect()
    syn.Q = Q0[syn.j[:], syn.i[:]]
    syn.run_regularly(rule_code, dt=DT)
    return inputs, units, syn


def _as_matrix(syn, shape):
    Q = np.zeros(shape)
    Q[syn.j[:], syn.i[:]] = syn.Q[:]
    return Q


def test_nonlinear_pca_learns_from_the_prediction_error(numpy_runtime):
    # x, R and c are held constant: each step adds the same eta * rate * c_i (x_k - R_k)
    rule = NonlinearPCA(learning_rate=0.01)
    R = np.array([0.25, 0.5, -1.0])
    Q0 = np.arange(6.0).reshape(2, 3) / 10
    inputs, units, syn = _feedforward(
        rule.update_code("Q", "post", rate="eta"), {**rule.namespace(), "eta": 0.5}, Q0, R
    )
    _run([inputs, units, syn], steps=4)
    expected = Q0 + 4 * 0.5 * 0.01 * C[:, None] * (X - R)[None, :]
    np.testing.assert_allclose(_as_matrix(syn, Q0.shape), expected, rtol=RTOL)


def test_nonlinear_pca_without_residual_is_ojas_rule(numpy_runtime):
    # Q <- Q + a c (x - c Q), a = eta * learning_rate: a geometric approach to x / c,
    # Q_n = x / c + (Q_0 - x / c) (1 - a c^2)^n
    rule = NonlinearPCA(learning_rate=0.02, residual=False)
    Q0 = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    inputs, units, syn = _feedforward(
        rule.update_code("Q", "post"), rule.namespace(), Q0, R=np.full(3, 1e6)
    )
    steps = 7
    _run([inputs, units, syn], steps=steps)
    a = 0.02
    target = X[None, :] / C[:, None]
    expected = target + (Q0 - target) * (1 - a * C[:, None] ** 2) ** steps
    np.testing.assert_allclose(_as_matrix(syn, Q0.shape), expected, rtol=RTOL)
    assert not np.allclose(expected, Q0)  # the rule moved the weights (R was ignored)


def test_feedforward_and_feedback_copies_of_the_rule_stay_equal(numpy_runtime):
    """Q (inputs -> units, unit "post") and B (units -> inputs, unit "pre") from B = Q^T.

    Inputs change every step and the prediction R = sum_i B_ki c_i is summed from the
    feedback weights themselves, so both copies must compute the same numbers from their
    own two ends, bit for bit.
    """
    rng = np.random.default_rng(0)
    steps, d, n = 6, 4, 3
    stim = brian2.TimedArray(rng.standard_normal((steps + 1, d)), dt=DT)
    pca = NonlinearPCA(learning_rate=0.05)
    drive = VoltageAntiHebbian(learning_rate=0.01, received_clip=2.0)
    ns = {**pca.namespace(), **drive.namespace(), "stim": stim}
    inputs = brian2.NeuronGroup(d, "x = stim(t, i) : 1\nR : 1", namespace=ns)
    units = brian2.NeuronGroup(n, "c : 1\nm : 1\nI : 1")
    units.c = [0.0, 1.0, 2.0]
    units.m = [0.0, 1.0, 5.0]
    units.I = [0.3, -0.7, 1.1]
    ff = brian2.Synapses(inputs, units, "Q : 1", namespace=ns)
    ff.connect()
    fb = brian2.Synapses(units, inputs, "B : 1\nR_post = B * c_pre : 1 (summed)", namespace=ns)
    fb.connect()
    Q0 = rng.standard_normal((n, d))
    ff.Q = Q0[ff.j[:], ff.i[:]]
    fb.B = Q0[fb.i[:], fb.j[:]]
    for syn, w, unit in ((ff, "Q", "post"), (fb, "B", "pre")):
        syn.run_regularly(
            pca.update_code(w, unit, rate="0.5") + "\n" + drive.update_code(w, unit, rate="0.5"),
            dt=DT,
        )
    _run([inputs, units, ff, fb], steps=steps)
    Q = _as_matrix(ff, (n, d))
    B = np.zeros((n, d))
    B[fb.i[:], fb.j[:]] = fb.B[:]
    assert not np.allclose(Q, Q0)
    np.testing.assert_array_equal(B, Q)


def test_voltage_anti_hebbian_is_gated_by_clipped_received_spikes(numpy_runtime):
    rule = VoltageAntiHebbian(learning_rate=0.1, received_clip=2.0)
    m = np.array([1.0, 5.0])  # received lateral spikes: the second is clipped at 2
    drive = np.array([0.5, -2.0])
    Q0 = np.ones((2, 3))
    inputs, units, syn = _feedforward(
        rule.update_code("Q", "post", rate="0.5"),
        rule.namespace(),
        Q0,
        extra_unit="m : 1\nI : 1",
    )
    units.m = m
    units.I = drive
    _run([inputs, units, syn], steps=3)
    expected = Q0 - 3 * 0.5 * 0.1 * (np.minimum(m, 2.0) * drive)[:, None] * X[None, :]
    np.testing.assert_allclose(_as_matrix(syn, Q0.shape), expected, rtol=RTOL)


def test_anti_hebbian_decorrelation_grows_between_coactive_units(numpy_runtime):
    rule = AntiHebbianDecorrelation(learning_rate=0.2, target_count=0.5)
    c = np.array([0.0, 1.0, 2.0])
    W0 = np.full((3, 3), 0.04)
    units = brian2.NeuronGroup(3, "c : 1")
    units.c = c
    lateral = brian2.Synapses(units, units, "W : 1", namespace=rule.namespace())
    lateral.connect(condition="i != j")
    lateral.W = 0.04
    lateral.run_regularly(rule.update_code("W", rate="1"), dt=DT)
    _run([units, lateral], steps=2)
    W = np.zeros((3, 3))
    W[lateral.j[:], lateral.i[:]] = lateral.W[:]
    expected = W0.copy()
    for _ in range(2):  # W_ij from unit j onto unit i; clipped at 0 at every step
        expected = np.clip(expected + 0.2 * (np.outer(c, c) - 0.25), 0, np.inf)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(W, expected, rtol=RTOL)
    # units that never fire together lose their inhibition, down to exactly 0 (Dale)
    assert W[0, 1] == 0.0 and W[2, 1] > 0.04


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: NonlinearPCA(learning_rate=-0.1), "NonlinearPCA.learning_rate"),
        (lambda: NonlinearPCA(residual="yes"), "NonlinearPCA.residual"),
        (
            lambda: VoltageAntiHebbian(learning_rate=float("nan")),
            "VoltageAntiHebbian.learning_rate",
        ),
        (lambda: VoltageAntiHebbian(received_clip=-1.0), "VoltageAntiHebbian.received_clip"),
        (
            lambda: AntiHebbianDecorrelation(target_count=0.0),
            "AntiHebbianDecorrelation.target_count",
        ),
        (
            lambda: AntiHebbianDecorrelation(learning_rate="1"),
            "AntiHebbianDecorrelation.learning_rate",
        ),
        (lambda: NonlinearPCA().update_code("Q", "both"), r"NonlinearPCA.update_code\(unit\)"),
        (lambda: NonlinearPCA().update_code("Q; x = 1"), r"NonlinearPCA.update_code\(weight\)"),
        (
            lambda: VoltageAntiHebbian().update_code(rate=""),
            r"VoltageAntiHebbian.update_code\(rate\)",
        ),
    ],
)
def test_bad_parameters_are_named(make, name):
    with pytest.raises(ValidationError, match=name):
        make()


def test_rules_are_frozen_and_convert_their_numbers():
    rule = NonlinearPCA(learning_rate=np.float32(0.5))
    assert rule.namespace() == {"nlpca_learning_rate": 0.5}
    assert isinstance(rule.namespace()["nlpca_learning_rate"], float)
    with pytest.raises(AttributeError):
        rule.learning_rate = 1.0
