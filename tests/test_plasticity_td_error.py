"""The TD-error-gated three-factor rule (the actor-critic's) against NumPy and its closed form."""

import dataclasses

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms

from spikingml import ValidationError
from spikingml.plasticity.td_error import TDErrorRule, closed_form_change, reference_weights

DT = 0.1 * ms


@pytest.fixture(autouse=True)
def _numpy_target():
    # a handful of steps of tiny groups: NumPy code generation compiles nothing
    b2.prefs.codegen.target = "numpy"
    yield
    b2.prefs.reset_to_defaults()


def _run(rule, rate, delta, post, duration, w0=0.0):
    """Presynaptic group -> synapses learning with ``rule``, driven by known signals.

    ``rate`` (n_steps, n_pre) and ``delta`` (n_steps,) are played back with TimedArrays;
    ``post`` (n_post,) is held on the postsynaptic neurons as ``a - a_mean`` (as the
    actor's centred activity is). Returns the weights, shape (n_pre, n_post).
    """
    n_pre, n_post = rate.shape[1], len(post)
    ns = {
        **rule.namespace(),
        "rate_in": b2.TimedArray(rate, dt=DT),
        "delta_in": b2.TimedArray(delta * Hz, dt=DT),
    }
    pre = b2.NeuronGroup(
        n_pre,
        "rate = rate_in(t, i) : 1\ndelta = delta_in(t) : hertz\n"
        + rule.presynaptic_equations(rate="rate", delta="delta"),
        method="euler",
        namespace=ns,
        dt=DT,
    )
    target = b2.NeuronGroup(n_post, "a : 1\na_mean : 1", dt=DT)
    target.a = np.asarray(post) + 0.25
    target.a_mean = 0.25
    syn = b2.Synapses(pre, target, rule.synapse_model("theta"), namespace=ns, dt=DT)
    syn.connect()
    syn.theta = np.broadcast_to(w0, (n_pre, n_post))[np.asarray(syn.i[:]), np.asarray(syn.j[:])]
    syn.run_regularly(
        rule.on_update("theta", post="a_post - a_mean_post"),
        dt=rule.update_interval,
        when="end",
        order=0,
    )
    pre.run_regularly(rule.on_consumed(), dt=rule.update_interval, when="end", order=1)
    net = b2.Network(pre, target, syn)
    net.run(duration)
    w = np.zeros((n_pre, n_post))
    w[np.asarray(syn.i[:]), np.asarray(syn.j[:])] = np.asarray(syn.theta[:])
    return w


def test_weight_change_follows_the_closed_form():
    # Constant rate and TD error: E = rate (1 - exp(-t/tau_e)), and the weight changes by
    # eta * post * delta * rate * (T - tau_e (1 - exp(-T/tau_e))). The run ends one step
    # after an update (T = 100 update intervals + dt), so everything accumulated has been
    # applied. Forward Euler (E) and its left Riemann sum (G) err at first order in dt:
    # measured 2.1e-6 relative at dt = 0.1 ms and 1.05e-6 at 0.05 ms (tau_e = 200 ms);
    # 2e-5 leaves a factor 10 and still catches a step lost or counted twice (1e-4).
    rule = TDErrorRule(eta=0.1, w_max=10.0, tau_e=200 * ms, update_interval=10 * ms)
    duration = 100 * rule.update_interval + DT
    n_steps = int(round(float(duration / DT)))
    rates = np.array([0.3, 1.0])
    post = np.array([1.0, -0.5, 2.0])
    delta = 0.8  # 1/s
    w = _run(rule, np.tile(rates, (n_steps, 1)), np.full(n_steps, delta), post, duration)
    expected = np.array(
        [[closed_form_change(rule, r, delta, p, duration) for p in post] for r in rates]
    )
    assert np.abs(expected).min() > 1e-3  # every synapse changes, in both directions
    np.testing.assert_allclose(w, expected, rtol=2e-5)


def test_weights_follow_the_numpy_rule_step_by_step():
    # Time-varying rate and TD error of both signs, updates every 20 steps, a run that
    # ends between updates (what accumulated since the last one is not applied yet).
    # The same operations as Brian2's generated code (measured: equal to the last bit);
    # 1e-12 relative allows a code generator that orders them differently.
    rule = TDErrorRule(eta=2.0, w_max=10.0, tau_e=20 * ms, update_interval=2 * ms)
    n_steps = 537
    rng = np.random.default_rng(3)
    rate = rng.uniform(0, 1, (n_steps, 4))
    delta = rng.normal(2, 5, n_steps)
    post = np.array([1.0, -1.5])
    w0 = rng.uniform(-0.5, 0.5, (4, 2))
    w = _run(rule, rate, delta, post, n_steps * DT, w0=w0)
    expected = reference_weights(rule, w0, rate, delta, post, dt=DT, n_steps=n_steps)
    assert np.abs(expected - w0).max() > 0.01  # the weights did learn
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-14)


def test_weights_stay_within_the_bound():
    # a large learning rate drives every weight to a bound, of the sign of its post term
    rule = TDErrorRule(eta=100.0, w_max=0.2, tau_e=20 * ms, update_interval=1 * ms)
    n_steps = 200
    w = _run(rule, np.ones((n_steps, 2)), np.full(n_steps, 3.0), [1.0, -1.0], n_steps * DT)
    np.testing.assert_array_equal(w, [[0.2, -0.2], [0.2, -0.2]])


def test_critic_and_actor_are_one_rule_with_two_parameter_sets():
    from spikingml.circuits.actor_critic import Params

    p = Params()
    critic, actor = p.rules()
    assert type(critic) is type(actor) is TDErrorRule
    assert (critic.eta, critic.w_max, actor.eta, actor.w_max) == (
        p.eta_critic,
        p.w_max,
        p.eta_actor,
        p.theta_max,
    )
    # they share the place cells' E and G, so their time constants must agree
    assert (critic.tau_e, critic.update_interval) == (actor.tau_e, actor.update_interval)
    assert critic.on_update("w") == "w = clip(w + td_eta * G_pre, -td_w_max, td_w_max)"


@pytest.mark.parametrize(
    "changes, field, expected",
    [
        ({"eta": -0.1}, "eta", ">= 0"),
        ({"eta": True}, "eta", "a number"),
        ({"w_max": 0.0}, "w_max", "> 0"),
        ({"tau_e": 200.0}, "tau_e", "in units of s\\b"),
        ({"tau_e": 0 * ms}, "tau_e", "> 0"),
        ({"update_interval": 10 * Hz}, "update_interval", "in units of s\\b"),
    ],
)
def test_validation_names_the_field(changes, field, expected):
    with pytest.raises(ValidationError, match=rf"TDErrorRule\.{field}: expected .*{expected}"):
        TDErrorRule(**changes)
    with pytest.raises(ValidationError, match=rf"TDErrorRule\.{field}"):
        dataclasses.replace(TDErrorRule(), **changes)


def test_reference_rejects_a_step_that_does_not_divide_the_interval():
    rule = TDErrorRule(update_interval=10 * ms)
    with pytest.raises(ValidationError, match="dt"):
        reference_weights(rule, np.zeros((1, 1)), 1.0, 1.0, dt=3 * ms, n_steps=10)
    with pytest.raises(ValidationError, match="rate"):
        reference_weights(rule, np.zeros((2, 1)), np.ones((10, 3)), 1.0, dt=1 * ms, n_steps=10)
    # one step: G grows from E at the step's start (0), so the update at step 0 adds 0
    one_step = reference_weights(rule, np.zeros((1, 1)), 1.0, 1.0, dt=1 * ms, n_steps=1)
    assert one_step[0, 0] == 0.0
