"""Tests of dopamine-modulated STDP (spikingml.plasticity.three_factor).

The Brian2 implementation is checked against (1) weights integrated by hand from
``dw/dt = c(t) * (n(t) - b)`` for single pairings, (2) the event-by-event NumPy reference
on random spike trains, sample by sample at the events.
"""

from __future__ import annotations

import math

import brian2
import numpy as np
import pytest
from brian2 import Hz, ms, second

from spikingml.errors import ValidationError
from spikingml.plasticity.three_factor import DopamineSTDP, reference_weight_trajectory

DT = 0.1 * ms
RTOL = 1e-9


@pytest.fixture(autouse=True)
def numpy_target():
    """NumPy code generation: no compilation, and the same arithmetic as Cython."""
    old, old_dt = brian2.prefs.codegen.target, brian2.defaultclock.dt
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = 0.1 * brian2.ms  # circuits run earlier may have changed it
    yield
    brian2.prefs.codegen.target = old
    brian2.defaultclock.dt = old_dt


def _generators(pairs, dopa_times_ms, dopa_indices=None):
    """Pre, post and dopamine SpikeGeneratorGroups; ``pairs`` lists (pre_ms, post_ms)."""
    n = len(pairs)
    pre_i = [k for k, (p, _) in enumerate(pairs) for _ in p]
    pre_t = [t for p, _ in pairs for t in p]
    post_i = [k for k, (_, q) in enumerate(pairs) for _ in q]
    post_t = [t for _, q in pairs for t in q]
    if dopa_indices is None:
        dopa_indices = [0] * len(dopa_times_ms)
    pre = brian2.SpikeGeneratorGroup(n, pre_i, np.asarray(pre_t) * ms, dt=DT)
    post = brian2.SpikeGeneratorGroup(n, post_i, np.asarray(post_t) * ms, dt=DT)
    dopa = brian2.SpikeGeneratorGroup(
        max(dopa_indices) + 1, dopa_indices, np.asarray(dopa_times_ms) * ms, dt=DT
    )
    return pre, post, dopa


def _plastic(rule, pre, post, w0, name):
    syn = brian2.Synapses(
        pre,
        post,
        model=rule.synapse_model(),
        on_pre=rule.on_pre(),
        on_post=rule.on_post(),
        namespace=rule.namespace(),
        dt=DT,
        name=name,
    )
    syn.connect(j="i")
    syn.w = w0
    return syn


def _by_hand(rule, c_p, t_p, dopa, t_end, w0):
    """w(t_end) for one pairing leaving c = c_p at t_p, dopamine spikes at ``dopa``.

    c(t) = c_p exp(-(t - t_p)/tau_c) for t > t_p and n(t) = sum_k exp(-(t - d_k)/tau_n)/tau_n
    for t > d_k, so with 1/tau_s = 1/tau_c + 1/tau_n

        w(T) = w0 + sum_k c_p/tau_n exp(t_p/tau_c + d_k/tau_n) tau_s (exp(-s_k/tau_s)
                                                                    - exp(-T/tau_s))
                  - b c_p tau_c (1 - exp(-(T - t_p)/tau_c)),   s_k = max(t_p, d_k).
    All times in seconds, b in 1/s. No clipping.
    """
    tau_c, tau_n = float(rule.tau_c / second), float(rule.tau_n / second)
    b = float(rule.b / Hz)
    tau_s = tau_c * tau_n / (tau_c + tau_n)
    w = w0 - b * c_p * tau_c * (1 - math.exp(-(t_end - t_p) / tau_c))
    for d in dopa:
        s = max(t_p, d)
        if s < t_end:
            w += (
                c_p
                / tau_n
                * math.exp(t_p / tau_c + d / tau_n)
                * tau_s
                * (math.exp(-s / tau_s) - math.exp(-t_end / tau_s))
            )
    return w


def test_single_pairings_match_hand_integration():
    # (pre ms, post ms): causal pairing, anti-causal pairing, simultaneous spikes (no
    # pairing, NEST's convention) and a causal pairing before the first dopamine spike.
    pairs = [([100], [110]), ([115], [100]), ([100], [100]), ([20], [30])]
    dopa_ms = [50, 300]
    w0 = 100.0
    rules = {"b0": DopamineSTDP(), "b_pos": DopamineSTDP(b=1.5 * Hz, tau_c=400 * ms)}
    pre, post, dopa = _generators(pairs, dopa_ms)
    net = brian2.Network(pre, post, dopa)
    synapses = {}
    for name, rule in rules.items():
        syn = _plastic(rule, pre, post, w0, f"plastic_{name}")
        net.add(syn, rule.build_dopamine_pathway(dopa, syn, name=f"volume_{name}"))
        synapses[name] = syn
    net.run(400 * ms)

    for name, rule in rules.items():
        syn = synapses[name]
        tp, tm = float(rule.tau_plus / second), float(rule.tau_minus / second)
        cases = [
            (rule.A_plus * math.exp(-0.010 / tp), 0.110),
            (-rule.A_minus * math.exp(-0.015 / tm), 0.115),
            (0.0, 0.100),
            (rule.A_plus * math.exp(-0.010 / tp), 0.030),
        ]
        # Every synapse's last event is the dopamine spike at 300 ms.
        np.testing.assert_allclose(syn.t_last[:] / ms, 300.0, rtol=0, atol=1e-9)
        expected = [_by_hand(rule, c_p, t_p, [0.05, 0.3], 0.3, w0) for c_p, t_p in cases]
        np.testing.assert_allclose(syn.w[:], expected, rtol=RTOL)
        assert syn.w[2] == w0
        # Changes are far above the tolerance, so the comparison means something.
        assert np.min(np.abs(np.asarray(expected)[[0, 1, 3]] - w0)) > 1e-3
        # Advancing the stored state to the end of the run gives w(400 ms).
        w_end, _, _ = rule.advance(syn.w[:], syn.c[:], syn.n[:] / Hz, 0.1)
        expected_end = [_by_hand(rule, c_p, t_p, [0.05, 0.3], 0.4, w0) for c_p, t_p in cases]
        np.testing.assert_allclose(w_end, expected_end, rtol=RTOL)
    # With b > 0 the weight drifts against c even without dopamine.
    assert synapses["b_pos"].w[0] < synapses["b0"].w[0]


def test_weight_saturates_at_bounds():
    rule = DopamineSTDP(Wmin=99.5, Wmax=101.0)
    pairs = [([10], [15]), ([15], [10])]  # potentiating, depressing
    dopa_ms = list(range(30, 200, 10))
    pre, post, dopa = _generators(pairs, dopa_ms)
    syn = _plastic(rule, pre, post, 100.0, "plastic")
    net = brian2.Network(pre, post, dopa, syn, rule.build_dopamine_pathway(dopa, syn))
    net.run(200 * ms)
    unclipped = DopamineSTDP()  # same dynamics, bounds far away
    tp = float(rule.tau_plus / second)
    dopa_s = np.asarray(dopa_ms) / 1000
    up = _by_hand(unclipped, rule.A_plus * math.exp(-0.005 / tp), 0.015, dopa_s, 0.19, 100.0)
    down = _by_hand(unclipped, -rule.A_minus * math.exp(-0.005 / tp), 0.015, dopa_s, 0.19, 100)
    assert up > rule.Wmax and down < rule.Wmin  # the bounds are really hit
    # c does not change sign and b = 0, so w is monotonic and stays at the bound.
    assert syn.w[0] == rule.Wmax
    assert syn.w[1] == rule.Wmin


def _random_train(rng, rate_hz, n_steps, min_step=1):
    count = rng.poisson(rate_hz * n_steps * float(DT / second))
    return np.sort(rng.choice(np.arange(min_step, n_steps), size=count, replace=False))


def test_random_sequences_match_reference_at_every_event():
    rng = np.random.default_rng(20240607)
    n_syn, n_steps = 5, 15000  # 1.5 s
    t_end = n_steps * DT
    rule = DopamineSTDP(b=2.0 * Hz, tau_c=300 * ms, tau_n=100 * ms, A_plus=2.0)
    pre_steps = [_random_train(rng, 15, n_steps) for _ in range(n_syn)]
    post_steps = [_random_train(rng, 15, n_steps) for _ in range(n_syn)]
    # Force coincidences: a pre-post pair in the same step on synapse 0, two dopamine
    # neurons in the same step, dopamine together with a pre and a post spike.
    pre_steps[0] = np.union1d(pre_steps[0], [2000])
    post_steps[0] = np.union1d(post_steps[0], [2000])
    dopa0 = np.union1d(_random_train(rng, 8, n_steps), [3000, int(pre_steps[1][0])])
    dopa1 = np.union1d(_random_train(rng, 8, n_steps), [3000, int(post_steps[2][0])])
    dopa_steps = np.concatenate([dopa0, dopa1])
    dopa_indices = [0] * len(dopa0) + [1] * len(dopa1)
    w0 = rng.uniform(90, 110, n_syn)

    pairs = [(list(p * 0.1), list(q * 0.1)) for p, q in zip(pre_steps, post_steps, strict=True)]
    pre, post, dopa = _generators(pairs, list(dopa_steps * 0.1), dopa_indices)
    syn = _plastic(rule, pre, post, w0, "plastic")
    # A twin that is also advanced every 7.3 ms: the exact solution must not change
    # (no bound is reached here).
    ticked = _plastic(rule, pre, post, w0, "plastic_ticked")
    ticked.run_regularly(rule.on_update(), dt=7.3 * ms)
    mon = brian2.StateMonitor(syn, ["w", "c"], record=True, dt=DT)
    net = brian2.Network(
        pre,
        post,
        dopa,
        syn,
        ticked,
        mon,
        rule.build_dopamine_pathway(dopa, syn),
        rule.build_dopamine_pathway(dopa, ticked, name="volume_ticked"),
    )
    net.run(t_end)

    for k in range(n_syn):
        ref = reference_weight_trajectory(
            pre_steps[k] * DT, post_steps[k] * DT, dopa_steps * DT, rule, t_end, w0=w0[k]
        )
        steps = np.rint(np.asarray(ref.t[:-1] / DT)).astype(int)
        # The monitor records at the start of a step: step s + 1 shows the state
        # just after the events of step s.
        inside = steps + 1 < n_steps
        np.testing.assert_allclose(mon.w[k, steps[inside] + 1], ref.w[:-1][inside], rtol=RTOL)
        np.testing.assert_allclose(
            mon.c[k, steps[inside] + 1], ref.c[:-1][inside], rtol=RTOL, atol=1e-12
        )
        # Final state, advanced from each synapse's last update to t_end.
        for group in (syn, ticked):
            delta = float((t_end - group.t_last[k]) / second)
            w_end, c_end, n_end = rule.advance(group.w[k], group.c[k], group.n[k] / Hz, delta)
            np.testing.assert_allclose(w_end, ref.w[-1], rtol=RTOL)
            np.testing.assert_allclose(c_end, ref.c[-1], rtol=RTOL, atol=1e-12)
            np.testing.assert_allclose(n_end, ref.n[-1] / Hz, rtol=RTOL)
        assert abs(ref.w[-1] - w0[k]) > 0.1  # learning did happen
    # Two dopamine neurons firing together count twice.
    ref0 = reference_weight_trajectory([] * ms, [] * ms, [300, 300] * ms, rule, 301 * ms)
    assert float(ref0.n[0] * rule.tau_n) == pytest.approx(2.0)


def test_default_parameters_are_nest_defaults():
    rule = DopamineSTDP()
    assert (rule.A_plus, rule.A_minus, rule.Wmin, rule.Wmax) == (1.0, 1.5, 0.0, 200.0)
    assert rule.tau_plus == 20 * ms and rule.tau_minus == 20 * ms
    assert rule.tau_c == 1000 * ms and rule.tau_n == 200 * ms and rule.b == 0 * Hz
    assert float(rule.tau_s / ms) == pytest.approx(1000 * 200 / 1200)
    assert set(rule.namespace()) >= {"da_A_plus", "da_tau_c", "da_b", "da_Wmax"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tau_c": -5 * ms}, "DopamineSTDP.tau_c"),
        ({"tau_plus": 20.0}, "DopamineSTDP.tau_plus"),
        ({"tau_n": 0 * ms}, "DopamineSTDP.tau_n"),
        ({"tau_minus": 20 * brian2.mV}, "DopamineSTDP.tau_minus"),
        ({"b": 0.1}, "DopamineSTDP.b"),
        ({"b": 1 * ms}, "DopamineSTDP.b"),
        ({"b": -1 * Hz}, "DopamineSTDP.b"),
        ({"A_plus": float("nan")}, "DopamineSTDP.A_plus"),
        ({"A_minus": "1.5"}, "DopamineSTDP.A_minus"),
        ({"Wmin": 10.0, "Wmax": 5.0}, "DopamineSTDP.Wmax"),
        ({"Wmax": float("inf")}, "DopamineSTDP.Wmax"),
    ],
)
def test_invalid_parameters_name_the_field(changes, field):
    with pytest.raises(ValidationError) as info:
        DopamineSTDP(**changes)
    assert info.value.name == field
    assert str(info.value).startswith(f"{field}: expected ")


def test_reference_rejects_bad_times():
    rule = DopamineSTDP()
    with pytest.raises(ValidationError, match="pre_times"):
        reference_weight_trajectory([0.01], [] * ms, [] * ms, rule, 1 * second)
    with pytest.raises(ValidationError, match="post_times"):
        reference_weight_trajectory([] * ms, [2] * second, [] * ms, rule, 1 * second)
    with pytest.raises(ValidationError, match="t_end"):
        reference_weight_trajectory([] * ms, [] * ms, [] * ms, rule, 1.0)


def test_dopamine_pathway_needs_rule_synapses():
    rule = DopamineSTDP()
    group = brian2.NeuronGroup(1, "v : 1")
    other = brian2.Synapses(group, group, "w : 1")
    other.connect()
    with pytest.raises(ValidationError, match="plastic_synapses"):
        rule.build_dopamine_pathway(group, other)


def test_dopamine_pathway_on_a_coarser_clock_matches_the_reference():
    """Source and pathway on a 1 ms clock (dopamine on that grid, delay a multiple of it):
    the weights equal the closed-form reference, as on the network's 0.1 ms clock."""
    rule = DopamineSTDP(b=0.5 * Hz)
    pairs = [([100.3], [110.7]), ([115.2], [100.1])]
    dopa_ms, delay = [50.0, 300.0, 301.0], 3 * ms
    pre, post, _ = _generators(pairs, [0.0])
    syn = _plastic(rule, pre, post, 100.0, "plastic")
    dopa = brian2.SpikeGeneratorGroup(1, [0] * 3, np.asarray(dopa_ms) * ms, dt=1 * ms)
    volume = rule.build_dopamine_pathway(dopa, syn, delay=delay, dt=1 * ms)
    assert volume.clock.dt == 1 * ms
    net = brian2.Network(pre, post, dopa, syn, volume)
    net.run(400 * ms)
    arrivals = (np.asarray(dopa_ms) * ms + delay) / second
    for k, (p, q) in enumerate(pairs):
        ref = reference_weight_trajectory(
            p * ms, q * ms, arrivals * second, rule, 400 * ms, w0=100
        )
        assert abs(ref.w[-2] - 100.0) > 1e-3  # the dopamine changed the weight
        assert syn.w[k] == pytest.approx(ref.w[-2], rel=RTOL)


@pytest.mark.parametrize("dt", [0 * ms, -1 * ms, 1.0, np.array([1, 2]) * ms])
def test_dopamine_pathway_rejects_a_bad_dt(dt):
    rule = DopamineSTDP()
    pre, post, dopa = _generators([([1.0], [2.0])], [5.0])
    syn = _plastic(rule, pre, post, 100.0, "plastic")
    with pytest.raises(ValidationError, match="^dt"):
        rule.build_dopamine_pathway(dopa, syn, dt=dt)


def test_dopamine_pathway_on_a_coarse_clock_needs_a_delay_on_it():
    rule = DopamineSTDP()
    pre, post, dopa = _generators([([1.0], [2.0])], [5.0])
    syn = _plastic(rule, pre, post, 100.0, "plastic")
    with pytest.raises(ValidationError, match="^delay.*multiple of dt"):
        rule.build_dopamine_pathway(dopa, syn, delay=1.5 * ms, dt=1 * ms)


@pytest.mark.standalone
def test_builds_and_matches_under_cpp_standalone(tmp_path):
    from spikingml.simulation import brian_device

    rule = DopamineSTDP(b=0.5 * Hz)
    pairs = [([100], [110]), ([115], [100])]
    with brian_device("cpp_standalone", seed=1, directory=str(tmp_path)):
        pre, post, dopa = _generators(pairs, [50, 300], [0, 0])
        syn = _plastic(rule, pre, post, 100.0, "plastic")
        net = brian2.Network(pre, post, dopa, syn, rule.build_dopamine_pathway(dopa, syn))
        net.run(400 * ms)
        w = np.array(syn.w[:])
    for k, (p, q) in enumerate(pairs):
        ref = reference_weight_trajectory(p * ms, q * ms, [50, 300] * ms, rule, 400 * ms, w0=100)
        assert w[k] == pytest.approx(ref.w[-2], rel=RTOL)


def test_update_interval_matches_run_regularly_and_matters_at_a_bound():
    # One causal pairing, then dopamine above the baseline b: w rises past Wmax, then
    # decays once n < b (after ~230 ms). Clipped at the events only, w is not clipped
    # at its peak; clipped every 1 ms too (NEST's volume transmitter, Brian2's
    # run_regularly), it falls from Wmax. The last pre spike at 400 ms shows the state.
    rule = DopamineSTDP(b=5 * Hz, Wmax=100.5)
    pairs = [([10, 400], [15])]
    dopa_ms = [20, 25, 30]
    pre, post, dopa = _generators(pairs, dopa_ms)
    plain = _plastic(rule, pre, post, 100.0, "plastic_plain")
    ticked = _plastic(rule, pre, post, 100.0, "plastic_ticked")
    ticked.run_regularly(rule.on_update(), dt=1 * ms)
    net = brian2.Network(
        pre,
        post,
        dopa,
        plain,
        ticked,
        rule.build_dopamine_pathway(dopa, plain, name="volume_plain"),
        rule.build_dopamine_pathway(dopa, ticked, name="volume_ticked"),
    )
    net.run(401 * ms)
    args = ([10, 400] * ms, [15] * ms, dopa_ms * ms, rule, 401 * ms)
    ref_plain = reference_weight_trajectory(*args, w0=100.0)
    ref_ticked = reference_weight_trajectory(*args, w0=100.0, update_interval=1 * ms)
    # Rows: 10, 15, 20, 25, 30, 400 ms and t_end; both last updated at the 400 ms spike.
    assert np.allclose(ref_plain.t[:-1] / ms, [10, 15, 20, 25, 30, 400])
    np.testing.assert_allclose(plain.w[0], ref_plain.w[-2], rtol=RTOL)
    np.testing.assert_allclose(ticked.w[0], ref_ticked.w[-2], rtol=RTOL)
    # The same closed form: c, n and the traces do not depend on when w is clipped.
    np.testing.assert_allclose(ref_ticked.c, ref_plain.c, rtol=RTOL)
    # Both fall below Wmax after the peak, the ticked one from Wmax: the difference is
    # the overshoot above Wmax, far above rounding (so the option does something).
    assert ref_ticked.w[-2] < rule.Wmax and ref_plain.w[-2] < rule.Wmax
    assert ref_plain.w[-2] - ref_ticked.w[-2] > 0.05
    # Without a bound in reach, extra updates change nothing (exact between events).
    loose = DopamineSTDP(b=5 * Hz)
    a = reference_weight_trajectory(*args[:3], loose, args[4], w0=100.0)
    b = reference_weight_trajectory(*args[:3], loose, args[4], w0=100.0, update_interval=0.7 * ms)
    np.testing.assert_allclose(a.w, b.w, rtol=1e-12)


def test_update_interval_is_validated():
    with pytest.raises(ValidationError, match="update_interval"):
        reference_weight_trajectory(
            [1] * ms, [] * ms, [] * ms, DopamineSTDP(), 1 * second, update_interval=0 * ms
        )
