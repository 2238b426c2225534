"""The hierarchy's rules: instar, window homeostasis, interneuron whitening, teacher delta.

Each rule's Brian2 code is run in a small network (runtime device) and compared with its
NumPy reference; the whitening rule's fixed point is checked on correlated data.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms

from spikingml import ValidationError
from spikingml.plasticity.competitive import InstarRule, WindowHomeostasis
from spikingml.plasticity.readout import TeacherDeltaRule
from spikingml.plasticity.whitening import InterneuronWhitening
from spikingml.simulation import brian_device


def test_instar_moves_weights_towards_the_input_at_every_post_spike():
    rule = InstarRule(eta=0.1)
    y = np.array([0.2, 0.9, 0.5])
    with brian_device("runtime", 0):
        b2.defaultclock.dt = 1 * ms
        pre = b2.NeuronGroup(3, "y : 1", name="pre")
        pre.y = y
        post = b2.NeuronGroup(1, "", threshold="True", name="post")
        syn = b2.Synapses(pre, post, "w : 1", on_post=rule.on_post(rate="0.5"),
                          namespace=rule.namespace(), name="syn")  # fmt: skip
        syn.connect()
        syn.w = 0.0
        b2.Network(pre, post, syn).run(4 * ms)  # four post spikes
        w = np.asarray(syn.w[:])
    expected = np.zeros(3)
    for _ in range(4):
        expected = rule.reference_update(expected, y, rate=0.5)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    np.testing.assert_allclose(expected, y * (1 - (1 - 0.05) ** 4), rtol=1e-12)


def test_window_homeostasis_matches_its_reference_and_keeps_shares():
    rule = WindowHomeostasis(eta=0.2)
    counts = np.array([10.0, 0.0, 30.0, 0.0])
    with brian_device("runtime", 0):
        b2.defaultclock.dt = 1 * ms
        g = b2.NeuronGroup(4, "b : 1\nc : 1", namespace={**rule.namespace(), "R": 1000.0},
                           name="g")  # fmt: skip
        g.c = counts
        g.run_regularly(rule.update_code("4", "R", "0.04", rate="1"), dt=10 * ms)
        b2.Network(g).run(1 * ms)
        b = np.asarray(g.b[:])
    np.testing.assert_allclose(b, rule.reference_update(np.zeros(4), counts, 1000.0, 0.04))
    # a unit above its share (1/4 of 40 spikes) loses excitability, a silent one gains
    assert b[2] < 0 < b[1] and b[0] == pytest.approx(0.0)


def test_whitening_caps_every_direction_at_s2_and_leaves_weak_ones():
    """Online rule on correlated data: every strong direction ends at s2 (within 0.7-1.1 x
    s2: the online estimate fluctuates by about 10% at this learning rate and the strong
    directions interact), and a direction below s2 keeps its variance."""
    rng = np.random.default_rng(0)
    rule = InterneuronWhitening(eta=0.002, s2=0.01)
    basis = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    scales = np.sqrt([0.5, 0.2, 0.05, 0.03, 0.004, 0.002])  # two below s2
    x = (rng.normal(size=(20000, 6)) * scales) @ basis.T
    a = rng.normal(0, 0.01, (6, 6))
    for row in x:
        _, a = rule.reference_update(a, row)
    v = rule.settled(a, x[:5000])
    eig = np.linalg.eigvalsh(np.cov(v.T))
    assert eig.max() <= 0.011
    assert np.all(eig[-4:] >= 0.007)  # the four directions above s2 were brought to it
    # the weakest direction keeps its variance within 10%
    weak = basis[:, -1]
    assert np.var(v @ weak) == pytest.approx(0.002, rel=0.1)
    r_in = np.corrcoef(x.T)[np.triu_indices(6, 1)]
    r_out = np.corrcoef(v.T)[np.triu_indices(6, 1)]
    assert np.abs(r_out).mean() < 0.5 * np.abs(r_in).mean()


def test_whitening_code_matches_its_reference_in_a_network():
    rule = InterneuronWhitening(eta=0.05, s2=0.02)
    rng = np.random.default_rng(1)
    a0 = rng.normal(0, 0.3, (3, 3))
    x = np.array([0.3, -0.1, 0.2])
    with brian_device("runtime", 0):
        b2.defaultclock.dt = 0.1 * ms
        ns = {**rule.namespace(), "gate": b2.TimedArray([0.0, 1.0], dt=30 * ms)}
        units = b2.NeuronGroup(3, "x : 1\ninh : 1\ndv/dt = (x - inh - v) / (1*ms) : 1",
                               method="euler", name="units")  # fmt: skip
        units.x = x
        inter = b2.NeuronGroup(3, "z : 1", name="inter")
        ei = b2.Synapses(units, inter, "A : 1\nz_post = A * v_pre : 1 (summed)", namespace=ns,
                         name="ei")  # fmt: skip
        ie = b2.Synapses(inter, units, "A : 1\ninh_post = A * z_pre : 1 (summed)", namespace=ns,
                         name="ie")  # fmt: skip
        pairs = np.indices((3, 3)).reshape(2, -1)
        ei.connect(i=pairs[0], j=pairs[1])
        ie.connect(i=pairs[1], j=pairs[0])
        ei.A = ie.A = a0.ravel()
        # one update, at 30 ms (settled: the slowest mode decays in 1 ms), before the step
        for syn, unit in ((ei, "pre"), (ie, "post")):
            syn.run_regularly(rule.update_code(unit=unit, rate="gate(t)"), dt=30 * ms)
        vmon = b2.StateMonitor(units, "v", record=True, when="start", order=-1)
        net = b2.Network(units, inter, ei, ie, vmon)
        net.run(30.1 * ms)
        v = np.asarray(vmon.v[:])[:, -1]
        a_ei = np.asarray(ei.A[:]).reshape(3, 3)
        a_ie = np.asarray(ie.A[:]).reshape(3, 3)
    v_ref, a_ref = rule.reference_update(a0, x)
    np.testing.assert_allclose(v, v_ref, atol=1e-6)
    np.testing.assert_allclose(a_ei, a_ref, atol=1e-5)
    np.testing.assert_allclose(a_ie, a_ei, rtol=1e-12)  # both ends learn alike


def test_teacher_delta_code_matches_its_reference():
    rule = TeacherDeltaRule(eta=0.3)
    elig = np.array([0.5, -1.0])
    q = np.array([0.2, 0.7, 0.1])
    with brian_device("runtime", 0):
        b2.defaultclock.dt = 1 * ms
        pre = b2.NeuronGroup(2, "elig : 1", name="pre")
        post = b2.NeuronGroup(3, "q : 1", name="post")
        pre.elig, post.q = elig, q
        syn = b2.Synapses(pre, post, "w : 1", name="syn", namespace=rule.namespace())
        syn.connect()
        syn.run_regularly(rule.update_code("int(j == 1)"), dt=10 * ms)
        b2.Network(pre, post, syn).run(1 * ms)
        w = np.asarray(syn.w[:]).reshape(2, 3).T
    np.testing.assert_allclose(w, rule.reference_update(np.zeros((3, 2)), elig, q, 1))


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda: InstarRule().on_post("w x"), "InstarRule.on_post(weight)"),
        (lambda: InstarRule().on_post(rate=""), "InstarRule.on_post(rate)"),
        (lambda: WindowHomeostasis().update_code("K", "R", "T", count="c 1"), "(count)"),
        (lambda: InterneuronWhitening().update_code(unit="both"), "(unit)"),
        (lambda: InterneuronWhitening().update_code(v="1v"), "(v)"),
        (lambda: TeacherDeltaRule().update_code(""), "(target)"),
        (lambda: TeacherDeltaRule().update_code("1", output="q-1"), "(output)"),
        (lambda: InterneuronWhitening(s2=0), "InterneuronWhitening.s2"),
        (lambda: InstarRule(eta=2), "InstarRule.eta"),
    ],
)
def test_bad_arguments_are_named(call, where):
    with pytest.raises(ValidationError, match=__import__("re").escape(where)):
        call()
