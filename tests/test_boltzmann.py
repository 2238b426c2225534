"""Exact Boltzmann probabilities, Gibbs samplers and spike-train states (no Brian2)."""

from __future__ import annotations

import numpy as np
import pytest

from spikingml.analysis import boltzmann as bm
from spikingml.errors import ValidationError


def _model(n=4, seed=0):
    return bm.random_boltzmann_machine(n, np.random.default_rng(seed), 0.8, -0.3, 0.5)


def test_random_model_is_symmetric_with_zero_diagonal():
    W, b = _model(6)
    np.testing.assert_array_equal(W, W.T)
    assert np.all(np.diag(W) == 0) and b.shape == (6,)


def test_states_are_coded_by_their_bits():
    states = bm.all_states(3)
    assert states.shape == (8, 3)
    np.testing.assert_array_equal(bm.state_codes(states), np.arange(8))
    np.testing.assert_array_equal(states[5], [1, 0, 1])  # 5 = 1 + 4


def test_uncoupled_units_are_independent_sigmoids():
    b = np.array([0.3, -1.2, 2.0])
    p = bm.exact_distribution(np.zeros((3, 3)), b)
    expected = np.prod(np.where(bm.all_states(3) == 1, bm.sigmoid(b), 1 - bm.sigmoid(b)), axis=1)
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_exact_distribution_has_the_boltzmann_ratios():
    W, b = _model(4)
    p = bm.exact_distribution(W, b)
    z = bm.all_states(4).astype(float)
    energy = z @ b + 0.5 * np.einsum("si,ij,sj->s", z, W, z)
    np.testing.assert_allclose(np.log(p / p[0]), energy - energy[0], atol=1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_conditional_is_the_joint_restricted_to_the_clamped_values():
    W, b = _model(5)
    p = bm.exact_distribution(W, b)
    states = bm.all_states(5)
    clamped, values = np.array([1, 3]), np.array([1, 0])
    keep = np.all(states[:, clamped] == values, axis=1)
    expected = p[keep] / p[keep].sum()
    # the kept states, in order, are the free units' states in code order
    free_codes = bm.state_codes(states[keep][:, [0, 2, 4]])
    np.testing.assert_allclose(
        bm.conditional_distribution(W, b, clamped, values)[free_codes], expected, rtol=1e-10
    )


def test_bad_models_are_refused():
    with pytest.raises(ValidationError, match="symmetric"):
        bm.exact_distribution(np.array([[0.0, 1.0], [0.5, 0.0]]), np.zeros(2))
    with pytest.raises(ValidationError, match="square"):
        bm.exact_distribution(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValidationError):
        bm.conditional_distribution(np.zeros((2, 2)), np.zeros(2), [0], [2])


def test_kl_divergence_is_zero_for_the_same_distribution_and_positive_otherwise():
    p = np.array([0.5, 0.25, 0.25])
    assert bm.kl_divergence(p * 40, p) == pytest.approx(0.0, abs=1e-15)
    assert bm.kl_divergence([1, 0, 0], p) == pytest.approx(np.log(2))
    assert bm.kl_divergence([0, 1, 1], [1.0, 0.0, 0.0]) == float("inf")


def test_iid_floor_matches_the_bias_formula_when_every_state_is_seen():
    # 16 equally likely states, 20000 samples: every n p_s = 1250 >> 1
    p = np.full(16, 1 / 16)
    floor = bm.iid_kl_floor(p, 20000, np.random.default_rng(1), repeats=200)
    # the formula is the large-n limit; 200 repeats leave ~7% standard error
    assert floor == pytest.approx(bm.kl_bias_formula(16, 20000), rel=0.2)


def test_gibbs_sampler_converges_to_the_exact_distribution():
    W, b = _model(4, seed=2)
    p = bm.exact_distribution(W, b)
    counts = bm.gibbs_state_counts(W, b, 20000, np.random.default_rng(3), burn_in=10)
    assert counts.sum() == 20000
    kl = bm.kl_divergence(counts, p)
    # floor of 20000 independent samples: 15 / 40000 = 0.0004; Gibbs samples are
    # correlated from sweep to sweep (a few times fewer effective samples)
    assert kl < 0.005
    # a model with the biases 0.3 off is told apart (the check can fail)
    assert bm.kl_divergence(counts, bm.exact_distribution(W, b + 0.3)) > 10 * kl


def test_state_step_counts_follow_the_on_windows_of_spikes():
    # unit 0 spikes at 0 and 3 (tau 3: on at steps 1-3 and 4-6, never off between);
    # unit 1 spikes at 2 (on at 3-5)
    counts = bm.state_step_counts([0, 1, 0], [0, 2, 3], 2, 3, 0, 10)
    # step 0: 00; 1-2: unit 0 (code 1); 3-5: both (3); 6: unit 0 (1); 7-9: none
    expected = np.zeros(4, int)
    expected[0], expected[1], expected[3] = 1 + 3, 2 + 1, 3
    np.testing.assert_array_equal(counts, expected)
    # a window in the middle
    np.testing.assert_array_equal(
        bm.state_step_counts([0, 1, 0], [0, 2, 3], 2, 3, 2, 5), [0, 1, 0, 2]
    )


def test_on_fractions_are_the_marginals_of_the_state_counts():
    rng = np.random.default_rng(4)
    tau, n = 5, 3
    steps, idx = [], []
    for k in range(n):  # refractory trains: gaps of at least tau
        s = np.cumsum(tau + rng.integers(0, 8, 60))
        steps.append(s)
        idx.append(np.full(len(s), k))
    steps, idx = np.concatenate(steps), np.concatenate(idx)
    counts = bm.state_step_counts(idx, steps, n, tau, 7, 500)
    assert counts.sum() == 493
    marginals = bm.all_states(n).T @ counts / counts.sum()
    np.testing.assert_allclose(bm.on_fractions(idx, steps, n, tau, 7, 500), marginals, atol=1e-12)


def test_rbm_gibbs_without_weights_samples_the_visible_biases_and_keeps_observed_units():
    W = np.zeros((6, 3))
    b_v = np.array([3.0, -3.0, 0.0, 0.0, 2.0, -2.0])
    observed = np.array([True, True, False, False, False, False])
    v = np.array([[0, 1, 0, 0, 0, 0], [1, 0, 1, 1, 1, 1]])
    m = bm.rbm_gibbs_fill_in(W, b_v, np.zeros(3), v, observed, 4000, np.random.default_rng(5), 5)
    np.testing.assert_array_equal(m[:, :2], v[:, :2])  # clamped
    # 4000 samples: standard error <= 0.008
    np.testing.assert_allclose(m[:, 2:], np.tile(bm.sigmoid(b_v[2:]), (2, 1)), atol=0.03)
    truth = np.array([[0, 1, 1, 0, 1, 0], [1, 0, 0, 0, 1, 0]])
    # predicted missing units [0, 0, 1, 0] in both images: 3 of 4 right, then 4 of 4
    guess = np.c_[m[:, :2], np.full((2, 2), 0.2), m[:, 4:]]
    assert bm.fill_in_accuracy(guess, truth, ~observed) == pytest.approx(7 / 8)
