"""Hopfield twins and metrics (spikingml.analysis.hopfield): small networks, NumPy only."""

import numpy as np
import pytest

from spikingml import ValidationError
from spikingml.analysis import hopfield as h


def test_sparse_patterns_have_exactly_the_coding_level():
    xi = h.sparse_patterns(200, 7, 0.1, 0)
    np.testing.assert_array_equal(xi.sum(axis=1), 20)
    with pytest.raises(ValidationError, match="sparse_patterns"):
        h.sparse_patterns(10, 2, 0.01, 0)


def test_flip_sparse_keeps_the_coding_level_and_sets_the_cue_overlap():
    # moving q of the f N active units gives overlap (1 - q - f) / (1 - f) exactly
    xi = h.sparse_patterns(500, 3, 0.1, 1)
    cues = h.flip_sparse(xi, 0.2, 2)
    np.testing.assert_array_equal(cues.sum(axis=1), 50)
    m = np.diag(h.overlap_sparse(xi, cues))
    np.testing.assert_allclose(m, (1 - 0.2 - 0.1) / 0.9, rtol=1e-12)


def test_flip_dense_flips_the_fraction():
    xi = h.dense_patterns(400, 2, 0)
    cues = h.flip_dense(xi, 0.2, 1)
    np.testing.assert_allclose(np.diag(h.overlap_dense(xi, cues)), 0.6, rtol=1e-12)


def test_overlap_sparse_is_tsodyks_feigelman_overlap_for_binary_states():
    xi = h.sparse_patterns(300, 1, 0.1, 4)[0]
    s = h.flip_sparse(xi, 0.3, 5)[0]
    tf = ((xi - 0.1) * s).sum() / (300 * 0.1 * 0.9)
    assert h.overlap_sparse(xi, s)[0, 0] == pytest.approx(tf, rel=1e-12)
    assert h.overlap_sparse(xi, np.zeros(300))[0, 0] == 0.0  # silent: no overlap


def test_dense_network_completes_cues_at_low_load_and_fails_far_above_capacity():
    rng = np.random.default_rng(0)
    n = 300
    for p, expect_retrieval in ((15, True), (90, False)):  # alpha 0.05 and 0.3
        xi = h.dense_patterns(n, p, rng)
        final = h.settle(h.hebb_weights(xi), h.flip_dense(xi[:10], 0.2, rng), rng)
        m = np.diag(h.overlap_dense(xi[:10], final)).mean()
        assert (m >= 0.9) == expect_retrieval, (p, m)


def test_settle_ends_in_fixed_points():
    rng = np.random.default_rng(1)
    xi = h.dense_patterns(200, 30, rng)
    w = h.hebb_weights(xi)
    final = h.settle(w, h.flip_dense(xi[:5], 0.3, rng), rng)
    assert np.all(final * (final @ w.T) >= 0)  # every unit agrees with its field


def test_sparse_covariance_network_completes_cues():
    rng = np.random.default_rng(2)
    n, f = 400, 0.1
    xi = h.sparse_patterns(n, 40, f, rng)  # alpha 0.1
    w = h.covariance_weights(xi, f)
    final = h.settle(w, h.flip_sparse(xi[:10], 0.2, rng), rng, theta=0.5 - f)
    m = np.diag(h.overlap_sparse(xi[:10], final))
    assert m.mean() >= 0.95


def test_critical_load_interpolates_the_crossing():
    loads = np.array([0.1, 0.12, 0.14, 0.16])
    assert h.critical_load(loads, [0.99, 0.95, 0.85, 0.5]) == pytest.approx(0.13)
    assert h.critical_load(loads, [0.99, 0.95, 0.92, 0.91]) == 0.16
    assert np.isnan(h.critical_load(loads, [0.5, 0.4, 0.3, 0.2]))


def test_classify_states_sorts_retrieval_mixtures_and_spurious_states():
    m = np.array(
        [
            [0.95, 0.0, 0.1],  # retrieved (cued 0)
            [0.0, -0.97, 0.0],  # reversed pattern 1 (cued 0)
            [0.5, 0.5, 0.5],  # symmetric mixture
            [0.1, 0.2, 0.05],  # spurious
        ]
    )
    counts = h.classify_states(m, np.array([0, 0, 1, 2]))
    assert counts == {"retrieved": 1, "other_pattern": 1, "mixture": 1, "spurious": 1}


def _ensemble_alpha_c(n, noise, loads, networks):
    means = [
        np.mean(
            [
                h.dense_capacity_curve(
                    n, np.array([a]), noise, 1000 * k + i, max_patterns_cued=100
                )[0][0]
                for k in range(networks)
            ]
        )
        for i, a in enumerate(loads)
    ]
    return h.critical_load(np.array(loads), np.array(means))


@pytest.mark.slow
def test_dense_capacity_from_stored_patterns_is_amit_gutfreund_sompolinskys():
    # Amit, Gutfreund & Sompolinsky (1985): retrieval states exist up to alpha 0.138 as
    # N -> infinity; at N = 1000, finite-size fluctuations keep them a little beyond
    # (benchmarks/bench_hopfield_capacity.py, 6 networks per load: 0.146 at N = 1000,
    # 0.143 at 2000). From cues with 20% of the units flipped the network must first
    # reach the pattern's basin, and the basins shrink first: 0.127 at N = 500-2000.
    # 4 networks per load: the spread of the mean curve's crossing over draws is about
    # 0.003, well inside the 0.01 asserted.
    clean = _ensemble_alpha_c(1000, 0.0, (0.135, 0.14, 0.145, 0.15, 0.155, 0.16), 4)
    cued = _ensemble_alpha_c(1000, 0.2, (0.115, 0.12, 0.125, 0.13, 0.135, 0.14), 4)
    assert clean == pytest.approx(0.138, abs=0.01)
    assert clean > 0.138
    assert cued == pytest.approx(0.127, abs=0.005)
