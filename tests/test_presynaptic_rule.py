"""The presynaptic-eligibility three-factor rule against its closed-form solution."""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms

from spikingml import ValidationError
from spikingml.plasticity.three_factor import PresynapticDopamineRule

TAGS = np.array([10.0, 12.0, 30.0]) * 1e-3  # eligibility tags (s)
DOPA = np.array([15.0, 20.0, 40.0]) * 1e-3  # dopamine spikes (s)
A, TAU_C, TAU_N, B, T_END = 0.5, 15e-3, 10e-3, 20.0, 0.1
DT = 0.005


def closed_form() -> float:
    """integral over [0, T_END] of c(t) (n(t) - b) dt, term by term."""
    total = 0.0
    tau_s = 1 / (1 / TAU_C + 1 / TAU_N)
    for tk in TAGS:
        # c-b part
        total -= B * A * TAU_C * (1 - np.exp(-(T_END - tk) / TAU_C))
        for dm in DOPA:
            t0 = max(tk, dm)
            # A e^{-(t-tk)/tau_c} (1/tau_n) e^{-(t-dm)/tau_n} integrated over [t0, T_END]
            pref = A / TAU_N * np.exp(tk / TAU_C + dm / TAU_N)
            total += pref * tau_s * (np.exp(-t0 / tau_s) - np.exp(-T_END / tau_s))
    return total


@pytest.fixture(autouse=True)
def _numpy_target():
    b2.prefs.codegen.target = "numpy"
    yield
    b2.prefs.reset_to_defaults()


def test_weight_follows_closed_form():
    # Integration of c is exact (exponential Euler); events act at the end of their time
    # step and n is held constant within a step, an O(dt) error: measured 0.23% at
    # dt = 0.01 ms and 0.12% at dt = 0.005 ms (first order), so 0.2% at 0.005 ms.
    rule = PresynapticDopamineRule(A_plus=A, tau_c=TAU_C * b2.second, b=B * Hz, Wmin=-10, Wmax=10)
    ns = {**rule.namespace(), "tau_n": TAU_N * b2.second}
    dt = DT * ms
    volume = b2.NeuronGroup(1, "dn/dt = -n / tau_n : hertz", method="exact", namespace=ns, dt=dt)
    pre = b2.NeuronGroup(
        2, rule.presynaptic_equations(), method="exponential_euler", namespace=ns, dt=dt
    )
    pre.n = b2.linked_var(volume, "n", index=np.zeros(2, dtype=int))
    post = b2.NeuronGroup(1, "", dt=dt)
    syn = b2.Synapses(pre, post, rule.synapse_model(), namespace=ns, dt=dt)
    syn.connect()
    syn.run_regularly(rule.on_update(), dt=5 * ms, when="end")
    tagger = b2.SpikeGeneratorGroup(1, np.zeros(len(TAGS), int), TAGS * b2.second, dt=dt)
    tag = b2.Synapses(tagger, pre, on_pre=rule.on_tag(), namespace=ns, dt=dt)
    tag.connect(i=0, j=0)  # only presynaptic neuron 0 is tagged
    dopa = b2.SpikeGeneratorGroup(1, np.zeros(len(DOPA), int), DOPA * b2.second, dt=dt)
    release = b2.Synapses(dopa, volume, on_pre="n_post += 1 / tau_n", namespace=ns, dt=dt)
    release.connect()
    net = b2.Network(volume, pre, post, syn, tagger, tag, dopa, release)
    net.run(T_END * b2.second)
    w = np.asarray(syn.w[:])
    expected = closed_form()
    assert abs(expected) > 0.01  # the sequence exercises both potentiation and depression
    assert w[0] == pytest.approx(expected, rel=2e-3)
    assert w[1] == 0.0  # an untagged synapse does not change


def test_weights_are_clipped():
    rule = PresynapticDopamineRule(Wmin=0.0, Wmax=1.0)
    assert "clip(w + e_int_pre - e_seen, pe_Wmin, pe_Wmax)" in rule.on_update()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"tau_c": 5}, "tau_c"),
        ({"b": 5 * ms}, "b"),
        ({"Wmin": 2.0, "Wmax": 1.0}, "Wmax"),
        ({"A_plus": float("inf")}, "A_plus"),
    ],
)
def test_validation(kwargs, name):
    with pytest.raises(ValidationError, match=f"PresynapticDopamineRule.{name}"):
        PresynapticDopamineRule(**kwargs)
