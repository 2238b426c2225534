"""The working-memory tasks (spikingml.stimuli.memory_tasks)."""

from __future__ import annotations

import numpy as np
import pytest

from spikingml.errors import ValidationError
from spikingml.stimuli.memory_tasks import evidence_accumulation, store_recall


def test_store_recall_layout_follows_the_label_and_the_delay():
    tr = store_recall(np.random.default_rng(0), 200)
    steps_sym = 200
    assert tr.x.shape == (2000, 200, 40) and not tr.x[0].any()
    for b in range(200):
        ch = tr.channels[:, b]
        store = np.flatnonzero(ch[:, 2])
        recall = np.flatnonzero(ch[:, 3])
        assert store[0] == steps_sym and len(store) == steps_sym
        # the stored value is the label
        assert ch[store[0], tr.labels[b]] == 1 and ch[store[0], 1 - tr.labels[b]] == 0
        assert np.isclose((recall[0] - store[0]) * tr.dt, tr.delays[b])
        # nothing but the recall cue during the loss window, silence after it
        assert ch[recall[0] :, :2].sum() == 0 and ch[recall[-1] + 1 :].sum() == 0
        np.testing.assert_array_equal(np.flatnonzero(tr.mask[:, b]), recall)
    assert set(np.round(tr.delays, 6)) == {0.8, 1.0, 1.2, 1.4, 1.6}
    # ~50 Hz per active input neuron (10 per channel): 3-sigma of the Poisson count
    on = np.repeat(tr.channels, 10, axis=2)
    rate = tr.x.sum() / (on.sum() * tr.dt)
    assert abs(rate - 50) < 3 * np.sqrt(50 / (on.sum() * tr.dt))
    assert tr.labels.mean() == pytest.approx(0.5, abs=0.15)


def test_store_recall_fixed_delays_and_bad_values():
    tr = store_recall(np.random.default_rng(1), 4, distractor_values=np.array([5, 5, 5, 5]))
    np.testing.assert_allclose(tr.delays, 1.2)
    with pytest.raises(ValidationError, match="distractors"):
        store_recall(np.random.default_rng(0), 2, distractors=(3, 8))


def test_evidence_accumulation_label_is_the_majority_side():
    tr = evidence_accumulation(np.random.default_rng(2), 100)
    left = tr.channels[:, :, 0]
    right = tr.channels[:, :, 1]
    # count cue onsets on each side
    n_left = ((left[1:] == 1) & (left[:-1] == 0)).sum(axis=0)
    n_right = ((right[1:] == 1) & (right[:-1] == 0)).sum(axis=0)
    assert np.all(n_left + n_right == 7)
    np.testing.assert_array_equal(tr.labels, (n_right > n_left).astype(int))
    assert tr.mask.sum(axis=0).tolist() == [150] * 100
    with pytest.raises(ValidationError, match="odd"):
        evidence_accumulation(np.random.default_rng(0), 2, n_cues=6)
