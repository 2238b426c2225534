"""The DropConnect twin (spikingml.analysis.dropconnect): the delta rule, masks, metrics.

Pure NumPy: no Brian2. Tolerances are float rounding (1e-12) where the answer is exact,
and statistical bounds of several standard errors where masks are random.
"""

import numpy as np
import pytest

from spikingml import ValidationError
from spikingml.analysis import dropconnect as dc


def _data(seed=0, n=30, d=12, k=3):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, d)) < 0.4).astype(float)
    labels = rng.integers(0, k, n)
    return x, labels


def test_delta_rule_at_p1_is_plain_lms_and_draws_nothing():
    # At p = 1 no mask is drawn: the weights equal a hand-written LMS loop exactly.
    x, labels = _data()
    order = np.tile(np.arange(len(x)), (5, 1))
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    w = dc.train_delta_rule(x, labels, order, 1.0, 0.05, rng, n_classes=3)
    assert rng.bit_generator.state == state
    ref = np.zeros((x.shape[1], 3))
    for k in order.ravel():
        v = x[k] @ ref
        ref += 0.05 * np.outer(x[k], np.eye(3)[labels[k]] - v)
    np.testing.assert_allclose(w, ref, rtol=0, atol=1e-12)


def test_released_fraction_has_mean_p_and_variance_p_q_over_n():
    # One step from w = 0 with target 1 gives w = eta * c: the released fraction itself.
    x = np.ones((1, 4000))
    for n in (1, 4):
        c = dc.train_delta_rule(
            x, np.array([0]), np.array([0]), 0.3, 1.0, np.random.default_rng(n), 1, n
        )[:, 0]
        assert c.mean() == pytest.approx(0.3, abs=4 * np.sqrt(0.21 / n / 4000))
        assert c.var() == pytest.approx(0.21 / n, rel=0.1)  # 4000 draws: ~2% error


def test_dropconnect_shrinks_weights_like_a_ridge():
    # Averaged over masks, DropConnect on LMS penalises p (1 - p) sum w^2 x^2: the
    # weights trained at p = 0.3 are smaller (in norm, as p w at test) than at p = 1.
    x, labels = _data(n=10, d=40)
    order = np.tile(np.arange(10), (200, 1))
    w1 = dc.train_delta_rule(x, labels, order, 1.0, 0.05, np.random.default_rng(0), 3)
    w3 = dc.train_delta_rule(x, labels, order, 0.3, 0.05, np.random.default_rng(0), 3)
    assert np.linalg.norm(0.3 * w3) < 0.8 * np.linalg.norm(w1)


def test_predict_scales_by_p_and_deletes():
    w = np.array([[1.0, 0.0], [0.0, 2.0]])
    x = np.array([[1.0, 1.0]])
    assert dc.predict(w, x, 0.5)[0] == 1
    alive = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert dc.predict(w, x, 0.5, alive)[0] == 0


def test_metrics():
    assert dc.accuracy(np.array([1, 2, 3]), np.array([1, 0, 3])) == pytest.approx(2 / 3)
    assert dc.generalisation_gap(1.0, 0.75) == 0.25
    assert dc.gap_reduction(0.4, 0.3) == pytest.approx(0.25)
    assert np.isnan(dc.gap_reduction(0.0, 0.1))
    # best p on validation accuracy; a tie goes to the larger p
    assert dc.best_probability([1.0, 0.5, 0.2], [0.7, 0.8, 0.8]) == 1
    rank = np.array([0.1, 0.5, 0.9])
    np.testing.assert_array_equal(dc.deletion_mask(rank, 0.5), [0, 1, 1])
    # nested: a synapse deleted at 20% stays deleted at 60%
    r = np.random.default_rng(0).random(100)
    assert np.all(dc.deletion_mask(r, 0.6) <= dc.deletion_mask(r, 0.2))


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5])
def test_bad_probability_is_refused(p):
    x, labels = _data()
    with pytest.raises(ValidationError, match="p"):
        dc.train_delta_rule(x, labels, np.arange(3), p, 0.1, np.random.default_rng(0), 3)
    with pytest.raises(ValidationError):
        dc.predict(np.zeros((12, 3)), x, p)


def test_bad_shapes_are_refused():
    with pytest.raises(ValidationError):
        dc.accuracy(np.zeros(3), np.zeros(4))
    with pytest.raises(ValidationError):
        dc.best_probability([1.0, 0.5], [0.3])
    with pytest.raises(ValidationError):
        dc.deletion_mask(np.zeros(3), 1.5)


def test_copies_trained_side_by_side_equal_copies_trained_one_at_a_time():
    # the twin trains its copies together (one presentation for all at a time); each
    # copy must get exactly the weights of its own run, masks from its own stream
    rng = np.random.default_rng(5)
    x = (rng.random((30, 12)) < 0.4).astype(float)
    labels = rng.integers(0, 3, 30)
    order = np.array([rng.permutation(30) for _ in range(7)])
    specs = [(1.0, 0.05, 0), (0.6, 0.05, 1), (0.3, 0.02, 2), (0.9, 0.1, 3)]
    for n in (1, 3):
        alone = [
            dc.train_delta_rule(
                x, labels, order, p, eta, np.random.default_rng(s), 3, spikes_per_input=n
            )
            for p, eta, s in specs
        ]
        together = dc.train_delta_rules(
            x,
            labels,
            order,
            [p for p, _, _ in specs],
            [eta for _, eta, _ in specs],
            [np.random.default_rng(s) for _, _, s in specs],
            3,
            spikes_per_input=n,
            chunk=16,  # the masks of 210 presentations drawn in several chunks
        )
        assert together.shape == (4, 12, 3)
        for k in range(4):
            np.testing.assert_array_equal(together[k], alone[k])
    with pytest.raises(ValidationError, match="one value each per copy"):
        dc.train_delta_rules(x, labels, order, [0.5], [0.1, 0.2], [rng])
