"""The Hebbian t-SNE circuit: inputs, the rule inside the network, the map, the metrics.

The default suite runs the tiny preset (50 digits, 60 Kenyon cells, 2 passes; a few
seconds under NumPy); the science runs (default preset, seeds 0-2, under
cpp_standalone) are marked slow, with the tolerances explained beside each.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms

from spikingml import ValidationError
from spikingml.analysis.hebbian_tsne import (
    digits_subset,
    embedding_scores,
    kenyon_drive,
    opponent_coordinates,
)
from spikingml.circuits import hebbian_tsne as ht
from spikingml.plasticity.hebbian_tsne import ModulatorState, reference_update
from spikingml.simulation import brian_device


@pytest.fixture(scope="module")
def tiny_replay():
    """A tiny run (runtime) with every window's Kenyon-cell counts recorded."""
    params = ht.Params.tiny()
    inputs = ht.prepare_inputs(params, 0)
    with brian_device("runtime", 0):
        network = ht.build_network(params, inputs)
        zmon = b2.StateMonitor(
            network.kc, ["z", "z_prev"], record=True, dt=params.window, when="groups", order=5
        )
        network.net.add(zmon)
        network.net.run(len(inputs.order) * params.window)
        z, z_prev = np.asarray(zmon.z[:]).T, np.asarray(zmon.z_prev[:]).T
        mon = network.modulator
        trace = np.array([np.asarray(getattr(mon, v)[0]) for v in mon.record_variables]).T
        w = np.asarray(network.plastic.w[:]).reshape(params.n_kc, -1)
    return params, inputs, z, z_prev, trace, w


def test_digits_subset_is_balanced_and_reproducible():
    x, y = digits_subset(120, np.random.default_rng(4))
    assert x.shape == (120, 64) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(np.bincount(y, minlength=10), 12)
    x2, _ = digits_subset(120, np.random.default_rng(4))
    np.testing.assert_array_equal(x, x2)


def test_kenyon_drive_is_standardised_per_sample():
    x, _ = digits_subset(50, np.random.default_rng(0))
    drive = kenyon_drive(x, 200, 7, np.random.default_rng(1))
    np.testing.assert_allclose(drive.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(drive.std(axis=1), 1, rtol=1e-12)


def test_opponent_pools_decode_rate_differences():
    # 2 neurons per side, 0.5 spikes per unit: (3 + 1 - 0 - 0) / 1 = 4; (0 - 5) / 1 = -5
    counts = np.array([[3, 1, 0, 0, 0, 0, 2, 3]])
    np.testing.assert_allclose(opponent_coordinates(counts, 2, 0.5), [[4.0, -5.0]])


def test_the_circuit_learns_by_the_rule_from_its_own_counts(tiny_replay):
    # Replaying the NumPy reference of the rule on the Kenyon-cell counts and decoded
    # outputs of every window gives the circuit's weights and third factor exactly: the
    # synapses learn by the rule and nothing else. Tolerance 1e-9: about a hundred
    # additions of numbers below 1 in double precision (measured: 0).
    params, inputs, z, z_prev, trace, w = tiny_replay
    rule, state, weights = params.rule(), ModulatorState(), inputs.w_init.copy()
    per_pass = params.n_samples * float(params.window)
    n_exag = round(params.exaggeration_fraction * params.n_passes)
    for k in range(len(z)):
        done = int(k * float(params.window) // per_pass + 1e-9)
        learning = 1 - done / params.n_passes if done < params.n_passes else 0.0
        exag = params.exaggeration if done < n_exag else 1.0
        dw, values = reference_update(rule, state, z[k], z_prev[k], trace[k, :2], exag, learning)
        assert values["D"] == pytest.approx(trace[k, 2], abs=1e-9)
        weights += dw
    assert np.abs(weights - inputs.w_init).max() > 0.01  # it did learn
    np.testing.assert_allclose(w[:, 0], weights[0], atol=1e-9)
    np.testing.assert_allclose(w[:, -1], weights[1], atol=1e-9)
    # every output neuron of an axis carries the same weight
    n_side = params.n_per_side
    np.testing.assert_allclose(w[:, : 2 * n_side], w[:, [0]] * np.ones((1, 2 * n_side)))


def test_the_expansion_is_sparse(tiny_replay):
    # APL inhibition keeps a few % of the Kenyon cells active per window (the tiny
    # preset's 60 cells: 1-10 of them)
    _, _, z, _, _, _ = tiny_replay
    active = (z[2:] > 0).mean(axis=1)
    assert 0.01 < active.mean() < 0.2


def test_the_map_is_decoded_from_the_output_spikes():
    params = ht.Params.tiny()
    result = ht.simulate(params, seed=1, device="runtime", progress=False)
    emb = ht.embedding(result)
    assert emb.shape == (params.n_samples, 2)
    # the modulator's decoded y of each test window (recorded one window later) adds up
    # to the same coordinates: spikes and summed variables agree exactly
    n_train = result.extra["n_train_windows"]
    y = result.signals["modulator"].values[n_train + 1 : n_train + 1 + params.n_samples, :2]
    np.testing.assert_allclose(emb, y, atol=1e-12)
    metrics = ht.compare(result, ht.twin(params, 1))
    assert set(metrics) == set(ht.METRICS)
    assert all(np.isfinite(v) for v in metrics.values())


def test_scores_rank_a_good_map_above_a_shuffled_one():
    x, y = digits_subset(100, np.random.default_rng(0))
    from sklearn.decomposition import PCA

    pca = PCA(2).fit_transform(x)
    good = embedding_scores(x, pca, y, seed=0)
    bad = embedding_scores(x, np.random.default_rng(0).permutation(pca), y, seed=0)
    assert good.trustworthiness > bad.trustworthiness + 0.2
    assert good.knn_accuracy > bad.knn_accuracy + 0.2


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"window": 2.5 * ms}, "window"),
        ({"perplexity": 20.0}, "perplexity"),
        ({"n_samples": 20}, "n_samples"),
        ({"kc_fan_in": 65}, "kc_fan_in"),
        ({"exaggeration": 0.5}, "exaggeration"),
    ],
)
def test_bad_parameters_are_refused(changes, field):
    with pytest.raises(ValidationError, match=f"HebbianTsne.Params.{field}"):
        ht.Params.tiny().replace(**changes)


# ------------------------------------------------------------- science (slow, default)
@pytest.fixture(scope="module")
def default_runs():
    """Metrics of the default preset, seeds 0-2 (cpp_standalone; about 2 minutes each).

    Compiled -O3, as users run it and the benchmark measured it (the suite's -O0 build
    may round differently, and 1800 passes of learning carry any difference along).
    """
    params = ht.Params()
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPIKINGML_FAST_COMPILE", "0")
        for seed in (0, 1, 2):
            result = ht.simulate(params, seed=seed, device="cpp_standalone", progress=False)
            out[seed] = ht.compare(result, ht.twin(params, seed))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_circuits_map_keeps_neighbourhoods_nearly_as_well_as_tsne(default_runs, seed):
    # benchmarks/results/hebbian_tsne.md, seeds 0-2: ratio 0.910, 0.921, 0.925 (the
    # issue's stretch target 0.9, met at every seed; 1200 passes gave 0.889 at seed 2);
    # 0.86 is 0.05 below the worst seed, about twice the spread of seeds and pass
    # counts (0.889-0.925). A circuit that fails to learn sits
    # at 0.5-0.6 (pass 1 of the learning curve) and a graded Kenyon-cell code at 0.6-0.8
    m = default_runs[seed]
    assert m["trustworthiness_ratio"] >= 0.86
    # the map beats the linear baseline: margins measured 0.049, 0.077, 0.076 in
    # trustworthiness and 0.132, 0.210, 0.180 in 10-NN accuracy; about half of the
    # smallest
    assert m["trustworthiness_circuit"] >= m["trustworthiness_pca"] + 0.02
    assert m["knn_accuracy_circuit"] >= m["knn_accuracy_pca"] + 0.07
    # the expansion is sparse as intended (measured 0.036-0.037)
    assert 0.02 <= m["kc_active_fraction"] <= 0.08
