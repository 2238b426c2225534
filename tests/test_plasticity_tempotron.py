"""The tempotron rule on its own (spikingml.plasticity.tempotron.TempotronRule).

A tiny Brian2 network: three afferents hold the weights, four decisions (patterns with
known input spike times ``ts``, label, fired and ``tmax``) spike at known steps and apply
the rule. The weights are compared with the closed form of one update and with the rule
computed in NumPy update by update, with the kernel of spikingml.analysis.tempotron.
"""

from __future__ import annotations

import brian2
import numpy as np
import pytest
from brian2 import ms, second

from spikingml.analysis.tempotron import kernel_norm, psp_kernel
from spikingml.errors import ValidationError
from spikingml.plasticity.tempotron import TempotronRule

DT = 1 * ms
TAU, TAU_S = 15 * ms, 3.75 * ms
# Brian2 evaluates the same formula with its operations in another order (the optimiser
# hoists the scalar factors): rounding only, a few ulp (measured <= 7e-16 relative on
# w, dw and wc); 1e-12 leaves room and still catches any wrong term or factor.
RTOL = 1e-12

# decisions: (step at which the decision spikes, label, fired, tmax in ms); the errors
# are +1 (a + pattern missed), -1 (a - pattern fired), 0 (correct) and +1 again
DECISIONS = [(100, 1, 0, 20.0), (250, -1, 1, 31.0), (400, -1, 0, 12.0), (600, 1, 0, 45.0)]
# input spike times (ms from the pattern's onset) of the 3 afferents in each pattern:
# before tmax, at tmax (K(0) = 0: no change) and after it (no change either)
TS = np.array(
    [
        [5.0, 20.0, 33.0],
        [30.0, 2.0, 31.0],
        [1.0, 11.0, 40.0],
        [44.0, 10.0, 3.0],
    ]
)
W_INIT = np.array([0.1, -0.05, 0.02])


@pytest.fixture(autouse=True)
def numpy_target():
    """NumPy code generation: no compilation, the same arithmetic as Cython."""
    old, old_dt = brian2.prefs.codegen.target, brian2.defaultclock.dt
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = DT
    yield
    brian2.prefs.codegen.target = old
    brian2.defaultclock.dt = old_dt


def _network(rule: TempotronRule, decisions=DECISIONS):
    """Weights, decisions and update synapses of ``rule``; every decision spikes once."""
    n_aff = TS.shape[1]
    weights = brian2.NeuronGroup(n_aff, rule.weight_model(), name="weights")
    weights.w = W_INIT
    weights.wc = W_INIT
    cells = brian2.NeuronGroup(
        len(decisions),
        rule.decision_model() + "at_step : integer (constant)",
        threshold="t_in_timesteps == at_step",
        reset="",
        name="decisions",
    )
    steps, labels, fired, tmax = (np.array(col) for col in zip(*decisions, strict=True))
    cells.at_step = steps
    cells.label = labels
    cells.fired = fired
    cells.tmax = tmax * ms
    # every pattern has all afferents learning, 4 patterns per "epoch"
    for name, value in rule.decision_values(len(decisions)).items():
        setattr(cells, name, value)
    update = brian2.Synapses(
        cells,
        weights,
        rule.synapse_model(),
        on_pre=rule.on_pre(),
        namespace=rule.namespace(),
        name="update",
    )
    update.connect()  # decision p -> afferent i, synapse index p * n_aff + i
    update.ts = TS[: len(decisions)].ravel() * ms
    return brian2.Network(weights, cells, update), weights, cells


def _numpy_rule(rule: TempotronRule, decisions=DECISIONS):
    """The rule update by update: w, dw, wc after every decision."""
    tau, tau_s = float(rule.tau), float(rule.tau_s)
    lam0, mu, tau_lr = rule.learning_rate, rule.momentum, float(rule.tau_lr)
    beta = 1 / (rule.average_epochs * len(decisions)) if rule.average_epochs else 1.0
    w, dw, wc = W_INIT.copy(), np.zeros_like(W_INIT), W_INIT.copy()
    out = []
    for (step, label, fired, tmax), ts in zip(decisions, TS, strict=False):
        err = (1 + label) / 2 - fired
        lam = lam0 / (1 + step * float(DT) / tau_lr)
        dw = mu * dw + lam * err * psp_kernel((tmax - ts) * 1e-3, tau, tau_s)
        w = w + dw
        wc = wc + beta * (w - wc)
        out.append((w.copy(), dw.copy(), wc.copy()))
    return out


def test_one_update_is_the_psp_at_tmax():
    # first decision only (a + pattern that did not fire, err = +1): from dw = 0,
    # dw_i = lam0 / (1 + t / tau_lr) * V0 * (exp(-(tmax - ts_i)/tau) - exp(-(tmax - ts_i)/tau_s))
    # for ts_i < tmax, and 0 for the afferents that fired at or after tmax
    rule = TempotronRule(tau=TAU, tau_s=TAU_S, learning_rate=0.05, tau_lr=2 * second)
    net, weights, _ = _network(rule)
    net.run(150 * ms)  # the first decision spikes at step 100
    lam = 0.05 / (1 + 0.1 / 2.0)
    s = (20.0 - 5.0) * 1e-3
    v0 = kernel_norm(0.015, 0.00375)
    expected_dw = np.array([lam * v0 * (np.exp(-s / 0.015) - np.exp(-s / 0.00375)), 0, 0])
    np.testing.assert_allclose(weights.dw[:], expected_dw, rtol=RTOL, atol=0)
    np.testing.assert_allclose(weights.w[:], W_INIT + expected_dw, rtol=RTOL, atol=0)
    # the running mean moved 1 / (average_epochs * P) = 1/12 of the way to w
    np.testing.assert_allclose(weights.wc[:], W_INIT + expected_dw / 12, rtol=RTOL, atol=1e-18)
    assert expected_dw[0] > 0.03  # a real step: K(15 ms) = 0.74, lam = 0.048


@pytest.mark.parametrize("average_epochs", [3.0, 0.0])
def test_updates_follow_the_rule_with_momentum_and_running_mean(average_epochs):
    rule = TempotronRule(
        tau=TAU,
        tau_s=TAU_S,
        learning_rate=0.05,
        momentum=0.8,
        tau_lr=0.3 * second,
        average_epochs=average_epochs,
    )
    net, weights, _ = _network(rule)
    expected = _numpy_rule(rule)
    t_checks = [150, 300, 500, 700]  # ms, after each decision
    t_now = 0
    for (w, dw, wc), t in zip(expected, t_checks, strict=True):
        net.run((t - t_now) * ms)
        t_now = t
        np.testing.assert_allclose(weights.dw[:], dw, rtol=RTOL, atol=1e-18)
        np.testing.assert_allclose(weights.w[:], w, rtol=RTOL, atol=1e-18)
        np.testing.assert_allclose(weights.wc[:], wc, rtol=RTOL, atol=1e-18)
    # the correct decision (err = 0, the third) only decayed the momentum: dw_3 = mu dw_2
    np.testing.assert_allclose(expected[2][1], 0.8 * expected[1][1], rtol=1e-15)
    if average_epochs == 0:  # no running mean: the consolidated weight is the weight
        np.testing.assert_array_equal(weights.wc[:], weights.w[:])
    else:  # it lags behind
        assert np.max(np.abs(weights.wc[:] - weights.w[:])) > 1e-3


def test_learning_off_freezes_the_weights_and_consolidation_takes_the_mean():
    rule = TempotronRule(tau=TAU, tau_s=TAU_S, learning_rate=0.05, tau_lr=2 * second)
    net, weights, cells = _network(rule)
    net.run(300 * ms)  # two decisions with errors
    w, wc = weights.w[:].copy(), weights.wc[:].copy()
    assert np.max(np.abs(w - wc)) > 1e-3
    cells.learning = 0.0
    net.run(400 * ms)  # two more decisions, one with an error
    np.testing.assert_array_equal(weights.w[:], w)
    np.testing.assert_array_equal(weights.wc[:], wc)
    weights.w = rule.consolidated_weight()
    np.testing.assert_array_equal(weights.w[:], wc)


def test_kernel_constants_and_consolidation_rate():
    rule = TempotronRule(tau=TAU, tau_s=TAU_S)
    ns = rule.namespace()
    assert ns["psp_V0"] == kernel_norm(0.015, 0.00375)
    t_peak = 0.015 * 0.00375 / (0.015 - 0.00375) * np.log(4)
    peak = ns["psp_V0"] * (np.exp(-t_peak / 0.015) - np.exp(-t_peak / 0.00375))
    assert peak == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(rule.consolidation_rate(np.array([10, 50])), [1 / 30, 1 / 150])
    zero = TempotronRule(tau=TAU, tau_s=TAU_S, average_epochs=0)
    np.testing.assert_array_equal(zero.consolidation_rate(np.array([10, 50])), [1.0, 1.0])
    with pytest.raises(ValidationError, match=r"TempotronRule\.consolidation_rate"):
        rule.consolidation_rate(np.array([0, 3]))


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"tau_s": 15 * ms}, "tau_s", "< tau"),
        ({"tau": 15}, "tau", "a quantity in units of"),
        ({"tau_lr": 0 * second}, "tau_lr", "> 0"),
        ({"learning_rate": 0.0}, "learning_rate", "> 0"),
        ({"momentum": 1.0}, "momentum", "< 1"),
        ({"momentum": -0.1}, "momentum", ">= 0"),
        ({"average_epochs": -1.0}, "average_epochs", ">= 0"),
        ({"learning_rate": True}, "learning_rate", "a number"),
    ],
)
def test_validation_errors_name_the_field(changes, field, fragment):
    with pytest.raises(ValidationError, match=rf"TempotronRule\.{field}: expected") as err:
        TempotronRule(**changes)
    assert err.match(fragment)
