"""e-prop in NumPy (spikingml.analysis.eprop): exact where the paper says it is exact.

What is compared: the surrogate gradient dE/dW of a tiny LIF + ALIF network (spikes
differentiated through the pseudo-derivative psi, reset not differentiated), computed
three ways: back-propagation through time (bptt_gradients), e-prop's eligibility traces
with the exact learning signal dE/dz (Bellec et al. 2020, eq. 1), and central finite
differences of the network with its spikes frozen and linearised (no backward pass).
"""

from __future__ import annotations

import numpy as np
import pytest

from spikingml.analysis import eprop as ep
from spikingml.errors import ValidationError


def _tiny(seed: int = 0, *, n_in: int = 3, n_rec: int = 5, T: int = 80, batch: int = 2):
    rng = np.random.default_rng(seed)
    net = ep.network_constants(
        dt=1e-3,
        tau_m=20e-3,
        tau_a=200e-3,
        tau_out=20e-3,
        v_th=0.6,
        beta=np.r_[np.zeros(2), np.full(n_rec - 2, 1.8)],
        t_ref=2e-3,
    )
    w_in = rng.normal(0.6, 0.4, (n_rec, n_in))
    w_rec = rng.normal(0, 0.4, (n_rec, n_rec))
    np.fill_diagonal(w_rec, 0)
    w_out = rng.normal(0, 1, (2, n_rec))
    x = (rng.random((T, batch, n_in)) < 0.15).astype(float)
    target = rng.integers(0, 2, (T, batch))
    mask = np.zeros((T, batch))
    mask[T // 2 :] = 1
    return net, w_in, w_rec, w_out, x, target, mask


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_tiny_network_spikes_adapts_and_is_refractory():
    net, w_in, w_rec, w_out, x, *_ = _tiny()
    traj = ep.forward(w_in, w_rec, w_out, x, net)
    assert traj.z.sum() > 20  # the checks below must see spikes and adaptation
    assert traj.a[:, :, 2:].max() > 0.5
    # n_ref = 2: no neuron spikes on the two steps after a spike
    z = traj.z
    assert not np.any(z[1:] * z[:-1]) and not np.any(z[2:] * z[:-2])
    assert np.all(traj.psi[1:][z[:-1] > 0] == 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eprop_with_the_exact_learning_signal_is_the_surrogate_gradient(seed):
    # Bellec et al. (2020), eq. (1): sum_t dE/dz_j[t] e_ji[t] = dE/dW_ji exactly; only
    # rounding separates the two (measured 1e-16 to 7e-16 relative): 1e-10 leaves room.
    net, w_in, w_rec, w_out, x, target, mask = _tiny(seed)
    traj = ep.forward(w_in, w_rec, w_out, x, net)
    bptt = ep.bptt_gradients(traj, x, target, mask, w_rec, w_out, net)
    L = ep.exact_learning_signal(traj, target, mask, w_rec, w_out, net)
    g_in, g_rec = ep.eligibility_gradients(traj, L, net, filtered=False)
    assert _rel(g_in, bptt.w_in) < 1e-10
    assert _rel(g_rec, bptt.w_rec) < 1e-10
    # the readout's gradient is local in e-prop and exact
    eprop = ep.eprop_gradients(traj, target, mask, w_out.T, net)
    assert _rel(eprop.w_out, bptt.w_out) < 1e-10


def test_online_eprop_is_exact_without_recurrent_weights():
    # With w_rec = 0 the only path from z_j to E is the readout: symmetric e-prop with
    # the kappa-filtered traces is then the whole gradient.
    net, w_in, w_rec, w_out, x, target, mask = _tiny(3)
    w_rec = np.zeros_like(w_rec)
    traj = ep.forward(w_in, w_rec, w_out, x, net)
    bptt = ep.bptt_gradients(traj, x, target, mask, w_rec, w_out, net)
    eprop = ep.eprop_gradients(traj, target, mask, w_out.T, net)
    assert _rel(eprop.w_in, bptt.w_in) < 1e-10


def test_online_eprop_approximates_with_recurrence():
    # With recurrence online e-prop drops dE/dz's network share: close to, not equal
    # to, the gradient (the check above is not vacuous).
    net, w_in, w_rec, w_out, x, target, mask = _tiny(4)
    traj = ep.forward(w_in, w_rec, w_out, x, net)
    bptt = ep.bptt_gradients(traj, x, target, mask, w_rec, w_out, net)
    eprop = ep.eprop_gradients(traj, target, mask, w_out.T, net)
    rel = _rel(eprop.w_rec, bptt.w_rec)
    assert 1e-6 < rel
    cos = np.sum(eprop.w_in * bptt.w_in) / np.linalg.norm(eprop.w_in) / np.linalg.norm(bptt.w_in)
    assert cos > 0.5


@pytest.mark.parametrize("which", ["w_in", "w_rec", "w_out"])
def test_surrogate_gradient_matches_finite_differences_of_the_linearised_network(which):
    # The linearised network is polynomial in W except for the softmax: central
    # differences with h = 1e-5 are accurate to ~h^2 times the curvature (1e-11 to 2e-11
    # relative measured); 1e-6 leaves room and still fails for a wrong sign or path.
    net, w_in, w_rec, w_out, x, target, mask = _tiny(5)
    traj = ep.forward(w_in, w_rec, w_out, x, net)
    bptt = ep.bptt_gradients(traj, x, target, mask, w_rec, w_out, net)
    assert np.isclose(
        ep.linearised_loss(w_in, w_rec, w_out, x, target, mask, net, traj),
        ep.loss(traj, target, mask),
        rtol=1e-12,
    )
    weights = {"w_in": w_in, "w_rec": w_rec, "w_out": w_out}
    rng = np.random.default_rng(9)
    direction = rng.normal(size=weights[which].shape)
    if which == "w_rec":
        np.fill_diagonal(direction, 0)
    h = 1e-5
    losses = []
    for sign in (1, -1):
        w = dict(weights)
        w[which] = weights[which] + sign * h * direction
        losses.append(
            ep.linearised_loss(w["w_in"], w["w_rec"], w["w_out"], x, target, mask, net, traj)
        )
    fd = (losses[0] - losses[1]) / (2 * h)
    exact = float(np.sum(getattr(bptt, which) * direction))
    assert abs(fd - exact) < 1e-6 * abs(exact)


def test_adam_first_step_moves_every_weight_by_the_learning_rate():
    w = np.zeros(3)
    g = np.array([2.0, -0.5, 1e-3])
    w1, m, s = ep.adam_step(w, g, np.zeros(3), np.zeros(3), 1, lr=0.01, eps=0.0)
    np.testing.assert_allclose(w1, -0.01 * np.sign(g), rtol=1e-12)


def test_bad_shapes_and_self_connections_are_refused():
    net, w_in, w_rec, w_out, x, *_ = _tiny()
    with pytest.raises(ValidationError, match="zero diagonal"):
        ep.forward(w_in, w_rec + np.eye(len(w_rec)), w_out, x, net)
    with pytest.raises(ValidationError, match="T, batch, n_in"):
        ep.forward(w_in, w_rec, w_out, x[:, :, :2], net)
    with pytest.raises(ValidationError, match="tau_a"):
        ep.network_constants(dt=1e-3, tau_m=0.02, tau_a=0, tau_out=0.02, v_th=1, beta=0)
