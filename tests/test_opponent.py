"""The Go/No-Go opponent rule in Brian2: each update adds +-eta * integral trace (n - b).

A presynaptic neuron fires regularly while the dopamine concentration ``n`` is held above,
then below, its baseline; the Go synapse grows and then shrinks, the No-Go synapse the
other way round, each clipped at 0, exactly as the NumPy reference applied update by
update to the recorded integral.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms

from spikingml.plasticity.opponent import GO, NOGO, OpponentDopamineRule


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
    """200 ms per offset of ``n`` from the baseline; ``e_seen`` and ``w`` after each update."""
    b2.start_scope()
    b2.defaultclock.dt = 1 * ms
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
    syn.run_regularly(rule.on_update(), dt=10 * ms, when="end", order=0)
    mon = b2.StateMonitor(syn, ["e_seen", "w"], record=True, dt=10 * ms, when="end", order=1)
    net = b2.Network(pre, post, syn, mon)
    for offset in n_offsets:
        ns["offset"] = offset * Hz
        net.run(200 * ms)
    return np.asarray(mon.e_seen[0]), np.asarray(mon.w[:]).T


def test_go_and_nogo_move_oppositely_and_stay_non_negative(numpy_target):
    rule = OpponentDopamineRule(eta=0.1, w_max=5.0)
    e_seen, w = _run(rule, [10.0, -20.0])
    # the reference, update by update
    expected = np.zeros_like(w)
    current = np.zeros(2)
    for k, step in enumerate(np.diff(np.concatenate([[0.0], e_seen]))):
        current = rule.reference_update(current, [GO, NOGO], step)
        expected[k] = current
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-15)
    half = len(w) // 2
    assert w[half - 1, 0] > 0.2 and w[half - 1, 1] == 0  # positive error: Go up, No-Go at 0
    assert w[-1, 0] == 0 and w[-1, 1] > 0.5  # negative error: Go down to 0, No-Go up


def test_baseline_dopamine_changes_nothing(numpy_target):
    e_seen, w = _run(OpponentDopamineRule(eta=0.1), [0.0])
    np.testing.assert_array_equal(e_seen, 0.0)
    np.testing.assert_array_equal(w, 0.0)
