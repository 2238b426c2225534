"""The Go/No-Go opponent rule in Brian2: each update adds +-eta * integral trace (n - b).

A presynaptic neuron fires regularly while the dopamine concentration ``n`` is held above,
then below, its baseline; the Go synapse grows and then shrinks, the No-Go synapse the
other way round, each clipped at 0. The references are computed from the presynaptic
spike times and the held offsets of ``n`` alone, never from the traces the network
records: the rule's integral in closed form, and the same integral by the forward Euler
steps the network takes.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, second

from spikingml.plasticity.opponent import GO, NOGO, OpponentDopamineRule

#: Time step of the test network (s), and its update and recording interval.
DT = 1e-3
UPDATE = 10 * ms
#: Duration (s) each offset of ``n`` from the baseline is held.
HOLD = 0.2


@pytest.fixture
def numpy_target():
    """Brian2's NumPy target (nothing to compile), restored afterwards."""
    old, old_dt = b2.prefs.codegen.target, b2.defaultclock.dt
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 0.1 * b2.ms  # circuits run earlier may have changed it
    yield
    b2.prefs.codegen.target = old
    b2.defaultclock.dt = old_dt


def _run(rule: OpponentDopamineRule, n_offsets: list[float]):
    """``HOLD`` per offset of ``n`` from the baseline (Hz), forward Euler steps of ``DT``.

    Returns the presynaptic spike times (s), the times of the updates (s), and
    ``e_seen`` and ``w`` (update x synapse, Go then No-Go) after each update.
    """
    b2.start_scope()
    b2.defaultclock.dt = DT * second
    ns = {**rule.namespace(), "offset": 0 * Hz, "rate": 40 * Hz}
    pre = b2.NeuronGroup(
        1,
        "dphi/dt = rate : 1\nn = op_b + offset : hertz\n" + rule.presynaptic_equations(),
        threshold="phi > 1",
        reset="phi -= 1\n" + rule.on_spike(),
        method="euler",
        namespace=ns,
    )
    pre.phi = 0.5
    post = b2.NeuronGroup(2, "")
    syn = b2.Synapses(pre, post, rule.synapse_model(), namespace=ns)
    syn.connect(i=[0, 0], j=[0, 1])
    syn.pathway = [GO, NOGO]
    syn.run_regularly(rule.on_update(), dt=UPDATE, when="end", order=0)
    mon = b2.StateMonitor(syn, ["e_seen", "w"], record=True, dt=UPDATE, when="end", order=1)
    spikes = b2.SpikeMonitor(pre)
    net = b2.Network(pre, post, syn, mon, spikes)
    for offset in n_offsets:
        ns["offset"] = offset * Hz
        net.run(HOLD * second)
    return (
        np.asarray(spikes.t / second),
        np.asarray(mon.t / second),
        np.asarray(mon.e_seen[:]).T,
        np.asarray(mon.w[:]).T,
    )


# Timing, as Brian2 schedules a step at t: the state advances from t to t + DT, then a
# spike (recorded at t) raises the trace, then the update runs. So the trace jumps at
# s + DT for a spike recorded at s, and the update at t sees the integral up to t + DT.


def _closed_form(at: float, spikes: np.ndarray, offsets, tau: float) -> float:
    """Integral from 0 to ``at`` of trace * (n - b), trace = sum_s exp(-(t - s - DT) / tau)
    over the spikes, (n - b) = offsets[k] during [k * HOLD, (k + 1) * HOLD)."""
    jumps = spikes + DT
    total = 0.0
    for k, c in enumerate(offsets):
        lo, hi = k * HOLD, min((k + 1) * HOLD, at)
        a = jumps[jumps < hi]
        if hi <= lo or a.size == 0:
            continue
        start = np.maximum(lo, a)
        total += c * tau * np.sum(np.exp(-(start - a) / tau) - np.exp(-(hi - a) / tau))
    return total


def _euler(at: np.ndarray, spikes: np.ndarray, offsets, tau: float) -> np.ndarray:
    """The same integral by forward Euler steps of DT (the network's method), at ``at``."""
    n_steps = len(offsets) * round(HOLD / DT)
    jump = np.zeros(n_steps)
    np.add.at(jump, np.rint(spikes / DT).astype(int), 1.0)
    c = np.repeat(np.asarray(offsets, float), round(HOLD / DT))
    trace = e_int = 0.0
    after_step = np.zeros(n_steps)
    for k in range(n_steps):
        e_int, trace = e_int + DT * trace * c[k], trace - DT * trace / tau + jump[k]
        after_step[k] = e_int
    return after_step[np.rint(np.asarray(at) / DT).astype(int)]


def _weights(rule: OpponentDopamineRule, integral: np.ndarray) -> np.ndarray:
    """Go and No-Go weights after each update: ``reference_update`` with each increment."""
    out = np.zeros((len(integral), 2))
    w = np.zeros(2)
    for k, step in enumerate(np.diff(np.concatenate([[0.0], integral]))):
        w = rule.reference_update(w, [GO, NOGO], step)
        out[k] = w
    return out


def test_go_and_nogo_move_oppositely_and_stay_non_negative(numpy_target):
    rule = OpponentDopamineRule(eta=0.1, w_max=5.0)
    offsets = [10.0, -20.0]
    spikes, t, _, w = _run(rule, offsets)
    tau = float(rule.tau_trace / second)
    assert len(spikes) == 16 and len(t) == 40  # 40 Hz for 0.4 s; an update every 10 ms
    # The Euler steps from the spike times alone: the same arithmetic, to rounding.
    np.testing.assert_allclose(
        w, _weights(rule, _euler(t, spikes, offsets, tau)), rtol=1e-12, atol=1e-15
    )
    # The rule's continuous integral: Euler's partial sum of one spike's trace is
    # tau * (1 - (1 - DT/tau)^K) instead of tau * (1 - exp(-K DT/tau)), off by at most
    # DT / (2e); summed over the spikes still decaying, at most about DT. So the weights
    # agree to eta * max|n - b| * DT = 2e-3 (measured 9.4e-4), a hundredth of the smallest
    # weight asserted below (0.2).
    exact = _weights(rule, np.array([_closed_form(tk + DT, spikes, offsets, tau) for tk in t]))
    np.testing.assert_allclose(w, exact, rtol=0, atol=rule.eta * 20.0 * DT)
    half = len(w) // 2
    assert w[half - 1, 0] > 0.2 and w[half - 1, 1] == 0  # positive error: Go up, No-Go at 0
    assert w[-1, 0] == 0 and w[-1, 1] > 0.5  # negative error: Go down to 0, No-Go up


def test_baseline_dopamine_changes_nothing(numpy_target):
    spikes, _, e_seen, w = _run(OpponentDopamineRule(eta=0.1), [0.0])
    assert len(spikes) == 8  # the presynaptic neuron fired, yet nothing was learned
    np.testing.assert_array_equal(e_seen, 0.0)
    np.testing.assert_array_equal(w, 0.0)
