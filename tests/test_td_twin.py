"""TD(lambda) twin against values computed by hand."""

import numpy as np
import pytest

from spikingml.analysis.td import csc_features, td_lambda
from spikingml.errors import ValidationError


def test_first_trial_by_hand():
    # 3 bins, features on bins 0 and 1, reward 1 in bin 2; alpha = 0.5, lambda = 0.
    x = csc_features(3, 0, 2)
    r = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    res = td_lambda(x, r, alpha=0.5, lam=0.0)
    # trial 1: V = 0 everywhere; delta = (0, 0, 1); w1 <- 0 + 0.5 * 1 = 0.5
    np.testing.assert_allclose(res.deltas[0], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(res.weights[1], [0.0, 0.5])
    # trial 2: delta_0 = V0 = 0; delta_1 = V1 - V0 = 0.5 -> w0 = 0.25;
    # delta_2 = 1 + 0 - V1 = 0.5 -> w1 = 0.75
    np.testing.assert_allclose(res.deltas[1], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(res.values[1], [0.0, 0.5, 0.0])
    np.testing.assert_allclose(res.weights[2], [0.25, 0.75])


def test_lambda_spreads_credit_backwards():
    # With lambda = 0.5 the reward error of trial 1 also reaches the earlier feature:
    # e = (lambda, 1) when delta_2 = 1 arrives -> w = alpha * (0.5, 1).
    x = csc_features(3, 0, 2)
    res = td_lambda(x, np.array([[0.0, 0.0, 1.0]]), alpha=0.2, lam=0.5)
    np.testing.assert_allclose(res.weights[1], [0.1, 0.2])


def test_gamma_discounts_value():
    # After convergence V_k = gamma^(distance to reward - 1); the error vanishes.
    x = csc_features(4, 0, 3)
    r = np.zeros((400, 4))
    r[:, 3] = 1.0
    res = td_lambda(x, r, alpha=0.3, lam=0.0, gamma=0.9)
    np.testing.assert_allclose(res.weights[-1], [0.81, 0.9, 1.0], atol=1e-6)
    assert abs(res.deltas[-1, 1:]).max() < 1e-6


def test_extinction_removes_value():
    x = csc_features(5, 1, 3)
    r = np.zeros((200, 5))
    r[:100, 4] = 1.0
    res = td_lambda(x, r, alpha=0.4, lam=0.3)
    assert res.values[99, 1] == pytest.approx(1.0, abs=1e-3)
    assert res.values[-1, 1] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"alpha": 0.0, "lam": 0.1}, "alpha"),
        ({"alpha": 0.1, "lam": 1.5}, "lam"),
        ({"alpha": 0.1, "lam": 0.1, "gamma": -0.1}, "gamma"),
    ],
)
def test_invalid_arguments(kwargs, name):
    x = csc_features(3, 0, 2)
    with pytest.raises(ValidationError, match=name):
        td_lambda(x, np.zeros((1, 3)), **kwargs)


def test_reward_shape_checked():
    with pytest.raises(ValidationError, match="rewards"):
        td_lambda(csc_features(3, 0, 2), np.zeros((2, 4)), alpha=0.1, lam=0.0)
