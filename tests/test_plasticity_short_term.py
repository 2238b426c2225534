"""The Tsodyks-Markram dynamic synapse on its own (spikingml.plasticity.short_term).

A tiny Brian2 network replays presynaptic spike trains through synapses of the rule;
the fraction each spike releases (``release``, read one step after the spike) is compared
with the closed form of a regular train, its steady state, and the paper's recursion
evaluated in NumPy (:func:`release_sequence`). NumPy code generation: the event code is a
few statements, nothing worth compiling.
"""

from __future__ import annotations

import brian2
import numpy as np
import pytest
from brian2 import ms, second

from spikingml.errors import ValidationError
from spikingml.plasticity.short_term import (
    MAASS_2002,
    TsodyksMarkram,
    release_sequence,
    steady_state,
)

DT = 1 * ms
# Brian2 evaluates the same few exponentials and products per spike as NumPy, possibly in
# another order: rounding only (a few ulp per spike, compounded over at most 200 spikes
# of a contracting recursion). 1e-12 leaves room and catches any wrong term.
RTOL = 1e-12


@pytest.fixture(autouse=True)
def numpy_target():
    """NumPy code generation, dt = 1 ms; Brian2's global state restored afterwards."""
    old, old_dt = brian2.prefs.codegen.target, brian2.defaultclock.dt
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = DT
    yield
    brian2.prefs.codegen.target = old
    brian2.defaultclock.dt = old_dt


def _released(trains_steps: list[np.ndarray], rules: list[TsodyksMarkram]) -> list[np.ndarray]:
    """Replay train ``k`` through a synapse of ``rules[k]``; the release of every spike.

    Each synapse also transmits ``w * release`` to its own postsynaptic neuron, whose
    running sum is checked against the sum of the releases.
    """
    n = len(trains_steps)
    indices = np.repeat(np.arange(n), [len(s) for s in trains_steps])
    steps = np.concatenate(trains_steps)
    pre = brian2.SpikeGeneratorGroup(n, indices, steps * DT)
    post = brian2.NeuronGroup(n, "total : 1")
    syn = brian2.Synapses(
        pre,
        post,
        TsodyksMarkram.synapse_model() + "w : 1 (constant)",
        on_pre=TsodyksMarkram.on_pre("total_post += w * release"),
    )
    syn.connect(j="i")
    syn.w = 2.0
    for key in ("u", "x", "release", "U", "tau_d", "tau_f"):
        values = [rule.initial_values()[key] for rule in rules]
        setattr(syn, key, brian2.Quantity(values) if key.startswith("tau") else values)
    mon = brian2.StateMonitor(syn, "release", record=True)
    last = int(steps.max()) + 2
    brian2.Network(pre, post, syn, mon).run(last * DT)
    out = [np.asarray(mon.release[k])[s + 1] for k, s in enumerate(trains_steps)]
    totals = np.asarray(post.total[:])
    np.testing.assert_allclose(totals, [2.0 * o.sum() for o in out], rtol=RTOL)
    return out


def test_regular_train_follows_the_closed_form():
    # u_n = u* + (U - u*) ((1 - U) a)^(n-1), a = exp(-T/F); R from the recursion, which
    # for a regular train has constant coefficients; the first spike releases U.
    rule = TsodyksMarkram(U=0.2, D=300 * ms, F=400 * ms)  # facilitating, then depressing
    T, n = 0.025, 60
    (released,) = _released([np.arange(n) * 25], [rule])
    U, D, F = 0.2, 0.3, 0.4
    a, d = np.exp(-T / F), np.exp(-T / D)
    u_star, R_star = steady_state(U, D, F, T)
    u = u_star + (U - u_star) * ((1 - U) * a) ** np.arange(n)
    R = np.empty(n)
    R[0] = 1.0
    for k in range(1, n):
        R[k] = 1 + (R[k - 1] * (1 - u[k - 1]) - 1) * d
    np.testing.assert_allclose(released, u * R, rtol=RTOL)
    assert released[0] == pytest.approx(U, rel=RTOL)
    # facilitation first (the second spike releases more), depression later
    assert released[1] > released[0] > released[-1]


@pytest.mark.parametrize("kind", sorted(MAASS_2002))
def test_regular_train_reaches_the_steady_state(kind):
    # 200 spikes at 50 Hz: the transients shrink per spike by (1 - U) exp(-T/F) (at most
    # 0.934, E -> I) and about (1 - u*) exp(-T/D) (below 0.5 for every type), so after
    # 200 spikes they are below 1e-5 of the release; 1e-4 relative says "converged".
    U, D, F = MAASS_2002[kind]
    rule = TsodyksMarkram(U=U, D=D * second, F=F * second)
    T = 0.02
    (released,) = _released([np.arange(200) * 20], [rule])
    u_star, R_star = steady_state(U, D, F, T)
    assert released[-1] == pytest.approx(u_star * R_star, rel=1e-4)
    assert rule.steady_release(1 / T) == pytest.approx(u_star * R_star, rel=1e-15)
    # at the fixed point the recursion maps (u*, R*) to itself
    assert U + u_star * (1 - U) * np.exp(-T / F) == pytest.approx(u_star, rel=1e-12)
    assert 1 + (R_star * (1 - u_star) - 1) * np.exp(-T / D) == pytest.approx(R_star, rel=1e-12)


def test_irregular_trains_with_per_synapse_parameters_match_the_recursion():
    rng = np.random.default_rng(3)
    rules = [TsodyksMarkram(U=U, D=D * second, F=F * second) for U, D, F in MAASS_2002.values()]
    trains = [np.cumsum(rng.integers(2, 80, size=40)) for _ in rules]  # 2-80 ms apart
    for train, rule, released in zip(trains, rules, _released(trains, rules), strict=True):
        np.testing.assert_allclose(released, rule.releases(train * float(DT)), rtol=RTOL)


def test_the_check_can_fail():
    # the same train through a synapse with F 1% off differs beyond the tolerance
    rule = TsodyksMarkram(U=0.05, D=125 * ms, F=1200 * ms)
    train = np.arange(30) * 30
    (released,) = _released([train], [rule])
    wrong = release_sequence(train * float(DT), 0.05, 0.125, 1.2 * 1.01)
    assert np.max(np.abs(released / wrong - 1)) > 100 * RTOL


def test_release_sequence_from_rest_and_after_long_silence():
    # spikes far apart (100 time constants) all release U
    out = release_sequence([0.0, 100.0, 200.0], 0.3, 0.5, 0.5)
    np.testing.assert_allclose(out, 0.3, rtol=1e-12)


def test_initial_values_arrays():
    values = TsodyksMarkram(U=0.25).initial_values(3)
    np.testing.assert_array_equal(values["U"], [0.25] * 3)
    assert values["tau_d"].shape == (3,) and float(values["tau_d"][0]) == pytest.approx(1.1)
    with pytest.raises(ValidationError, match="initial_values"):
        TsodyksMarkram().initial_values(-1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("U", 0.0), ("U", 1.5), ("D", 0 * ms), ("F", -5 * ms), ("D", 5.0), ("U", 2 * ms)],
)
def test_bad_parameters_name_the_field(field, value):
    with pytest.raises(ValidationError, match=rf"^TsodyksMarkram\.{field}"):
        TsodyksMarkram(**{field: value})


def test_bad_inputs_of_the_references():
    with pytest.raises(ValidationError, match="spike_times"):
        release_sequence([0.2, 0.1], 0.5, 1.0, 0.1)
    with pytest.raises(ValidationError, match="interval"):
        steady_state(0.5, 1.0, 0.1, 0.0)


def test_steady_state_of_many_synapses_at_once():
    U, D, F = (np.array(v) for v in zip(*MAASS_2002.values(), strict=True))
    u, R = steady_state(U, D, F, 0.05)
    for k, (Uk, Dk, Fk) in enumerate(MAASS_2002.values()):
        assert (u[k], R[k]) == pytest.approx(steady_state(Uk, Dk, Fk, 0.05), rel=1e-15)
