"""ReleaseDeltaRule: release with probability p per spike, scaled transmission at test,
the delta rule on the released spikes, deletion by rank.

A one-input network replays 1000 examples (one spike each); the potentials recorded at
the decisions are the transmitted drive. Statistical bounds are 5 standard errors of
1000 Bernoulli draws; exact ones are float rounding.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms

from spikingml import ValidationError
from spikingml.plasticity.release_delta import ReleaseDeltaRule
from spikingml.simulation import brian_device

N = 1000


def _run(p, learning, deleted=0.0, rank=0.5, eta=1e-9, w0=1.0, label=0.0):
    rule = ReleaseDeltaRule(learning_rate=eta)
    with brian_device("runtime", seed=4):
        b2.defaultclock.dt = 1 * ms
        window = 2 * ms
        ns = {
            "rd_learning": b2.TimedArray(np.full(N, float(learning)), dt=window),
            "rd_deleted": b2.TimedArray(np.full(N, float(deleted)), dt=window),
            "rd_label": b2.TimedArray(np.full(N, label), dt=window),
        }
        src = b2.SpikeGeneratorGroup(1, np.zeros(N, int), np.arange(N) * window)
        decide = "(t_in_timesteps % 2) == 1"
        out = b2.NeuronGroup(
            1, rule.output_model(), threshold="False", events={"decide": decide}, namespace=ns
        )
        out.run_on_event("decide", rule.output_reset())
        out.p_release = p
        syn = b2.Synapses(
            src,
            out,
            rule.synapse_model(),
            on_pre={"pre": rule.on_pre()},
            on_post={"learn": rule.on_decision()},
            on_event={"pre": "spike", "learn": "decide"},
            namespace={**ns, **rule.namespace()},
        )
        syn.connect()
        syn.w = w0
        syn.rank = rank
        mon = b2.EventMonitor(out, "decide", variables=["v"])
        b2.Network(src, out, syn, mon).run(N * window)
        return np.array(mon.v[:]), float(syn.w[0])


def test_release_with_probability_p_and_the_delta_rule_on_released_spikes_only():
    # w0 = 0.5 > 0, so a decision's v is w (released) or 0 (failed): replaying the
    # releases, the delta rule w += eta (1 - w) on released examples only gives the
    # circuit's weight to rounding, and the release rate is p within 5 standard errors
    eta, p = 0.002, 0.25
    v, w_end = _run(p, learning=1, eta=eta, w0=0.5)
    released = v > 0
    assert released.mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / N))
    w = 0.5
    for k in np.flatnonzero(released):
        assert v[k] == pytest.approx(w, abs=1e-12)
        w += eta * (1 - w)
    assert w_end == pytest.approx(w, abs=1e-12)


def test_at_test_every_spike_transmits_scaled_by_p_unless_deleted():
    v, _ = _run(0.3, learning=0)
    np.testing.assert_allclose(v, 0.3, rtol=0, atol=1e-15)
    v, _ = _run(0.3, learning=0, deleted=0.6, rank=0.5)
    assert np.all(v == 0)


def test_bad_parameters_are_refused():
    with pytest.raises(ValidationError, match="learning_rate"):
        ReleaseDeltaRule(learning_rate=0)
    with pytest.raises(ValidationError, match="spikes_per_input"):
        ReleaseDeltaRule(spikes_per_input=0)
