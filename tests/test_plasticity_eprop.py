"""e-prop in Brian2 (spikingml.plasticity.eprop) against e-prop in NumPy.

A tiny network (2 copies, 3 inputs, 2 LIF + 3 ALIF neurons, 2 readouts, one trial of
80 steps, random feedback weights, the rate regulariser on) runs one trial and the first
step of the next in Brian2 (NumPy code generation); spikingml.analysis.eprop, written
independently from the equations, runs the same trial. Compared: the spikes (equal),
the batch gradients of w_in, w_rec and w_out (the weights' gsum), and the weights after
Adam's first step.
"""

from __future__ import annotations

import brian2
import numpy as np
import pytest
from brian2 import ms

from spikingml.analysis import eprop as ep
from spikingml.errors import ValidationError
from spikingml.plasticity.eprop import EProp, build_eprop_network

DT = 1 * ms
T = 80
COPIES, N_IN, N_LIF, N_ALIF = 2, 3, 2, 3
N = N_LIF + N_ALIF
WINDOW = (0.040, 0.080)  # the loss counts on steps 40-79, the trial's last step included
# The gradients are sums of ~1e3 products formed in another order in Brian2 (synaptic
# input summed spike by spike): rounding only (measured <= 2.5e-16 relative, seeds 0-2,
# with and without the regulariser). The issue asks for 1e-6 and so does the test.
RTOL = 1e-6


@pytest.fixture(autouse=True)
def numpy_target():
    """NumPy code generation: no compilation."""
    old, old_dt = brian2.prefs.codegen.target, brian2.defaultclock.dt
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = DT
    yield
    brian2.prefs.codegen.target = old
    brian2.defaultclock.dt = old_dt


def _task(seed: int = 0):
    rng = np.random.default_rng(seed)
    w_in = rng.normal(0.7, 0.4, (N, N_IN))
    w_rec = rng.normal(0, 0.4, (N, N))
    np.fill_diagonal(w_rec, 0)
    w_out = rng.normal(0, 1, (2, N))
    feedback = rng.normal(0, 1, (N, 2))
    x = (rng.random((T, COPIES, N_IN)) < 0.15).astype(float)
    x[0] = 0  # a trial's first input arrives at its second step (see build_eprop_network)
    labels = np.array([0, 1])
    return w_in, w_rec, w_out, feedback, x, labels


def _numpy(rule: EProp, w_in, w_rec, w_out, feedback, x, labels):
    c = rule.constants(DT)
    net = ep.Network(
        alpha=c["ep_alpha"],
        rho=c["ep_rho"],
        kappa=c["ep_kappa"],
        v_th=c["ep_v_th"],
        beta=np.r_[np.zeros(N_LIF), np.full(N_ALIF, rule.beta)],
        gamma=c["ep_gamma"],
        n_ref=int(c["ep_n_ref"]),
    )
    traj = ep.forward(w_in, w_rec, w_out, x, net)
    target = np.broadcast_to(labels, (T, COPIES))
    mask = np.zeros((T, COPIES))
    mask[round(WINDOW[0] / float(DT)) :] = 1
    grads = ep.eprop_gradients(traj, target, mask, feedback, net)
    reg_in, reg_rec = ep.rate_regularisation_gradients(
        traj, net, f_target=c["ep_f0"], c_reg=rule.c_reg
    )
    return traj, {"in": grads.w_in + reg_in, "rec": grads.w_rec + reg_rec, "out": grads.w_out}


def _brian(rule: EProp, w_in, w_rec, w_out, feedback, x, labels, n_trials=1):
    """Run ``n_trials`` trials (``x``: their inputs one after the other) and one step."""
    t_idx, c_idx, i_idx = np.nonzero(x)
    # the input of step t is the spike Brian2 delivers at step t - 1
    times = (t_idx - 1) * DT
    net = build_eprop_network(
        rule,
        n_copies=COPIES,
        n_lif=N_LIF,
        n_alif=N_ALIF,
        w_in=w_in,
        w_rec=w_rec,
        w_out=w_out,
        feedback=feedback,
        input_indices=c_idx * N_IN + i_idx,
        input_times=times,
        targets=np.tile(labels, (n_trials + 1, 1)),
        windows=np.tile(WINDOW, (n_trials + 1, COPIES, 1)),
        trial_duration=T * DT,
        dt=DT,
        n_trials=n_trials + 1,
    )
    spikes = brian2.SpikeMonitor(net.neurons, name="ep_spikes")
    # every trial's vote, read at the next trial's first step before the reset
    votes = brian2.StateMonitor(
        net.readouts, "vote", record=True, dt=T * DT, when="start", name="ep_votes"
    )
    network = brian2.Network(*net.objects, spikes, votes)
    network.run((n_trials * T + 1) * DT)
    z = np.zeros((n_trials * T + 1, COPIES * N))
    z[np.round(spikes.t_ / float(DT)).astype(int), spikes.i[:]] = 1
    # the votes of every trial: (2 copies, trials)
    return net, z[: n_trials * T].reshape(n_trials * T, COPIES, N), np.asarray(votes.vote)[:, 1:]


@pytest.fixture(scope="module")
def runs():
    rule = EProp(tau_a=200 * ms, t_ref=2 * ms, c_reg=0.5, learning_rate=0.01)
    task = _task()
    old = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        brian = _brian(rule, *task)
    finally:
        brian2.prefs.codegen.target = old
    return rule, task, _numpy(rule, *task), brian


def test_the_spikes_are_those_of_the_numpy_network(runs):
    _, _, (traj, _), (_, z, _) = runs
    assert traj.z.sum() > 30  # a check on a silent network would prove nothing
    assert traj.a[:, :, N_LIF:].max() > 0.5
    np.testing.assert_array_equal(z, traj.z)


@pytest.mark.parametrize("key", ["in", "rec", "out"])
def test_batch_gradients_equal_numpy_eprop(runs, key):
    _, _, (_, grads), (net, _, _) = runs
    got = np.asarray(net.weights[key].gsum[:]).reshape(grads[key].shape)
    assert np.max(np.abs(grads[key])) > 1e-3
    assert np.max(np.abs(got - grads[key])) <= RTOL * np.max(np.abs(grads[key]))


def test_the_vote_sums_the_readout_difference_over_the_window(runs):
    _, _, (traj, _), (_, _, votes) = runs
    mask = np.zeros(T)
    mask[round(WINDOW[0] / float(DT)) :] = 1
    want = (mask[:, None, None] * (traj.y - traj.y[:, :, ::-1])).sum(axis=0)  # (copies, 2)
    np.testing.assert_allclose(votes[:, 0], want.ravel(), rtol=1e-12, atol=1e-12)


def test_adam_first_step_on_the_batch_mean(runs):
    rule, (w_in, w_rec, w_out, *_), (_, grads), (net, _, _) = runs
    for key, w0 in (("in", w_in), ("rec", w_rec), ("out", w_out)):
        want, _, _ = ep.adam_step(
            w0, grads[key] / COPIES, 0.0, 0.0, 1, lr=rule.learning_rate, eps=rule.adam_eps
        )
        got = np.asarray(net.weights[key].w[:]).reshape(w0.shape)
        # Adam's first step is lr * sign(g) wherever g is not ~eps: the comparison is
        # of the step's sign and size, rounding aside
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.diag(np.asarray(net.weights["rec"].w[:]).reshape(N, N)), 0)


def test_second_trial_starts_from_rest_with_the_updated_weights():
    # two trials: the resets between them, Adam's second step (bias correction k = 2)
    rule = EProp(tau_a=200 * ms, t_ref=2 * ms, c_reg=0.5, learning_rate=0.05)
    w_in, w_rec, w_out, feedback, x1, labels = _task(0)
    x2 = _task(1)[4]
    net, z, _ = _brian(rule, w_in, w_rec, w_out, feedback, np.concatenate([x1, x2]), labels, 2)
    w = {"in": w_in, "rec": w_rec, "out": w_out}
    m = {k: 0.0 for k in w}
    s = {k: 0.0 for k in w}
    for k_adam, x in ((1, x1), (2, x2)):
        traj, grads = _numpy(rule, w["in"], w["rec"], w["out"], feedback, x, labels)
        np.testing.assert_array_equal(z[(k_adam - 1) * T : k_adam * T], traj.z)
        for key in w:
            w[key], m[key], s[key] = ep.adam_step(
                w[key], grads[key] / COPIES, m[key], s[key], k_adam, lr=rule.learning_rate
            )
    for key in w:
        got = np.asarray(net.weights[key].w[:]).reshape(w[key].shape)
        np.testing.assert_allclose(got, w[key], rtol=0, atol=1e-9)


def test_a_missing_feedback_term_is_detected(runs):
    # the comparison can fail: the gradients with the symmetric feedback w_out^T are far
    # from those of the random feedback the Brian2 network used
    rule, (w_in, w_rec, w_out, feedback, x, labels), (_, grads), _ = runs
    _, other = _numpy(rule, w_in, w_rec, w_out, w_out.T, x, labels)
    assert np.max(np.abs(other["rec"] - grads["rec"])) > 1e-3 * np.max(np.abs(grads["rec"]))


def test_bad_rule_values_are_refused():
    with pytest.raises(ValidationError, match="EProp.tau_a"):
        EProp(tau_a=0 * ms)
    with pytest.raises(ValidationError, match="multiple of dt"):
        EProp(t_ref=2.5 * ms).constants(1 * ms)
    with pytest.raises(ValidationError, match="trial_reset"):
        EProp.trial_reset("synapses")
