r"""Hopfield networks: the abstract twin of :mod:`spikingml.circuits.attractor`.

An associative memory stores ``P`` patterns in the symmetric weights of ``N`` binary
units and completes a corrupted cue by letting the units settle (Hopfield 1982). Two
pattern statistics are treated here.

Dense patterns (:math:`\xi_i^\mu = \pm 1`, each with probability 1/2), the classical
Hebb rule and sign units:

.. math:: W_{ij} = \frac{1}{N} \sum_\mu \xi_i^\mu \xi_j^\mu \; (W_{ii} = 0), \qquad
          s_i \leftarrow \operatorname{sign}\Big(\sum_j W_{ij} s_j\Big).

Retrieval breaks down at the load :math:`\alpha_c = P/N \approx 0.138` for large ``N``
(Amit, Gutfreund & Sompolinsky 1985).

Sparse patterns (:math:`\xi_i^\mu \in \{0, 1\}`, exactly :math:`fN` active units per
pattern, coding level ``f``), the covariance rule and threshold units
(Tsodyks & Feigelman 1988):

.. math:: W_{ij} = \frac{1}{N f (1 - f)} \sum_\mu (\xi_i^\mu - f)(\xi_j^\mu - f)
          \; (W_{ii} = 0), \qquad s_i \leftarrow \Theta\Big(\sum_j W_{ij} s_j - \theta\Big).

In the pattern state :math:`s = \xi^\mu` the field is :math:`1 - f` on the pattern's
units and :math:`-f` on the others (plus cross-talk), so a threshold near
:math:`1/2 - f` separates them. :func:`bounded_covariance_weights` applies the same
rule one pattern at a time to weights kept in ``[0, w_max]`` around an offset ``w0``
(the rule of :class:`spikingml.plasticity.covariance.BoundedCovariance`, which the
circuit learns with); with the offset removed (what uniform feedback inhibition does in
the circuit) and no weight at a bound it equals the covariance rule.

Updates are asynchronous: every unit, in a random order drawn anew for every sweep and
every cue, takes the sign (or threshold) of its current field, until a sweep changes
nothing. All cues of one network are settled side by side (NumPy over the cue axis).

Metrics
-------
Overlap of a state ``s`` with pattern :math:`\xi^\mu`: for dense patterns
:math:`m = \frac{1}{N} \sum_i \xi_i^\mu s_i` (:func:`overlap_dense`); for sparse patterns
the Pearson correlation of :math:`\xi^\mu` and ``s`` over the units
(:func:`overlap_sparse`), which for a binary state of coding level ``f`` is the
normalised overlap :math:`\frac{1}{N f (1 - f)} \sum_i (\xi_i^\mu - f) s_i` of
Tsodyks & Feigelman, and which also applies to spike counts (scale-free; a silent
state has overlap 0).

Cue noise: for dense patterns a fraction ``q`` of the ``N`` units is flipped
(:func:`flip_dense`). For sparse patterns a fraction ``q`` of the pattern's :math:`fN`
active units is switched off and as many randomly chosen inactive units are switched
on (:func:`flip_sparse`), which keeps the coding level; a cue with noise ``q`` has
overlap :math:`(1 - q - f)/(1 - f)` with its pattern.

:func:`critical_load` is the load where the mean final overlap from cues of a given
noise first falls below 0.9, interpolated linearly between the two grid loads around
the crossing. :func:`classify_states` sorts final states into retrieved patterns,
other patterns (for dense ones, a reversed pattern too), mixtures and spurious states.

References
----------
Hopfield, J. J. (1982). Neural networks and physical systems with emergent collective
computational abilities. PNAS 79, 2554-2558.

Amit, D. J., Gutfreund, H. & Sompolinsky, H. (1985). Storing infinite numbers of
patterns in a spin-glass model of neural networks. Phys. Rev. Lett. 55, 1530-1533.

Tsodyks, M. V. & Feigelman, M. V. (1988). The enhanced storage capacity in neural
networks with low activity level. Europhys. Lett. 6, 101-105.
"""

from __future__ import annotations

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "dense_patterns",
    "sparse_patterns",
    "hebb_weights",
    "covariance_weights",
    "bounded_covariance_weights",
    "flip_dense",
    "flip_sparse",
    "settle",
    "overlap_dense",
    "overlap_sparse",
    "critical_load",
    "classify_states",
    "dense_capacity_curve",
]


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def dense_patterns(n: int, p: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """``p`` random patterns of ``n`` units, each unit +1 or -1 with probability 1/2.

    Returns
    -------
    ndarray, shape (p, n)
    """
    return np.where(_rng(rng).random((p, n)) < 0.5, -1.0, 1.0)


def sparse_patterns(
    n: int, p: int, f: float, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """``p`` random 0/1 patterns with exactly ``round(f n)`` active units each.

    The patterns overlap at random (a unit belongs to about ``f p`` of them).

    Returns
    -------
    ndarray, shape (p, n)
    """
    k = round(f * n)
    if not 1 <= k < n:
        raise ValidationError("sparse_patterns(f)", f"a coding level with 1 <= f n < {n}", f)
    rng = _rng(rng)
    out = np.zeros((p, n))
    for mu in range(p):
        out[mu, rng.choice(n, k, replace=False)] = 1.0
    return out


def hebb_weights(patterns: np.ndarray) -> np.ndarray:
    """The classical Hebb rule for dense patterns, ``W = xi^T xi / N`` with a zero diagonal."""
    xi = np.asarray(patterns, dtype=float)
    w = xi.T @ xi / xi.shape[1]
    np.fill_diagonal(w, 0.0)
    return w


def covariance_weights(patterns: np.ndarray, f: float) -> np.ndarray:
    """The covariance rule of Tsodyks & Feigelman (1988), normalised by ``N f (1 - f)``."""
    d = np.asarray(patterns, dtype=float) - f
    w = d.T @ d / (d.shape[1] * f * (1 - f))
    np.fill_diagonal(w, 0.0)
    return w


def bounded_covariance_weights(
    activities: np.ndarray, f: float, eta: float, w0: float, w_max: float
) -> np.ndarray:
    """The bounded covariance rule applied one presentation after another.

    ``w <- clip(w + eta (a_i - f)(a_j - f), 0, w_max)`` from ``w = w0``, for every
    presentation's activity vector ``a`` (0/1 patterns, or normalised spike counts);
    the diagonal is ignored (the circuit has no self-connections) and returned as 0.

    Parameters
    ----------
    activities : ndarray, shape (p, n)
        Activity of every unit in every presentation, in presentation order.
    f : float
        Coding level (the rule's reference activity).
    eta, w0, w_max : float
        Learning rate, initial weight and upper bound.

    Returns
    -------
    ndarray, shape (n, n)
        ``w[i, j]``: weight from unit ``j`` to unit ``i`` (symmetric).
    """
    a = np.asarray(activities, dtype=float)
    w = np.full((a.shape[1], a.shape[1]), float(w0))
    for row in a:
        d = row - f
        w += eta * np.outer(d, d)
        np.clip(w, 0.0, w_max, out=w)
    np.fill_diagonal(w, 0.0)
    return w


def flip_dense(
    patterns: np.ndarray, q: float, rng: np.random.Generator | int | None
) -> np.ndarray:
    """Copies of +-1 ``patterns`` with ``round(q N)`` units of each flipped at random."""
    xi = np.array(patterns, dtype=float, ndmin=2)
    rng = _rng(rng)
    n = xi.shape[1]
    k = round(q * n)
    for row in xi:
        row[rng.choice(n, k, replace=False)] *= -1
    return xi


def flip_sparse(
    patterns: np.ndarray, q: float, rng: np.random.Generator | int | None
) -> np.ndarray:
    """Copies of 0/1 ``patterns`` with a fraction ``q`` of the active units moved.

    ``round(q k)`` of a pattern's ``k`` active units are switched off and as many of
    its inactive units, chosen at random, switched on: the coding level is kept.
    """
    xi = np.array(patterns, dtype=float, ndmin=2)
    rng = _rng(rng)
    for row in xi:
        on = np.flatnonzero(row > 0.5)
        off = np.flatnonzero(row <= 0.5)
        k = round(q * len(on))
        row[rng.choice(on, k, replace=False)] = 0.0
        row[rng.choice(off, k, replace=False)] = 1.0
    return xi


def settle(
    w: np.ndarray,
    cues: np.ndarray,
    rng: np.random.Generator | int | None,
    theta: float | None = None,
    max_sweeps: int = 50,
) -> np.ndarray:
    """Settle every cue by asynchronous updates in random order until nothing changes.

    Parameters
    ----------
    w : ndarray, shape (n, n)
        Weights (``w[i, j]`` from ``j`` to ``i``).
    cues : ndarray, shape (k, n)
        Initial states: +-1 (sign units, ``theta`` None) or 0/1 (threshold units).
    rng : Generator or int or None
        Draws the update orders (one permutation per sweep and cue).
    theta : float, optional
        Threshold of 0/1 units; ``None`` for +-1 sign units (a field of exactly 0
        leaves the unit as it is).
    max_sweeps : int
        Upper bound on the sweeps (a sweep updates every unit once).

    Returns
    -------
    ndarray, shape (k, n)
        The final states.
    """
    rng = _rng(rng)
    w = np.asarray(w, dtype=float)
    s = np.array(cues, dtype=float, ndmin=2).T.copy()  # (n, k)
    n, k = s.shape
    h = w @ s
    cols = np.arange(k)
    for _ in range(max_sweeps):
        order = rng.permuted(np.broadcast_to(np.arange(n), (k, n)), axis=1)
        changed = False
        for t in range(n):
            idx = order[:, t]
            field = h[idx, cols]
            old = s[idx, cols]
            if theta is None:
                new = np.where(field > 0, 1.0, np.where(field < 0, -1.0, old))
            else:
                new = (field > theta).astype(float)
            delta = new - old
            moved = np.flatnonzero(delta)
            if moved.size:
                changed = True
                s[idx[moved], moved] = new[moved]
                h[:, moved] += w[:, idx[moved]] * delta[moved]
        if not changed:
            break
    return s.T


def overlap_dense(patterns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Overlaps ``m[a, mu] = (1/N) sum_i xi_i^mu s_i`` of states ``a`` with patterns ``mu``."""
    xi = np.array(patterns, dtype=float, ndmin=2)
    s = np.array(states, dtype=float, ndmin=2)
    return s @ xi.T / xi.shape[1]


def overlap_sparse(patterns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Pearson correlation ``m[a, mu]`` of state (or spike-count vector) ``a`` with pattern ``mu``.

    A constant state (silent, or every unit alike) has overlap 0.
    """
    xi = np.array(patterns, dtype=float, ndmin=2)
    s = np.array(states, dtype=float, ndmin=2)
    xc = xi - xi.mean(axis=1, keepdims=True)
    sc = s - s.mean(axis=1, keepdims=True)
    norm = np.outer(np.linalg.norm(sc, axis=1), np.linalg.norm(xc, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (sc @ xc.T) / norm
    return np.where(norm > 0, m, 0.0)


def critical_load(loads: np.ndarray, overlaps: np.ndarray, level: float = 0.9) -> float:
    """The load where the mean overlap first falls below ``level``, interpolated linearly.

    Parameters
    ----------
    loads : ndarray
        Increasing loads ``alpha = P / N``.
    overlaps : ndarray
        Mean final overlap at each load.
    level : float
        The retrieval criterion (0.9).

    Returns
    -------
    float
        ``nan`` if the first load already fails; the last load if none fails.
    """
    a = np.asarray(loads, dtype=float)
    m = np.asarray(overlaps, dtype=float)
    if a.size == 0 or not m[0] >= level:
        return float("nan")
    below = np.flatnonzero(~(m >= level))
    if below.size == 0:
        return float(a[-1])
    j = below[0]
    a0, a1, m0, m1 = a[j - 1], a[j], m[j - 1], m[j]
    return float(a0 + (m0 - level) / (m0 - m1) * (a1 - a0))


def classify_states(
    overlaps: np.ndarray, cued: np.ndarray, level: float = 0.9, mixture_level: float = 0.3
) -> dict[str, int]:
    """Count final states by kind, from their overlaps with every stored pattern.

    Parameters
    ----------
    overlaps : ndarray, shape (k, p)
        Overlap of each final state with each pattern.
    cued : ndarray of int, shape (k,)
        The pattern each state was cued with.
    level : float
        Overlap that counts as retrieval.
    mixture_level : float
        A state that retrieves nothing and has overlap >= this with at least two
        patterns is a mixture (a symmetric mixture of three has 0.5 with each).

    Returns
    -------
    dict
        ``retrieved`` (the cued pattern, overlap >= level), ``other_pattern`` (another
        stored pattern, or for dense patterns a reversed one, overlap <= -level),
        ``mixture`` and ``spurious`` (the rest: no clear relation to the patterns).
    """
    m = np.asarray(overlaps, dtype=float)
    cued = np.asarray(cued, dtype=int)
    rows = np.arange(m.shape[0])
    retrieved = m[rows, cued] >= level
    other = ~retrieved & (np.abs(m) >= level).any(axis=1)
    mixture = ~retrieved & ~other & ((np.abs(m) >= mixture_level).sum(axis=1) >= 2)
    spurious = ~retrieved & ~other & ~mixture
    return {
        "retrieved": int(retrieved.sum()),
        "other_pattern": int(other.sum()),
        "mixture": int(mixture.sum()),
        "spurious": int(spurious.sum()),
    }


def dense_capacity_curve(
    n: int,
    loads: np.ndarray,
    noise: float,
    rng: np.random.Generator | int | None,
    cues_per_pattern: int = 1,
    max_patterns_cued: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean final overlap of a dense Hebbian Hopfield network at each load.

    For each load a new set of ``round(alpha n)`` patterns is drawn and stored; every
    pattern (or the first ``max_patterns_cued``) is cued ``cues_per_pattern`` times
    with ``noise`` of its units flipped, and the cues settle asynchronously.

    Returns
    -------
    mean_overlap : ndarray
        Mean overlap of the final states with their cued patterns, per load.
    patterns_stored : ndarray of int
        ``P`` at each load.
    """
    rng = _rng(rng)
    loads = np.asarray(loads, dtype=float)
    means, ps = [], []
    for alpha in loads:
        p = max(round(alpha * n), 1)
        xi = dense_patterns(n, p, rng)
        w = hebb_weights(xi)
        cued = np.arange(p if max_patterns_cued is None else min(p, max_patterns_cued))
        cued = np.repeat(cued, cues_per_pattern)
        final = settle(w, flip_dense(xi[cued], noise, rng), rng)
        m = np.einsum("kn,kn->k", final, xi[cued]) / n
        means.append(m.mean())
        ps.append(p)
    return np.asarray(means), np.asarray(ps)
