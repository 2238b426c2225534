"""Tests of the three-factor-synapse circuit, the template new circuits are copied from.

The circuit and its twin solve the same equations exactly (event by event, closed form
between events), so they must agree to float rounding. The tolerance, 1e-9 on weights of
order 100, is four orders of magnitude above the rounding measured (3e-14 on the quick
preset: a few hundred events per synapse, each rounding at about 1e-16 relative) and far
below any modelling error: a spike one step (0.1 ms) off changes a pairing's jump of ``c``
by 0.5 %, a weight change of order 1 by about 5e-3.

Like every registered circuit it also passes the conformance test
(``pytest tests/test_contract.py -k three-factor-synapse``).
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, ms, mV, second

from spikingml.circuits import REGISTRY, get_circuit
from spikingml.circuits import three_factor_synapse as tfs
from spikingml.circuits.contract import check_module
from spikingml.errors import ValidationError
from spikingml.simulation import record_device_times

#: Largest difference allowed between circuit and closed form (see the module docstring).
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def quick():
    """(params, result, twin, metrics) of the quick preset, seed 0, runtime device."""
    params = tfs.Params.quick()
    result = tfs.simulate(params, seed=0, progress=False)
    twin = tfs.twin(params, seed=0)
    return params, result, twin, tfs.compare(result, twin)


def test_registered_and_checked_by_the_conformance_test():
    from test_contract import NAMES  # the circuits the conformance test runs

    assert REGISTRY[tfs.NAME] == "spikingml.circuits.three_factor_synapse"
    assert get_circuit(tfs.NAME) is tfs
    assert tfs.NAME in NAMES
    assert check_module(tfs, tfs.NAME) == []


def test_quick_preset_equals_the_closed_form(quick):
    params, result, twin, metrics = quick
    assert list(metrics) == list(tfs.METRICS)
    assert metrics["weight_max_abs_error"] <= TOLERANCE
    assert metrics["trajectory_max_abs_error"] <= TOLERANCE
    assert metrics["weight_change_correlation"] > 0.999
    # the weights did change, by far more than the tolerance: agreement is not trivial
    dw = result.weights["w"] - params.w0
    assert np.max(np.abs(dw)) > 10 and np.std(dw) > 1
    # every synapse saw its own spikes: the inputs are those of the stimulus
    stim = tfs.stimulus(params, 0)
    assert len(result.populations["pre"].times) == sum(len(s) for s in stim.pre)
    assert len(result.populations["dopamine"].times) == len(stim.dopamine)


def test_a_slightly_different_rule_is_detected(quick):
    """The comparison can fail: a twin with tau_c 1 % longer is far outside the tolerance."""
    params, result, _, _ = quick
    other = tfs.twin(params.replace(tau_c=params.tau_c * 1.01), seed=0)
    assert tfs.compare(result, other)["weight_max_abs_error"] > 1e-3


def test_baseline_and_weight_bounds_match_the_closed_form():
    """A dopamine baseline b > 0 (drift against c) and bounds that are reached: clipping
    happens at events in both, so they still agree to rounding."""
    params = tfs.Params.tiny().replace(
        duration=2 * second, b=4 * Hz, dopamine_rate=8 * Hz, w0=100.0, Wmin=97.0, Wmax=101.0
    )
    result = tfs.simulate(params, seed=3, progress=False)
    twin = tfs.twin(params, seed=3)
    w = result.weights["w"]
    assert np.any(np.isclose(w, params.Wmin) | np.isclose(w, params.Wmax)), "no bound reached"
    assert tfs.compare(result, twin)["weight_max_abs_error"] <= TOLERANCE


@pytest.mark.standalone
def test_a_rerun_with_other_run_time_fields_equals_their_closed_form():
    """The run-time fields at work: the cpp_standalone program of the tiny preset, run
    again (not compiled again) with another rule and initial weight, equals the closed
    form of those values. Its spikes are the replayed inputs, the same for both runs:
    what the new values change is the weights, by far more than the tolerance."""
    tiny = tfs.Params.tiny()
    other = tiny.replace(tau_c=0.5 * second, A_plus=1.5, tau_minus=30 * ms, w0=90.0)
    assert tiny.same_structure(other)
    with record_device_times() as times:
        runs = list(tfs.simulate_many([(tiny, 2), (other, 2)], progress=False))
    assert times.compilations <= 1  # one program for both (none if it was cached)
    for params, result in zip((tiny, other), runs, strict=True):
        assert result.params == params.to_dict()
        metrics = tfs.compare(result, tfs.twin(params, seed=2))
        assert metrics["weight_max_abs_error"] <= TOLERANCE
        assert metrics["trajectory_max_abs_error"] <= TOLERANCE
    dw = [result.weights["w"] - result.weights["w0"] for result in runs]
    assert np.max(np.abs(dw[1] - dw[0])) > 1e-3


def test_stimulus_is_drawn_from_the_seed():
    params = tfs.Params.tiny()
    a, b, c = (tfs.stimulus(params, s) for s in (0, 0, 1))
    for x, y in zip(a.pre + a.post + [a.dopamine], b.pre + b.post + [b.dopamine], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not all(
        np.array_equal(x, y) for x, y in zip(a.pre + a.post, c.pre + c.post, strict=True)
    )
    # sorted, distinct steps inside the run: one spike per neuron and step at most
    for steps in a.pre + a.post + [a.dopamine]:
        assert np.all(np.diff(steps) > 0) and (steps.size == 0 or steps[-1] < params.n_steps)
    # Poisson counts: 4 neurons x 10 Hz x 1 s = 40 expected pre spikes (sd 6.3)
    assert 15 <= sum(len(s) for s in a.pre) <= 65


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"w0": 250.0}, "w0"),  # above Wmax
        ({"Wmin": 120.0}, "w0"),  # w0 below Wmin
        ({"n_recorded": 60}, "n_recorded"),  # more than n_synapses (50)
        ({"duration": 5.00005 * second}, "duration"),  # not a whole number of steps
        ({"pre_rate": 20 * 1000 * Hz}, "pre_rate"),  # two spikes per step
        ({"tau_c": -1 * second}, "tau_c"),
        ({"tau_n": 200 * mV}, "tau_n"),
        ({"b": 0.5}, "b"),
        ({"n_synapses": 0}, "n_synapses"),
        ({"dt": 2 * ms}, "dt"),
    ],
)
def test_bad_params_name_the_field(changes, field):
    with pytest.raises(ValidationError) as info:
        tfs.Params.quick().replace(**changes)
    assert str(info.value).startswith(f"ThreeFactorSynapse.Params.{field}:")


def test_simulate_refuses_other_params_and_devices():
    with pytest.raises(ValidationError, match="params"):
        tfs.simulate(object(), progress=False)
    with pytest.raises(ValidationError, match="device"):
        tfs.simulate(tfs.Params.tiny(), device="gpu", progress=False)
