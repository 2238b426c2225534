"""Tests of spikingml.peers.nest_three_factor that do not need NEST.

The NEST side is tested in test_nest_parity.py; here: the message when NEST is missing,
the skip-or-fail switch of that module, the delay convention, input validation, and the
Brian2 run against the NumPy reference (the spikingml half of the parity check).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms

from spikingml.errors import ValidationError
from spikingml.peers.nest_three_factor import (
    PARITY_CASES,
    EventWeights,
    compare_event_weights,
    import_nest,
    reference_event_weights,
    seen_times,
    simulate_brian2,
    simulate_nest,
)
from spikingml.plasticity.three_factor import DopamineSTDP

PARITY_TESTS = Path(__file__).with_name("test_nest_parity.py")


@pytest.fixture
def without_nest(monkeypatch):
    """Make ``import nest`` fail, whether NEST is installed or not."""
    monkeypatch.setitem(sys.modules, "nest", None)


def test_missing_nest_names_the_extra(without_nest):
    with pytest.raises(ImportError, match=r"pip install 'spikingml\[nest\]'"):
        import_nest()


def test_parity_tests_skip_without_nest(without_nest, monkeypatch):
    monkeypatch.delenv("SPIKINGML_REQUIRE_NEST", raising=False)
    with pytest.raises(pytest.skip.Exception, match="NEST is not installed"):
        runpy.run_path(str(PARITY_TESTS))


def test_parity_tests_fail_without_nest_when_required(without_nest, monkeypatch):
    # CI sets SPIKINGML_REQUIRE_NEST=1: a missing NEST must not pass as a skip.
    monkeypatch.setenv("SPIKINGML_REQUIRE_NEST", "1")
    with pytest.raises(ImportError, match="SPIKINGML_REQUIRE_NEST=1"):
        runpy.run_path(str(PARITY_TESTS))


def test_seen_times_follow_nests_dendritic_delay():
    pre, post, dopa = seen_times(
        [26.7, 30.0] * ms, [23.7] * ms, [5.0] * ms, delay=3 * ms, dopa_delay=1.7 * ms
    )
    # Pre spikes at emission, post spikes d later, dopamine at the volume transmitter.
    assert np.allclose(pre / ms, [26.7, 30]) and np.allclose(dopa / ms, [6.7])
    # Exactly equal in floating point, so the reference sees a tie (no pairing), where
    # the naive sum is not: 0.0237 s + 0.003 s = 0.026699999999999998 s.
    assert post[0] == pre[0]
    assert float(23.7 * ms + 3 * ms) != float(26.7 * ms)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"pre_times": [1.05, 3.0] * ms}, "pre_times"),  # off the 0.1 ms grid
        ({"post_times": [5.0, 3.0] * ms}, "post_times"),  # not increasing
        ({"dopa_times": [0.1] * ms}, "dopa_times"),  # before 2 steps (generator + parrot)
        ({"pre_times": [1.0, 600.0] * ms}, "pre_times"),  # not before t_end
        ({"delay": 0 * ms}, "delay"),  # NEST needs >= one step
        ({"update_interval": 0.25 * ms}, "update_interval"),  # not whole steps
        ({"rule": "stdp"}, "rule"),
        ({"pre_times": [1.0, 2.0]}, "pre_times"),  # no units
    ],
)
def test_inputs_are_validated(changes, name):
    args = {
        "pre_times": [1.0, 3.0] * ms,
        "post_times": [2.0] * ms,
        "dopa_times": [4.0] * ms,
        "rule": DopamineSTDP(),
        "t_end": 500 * ms,
        "delay": 1 * ms,
    }
    args.update(changes)
    with pytest.raises(ValidationError) as info:
        reference_event_weights(**args)
    assert info.value.name == name


def test_nest_always_has_an_update_interval(without_nest):
    # Checked before NEST is imported: NEST cannot update at events only.
    with pytest.raises(ValidationError, match="update_interval"):
        simulate_nest([1.0] * ms, [] * ms, [] * ms, DopamineSTDP(), 10 * ms, update_interval=None)


def test_brian2_matches_reference_in_the_nest_setting():
    # The spikingml half of the parity check, run without NEST: delays, ties, b > 0 and
    # 0.5 ms updates; the same closed form, so rounding only (rtol 1e-9).
    case = PARITY_CASES["baseline-delays"]
    trains = case.spike_trains()
    args = (*trains, case.rule, case.t_end)
    brian2_w = simulate_brian2(*args, **case.kwargs())
    reference = reference_event_weights(*args, **case.kwargs())
    deviation = compare_event_weights(brian2_w, reference, case.w0)
    assert deviation["events"] >= 20 and deviation["max_change"] > 10
    assert deviation["max_abs"] <= 1e-9 * deviation["max_change"]


def test_compare_event_weights():
    t = [1.0, 2.0, 3.0] * ms
    expected = EventWeights(t, np.array([100.0, 102.0, 104.0]))
    measured = EventWeights(t, np.array([100.0, 102.0, 104.04]))
    deviation = compare_event_weights(measured, expected, w0=100.0)
    assert deviation["events"] == 3
    assert deviation["max_abs"] == pytest.approx(0.04)
    assert deviation["max_rel_weight"] == pytest.approx(0.04 / 104)
    assert deviation["max_change"] == pytest.approx(4.0)
    assert deviation["max_rel_change"] == pytest.approx(0.01)
    with pytest.raises(ValidationError, match="measured"):
        compare_event_weights(EventWeights(t[:2], measured.w[:2]), expected, w0=100.0)


def test_parity_spike_trains_are_reproducible_and_in_range():
    for case in PARITY_CASES.values():
        first, second = case.spike_trains(), case.spike_trains()
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a, b)
            assert np.all(np.diff(a) > 0)
            assert a.min() >= 0.2 * ms and a.max() < case.t_end - 50 * ms
