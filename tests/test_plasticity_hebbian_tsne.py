"""The Hebbian t-SNE rule (spikingml.plasticity.hebbian_tsne): its NumPy reference.

The Brian2 code of the rule is checked against this reference inside the circuit
(tests/test_hebbian_tsne.py: every weight equal after a run).
"""

from __future__ import annotations

import numpy as np
import pytest

from spikingml.errors import ValidationError
from spikingml.plasticity.hebbian_tsne import HebbianTsneRule, ModulatorState, reference_update


def _primed(rule: HebbianTsneRule, y_prev: np.ndarray, m_dz2: float, m_kx: float, m_ky: float):
    """A modulator state past its first pair, with chosen running means."""
    return ModulatorState(
        y_prev=np.asarray(y_prev, float), m_dz2=m_dz2, m_kx=m_kx, m_ky=m_ky, n_seen=5
    )


def test_the_pairs_output_difference_shrinks_by_exactly_eta_D_ky():
    # the normalised step: (W + dW) dz = dy (1 - eta * learning * D * ky), whatever dz
    rng = np.random.default_rng(0)
    rule = HebbianTsneRule(learning_rate=0.3, clip=50.0)
    z_prev, z = rng.random(40), rng.random(40)
    w = rng.normal(size=(2, 40))
    y_prev, y = w @ z_prev, w @ z
    state = _primed(rule, y_prev, m_dz2=5.0, m_kx=0.01, m_ky=0.2)
    dw, v = reference_update(rule, state, z, z_prev, y, exaggeration=1.0, learning=0.7)
    factor = 1 - 0.3 * 0.7 * v["D"] * v["ky"]
    np.testing.assert_allclose((w + dw) @ (z - z_prev), (y - y_prev) * factor, rtol=1e-9)


def test_similar_inputs_attract_and_dissimilar_inputs_repel():
    rule = HebbianTsneRule(learning_rate=0.1, bandwidth=0.5)
    z_prev = np.zeros(10)
    near, far = z_prev.copy(), z_prev.copy()
    near[0] = 0.5  # dz2 = 0.25, far below the mean 4: kx near 1
    far[:6] = 2.0  # dz2 = 24: kx = exp(-12)
    y_prev = np.zeros(2)
    for z, sign in ((near, 1), (far, -1)):
        state = _primed(rule, y_prev, m_dz2=4.0, m_kx=0.05, m_ky=0.1)
        y = np.array([3.0, -4.0])  # |dy| = 5: ky = 1/26
        _, v = reference_update(rule, state, z, z_prev, y)
        assert np.sign(v["D"]) == sign, v


def test_the_update_is_a_gradient_step_on_the_pairs_tsne_cost():
    # with p = kx / m_kx and the normalisers held fixed (their values after this window's
    # running-mean update, which the rule uses), the pair's cost is
    # f(W) = p log(1 + |W dz|^2) + (1 + |W dz|^2)^-1 / m_ky, and the rule's step is
    # dW = -eta * learning / (2 dz2) * grad f (central differences, step 1e-6)
    rng = np.random.default_rng(3)
    rule = HebbianTsneRule(learning_rate=0.2, clip=1e6)
    z_prev, z = rng.random(6), rng.random(6)
    w = rng.normal(size=(2, 6))
    m_kx, m_ky = 0.02, 0.3
    state = _primed(rule, w @ z_prev, m_dz2=1.0, m_kx=m_kx, m_ky=m_ky)
    dw, v = reference_update(rule, state, z, z_prev, w @ z, learning=1.0)
    dz = z - z_prev
    p, m_ky = v["kx"] / state.m_kx, state.m_ky

    def cost(wm):
        u2 = float(np.sum((wm @ dz) ** 2))
        return p * np.log1p(u2) + 1 / (1 + u2) / m_ky

    grad = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        e = np.zeros_like(w)
        e[idx] = 1e-6
        grad[idx] = (cost(w + e) - cost(w - e)) / 2e-6
    np.testing.assert_allclose(dw, -0.2 / (2 * v["dz2"]) * grad, rtol=1e-5, atol=1e-12)


def test_nothing_is_learned_before_the_third_window_or_at_test():
    rule = HebbianTsneRule()
    rng = np.random.default_rng(1)
    state = ModulatorState()
    for _ in range(2):  # the first two windows only fill z_prev and y_prev
        dw, _ = reference_update(rule, state, rng.random(8), rng.random(8), rng.random(2))
        assert not dw.any()
    dw, _ = reference_update(rule, state, rng.random(8), rng.random(8), rng.random(2))
    assert np.abs(dw).max() > 0
    dw, _ = reference_update(
        rule, state, rng.random(8), rng.random(8), rng.random(2), learning=0.0
    )
    assert not dw.any()


def test_the_third_factor_is_clipped():
    rule = HebbianTsneRule(clip=2.0)
    state = _primed(rule, np.zeros(2), m_dz2=1.0, m_kx=1e-6, m_ky=1.0)
    z_prev = np.zeros(4)
    _, v = reference_update(rule, state, z_prev + 0.01, z_prev, np.array([5.0, 0.0]))
    assert v["D"] == 2.0  # kx / m_kx is about 1e6


def test_running_means_start_at_the_first_pair():
    rule = HebbianTsneRule(tau_windows=10.0)
    state = ModulatorState()
    rng = np.random.default_rng(2)
    for _ in range(3):
        _, v = reference_update(rule, state, rng.random(5), rng.random(5), rng.random(2))
    assert state.m_dz2 == pytest.approx(v["dz2"])
    assert state.m_ky == pytest.approx(v["ky"])
    # exaggeration 1: both ratios are 1 up to ht_eps = 1e-9 in the denominators; at the
    # first pair dz2 = m_dz2, so kx = exp(-1 / bandwidth) = 4.5e-5 and kx / (kx + 1e-9)
    # = 1 - 2.2e-5
    assert v["D"] == pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize(
    ("field", "value"),
    [("learning_rate", -0.1), ("bandwidth", 0.0), ("clip", -1.0), ("tau_windows", 0.5)],
)
def test_bad_parameters_name_the_field(field, value):
    with pytest.raises(ValidationError, match=f"HebbianTsneRule.{field}"):
        HebbianTsneRule(**{field: value})


def test_the_brian2_code_names_its_constants():
    rule = HebbianTsneRule()
    ns = rule.namespace()
    code = rule.modulator_update() + rule.synapse_update() + rule.output_update()
    for name in ns:
        assert name in code or name == "ht_eps", name
    assert "ht_learning(t)" in code and "ht_exaggeration(t)" in code
