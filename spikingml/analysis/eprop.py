r"""e-prop in NumPy: a recurrent LIF + ALIF network, its eligibility traces and gradients.

Written from the equations of Bellec et al. (2020), independently of Brian2, as the
reference that :class:`spikingml.plasticity.eprop.EProp` (the rule in Brian2) is checked
against, and with exact gradients of the same network to check e-prop itself.

The network (discrete time, step ``t = 0, 1, ...``; ``j`` a recurrent neuron, ``i`` an
input or recurrent neuron, ``k`` a readout)
---------------------------------------------------------------------------------------
::

    v_j[t]  = alpha v_j[t-1] + sum_i w_in[j,i] x_i[t] + sum_i w_rec[j,i] z_i[t-1]
              - v_th z_j[t-1]                              membrane, reset by subtraction
    a_j[t]  = rho a_j[t-1] + z_j[t-1]                      adaptation (ALIF; beta_j = 0: LIF)
    A_j[t]  = v_th + beta_j a_j[t]                         adaptive threshold
    z_j[t]  = H(v_j[t] - A_j[t])  unless refractory        spike (0 or 1)
    psi_j[t] = (gamma / v_th) max(0, 1 - |v_j[t] - A_j[t]| / v_th)   pseudo-derivative
                                                           (0 while refractory)
    y_k[t]  = kappa y_k[t-1] + sum_j w_out[k,j] z_j[t]     leaky readout
    pi[t]   = softmax(y[t]),   E = sum_t mask[t] CE(pi[t], target[t])

``alpha = exp(-dt / tau_m)``, ``rho = exp(-dt / tau_a)``, ``kappa = exp(-dt / tau_out)``.
A neuron is refractory for ``n_ref`` steps after a spike (no spike, ``psi = 0``).
``w_rec`` has no self-connections (its diagonal is zero).

The pseudo-derivative ``psi`` stands for ``dz/dv`` (and ``-beta psi`` for ``dz/da``); the
reset ``-v_th z_j[t-1]`` is not differentiated (as in Bellec et al. 2020). These rules
define the *surrogate gradient* ``dE/dW`` of the network: :func:`bptt_gradients`
computes it exactly by back-propagation through time.

e-prop (in the symbols of the code)
-----------------------------------
Eligibility vectors and traces, for an input synapse (``xbar_in``) or a recurrent one
(``xbar_rec``)::

    xbar_in[t]  = alpha xbar_in[t-1] + x_i[t]       (= eps_v of every synapse from i)
    xbar_rec[t] = alpha xbar_rec[t-1] + z_i[t-1]
    e_ji[t]     = psi_j[t] (xbar_i[t] - beta_j eps_a_ji[t])          eligibility trace
    eps_a_ji[t+1] = rho eps_a_ji[t] + e_ji[t]                        (ALIF component)
    ebar_ji[t]  = kappa ebar_ji[t-1] + e_ji[t]                       filtered as the readout

The learning signal is the output error sent back through feedback weights ``B`` (``B =
w_out^T``: symmetric e-prop; fixed random: random e-prop)::

    err_k[t] = mask[t] (pi_k[t] - target_k[t])
    L_j[t]   = sum_k B[j,k] err_k[t]
    dE/dw_rec[j,i] ~ sum_t L_j[t] ebar_ji[t]   (likewise w_in);
    dE/dw_out[k,j] = sum_t err_k[t] zbar_j[t],  zbar_j[t] = kappa zbar_j[t-1] + z_j[t]

What is exact and what is approximated
--------------------------------------
Bellec et al. factorise the gradient as ``dE/dW_ji = sum_t (dE/dz_j[t]) e_ji[t]`` where
``dE/dz_j[t]`` is the *total* derivative of ``E`` through the readout and through every
later spike of the other neurons (not through neuron ``j``'s own ``v`` and ``a``, which
the eligibility trace carries). :func:`exact_learning_signal` computes it (a backward
pass); with it, :func:`eprop_gradients` equals :func:`bptt_gradients` to rounding.
Online e-prop keeps only the readout's share, ``sum_k w_out[k,j] sum_{t' >= t}
kappa^(t'-t) err_k[t']`` (exact when ``w_rec = 0``), which the ``kappa``-filtered trace
turns into the causal ``sum_t L_j[t] ebar_ji[t]`` above; random e-prop replaces
``w_out^T`` by ``B``. :func:`linearised_loss` evaluates the network with its spikes
frozen and linearised by ``psi``: its central finite differences give the same surrogate
gradient without any backward pass.

Contents
--------
:class:`Network`, :func:`network_constants`
    Neuron and readout constants.
:func:`forward`, :class:`Trajectory`
    The forward pass (every state variable at every step, for a batch of trials).
:func:`output_error`, :func:`loss`, :func:`learning_signal`
    ``err``, the cross-entropy ``E`` and ``L = B err``.
:func:`eligibility_gradients`, :func:`eprop_gradients`
    e-prop's gradients for a learning signal ``L`` (online, or the exact one).
:func:`rate_regularisation_gradients`
    The gradient of a firing-rate regulariser, through the same traces.
:func:`bptt_gradients`, :func:`exact_learning_signal`
    Back-propagation through time of the surrogate gradient, and ``dE/dz`` from it.
:func:`linearised_loss`
    The loss of the network with frozen, linearised spikes (finite-difference check).
:func:`adam_step`
    One Adam update (Kingma & Ba 2015), as the Brian2 rule applies it.

References
----------
Bellec, G., Scherr, F., Subramoney, A., Hajek, E., Salaj, D., Legenstein, R. & Maass, W.
(2020). A solution to the learning dilemma for recurrent networks of spiking neurons.
Nat. Commun. 11, 3625.

Bellec, G., Salaj, D., Subramoney, A., Legenstein, R. & Maass, W. (2018). Long
short-term memory and learning-to-learn in networks of spiking neurons. NeurIPS 31.

Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "Network",
    "Trajectory",
    "Gradients",
    "network_constants",
    "forward",
    "output_error",
    "loss",
    "learning_signal",
    "eligibility_gradients",
    "eprop_gradients",
    "rate_regularisation_gradients",
    "bptt_gradients",
    "exact_learning_signal",
    "linearised_loss",
    "adam_step",
]


@dataclasses.dataclass(frozen=True)
class Network:
    """Constants of the network (dimensionless, per step ``dt``).

    Attributes
    ----------
    alpha, rho, kappa : float
        Decay per step of the membrane, the adaptation and the readout.
    v_th : float
        Threshold (and reset) of every neuron.
    beta : ndarray, shape (n_rec,)
        Adaptation strength per neuron (0: LIF).
    gamma : float
        Height of the pseudo-derivative (times ``1 / v_th``).
    n_ref : int
        Refractory steps after a spike.
    """

    alpha: float
    rho: float
    kappa: float
    v_th: float
    beta: np.ndarray
    gamma: float = 0.3
    n_ref: int = 0


def network_constants(
    *,
    dt: float,
    tau_m: float,
    tau_a: float,
    tau_out: float,
    v_th: float,
    beta: np.ndarray,
    gamma: float = 0.3,
    t_ref: float = 0.0,
) -> Network:
    """A :class:`Network` from time constants in seconds (``alpha = exp(-dt / tau_m)``...).

    ``n_ref = round(t_ref / dt)``.
    """
    for name, val in (("dt", dt), ("tau_m", tau_m), ("tau_a", tau_a), ("tau_out", tau_out)):
        if not val > 0:
            raise ValidationError(f"network_constants({name})", "> 0", val)
    return Network(
        alpha=math.exp(-dt / tau_m),
        rho=math.exp(-dt / tau_a),
        kappa=math.exp(-dt / tau_out),
        v_th=float(v_th),
        beta=np.asarray(beta, dtype=float),
        gamma=float(gamma),
        n_ref=round(t_ref / dt),
    )


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Every state of a forward pass, arrays of shape ``(T, batch, n)``.

    ``v``, ``a``, ``z``, ``psi`` (recurrent neurons), ``xbar_in`` (input traces),
    ``xbar_rec`` (traces of the recurrent spikes ``z[t-1]``), ``zbar`` (spikes filtered
    by ``kappa``), ``y`` (readout) and ``pi`` (its softmax).
    """

    v: np.ndarray
    a: np.ndarray
    z: np.ndarray
    psi: np.ndarray
    xbar_in: np.ndarray
    xbar_rec: np.ndarray
    zbar: np.ndarray
    y: np.ndarray
    pi: np.ndarray


@dataclasses.dataclass(frozen=True)
class Gradients:
    """Gradients (summed over the batch) of ``w_in``, ``w_rec`` and ``w_out``."""

    w_in: np.ndarray
    w_rec: np.ndarray
    w_out: np.ndarray


def _softmax(y: np.ndarray) -> np.ndarray:
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_shapes(w_in, w_rec, w_out, x) -> None:
    n_rec = w_rec.shape[0]
    if w_rec.shape != (n_rec, n_rec) or w_in.shape[0] != n_rec or w_out.shape[1] != n_rec:
        raise ValidationError(
            "eprop weights",
            "w_in (n_rec, n_in), w_rec (n_rec, n_rec), w_out (n_out, n_rec)",
            (w_in.shape, w_rec.shape, w_out.shape),
        )
    if x.ndim != 3 or x.shape[2] != w_in.shape[1]:
        raise ValidationError("eprop inputs x", "shape (T, batch, n_in)", x.shape)
    if np.any(np.diag(w_rec) != 0):
        raise ValidationError("eprop w_rec", "a zero diagonal (no self-connections)", "non-zero")


def forward(
    w_in: np.ndarray, w_rec: np.ndarray, w_out: np.ndarray, x: np.ndarray, net: Network
) -> Trajectory:
    """Run the network on inputs ``x`` (shape ``(T, batch, n_in)``) from rest.

    Every state starts at 0 (``v``, ``a``, ``z``, traces, readout); the refractory
    counter starts free.
    """
    w_in, w_rec, w_out, x = (np.asarray(a, dtype=float) for a in (w_in, w_rec, w_out, x))
    _check_shapes(w_in, w_rec, w_out, x)
    T, nb, _ = x.shape
    n, n_out = w_rec.shape[0], w_out.shape[0]
    beta = np.broadcast_to(net.beta, (n,))
    out = {k: np.zeros((T, nb, n)) for k in ("v", "a", "z", "psi", "xbar_rec", "zbar")}
    xbar_in = np.zeros(x.shape)
    y_all = np.zeros((T, nb, n_out))
    v = np.zeros((nb, n))
    a = np.zeros((nb, n))
    z = np.zeros((nb, n))
    r = np.full((nb, n), -1)
    xb_in = np.zeros((nb, x.shape[2]))
    xb_rec = np.zeros((nb, n))
    zbar = np.zeros((nb, n))
    y = np.zeros((nb, n_out))
    for t in range(T):
        v = net.alpha * v + x[t] @ w_in.T + z @ w_rec.T - net.v_th * z
        a = net.rho * a + z
        xb_in = net.alpha * xb_in + x[t]
        xb_rec = net.alpha * xb_rec + z
        r = r - 1
        free = r < 0
        u = v - (net.v_th + beta * a)
        z = ((u > 0) & free).astype(float)
        psi = (net.gamma / net.v_th) * np.maximum(0.0, 1.0 - np.abs(u) / net.v_th) * free
        r = np.where(z > 0, net.n_ref, r)
        zbar = net.kappa * zbar + z
        y = net.kappa * y + z @ w_out.T
        for key, val in (("v", v), ("a", a), ("z", z), ("psi", psi)):
            out[key][t] = val
        out["xbar_rec"][t] = xb_rec
        out["zbar"][t] = zbar
        xbar_in[t] = xb_in
        y_all[t] = y
    return Trajectory(xbar_in=xbar_in, y=y_all, pi=_softmax(y_all), **out)


def _one_hot(target: np.ndarray, n_out: int) -> np.ndarray:
    target = np.asarray(target)
    if target.ndim == 3:
        return target.astype(float)
    return np.eye(n_out)[target]


def output_error(traj: Trajectory, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``err[t] = mask[t] (pi[t] - target[t])``, shape ``(T, batch, n_out)``.

    ``target``: class indices ``(T, batch)`` or one-hot ``(T, batch, n_out)``; ``mask``
    ``(T, batch)``, 1 where the loss counts. ``err`` is ``dE/dy[t]`` of the
    cross-entropy loss ``E``.
    """
    tgt = _one_hot(target, traj.pi.shape[2])
    return np.asarray(mask, dtype=float)[..., None] * (traj.pi - tgt)


def loss(traj: Trajectory, target: np.ndarray, mask: np.ndarray) -> float:
    """``E = sum_t mask[t] CE(pi[t], target[t])``, summed over the batch."""
    tgt = _one_hot(target, traj.pi.shape[2])
    logp = np.log(np.maximum(traj.pi, 1e-300))
    return float(-(np.asarray(mask, dtype=float)[..., None] * tgt * logp).sum())


def learning_signal(err: np.ndarray, feedback: np.ndarray) -> np.ndarray:
    """``L_j[t] = sum_k B[j,k] err_k[t]`` for feedback weights ``B`` (n_rec, n_out)."""
    return err @ np.asarray(feedback, dtype=float).T


def eligibility_gradients(
    traj: Trajectory, L: np.ndarray, net: Network, *, filtered: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``sum_t L_j[t] ebar_ji[t]`` for the input and recurrent weights.

    Parameters
    ----------
    traj
        The forward pass.
    L
        Learning signal, shape ``(T, batch, n_rec)``.
    net
        The network's constants.
    filtered
        Use the ``kappa``-filtered traces ``ebar`` (online e-prop) or the traces ``e``
        themselves (with the exact learning signal ``dE/dz``).

    Returns
    -------
    (g_in, g_rec)
        Summed over the batch; ``g_rec``'s diagonal is 0.
    """
    T, nb, n = traj.z.shape
    beta = np.broadcast_to(net.beta, (n,))
    kap = net.kappa if filtered else 0.0
    grads = []
    for xbar in (traj.xbar_in, traj.xbar_rec):
        ea = np.zeros((nb, n, xbar.shape[2]))
        ebar = np.zeros_like(ea)
        g = np.zeros_like(ea)
        for t in range(T):
            e = traj.psi[t][:, :, None] * (xbar[t][:, None, :] - beta[None, :, None] * ea)
            ebar = kap * ebar + e
            g += L[t][:, :, None] * ebar
            ea = net.rho * ea + e
        grads.append(g.sum(axis=0))
    g_in, g_rec = grads
    np.fill_diagonal(g_rec, 0.0)
    return g_in, g_rec


def eprop_gradients(
    traj: Trajectory,
    target: np.ndarray,
    mask: np.ndarray,
    feedback: np.ndarray,
    net: Network,
) -> Gradients:
    """Online e-prop's gradients: learning signal ``B err``, ``kappa``-filtered traces.

    ``feedback`` is ``B`` (n_rec, n_out): ``w_out.T`` for symmetric e-prop.
    """
    err = output_error(traj, target, mask)
    g_in, g_rec = eligibility_gradients(traj, learning_signal(err, feedback), net)
    g_out = np.einsum("tbk,tbj->kj", err, traj.zbar)
    return Gradients(w_in=g_in, w_rec=g_rec, w_out=g_out)


def rate_regularisation_gradients(
    traj: Trajectory, net: Network, *, f_target: float, c_reg: float
) -> tuple[np.ndarray, np.ndarray]:
    """e-prop's gradient of ``E_reg = c_reg / 2 sum_b sum_j (f_bj - f_target)^2 T``.

    ``f_bj = sum_t z_bj[t] / T`` is neuron ``j``'s rate in trial ``b`` (spikes per step)
    and ``f_target`` the target rate (spikes per step). e-prop's gradient is
    ``c_reg sum_b (f_bj - f_target) sum_t e_bji[t]`` (the rate's learning signal is known
    only at the trial's end, so it multiplies the summed, unfiltered traces, as in Bellec
    et al. 2020). Returns ``(g_in, g_rec)``.
    """
    T = traj.z.shape[0]
    rate_err = c_reg * (traj.z.sum(axis=0) / T - f_target)  # (batch, n)
    L = np.broadcast_to(rate_err, traj.z.shape)
    return eligibility_gradients(traj, L, net, filtered=False)


def _backward(traj, err, w_rec, w_out, net):
    """Adjoints of the surrogate graph: ``dE/dz`` (network share), ``dE/dv``, ``dE/dy``."""
    T, nb, n = traj.z.shape
    beta = np.broadcast_to(net.beta, (n,))
    dy = np.zeros_like(err)
    dz_net = np.zeros((T, nb, n))
    dv = np.zeros((T, nb, n))
    dy_next = np.zeros(err.shape[1:])
    dv_next = np.zeros((nb, n))
    da_next = np.zeros((nb, n))
    for t in range(T - 1, -1, -1):
        dy_t = err[t] + net.kappa * dy_next
        # z_j[t] reaches E through the readout and the other neurons' v[t+1] ...
        net_share = dy_t @ w_out + dv_next @ w_rec
        # ... and through its own a_j[t+1] (the eligibility trace's share)
        dz_t = net_share + da_next
        dv_t = net.alpha * dv_next + traj.psi[t] * dz_t
        da_t = net.rho * da_next - beta * traj.psi[t] * dz_t
        dy[t], dz_net[t], dv[t] = dy_t, net_share, dv_t
        dy_next, dv_next, da_next = dy_t, dv_t, da_t
    return dz_net, dv, dy


def bptt_gradients(
    traj: Trajectory,
    x: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    w_rec: np.ndarray,
    w_out: np.ndarray,
    net: Network,
) -> Gradients:
    """The surrogate gradient ``dE/dW`` by back-propagation through time (summed over
    the batch)."""
    err = output_error(traj, target, mask)
    _, dv, dy = _backward(traj, err, np.asarray(w_rec, float), np.asarray(w_out, float), net)
    x = np.asarray(x, dtype=float)
    g_in = np.einsum("tbj,tbi->ji", dv, x)
    # v[t] depends on z[t-1]: pair dv[t] with z[t-1]
    g_rec = np.einsum("tbj,tbi->ji", dv[1:], traj.z[:-1])
    np.fill_diagonal(g_rec, 0.0)
    g_out = np.einsum("tbk,tbj->kj", dy, traj.z)
    return Gradients(w_in=g_in, w_rec=g_rec, w_out=g_out)


def exact_learning_signal(
    traj: Trajectory,
    target: np.ndarray,
    mask: np.ndarray,
    w_rec: np.ndarray,
    w_out: np.ndarray,
    net: Network,
) -> np.ndarray:
    """``dE/dz_j[t]`` through the readout and the other neurons (shape ``(T, batch, n)``).

    With it, :func:`eligibility_gradients` (``filtered=False``) equals
    :func:`bptt_gradients`: the factorisation of Bellec et al. (2020), eq. (1).
    """
    err = output_error(traj, target, mask)
    dz_net, _, _ = _backward(traj, err, np.asarray(w_rec, float), np.asarray(w_out, float), net)
    return dz_net


def linearised_loss(
    w_in: np.ndarray,
    w_rec: np.ndarray,
    w_out: np.ndarray,
    x: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    net: Network,
    frozen: Trajectory,
) -> float:
    """The loss of the network with its spikes frozen at ``frozen`` and linearised.

    Every spike becomes ``z[t] = z0[t] + psi0[t] (u[t] - u0[t])`` with ``u = v - A`` and
    ``z0, psi0, u0`` from the trajectory ``frozen``; the reset keeps ``z0``. At the
    weights of ``frozen`` this is the network's own loss, and its derivative with respect
    to the weights is the surrogate gradient, so central finite differences of this
    function check :func:`bptt_gradients` without a backward pass.
    """
    x = np.asarray(x, dtype=float)
    T, nb, _ = x.shape
    n = w_rec.shape[0]
    beta = np.broadcast_to(net.beta, (n,))
    u0 = frozen.v - (net.v_th + beta * frozen.a)
    v = np.zeros((nb, n))
    a = np.zeros((nb, n))
    z = np.zeros((nb, n))
    z0_prev = np.zeros((nb, n))
    y = np.zeros((nb, w_out.shape[0]))
    ys = np.zeros((T, nb, w_out.shape[0]))
    for t in range(T):
        v = net.alpha * v + x[t] @ w_in.T + z @ w_rec.T - net.v_th * z0_prev
        a = net.rho * a + z
        u = v - (net.v_th + beta * a)
        z = frozen.z[t] + frozen.psi[t] * (u - u0[t])
        z0_prev = frozen.z[t]
        y = net.kappa * y + z @ w_out.T
        ys[t] = y
    pi = _softmax(ys)
    tgt = _one_hot(target, pi.shape[2])
    return float(-(np.asarray(mask, float)[..., None] * tgt * np.log(pi)).sum())


def adam_step(
    w: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    k: int,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam update, the ``k``-th (``k >= 1``): returns ``(w, m, s)``.

    ``m = beta1 m + (1 - beta1) g``; ``s = beta2 s + (1 - beta2) g^2``;
    ``w -= lr (m / (1 - beta1^k)) / (sqrt(s / (1 - beta2^k)) + eps)``.
    """
    m = beta1 * m + (1 - beta1) * grad
    s = beta2 * s + (1 - beta2) * grad**2
    w = w - lr * (m / (1 - beta1**k)) / (np.sqrt(s / (1 - beta2**k)) + eps)
    return w, m, s
