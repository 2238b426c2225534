"""Cross-simulator parity: NEST's ``stdp_dopamine_synapse`` and spikingml's DopamineSTDP.

NEST (parrot neurons fed by spike generators, a volume transmitter for dopamine) and
Brian2 get identical pre, post and dopamine spike trains for each parameter set of
:data:`PARITY_CASES` (NEST's defaults; b > 0 with dendritic and dopamine delays; weights
saturating at Wmax; at Wmin), and their weights must agree at every weight-recorder event.

The issue's criterion is 1% of the weight. Both sides evaluate the same closed-form
solution between events, so they really agree to rounding (about 1e-13 of the weight
change); the tests also require 1e-9 of the largest weight change, so that a deviation
hidden by a large baseline weight (w0 = 100, changes of 1 to 17) would still fail.

Needs NEST (``pip install 'spikingml[nest]'``); skipped without it, except when the
environment sets ``SPIKINGML_REQUIRE_NEST=1`` (CI), where its absence is an error.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from brian2 import Hz, ms, second

from spikingml.peers.nest_three_factor import (
    PARITY_CASES,
    compare_event_weights,
    import_nest,
    nest_parameters,
    reference_event_weights,
    simulate_brian2,
    simulate_nest,
)
from spikingml.plasticity.three_factor import DopamineSTDP, reference_weight_trajectory

try:
    nest = import_nest()
except ImportError as exc:
    if os.environ.get("SPIKINGML_REQUIRE_NEST") == "1":
        raise ImportError(f"SPIKINGML_REQUIRE_NEST=1, but NEST is missing: {exc}") from exc
    pytest.skip(f"NEST is not installed ({exc})", allow_module_level=True)

pytestmark = pytest.mark.nest

#: The issue's criterion, relative to the weight at each event.
REL_WEIGHT = 0.01
#: Relative to the largest weight change: rounding only (measured <= 1.1e-13, see
#: benchmarks/results/nest_parity.md).
REL_CHANGE = 1e-9


@pytest.fixture(scope="module", params=list(PARITY_CASES))
def runs(request):
    """(case, spike trains, NEST, Brian2, reference) for one parameter set."""
    case = PARITY_CASES[request.param]
    trains = case.spike_trains()
    args = (*trains, case.rule, case.t_end)
    nest_w = simulate_nest(*args, **case.kwargs())
    brian2_w = simulate_brian2(*args, **case.kwargs())
    reference = reference_event_weights(*args, **case.kwargs())
    return case, trains, nest_w, brian2_w, reference


def _assert_parity(measured, expected, w0):
    deviation = compare_event_weights(measured, expected, w0)
    np.testing.assert_allclose(measured.w, expected.w, rtol=REL_WEIGHT, atol=0)
    assert deviation["max_abs"] <= REL_CHANGE * deviation["max_change"], deviation
    return deviation


def test_nest_and_brian2_weights_agree_at_every_event(runs):
    case, (pre, _, _), nest_w, brian2_w, _ = runs
    deviation = _assert_parity(nest_w, brian2_w, case.w0)
    # Enough events, and learning moved the weight well beyond rounding (>= 1, the
    # whole range of the saturation cases), so agreement is not trivial.
    assert deviation["events"] == pre.size >= 20
    assert deviation["max_change"] >= 1.0


def test_nest_matches_the_numpy_reference(runs):
    case, _, nest_w, _, reference = runs
    _assert_parity(nest_w, reference, case.w0)


def test_weight_recorder_stamps_pre_spikes_at_emission(runs):
    # NEST's delay is dendritic: the synapse handles a pre spike at t_pre, not t_pre + d.
    _, (pre, _, _), nest_w, _, _ = runs
    np.testing.assert_allclose(nest_w.t / ms, pre / ms, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["saturation-Wmax", "saturation-Wmin"])
def test_saturation_cases_reach_and_leave_the_bound(name):
    case = PARITY_CASES[name]
    trains = case.spike_trains()
    w = simulate_nest(*trains, case.rule, case.t_end, **case.kwargs()).w
    bound = case.rule.Wmax if name.endswith("Wmax") else case.rule.Wmin
    at_bound = np.count_nonzero(w == bound)
    # Clipped exactly at several events, and b > 0 moves the weight off the bound again.
    assert at_bound >= 5
    assert at_bound < w.size


@pytest.mark.parametrize("name", ["saturation-Wmax", "saturation-Wmin"])
def test_matching_needs_nests_update_schedule_at_bounds(name):
    # Clipped at events only (update_interval=None), the reference misses NEST's
    # clipping at every volume-transmitter update: a deviation of 0.4% (Wmax) and 0.3%
    # (Wmin) of the weight change, 1e9 times the rounding level, yet < 1% of the weight,
    # which is why REL_CHANGE is also asserted.
    case = PARITY_CASES[name]
    trains = case.spike_trains()
    args = (*trains, case.rule, case.t_end)
    nest_w = simulate_nest(*args, **case.kwargs())
    events_only = reference_event_weights(*args, **{**case.kwargs(), "update_interval": None})
    deviation = compare_event_weights(nest_w, events_only, case.w0)
    assert deviation["max_rel_change"] > 1e-3
    assert deviation["max_rel_weight"] < REL_WEIGHT


def test_updates_every_step_as_with_nests_default_deliver_interval():
    # NEST's default deliver_interval 1 updates every min_delay, one step here; at a
    # bound the schedule shows in the weights (see the test above), and it matches.
    case = PARITY_CASES["saturation-Wmax"]
    trains = case.spike_trains()
    args = (*trains, case.rule, case.t_end)
    every_step = {**case.kwargs(), "update_interval": 0.1 * ms}
    nest_w = simulate_nest(*args, **every_step)
    _assert_parity(nest_w, reference_event_weights(*args, **every_step), case.w0)
    assert np.any(nest_w.w != simulate_nest(*args, **case.kwargs()).w)


def test_dendritic_delay_convention():
    # With d = 3 ms, a post spike 3 ms before a pre spike is seen with it (no pairing),
    # one 2 ms after it is seen 5 ms after it (c = A_plus exp(-5/20)). The opposite
    # convention (pre spikes seen at t_pre + d) pairs them differently.
    rule = DopamineSTDP(b=1 * Hz)
    pre, post, dopa = [10, 40, 300] * ms, [7, 42] * ms, [60, 80] * ms
    kwargs = {"w0": 100.0, "delay": 3 * ms, "dopa_delay": 1 * ms, "update_interval": 1 * ms}
    nest_w = simulate_nest(pre, post, dopa, rule, 400 * ms, **kwargs)
    reference = reference_event_weights(pre, post, dopa, rule, 400 * ms, **kwargs)
    _assert_parity(nest_w, reference, 100.0)
    shifted = reference_weight_trajectory(
        [13, 43, 303] * ms, post, [61, 81] * ms, rule, 400 * ms, w0=100.0, update_interval=1 * ms
    )
    wrong = shifted.w[np.isin(np.round(shifted.t / ms, 6), [13, 43, 303])]
    assert abs(wrong[-1] - nest_w.w[-1]) > 0.01
    assert abs(nest_w.w[-1] - 100.0) > 0.1


def test_parameters_reach_nest_in_nest_units():
    case = PARITY_CASES["baseline-delays"]
    expected = nest_parameters(case.rule)
    assert expected["b"] == pytest.approx(0.003)  # 3 Hz = 0.003 / ms
    assert expected["tau_c"] == 300.0 and expected["tau_n"] == 100.0
    trains = case.spike_trains()
    simulate_nest(*trains, case.rule, case.t_end, **case.kwargs())
    # The rule's parameters are common to the synapse model, the delay per connection.
    defaults = nest.GetDefaults("spikingml_dopamine_synapse")
    assert {key: defaults[key] for key in expected} == pytest.approx(expected, rel=1e-12)
    (connection,) = nest.GetConnections(synapse_model="spikingml_dopamine_synapse")
    assert connection.get("delay") == pytest.approx(2.5)
    assert nest.NodeCollection([connection.target]).tau_minus == pytest.approx(25.0)
    # Rates and times are in 1/s and s on the spikingml side.
    assert float(case.rule.b / Hz) == 3.0 and float(case.rule.tau_n / second) == 0.1
