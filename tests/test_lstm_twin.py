"""The LSTM twin (spikingml.analysis.lstm) and an autodiff check of e-prop's reference.

Needs JAX (the extra ``lstm``, CPU-only): skipped without it, an error in CI.
"""

from __future__ import annotations

import numpy as np
import pytest
from _optional import require

from spikingml.analysis import eprop as ep
from spikingml.analysis import lstm
from spikingml.errors import ValidationError
from spikingml.stimuli.memory_tasks import store_recall

jax = require("jax", "lstm")
jnp = jax.numpy


def _surrogate_loss_jax(weights, x, target, mask, net: ep.Network, n_steps: int):
    """The network of analysis.eprop in JAX: Heaviside spikes with psi as their
    derivative (custom JVP), the reset not differentiated."""

    @jax.custom_jvp
    def spike(u, free):
        return jnp.where((u > 0) & (free > 0), 1.0, 0.0)

    @spike.defjvp
    def _spike_jvp(primals, tangents):
        u, free = primals
        du, _ = tangents
        psi = (net.gamma / net.v_th) * jnp.maximum(0.0, 1.0 - jnp.abs(u) / net.v_th) * free
        return spike(u, free), psi * du

    w_in, w_rec, w_out = weights
    nb, n = x.shape[1], w_rec.shape[0]
    v = jnp.zeros((nb, n))
    a = jnp.zeros((nb, n))
    z = jnp.zeros((nb, n))
    r = jnp.full((nb, n), -1)
    y = jnp.zeros((nb, w_out.shape[0]))
    total = 0.0
    for t in range(n_steps):
        v = net.alpha * v + x[t] @ w_in.T + z @ w_rec.T - net.v_th * jax.lax.stop_gradient(z)
        a = net.rho * a + z
        r = r - 1
        free = (r < 0).astype(float)
        z = spike(v - (net.v_th + net.beta * a), free)
        r = jnp.where(jax.lax.stop_gradient(z) > 0, net.n_ref, r)
        y = net.kappa * y + z @ w_out.T
        logp = jax.nn.log_softmax(y, axis=-1)
        total = total - (mask[t] * jnp.take_along_axis(logp, target[t][:, None], 1)[:, 0]).sum()
    return total


def test_numpy_bptt_equals_jax_autodiff_of_the_same_network():
    # An independent check of analysis.eprop.bptt_gradients (and so of e-prop with the
    # exact learning signal): JAX differentiates the same network, with psi as the
    # spike's derivative. float64; rounding only (measured <= 4e-16 relative): 1e-9.
    jax.config.update("jax_enable_x64", True)
    try:
        rng = np.random.default_rng(0)
        n_in, n, T, nb = 3, 5, 60, 2
        net = ep.network_constants(
            dt=1e-3,
            tau_m=0.02,
            tau_a=0.2,
            tau_out=0.02,
            v_th=0.6,
            beta=np.r_[0, 0, 1.8, 1.8, 1.8],
            t_ref=2e-3,
        )
        w_in = rng.normal(0.6, 0.4, (n, n_in))
        w_rec = rng.normal(0, 0.4, (n, n))
        np.fill_diagonal(w_rec, 0)
        w_out = rng.normal(0, 1, (2, n))
        x = (rng.random((T, nb, n_in)) < 0.15).astype(float)
        target = rng.integers(0, 2, (T, nb))
        mask = np.zeros((T, nb))
        mask[T // 2 :] = 1
        traj = ep.forward(w_in, w_rec, w_out, x, net)
        assert traj.z.sum() > 20
        want = ep.bptt_gradients(traj, x, target, mask, w_rec, w_out, net)
        grads = jax.grad(_surrogate_loss_jax)(
            (jnp.asarray(w_in), jnp.asarray(w_rec), jnp.asarray(w_out)),
            jnp.asarray(x),
            jnp.asarray(target),
            jnp.asarray(mask),
            net,
            T,
        )
        for got, exp in zip(grads, (want.w_in, want.w_rec, want.w_out), strict=True):
            got = np.array(got)
            if got.shape == w_rec.shape:
                np.fill_diagonal(got, 0)
            assert np.max(np.abs(got - exp)) < 1e-9 * np.max(np.abs(exp))
    finally:
        jax.config.update("jax_enable_x64", False)


def test_lstm_learns_a_short_store_recall_task():
    # symbols of 50 ms, delays 100-200 ms, 10 ms bins: 150 updates of a small LSTM.
    # Chance is 0.5 (measured 0.5 over the first 10 batches); after training the error
    # on 256 new trials must be <= 0.1, room for the Poisson inputs (measured 0.0).
    def batch(rng, n):
        tr = store_recall(rng, n, symbol=0.05, n_symbols=7, distractors=(1, 3))
        xb, mb = lstm.bin_inputs(tr.x, tr.mask, 10)
        return xb, tr.labels, mb

    rng = np.random.default_rng(0)
    trained = lstm.train(
        lambda k: batch(rng, 32), n_in=40, n_hidden=16, iterations=150, learning_rate=0.02
    )
    assert trained.learning_curve[:10].mean() > 0.2
    x, labels, mask = batch(np.random.default_rng(1), 256)
    err = np.mean(lstm.decisions(trained.params, x, mask) != labels)
    assert err <= 0.1


def test_bin_inputs_counts_spikes_and_refuses_a_bad_bin():
    x = np.zeros((20, 1, 2))
    x[3, 0, 1] = 1
    x[4, 0, 1] = 1
    mask = np.zeros((20, 1))
    mask[15] = 1
    xb, mb = lstm.bin_inputs(x, mask, 5)
    assert xb[0, 0, 1] == 2 and mb[:, 0].tolist() == [0, 0, 0, 1]
    with pytest.raises(ValidationError, match="bin_steps"):
        lstm.bin_inputs(x, mask, 7)
