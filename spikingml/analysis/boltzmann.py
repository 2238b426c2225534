r"""Boltzmann machines: exact probabilities, Gibbs sampling, and the states of spike trains.

The abstract twin of :mod:`spikingml.circuits.neural_sampling` (Buesing et al. 2011). A
Boltzmann machine over binary variables :math:`z \in \{0, 1\}^n` with symmetric weights
``W`` (zero diagonal) and biases ``b`` gives every state the probability

.. math:: p(z) = \frac{1}{Z} \exp\Big(b^\top z + \tfrac12 z^\top W z\Big).

For :math:`n \le 20` every state can be enumerated and :math:`p` computed exactly
(:func:`exact_distribution`, :func:`conditional_distribution`). Gibbs sampling draws one
variable at a time from :math:`p(z_k = 1 \mid z_{\setminus k}) = \sigma(b_k + \sum_j W_{kj}
z_j)` (:func:`gibbs_state_counts`). A restricted Boltzmann machine (RBM) has visible units
``v`` and hidden units ``h`` with weights only between the two layers; its block Gibbs
sampler draws all of ``h`` given ``v``, then the missing part of ``v`` given ``h``
(:func:`rbm_gibbs_fill_in`).

A state is coded by the integer :math:`\sum_k z_k 2^k` (unit 0 is the lowest bit).

Spike trains as samples
-----------------------
In neural sampling, unit ``k`` is "on" (:math:`z_k = 1`) for ``tau_steps`` time steps
after each of its spikes: a spike at step ``s`` sets :math:`z_k = 1` at steps
``s + 1, ..., s + tau_steps``. :func:`state_step_counts` turns spike steps into the number
of steps spent in every joint state, :func:`on_fractions` into each unit's fraction of
time on (its marginal).

Divergences
-----------
:func:`kl_divergence` is :math:`D_{KL}(q \| p) = \sum_s q_s \log(q_s / p_s)` of sampled
frequencies ``q`` from exact probabilities ``p`` (states never visited add 0). Estimated
from ``n`` independent samples it is biased upwards by about :math:`(K - 1) / (2 n)` for
``K`` states (all with :math:`n p_s \gg 1`; :func:`kl_bias_formula`);
:func:`iid_kl_floor` measures the same floor by drawing ``n`` independent samples from
``p`` itself, which also holds for states too rare to be seen.

References
----------
Hinton, G. E. & Sejnowski, T. J. (1986). Learning and relearning in Boltzmann machines.
In Parallel Distributed Processing, vol. 1, ch. 7. MIT Press.

Geman, S. & Geman, D. (1984). Stochastic relaxation, Gibbs distributions, and the
Bayesian restoration of images. IEEE Trans. Pattern Anal. Mach. Intell. 6, 721-741.

Buesing, L., Bill, J., Nessler, B. & Maass, W. (2011). Neural dynamics as sampling: a
model for stochastic computation in recurrent networks of spiking neurons. PLoS Comput.
Biol. 7, e1002211.

Smolensky, P. (1986); Hinton, G. E. (2002). Training products of experts by minimizing
contrastive divergence. Neural Computation 14, 1771-1800.
"""

from __future__ import annotations

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "MAX_ENUMERATED_UNITS",
    "all_states",
    "conditional_distribution",
    "exact_distribution",
    "fill_in_accuracy",
    "gibbs_state_counts",
    "gibbs_state_sequence",
    "iid_kl_floor",
    "kl_bias_formula",
    "kl_divergence",
    "on_fractions",
    "random_boltzmann_machine",
    "rbm_gibbs_fill_in",
    "sigmoid",
    "state_codes",
    "state_step_counts",
]

#: Most units :func:`exact_distribution` enumerates (2**20 states).
MAX_ENUMERATED_UNITS = 20


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function :math:`1 / (1 + e^{-x})`, without overflow warnings."""
    x = np.asarray(x, dtype=float)
    return np.exp(-np.logaddexp(0.0, -x))


def _check_model(W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    n = b.shape[0] if b.ndim == 1 else -1
    if W.shape != (n, n):
        raise ValidationError("W", f"a square matrix of shape ({n}, {n}) matching b", W.shape)
    if not np.allclose(W, W.T) or np.any(np.diag(W) != 0):
        raise ValidationError("W", "a symmetric matrix with a zero diagonal", "another matrix")
    return W, b


def all_states(n: int) -> np.ndarray:
    """Every state of ``n`` binary units, row ``s`` the state coded by ``s``.

    Returns
    -------
    ndarray of uint8, shape (2**n, n)
        ``states[s, k]`` is bit ``k`` of ``s``.
    """
    if not 0 <= n <= MAX_ENUMERATED_UNITS:
        raise ValidationError("n", f"a number of units in [0, {MAX_ENUMERATED_UNITS}]", n)
    codes = np.arange(2**n)
    return ((codes[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def state_codes(z: np.ndarray) -> np.ndarray:
    """The integer code :math:`\\sum_k z_k 2^k` of each row of ``z``."""
    z = np.asarray(z)
    return (z.astype(np.int64) << np.arange(z.shape[-1])).sum(axis=-1)


def exact_distribution(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:math:`p(z) \\propto \\exp(b^\\top z + z^\\top W z / 2)` for every state.

    Parameters
    ----------
    W : ndarray, shape (n, n)
        Symmetric weights with a zero diagonal.
    b : ndarray, shape (n,)
        Biases.

    Returns
    -------
    ndarray, shape (2**n,)
        Probability of every state, indexed by its code (:func:`state_codes`).
    """
    W, b = _check_model(W, b)
    z = all_states(len(b)).astype(float)
    log_p = z @ b + 0.5 * np.einsum("si,ij,sj->s", z, W, z)
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


def conditional_distribution(
    W: np.ndarray, b: np.ndarray, clamped: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """:math:`p(z_F \\mid z_C = \\text{values})` over the free units ``F``.

    Clamping units ``C`` leaves a Boltzmann machine over the free units with the weights
    among them and biases :math:`b_F + W_{FC} z_C`.

    Parameters
    ----------
    W, b : ndarray
        The model (:func:`exact_distribution`).
    clamped : ndarray of int
        Indices of the clamped units.
    values : ndarray of {0, 1}
        Their values.

    Returns
    -------
    ndarray, shape (2**n_free,)
        Probability of every state of the free units (in increasing index order),
        indexed by its code.
    """
    W, b = _check_model(W, b)
    clamped = np.asarray(clamped, dtype=int)
    values = np.asarray(values, dtype=float)
    if clamped.shape != values.shape or np.any(np.isin(values, (0, 1), invert=True)):
        raise ValidationError("values", "one value in {0, 1} per clamped unit", values)
    free = np.setdiff1d(np.arange(len(b)), clamped)
    bias = b[free] + W[np.ix_(free, clamped)] @ values
    return exact_distribution(W[np.ix_(free, free)], bias)


def random_boltzmann_machine(
    n: int, rng: np.random.Generator, weight_std: float, bias_mean: float, bias_std: float
) -> tuple[np.ndarray, np.ndarray]:
    """A random model: ``W_kj = W_jk ~ N(0, weight_std**2)`` (k != j), ``b_k ~ N(bias_mean,
    bias_std**2)``.

    Returns
    -------
    W : ndarray, shape (n, n)
        Symmetric, zero diagonal.
    b : ndarray, shape (n,)
    """
    upper = np.triu(rng.normal(0.0, weight_std, (n, n)), k=1)
    b = rng.normal(bias_mean, bias_std, n)
    return upper + upper.T, b


def kl_divergence(q: np.ndarray, p: np.ndarray) -> float:
    """:math:`D_{KL}(q \\| p) = \\sum_s q_s \\log(q_s / p_s)` in nats (``q`` normalised here).

    ``q`` are sampled frequencies (or counts), ``p`` exact probabilities; states with
    :math:`q_s = 0` add nothing.
    """
    q, p = np.asarray(q, dtype=float), np.asarray(p, dtype=float)
    if q.shape != p.shape or q.sum() <= 0:
        raise ValidationError("q", f"non-negative frequencies of shape {p.shape}", q.shape)
    q = q / q.sum()
    seen = q > 0
    if np.any(p[seen] <= 0):
        return float("inf")
    return float(np.sum(q[seen] * np.log(q[seen] / p[seen])))


def kl_bias_formula(n_states: int, n_samples: float) -> float:
    """The plug-in KL's expected value for independent samples, :math:`(K - 1) / (2 n)`."""
    return (n_states - 1) / (2.0 * n_samples)


def iid_kl_floor(
    p: np.ndarray, n_samples: int, rng: np.random.Generator, repeats: int = 20
) -> float:
    """Mean :math:`D_{KL}(\\hat q \\| p)` of ``n_samples`` independent draws from ``p`` itself.

    The KL that a perfect sampler of independent samples would show at this sample count:
    the finite-sample floor of :func:`kl_divergence`.
    """
    p = np.asarray(p, dtype=float)
    draws = rng.multinomial(int(n_samples), p / p.sum(), size=repeats)
    return float(np.mean([kl_divergence(q, p) for q in draws]))


def gibbs_state_sequence(
    W: np.ndarray,
    b: np.ndarray,
    n_sweeps: int,
    rng: np.random.Generator,
    burn_in: int = 0,
) -> np.ndarray:
    """Sequential single-site Gibbs sampling: the code of the state after every sweep.

    One sweep updates every unit once, in index order, from
    :math:`p(z_k = 1 \\mid z_{\\setminus k}) = \\sigma(b_k + \\sum_j W_{kj} z_j)`; the state
    after each sweep is one sample. The chain starts with every unit off; the first
    ``burn_in`` sweeps are not returned.

    Returns
    -------
    ndarray of int, shape (n_sweeps,)
        The code (:func:`state_codes`) of every sample.
    """
    W, b = _check_model(W, b)
    n = len(b)
    uniforms = rng.random((burn_in + n_sweeps, n))
    z = np.zeros(n)
    codes = np.empty(n_sweeps, dtype=np.int64)
    powers = 1 << np.arange(n)
    for sweep in range(burn_in + n_sweeps):
        for k in range(n):
            z[k] = uniforms[sweep, k] < 1.0 / (1.0 + np.exp(-(b[k] + W[k] @ z)))
        if sweep >= burn_in:
            codes[sweep - burn_in] = int(powers @ z)
    return codes


def gibbs_state_counts(
    W: np.ndarray,
    b: np.ndarray,
    n_sweeps: int,
    rng: np.random.Generator,
    burn_in: int = 0,
) -> np.ndarray:
    """How often each state is seen in :func:`gibbs_state_sequence`.

    Returns
    -------
    ndarray of int, shape (2**n,)
        Number of samples in every state.
    """
    codes = gibbs_state_sequence(W, b, n_sweeps, rng, burn_in)
    return np.bincount(codes, minlength=2 ** len(b))


def state_step_counts(
    indices: np.ndarray,
    steps: np.ndarray,
    n_units: int,
    tau_steps: int,
    start: int,
    stop: int,
) -> np.ndarray:
    """Steps spent in every joint state, from spikes (``z_k = 1`` for ``tau_steps`` steps).

    Parameters
    ----------
    indices : ndarray of int
        Unit of each spike, in ``range(n_units)``.
    steps : ndarray of int
        Time step of each spike (at most one spike per unit within ``tau_steps`` steps).
    n_units : int
        Number of units (at most :data:`MAX_ENUMERATED_UNITS`).
    tau_steps : int
        Steps a unit stays on after a spike.
    start, stop : int
        The window of steps ``[start, stop)`` counted.

    Returns
    -------
    ndarray of int, shape (2**n_units,)
        Number of steps in ``[start, stop)`` spent in every state; they sum to
        ``stop - start``.
    """
    indices = np.asarray(indices, dtype=np.int64)
    steps = np.asarray(steps, dtype=np.int64)
    if n_units > MAX_ENUMERATED_UNITS:
        raise ValidationError("n_units", f"<= {MAX_ENUMERATED_UNITS}", n_units)
    if not 0 <= start < stop:
        raise ValidationError("start, stop", "0 <= start < stop", (start, stop))
    # a unit turns on at s + 1 and off at s + 1 + tau_steps; the bit of every unit is
    # the running sum of its on (+1) and off (-1) changes (a spike exactly tau_steps after
    # the last one: off and on at the same step, the unit stays on)
    change_steps = np.concatenate([steps + 1, steps + 1 + tau_steps, [start, stop]])
    deltas = np.concatenate([np.ones(len(steps)), -np.ones(len(steps)), [0, 0]]).astype(np.int64)
    units = np.concatenate([indices, indices, [0, 0]])
    order = np.argsort(change_steps, kind="stable")
    change_steps, deltas, units = change_steps[order], deltas[order], units[order]
    weight = deltas << units  # the change of the code, while every count is 0 or 1
    code_after = np.cumsum(weight)
    # the state from each distinct change step to the next
    last_of_step = np.r_[change_steps[1:] != change_steps[:-1], True]
    at = change_steps[last_of_step]
    codes = code_after[last_of_step]
    lo = np.clip(at[:-1], start, stop)
    hi = np.clip(at[1:], start, stop)
    counts = np.bincount(codes[:-1], weights=hi - lo, minlength=2**n_units)
    return np.rint(counts).astype(np.int64)


def on_fractions(
    indices: np.ndarray,
    steps: np.ndarray,
    n_units: int,
    tau_steps: int,
    start: int,
    stop: int,
) -> np.ndarray:
    """Each unit's fraction of the steps ``[start, stop)`` spent on (its sampled marginal).

    Same conventions as :func:`state_step_counts`, for any number of units.
    """
    indices = np.asarray(indices, dtype=np.int64)
    steps = np.asarray(steps, dtype=np.int64)
    if not 0 <= start < stop:
        raise ValidationError("start, stop", "0 <= start < stop", (start, stop))
    lo = np.clip(steps + 1, start, stop)
    hi = np.clip(steps + 1 + tau_steps, start, stop)
    on = np.bincount(indices, weights=hi - lo, minlength=n_units)
    return on / (stop - start)


def rbm_gibbs_fill_in(
    W: np.ndarray,
    b_visible: np.ndarray,
    b_hidden: np.ndarray,
    v_clamped: np.ndarray,
    observed: np.ndarray,
    n_sweeps: int,
    rng: np.random.Generator,
    burn_in: int = 0,
) -> np.ndarray:
    """Block Gibbs sampling of an RBM with some visible units clamped: the visible marginals.

    One sweep draws every hidden unit from :math:`\\sigma(b_h + v^\\top W)`, then every
    unobserved visible unit from :math:`\\sigma(b_v + W h)`; the observed ones keep their
    values. The unobserved visible units start off; the visible state after each sweep
    past ``burn_in`` is one sample.

    Parameters
    ----------
    W : ndarray, shape (n_visible, n_hidden)
        Weights between the layers.
    b_visible, b_hidden : ndarray
        Biases.
    v_clamped : ndarray, shape (n_images, n_visible)
        Values of the observed units (the others are ignored).
    observed : ndarray of bool, shape (n_visible,)
        Which visible units are clamped.
    n_sweeps, burn_in : int
        Samples counted, and sweeps run before them.

    Returns
    -------
    ndarray, shape (n_images, n_visible)
        Fraction of samples in which every visible unit was on.
    """
    observed = np.asarray(observed, dtype=bool)
    v = np.where(observed, np.asarray(v_clamped, dtype=float), 0.0)
    total = np.zeros_like(v)
    for sweep in range(burn_in + n_sweeps):
        h = rng.random((len(v), W.shape[1])) < sigmoid(v @ W + b_hidden)
        v_new = rng.random(v.shape) < sigmoid(h @ W.T + b_visible)
        v = np.where(observed, v, v_new)
        if sweep >= burn_in:
            total += v
    return total / n_sweeps


def fill_in_accuracy(marginals: np.ndarray, truth: np.ndarray, missing: np.ndarray) -> float:
    """Fraction of the missing pixels (all images) where ``marginal > 0.5`` gives the truth."""
    missing = np.asarray(missing, dtype=bool)
    predicted = np.asarray(marginals)[:, missing] > 0.5
    return float(np.mean(predicted == (np.asarray(truth)[:, missing] > 0.5)))
