"""The twins of the hierarchy (spikingml.analysis.hierarchy): architecture and learning."""

from __future__ import annotations

import numpy as np
import pytest

from spikingml.analysis import hierarchy as h
from spikingml.errors import ValidationError


@pytest.fixture(scope="module")
def digits():
    x, labels = h.load_digits_scaled()
    train, test = h.digit_split(labels, 540, 0)
    return x, labels, train, test


def test_patch_indices_tile_the_image_with_local_fields():
    p = h.patch_indices()
    assert p.shape == (9, 16)
    assert p[0].tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
    assert p[-1].max() == 63 and p[4].min() == 2 * 8 + 2  # the centre patch starts at (2, 2)
    assert set(np.unique(p)) == set(range(64))  # every pixel is seen by some unit


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"patch": 0}, "patch"), ({"patch": 4, "stride": 3}, "stride"), ({"side": 2.5}, "side")],
)
def test_patch_indices_refuse_fields_that_do_not_tile(kwargs, name):
    with pytest.raises(ValidationError, match=name):
        h.patch_indices(**kwargs)


def test_digit_split_is_stratified_disjoint_and_seeded(digits):
    x, labels, train, test = digits
    assert len(test) == 540 and len(train) == len(labels) - 540
    assert not set(train) & set(test)
    # stratified: every class's share of the test set is within one digit of 30%
    counts = np.bincount(labels[test], minlength=10)
    assert np.all(np.abs(counts - 0.3 * np.bincount(labels)) <= 1)
    assert not np.array_equal(h.digit_split(labels, 540, 1)[1], test)
    with pytest.raises(ValidationError, match="n_test"):
        h.digit_split(labels, 5, 0)


def test_backprop_twin_keeps_local_fields_and_learns_the_digits(digits):
    x, labels, train, test = digits
    net = h.train_backprop(x[train], labels[train], epochs=15, seed=0)
    w1 = net.params["W1"]
    assert np.all(w1[net.mask == 0] == 0)  # no first-layer unit sees outside its patch
    assert np.count_nonzero(w1) <= net.mask.sum()
    # an MLP on the 8 x 8 digits reaches 0.97-0.99 held out; 0.95 leaves room for the
    # short training (15 epochs) of this test
    assert np.mean(net.predict(x[test]) == labels[test]) >= 0.95
    assert net.train_accuracy.shape == (15,) and net.train_accuracy[-1] >= 0.98
    r = net.responses(x[test])
    assert {k: v.shape for k, v in r.items()} == {
        "l1": (540, 108),
        "l2": (540, 150),
        "top": (540, 10),
    }
    assert r["l1"].min() >= 0 and r["l2"].min() >= 0  # ReLU layers


def test_backprop_twin_is_reproducible_from_its_seed(digits):
    x, labels, train, _ = digits
    a = h.train_backprop(x[train[:200]], labels[train[:200]], epochs=2, seed=3)
    b = h.train_backprop(x[train[:200]], labels[train[:200]], epochs=2, seed=3)
    np.testing.assert_allclose(a.params["W2"], b.params["W2"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"k1": 0}, "k1"), ({"epochs": 0}, "epochs"), ({"learning_rate": 0.0}, "learning_rate")],
)
def test_backprop_twin_refuses_bad_settings(digits, kwargs, name):
    x, labels, train, _ = digits
    with pytest.raises(ValidationError, match=name):
        h.train_backprop(x[train], labels[train], **kwargs)


def test_backprop_twin_refuses_labels_that_do_not_match(digits):
    x, labels, train, _ = digits
    with pytest.raises(ValidationError, match="labels"):
        h.train_backprop(x[train], labels[train][:-1])


def test_cascade_layers_have_the_architecture_and_no_labels(digits):
    x, labels, train, test = digits
    cascade = h.train_cascade(x[train], k2=40, seed=0)
    r = cascade.responses(x[test])
    assert {k: v.shape for k, v in r.items()} == {
        "l1": (540, 108),
        "l2": (540, 40),
        "top": (540, 10),
    }
    assert r["l2"].min() >= 0 and r["top"].min() >= 0  # triangle activations
    # the triangle activation leaves some units silent for every input, others active
    frac = np.mean(r["l2"] > 0)
    assert 0.2 < frac < 0.8
    # the unsupervised features still separate the digits linearly far above chance
    profile = h.layer_profile({"l2": r["l2"]}, labels[test])
    assert profile["l2"]["probe_accuracy"] > 0.8


def test_cascade_refuses_more_components_than_pixels(digits):
    x, _, train, _ = digits
    with pytest.raises(ValidationError, match="k1"):
        h.train_cascade(x[train], k1=17)


def test_layer_profile_measures_every_layer():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    independent = rng.normal(size=(200, 30))
    shared = rng.normal(size=(200, 1)) + 0.1 * rng.normal(size=(200, 30))
    out = h.layer_profile({"a": independent, "b": shared}, labels)
    # independent units: |r| about sqrt(2 / (pi n)) = 0.056 for n = 200; shared: near 1
    assert out["a"]["mean_abs_correlation"] < 0.08
    assert out["b"]["mean_abs_correlation"] > 0.95
    assert out["b"]["participation_ratio"] < 1.1 < out["a"]["participation_ratio"]
    with pytest.raises(ValidationError, match="responses"):
        h.layer_profile({}, labels)
