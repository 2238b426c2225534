"""The hierarchy circuit: the split and schedule, the recorded responses, the metrics.

The default suite uses the tiny preset's pipeline run (shared with the conformance test,
``tiny_run``); the science runs (default preset, seeds 0-2, cpp_standalone, about 2-3
minutes each) are marked slow, with the tolerances explained beside each.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from brian2 import Hz, ms
from conftest import TINY_SEED

from spikingml import ValidationError
from spikingml.analysis.layer_responses import window_counts
from spikingml.circuits import hierarchy as hc


def test_split_and_schedule_follow_the_protocol():
    params = hc.Params.quick()
    inputs = hc.prepare_inputs(params, 3)
    assert len(inputs.train) == params.n_train and len(inputs.test) == params.n_test
    assert not set(inputs.train) & set(inputs.test)
    per_class = np.bincount(inputs.labels[inputs.test])  # stratified: 10% each, +- 1
    assert np.all(np.abs(per_class - params.n_test / 10) <= 1)
    n_tr = params.n_train
    epochs = (params.epochs_l1, params.epochs_l2, params.epochs_top)
    expected = np.repeat([1, 2, 3], np.array(epochs) * n_tr)
    np.testing.assert_array_equal(inputs.phase[: expected.size], expected)
    assert np.all(inputs.phase[expected.size :] == 0)
    # every training epoch shows every training digit once
    for e in range(sum(epochs)):
        assert sorted(inputs.order[e * n_tr : (e + 1) * n_tr]) == sorted(inputs.train)
    # test: each digit for test_windows windows, an onset at its first only
    reps = params.test_windows
    test_order = inputs.order[expected.size :]
    np.testing.assert_array_equal(test_order, np.repeat(inputs.test, reps))
    np.testing.assert_array_equal(inputs.onset[expected.size :: reps], 1.0)
    assert inputs.onset[expected.size + 1 :].sum() == params.n_test - 1
    again = hc.prepare_inputs(params, 3)
    np.testing.assert_array_equal(again.order, inputs.order)
    np.testing.assert_array_equal(again.w1, inputs.w1)
    assert not np.array_equal(hc.prepare_inputs(params, 4).order, inputs.order)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"readout_delay": 90 * ms}, "Hierarchy.Params.readout_delay"),
        ({"readout_delay": 5 * ms}, "Hierarchy.Params.readout_delay"),
        ({"window": 80.5 * ms}, "Hierarchy.Params.window"),
        ({"n_train": 1500}, "Hierarchy.Params.n_train"),
        ({"perplexity": 200.0}, "Hierarchy.Params.perplexity"),
        ({"k1": 17}, "Hierarchy.Params.k1"),
        ({"raster_digits": 600}, "Hierarchy.Params.raster_digits"),
        # a regular unit fires at most once per step (dt = 1 ms): 2 kHz would be lost
        ({"rate_in": 2000 * Hz}, "Hierarchy.Params.rate_in"),
        ({"rate_top": 1500 * Hz}, "Hierarchy.Params.rate_top"),
    ],
)
def test_bad_params_name_their_field(change, field):
    with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
        dataclasses.replace(hc.Params(), **change)


def test_counts_are_the_spikes_of_each_test_digit(tiny_run):
    """The recorded counts of every layer equal the spikes kept for the raster digits."""
    record = tiny_run("hierarchy")
    result = record.result
    p = result.params
    reps, win = int(p["test_windows"]), result.extra["window"]
    responses = hc.layer_responses(result)
    n1 = 9 * int(p["k1"])
    assert {k: v.shape for k, v in responses.items()} == {
        "l1": (int(p["n_test"]), n1),
        "l2": (int(p["n_test"]), n1),
        "top": (int(p["n_test"]), 10),
    }
    k = int(p["raster_digits"])
    onsets = result.events["digit"][:k]
    # the response counts the spikes from the settling delay on (the spikes lie on the
    # 1 ms grid: half a step earlier takes in the one at the delay itself)
    delay = result.extra["readout_delay"] - 0.5e-3
    for layer, values in responses.items():
        counted = window_counts(result.populations[layer], onsets + delay, reps * win - delay)
        np.testing.assert_array_equal(counted, values[:k], err_msg=layer)
        assert values.sum() > 0, layer
    # no spike is kept outside the raster digits' windows
    for pop in result.populations.values():
        assert pop.times.min() >= onsets[0] - 1e-9
        assert pop.times.max() < onsets[-1] + reps * win


def test_learning_happens_in_each_layer_s_phase(tiny_run):
    result = tiny_run("hierarchy").result
    inputs = hc.prepare_inputs(hc.Params.tiny(), TINY_SEED)
    w = result.weights
    assert not np.allclose(w["w1"], inputs.w1)  # l1 learned (instar)
    assert np.all(w["w1"] >= 0) and np.all(w["w1"] <= 1)  # moved towards pixels in [0, 1]
    assert not np.allclose(w["A"], inputs.a)  # l2 learned (whitening)
    assert np.any(w["W"] != 0)  # the readout learned from zero
    # the homeostasis keeps the l1 excitabilities small and centred
    assert abs(w["b1"].mean()) < 1.0


def test_metrics_describe_every_model_and_layer(tiny_run):
    metrics = tiny_run("hierarchy").metrics
    for model in hc.MODELS:
        for layer in hc.LAYERS:
            for key in ("mean_abs_correlation", "participation_ratio", "probe_accuracy"):
                assert f"{model}_{layer}_{key}" in metrics
    assert 0 <= metrics["top_accuracy"] <= 1
    assert metrics["readout_gap"] == pytest.approx(
        metrics["backprop_accuracy"] - metrics["top_accuracy"]
    )
    r = [metrics[f"spiking_{k}_mean_abs_correlation"] for k in hc.LAYERS]
    assert metrics["decorrelation_monotone"] == float(r[0] > r[1] > r[2])


# ------------------------------------------------------------------- science (slow)
@pytest.fixture(scope="module")
def default_runs():
    """Default preset, seeds 0-2, with the twins and the metrics."""
    runs = {}
    for seed in (0, 1, 2):
        result = hc.simulate(hc.Params(), seed=seed, progress=False)
        twin = hc.twin(hc.Params(), seed=seed)
        runs[seed] = hc.compare(result, twin)
    return runs


@pytest.mark.slow
def test_the_readout_classifies_held_out_digits(default_runs):
    """Issue 22's target: the circuit's own readout names >= 0.95 of the 540 held-out
    digits at every seed (measured 0.972, 0.969, 0.963 at seeds 0-2;
    benchmarks/results/hierarchy.md)."""
    for seed, m in default_runs.items():
        assert m["top_accuracy"] >= 0.95, seed


@pytest.mark.slow
def test_mean_abs_correlation_falls_with_depth(default_runs):
    """Issue 22's target: l1 > l2 > top at every seed (measured 0.225-0.229 >
    0.121-0.125 > 0.111: the smaller margin, 0.010-0.014 above the one-hot floor 1/9,
    is three times the seed-to-seed spread of l2's 0.004)."""
    for seed, m in default_runs.items():
        assert m["decorrelation_monotone"] == 1.0, seed


@pytest.mark.slow
def test_the_backprop_twin_does_not_decorrelate(default_runs):
    """The answer of the lesson: trained on its output alone, the network's mean |r| rises
    from l1 to l2 (measured by 0.07-0.10 at every seed; asserted > 0.03)."""
    for seed, m in default_runs.items():
        rise = m["backprop_l2_mean_abs_correlation"] - m["backprop_l1_mean_abs_correlation"]
        assert rise > 0.03, seed
