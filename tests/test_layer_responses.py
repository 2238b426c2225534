"""Tests of spikingml.analysis.layer_responses on hand-made Results with known counts."""

from __future__ import annotations

import numpy as np
import pytest

from spikingml.analysis.layer_responses import layer_responses, window_counts
from spikingml.result import Result, SpikeData


def _result() -> Result:
    # three units, three stimuli at 0, 1, 2 s shown for 0.5 s; unit 2 is silent
    indices = [0, 0, 1, 0, 1, 1, 1, 0, 1]
    times = [0.10, 0.49, 0.20, 0.50, 1.00, 1.30, 1.70, 2.45, 2.99]
    return Result(
        circuit="hand-made",
        params={},
        seed=0,
        device="runtime",
        populations={"layer": SpikeData(indices, times, 3)},
        events={"onset": np.array([0.0, 1.0, 2.0])},
    )


def test_window_counts_known():
    r = _result()
    counts = window_counts(r.populations["layer"], r.events["onset"], 0.5)
    # 0.50 (end of window 0, exclusive), 1.70 and 2.99 fall outside every window
    expected = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(counts, expected)


def test_layer_responses_default_duration_is_the_gap():
    r = _result()
    counts = layer_responses(r, "layer", "onset")
    # windows of 1 s: every spike is counted once, none is lost
    expected = np.array([[3.0, 1.0, 0.0], [0.0, 3.0, 0.0], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == len(r.populations["layer"].indices)


def test_spikes_before_first_onset_ignored():
    spikes = SpikeData([0, 1], [0.05, 0.15], 2)
    counts = window_counts(spikes, np.array([0.1]), 0.1)
    np.testing.assert_array_equal(counts, [[0.0, 1.0]])


def test_spike_at_a_rounded_onset_belongs_to_it():
    # 1651 * 0.05 and 1651 * 0.5e-4 * 1000 round to different floats
    onsets = np.arange(1653) * 0.05
    t = 33020 * 0.0001 * 25
    assert t < onsets[1651]  # the float time lies just before the onset
    counts = window_counts(SpikeData([0], [t], 1), onsets, 0.05)
    assert counts[1651, 0] == 1.0 and counts.sum() == 1.0


def test_errors():
    r = _result()
    with pytest.raises(KeyError):
        layer_responses(r, "missing", "onset")
    with pytest.raises(KeyError):
        layer_responses(r, "layer", "missing")
    spikes = r.populations["layer"]
    with pytest.raises(ValueError, match="overlap"):
        window_counts(spikes, np.array([0.0, 1.0]), 1.5)
    with pytest.raises(ValueError, match="increasing"):
        window_counts(spikes, np.array([1.0, 0.0]), 0.5)
    with pytest.raises(ValueError, match="positive"):
        window_counts(spikes, np.array([0.0]), 0.0)
    single = r.replace(events={"onset": np.array([0.0])})
    with pytest.raises(ValueError, match="single onset"):
        layer_responses(single, "layer", "onset")


def test_representation_figure_draws_every_panel(tmp_path):
    pytest.importorskip("matplotlib")
    from spikingml.figures.representations import (
        representation_figure,
        save_representation_figure,
    )

    rng = np.random.default_rng(0)
    square = np.abs(rng.normal(size=(6, 6)))
    metrics = {"probe": {"pixels": [0.9, 0.8], "output": [0.7, 0.6]}, "rsa": {"output": [0.5]}}
    fig = representation_figure(
        metrics,
        square,
        square,
        ("a", "b"),
        "title",
        embedding=rng.normal(size=(6, 2)),
        labels=np.arange(6),
        rdm_boundaries=np.array([3]),
    )
    # two metric panels, two RDMs and a map, and three colour bars
    assert len(fig.axes) == 8
    bars = [p.get_height() for p in fig.axes[0].patches]
    np.testing.assert_allclose(bars, [0.85, 0.65], atol=1e-12)
    path = save_representation_figure(fig, tmp_path / "f.png", dpi=40)
    assert path.stat().st_size > 1000


@pytest.mark.slow
def test_wta_em_output_layer_representation():
    """wta-em quick, seed 0: the output layer against the binary digit pixels.

    bench_representations measured (seeds 0-2) probe 0.715-0.730, participation ratio
    7.7-8.2, RSA 0.450-0.454, trustworthiness 0.990-0.996. The bounds allow a few images
    to move (each of the 5 folds holds 40 images: one image moves a fold by 0.025) if
    another code target orders spikes differently; the pixels' probe (0.745-0.800) must
    stay above the output's, a layer of 10 clusters cannot add linear information here.
    """
    pytest.importorskip("sklearn")
    from spikingml.analysis import representations as rep
    from spikingml.circuits import wta_em

    params = wta_em.Params.quick()
    result = wta_em.simulate(params, seed=0, device="runtime", progress=False)
    out = layer_responses(result, "digits.output", "image")
    data = wta_em.make_data(params, 0)["digits"]
    pixels = data.x_test.astype(float)
    assert out.shape == (200, 10)
    probe_out = rep.probe_accuracy(out, data.y_test, cv=5, seed=0).mean
    probe_pix = rep.probe_accuracy(pixels, data.y_test, cv=5, seed=0).mean
    assert 0.66 <= probe_out <= 0.78
    assert probe_pix > probe_out
    assert 7.0 <= rep.participation_ratio(out) <= 9.0
    r = rep.rsa(rep.rdm(pixels), rep.rdm(out))
    assert r == pytest.approx(0.452, abs=0.04)
    assert rep.tsne_map(out, data.y_test, seed=0).trustworthiness >= 0.97


@pytest.mark.slow
def test_v1_ica_units_decorrelate_the_patches():
    """v1-ica quick, seed 0: the units are less correlated than the whitened pixels.

    bench_representations measured (seeds 0-2) mean |r| 0.039-0.047 for the units
    against 0.083-0.085 for the pixels, and an RSA of the Euclidean RDMs (first 1000
    patches) of 0.845-0.875; the bounds hold that spread with a margin of about its width.
    """
    from spikingml.analysis import representations as rep
    from spikingml.circuits import v1_ica

    params = v1_ica.Params.quick()
    result = v1_ica.simulate(params, seed=0, device="cpp_standalone", progress=False)
    units = layer_responses(result, "v1", "patch_onset")
    pixels = v1_ica.patches(params, 0).test[: params.n_test]
    assert units.sum() == len(result.populations["v1"].indices)
    assert 0.03 <= rep.mean_abs_correlation(units).value <= 0.06
    assert rep.mean_abs_correlation(pixels).value == pytest.approx(0.084, abs=0.005)
    r = rep.rsa(rep.rdm(pixels[:1000], "euclidean"), rep.rdm(units[:1000], "euclidean"))
    assert 0.8 <= r <= 0.92
