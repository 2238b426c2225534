r"""Independent component analysis of image patches: abstract twins and comparison tools.

The abstract twins of a spiking V1 layer that learns receptive fields from whitened
natural-image patches, and the measures that say how close the spiking filters come to
them. The data are a matrix ``X`` of shape ``(n_samples, d)`` (``d = 64`` for 8x8
patches), already whitened; a *filter* is a row vector :math:`w` of length ``d`` whose
response to a patch :math:`x` is :math:`w \cdot x`, and a set of filters is an array
``(n_filters, d)``.

Reduction to the signal subspace
--------------------------------
The patches are often whitened by a *restricted* ZCA: only the top ``k`` principal
directions (``k = 48`` of 64) are kept, with equal variance, and the others have
variance ~0. Both ICA methods therefore first compute the eigendecomposition of the
covariance, :math:`C = E \Lambda E^T`, keep the ``m`` leading axes :math:`E_m` (those
with variance above ``1e-6`` of the largest count towards the rank) and work on
:math:`z = K (x - \bar x)` with :math:`K = \Lambda_m^{-1/2} E_m^T` (unit-variance
coordinates in the signal subspace). An ``m x m`` unmixing matrix :math:`W_m` learned
on ``z`` gives the filters :math:`W_m K` (shape ``(m, d)``) in the space of ``X``.
Asking for more components than the rank would divide numerical noise by ~0 and is
refused.

Infomax ICA (:func:`infomax_ica`)
---------------------------------
Bell & Sejnowski (1995) maximise the entropy of :math:`y = g(u)`, :math:`u = W z`,
with the logistic :math:`g(u) = 1 / (1 + e^{-u})`; Amari, Cichocki & Yang (1996) turned
the gradient into the *natural* gradient, which needs no matrix inverse:

.. math::

    \Delta W = \eta \, \left(I + \langle (1 - 2 y) \, u^T \rangle \right) W ,
    \qquad 1 - 2 y = -\tanh(u / 2)

averaged :math:`\langle \cdot \rangle` over a mini-batch, with the learning rate
:math:`\eta` multiplied by ``anneal`` after every epoch. The logistic suits
super-Gaussian (sparse) sources, the case of natural images (Bell & Sejnowski 1997,
whose filters are localised, oriented edges).

FastICA (:func:`fastica_filters`)
---------------------------------
The fixed-point algorithm of Hyvarinen & Oja (2000) with the ``logcosh`` contrast,
:math:`G(u) = \log\cosh u`, :math:`g = \tanh`, all rows updated in parallel and
decorrelated symmetrically (:math:`W \leftarrow (W W^T)^{-1/2} W`):

.. math::

    W \leftarrow \langle g(W z) \, z^T \rangle - \mathrm{diag}\langle g'(W z) \rangle W

run by :class:`sklearn.decomposition.FastICA` on ``z`` in single precision (see
:func:`fastica_filters` for why).

Baselines (:func:`pca_filters`, :func:`random_filters`)
-------------------------------------------------------
Principal axes (the rows of :math:`E^T`, by decreasing variance) and Gaussian random
rows. On restricted-ZCA data the ``k`` signal axes have equal variance, so which
orthonormal basis of the signal subspace PCA returns is arbitrary.

Matching filter sets (:func:`abs_corr`, :func:`match`, :func:`match_scores`)
----------------------------------------------------------------------------
Filters are compared by the absolute Pearson correlation of their rows,
:math:`|r(a_i, b_j)|`, which ignores sign and scale (an ICA filter is defined only up
to both). Every reference filter is paired with a distinct candidate filter so that the
sum of :math:`|r|` is largest: the assignment problem, solved by the Hungarian method
(Kuhn 1955; :func:`scipy.optimize.linear_sum_assignment`). The summary is the median of
the matched :math:`|r|`.

That number means little on its own. ICA of image patches has no unique answer: two
FastICA runs from different seeds (and sample subsets) agree only at a median
:math:`|r|` of about 0.7 on 8x8 patches, so no learner can be expected to reach 1.
And a pool of unrelated filters also scores above 0: with many candidates to choose
from, the assignment always finds some correlation. :func:`match_scores` therefore
brackets the spiking filters between a *ceiling* (another ICA solution matched into
the reference) and *floors* (principal axes; random filters), each computed by exactly
the same procedure with a pool of exactly as many filters as the candidate set, since
the matched median grows with the number of candidates.

Separation quality (:func:`amari_index`, :func:`excess_kurtosis`)
-----------------------------------------------------------------
When the true mixing matrix :math:`A` is known, :math:`P = W A` is a scaled permutation
for a perfect separation; the Amari index (Amari, Cichocki & Yang 1996) measures the
departure from that, normalised to [0, 1]. Sparse responses have a large positive
excess kurtosis.

Gabor fits (:func:`fit_gabor`, :func:`gabor_fits`, :func:`gabor_fraction`)
---------------------------------------------------------------------------
Simple-cell receptive fields are well described by 2-D Gabor functions (Jones & Palmer
1987). With pixel coordinates :math:`(x, y)` = (column, row),

.. math::

    G(x, y) = A \exp\left(-\frac{x'^2}{2 \sigma_x^2} - \frac{y'^2}{2 \sigma_y^2}\right)
              \cos(2 \pi f x' + \phi) + c, \\
    x' = (x - x_0) \cos\theta + (y - y_0) \sin\theta, \quad
    y' = -(x - x_0) \sin\theta + (y - y_0) \cos\theta,

so :math:`\theta` is the direction of the carrier's wave vector (the stripes run
perpendicular to it), :math:`\sigma_x` the envelope's width across the stripes and
:math:`\sigma_y` along them. The goodness of fit is :math:`R^2 = 1 - SSE / SST` over
pixels.

References
----------
Amari S, Cichocki A, Yang HH (1996) A new learning algorithm for blind signal
separation. Advances in Neural Information Processing Systems 8:757-763.

Bell AJ, Sejnowski TJ (1995) An information-maximization approach to blind separation
and blind deconvolution. Neural Computation 7:1129-1159.

Bell AJ, Sejnowski TJ (1997) The "independent components" of natural scenes are edge
filters. Vision Research 37:3327-3338.

Hyvarinen A, Oja E (2000) Independent component analysis: algorithms and applications.
Neural Networks 13:411-430.

Jones JP, Palmer LA (1987) An evaluation of the two-dimensional Gabor filter model of
simple receptive fields in cat striate cortex. Journal of Neurophysiology 58:1233-1258.

Kuhn HW (1955) The Hungarian method for the assignment problem. Naval Research
Logistics Quarterly 2:83-97.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.stats
from scipy.optimize import least_squares, linear_sum_assignment

from spikingml.errors import ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "FASTICA_SAMPLES",
    "RANK_TOLERANCE",
    "infomax_ica",
    "fastica_filters",
    "pca_filters",
    "random_filters",
    "abs_corr",
    "match",
    "matched_median",
    "pool",
    "MatchScores",
    "match_scores",
    "amari_index",
    "excess_kurtosis",
    "GaborFit",
    "gabor_image",
    "fit_gabor",
    "gabor_fits",
    "gabor_fraction",
]

#: Default number of rows FastICA is fitted on. One fit of 48 components on 8x8
#: restricted-ZCA patches took 3 s with 50k rows, 6-8 s with 100k and 12 s with 200k (2
#: cores, 70-110 iterations); FastICA seed 0 against seed 1 matched at a median
#: ``|r|`` of 0.67, 0.74 and 0.76: 100k rows buy most of the stability at a tolerable cost.
FASTICA_SAMPLES = 100_000

#: A principal direction counts towards the rank of X when its variance exceeds this
#: fraction of the largest variance.
RANK_TOLERANCE = 1e-6


# --------------------------------------------------------------------------- checks


def _data(X: object, name: str = "X") -> np.ndarray:
    """X as a finite float64 array (n_samples >= 2, d >= 1), or ValidationError."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValidationError(
            name, "an array (n_samples, d) with n_samples >= 2", f"shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationError(name, "finite values", "NaN or infinite entries")
    return arr


def _filters(F: object, name: str, d: int | None = None) -> np.ndarray:
    """A filter set as a finite float64 array (n_filters, d), or ValidationError."""
    arr = np.asarray(F, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValidationError(name, "an array (n_filters, d) of filter rows", f"shape {arr.shape}")
    if d is not None and arr.shape[1] != d:
        raise ValidationError(name, f"filters of length d = {d}", f"length {arr.shape[1]}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(name, "finite values", "NaN or infinite entries")
    return arr


def _positive_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValidationError(name, f"an integer >= {minimum}", value)
    return int(value)


def _positive_float(value: object, name: str, upper: float | None = None) -> float:
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= 0 or (upper is not None and value > upper):
        limit = f"a number in (0, {upper}]" if upper is not None else "a number > 0"
        raise ValidationError(name, limit, value)
    return float(value)


# ------------------------------------------------------------------ subspace and ICA


def _signal_subspace(
    X: np.ndarray, n_components: int | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and whitening matrix K (m, d) onto the m leading principal axes of X.

    ``(X - mean) @ K.T`` has identity covariance. ``m`` is ``n_components``, or the
    numerical rank of X when that is None.
    """
    mean = X.mean(axis=0)
    Xc = X - mean
    cov = Xc.T @ Xc / len(X)
    lam, E = np.linalg.eigh(cov)
    lam, E = lam[::-1], E[:, ::-1]
    rank = int(np.sum(lam > RANK_TOLERANCE * max(lam[0], np.finfo(float).tiny)))
    if rank == 0:
        raise ValidationError("X", "data with non-zero variance", "constant rows")
    if n_components is None:
        n_components = rank
    elif n_components > rank:
        raise ValidationError(
            name,
            f"at most {rank}, the rank of X (principal directions with variance > "
            f"{RANK_TOLERANCE:g} of the largest); more would whiten numerical noise",
            n_components,
        )
    K = (E[:, :n_components] / np.sqrt(lam[:n_components])).T
    return mean, K


def infomax_ica(
    X: np.ndarray,
    n_components: int | None = None,
    *,
    learning_rate: float = 0.01,
    n_epochs: int = 10,
    batch_size: int = 100,
    anneal: float = 0.9,
    seed: int = 0,
    progress: bool = False,
) -> np.ndarray:
    r"""Natural-gradient infomax ICA (Bell & Sejnowski 1995; Amari et al. 1996).

    Parameters
    ----------
    X : ndarray, shape (n_samples, d)
        Data, one sample per row (whitened patches; any data work since they are
        whitened again in their signal subspace).
    n_components : int or None
        Number of filters ``m``; None for the rank of X (48 for restricted-ZCA 8x8
        patches). At most the rank.
    learning_rate : float
        :math:`\eta` of the first epoch.
    n_epochs : int
        Passes through the (reshuffled) data.
    batch_size : int
        Samples averaged per update.
    anneal : float
        Factor in (0, 1] applied to :math:`\eta` after each epoch.
    seed : int
        Seeds the initial unmixing matrix (a random rotation) and the shuffling.
    progress : bool
        Log one line per epoch (level INFO, logger ``spikingml.analysis.ica``).

    Returns
    -------
    ndarray, shape (m, d)
        The filters :math:`W_m K` in the space of X, as learned (not normalised): the
        responses :math:`u = W_m K (x - \bar x)` settle where
        :math:`\langle \tanh(u_i / 2) \, u_i \rangle = 1`, which fixes their scale.

    Raises
    ------
    ValidationError
        For bad arguments, or when the weights diverge (``learning_rate`` too large).

    Notes
    -----
    Within the whitened signal subspace, for every mini-batch :math:`z_b`:
    :math:`u = W z`, :math:`\Delta W = \eta (I - \langle \tanh(u/2) u^T \rangle) W`,
    which is :math:`\eta (I + \langle (1 - 2 y) u^T \rangle) W` with the logistic
    :math:`y`. The natural gradient makes the convergence speed independent of the
    mixing (equivariance).

    The defaults need many updates: on 20k whitened samples (2000 updates) of 6 or 48
    Laplacian sources they left the Amari index at 0.01-0.3, where
    ``learning_rate=0.1, anneal=0.8`` reached the sampling floor (~0.007-0.01) in the
    same 10 epochs. Check convergence (e.g. seed against seed with :func:`match`) on
    data of your size.
    """
    X = _data(X)
    if n_components is not None:
        n_components = _positive_int(n_components, "n_components")
    learning_rate = _positive_float(learning_rate, "learning_rate")
    n_epochs = _positive_int(n_epochs, "n_epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    anneal = _positive_float(anneal, "anneal", upper=1.0)

    mean, K = _signal_subspace(X, n_components, "n_components")
    Z = (X - mean) @ K.T
    m = K.shape[0]
    rng = np.random.default_rng(seed)
    W = np.linalg.qr(rng.standard_normal((m, m)))[0]
    eye = np.eye(m)
    lr = learning_rate
    for epoch in range(n_epochs):
        Zp = Z[rng.permutation(len(Z))]
        for start in range(0, len(Zp), batch_size):
            zb = Zp[start : start + batch_size]
            u = zb @ W.T
            W += lr * (eye - np.tanh(0.5 * u).T @ u / len(zb)) @ W
        if not np.all(np.isfinite(W)):
            raise ValidationError(
                "learning_rate", "a smaller value (the infomax weights diverged)", learning_rate
            )
        if progress:
            logger.info("infomax epoch %d/%d, learning rate %.3g", epoch + 1, n_epochs, lr)
        lr *= anneal
    return W @ K


def fastica_filters(
    X: np.ndarray,
    n_components: int,
    *,
    seed: int = 0,
    max_iter: int = 400,
    tol: float = 1e-4,
    n_samples: int | None = FASTICA_SAMPLES,
) -> np.ndarray:
    r"""FastICA unmixing filters (Hyvarinen & Oja 2000) in the space of X.

    Parameters
    ----------
    X : ndarray, shape (n_samples, d)
        Data, one sample per row.
    n_components : int
        Number of filters ``m``; at most the rank of X.
    seed : int
        Seeds the row subset and FastICA's initial matrix.
    max_iter, tol : int, float
        Passed to :class:`sklearn.decomposition.FastICA`; a run that stops at
        ``max_iter`` without reaching ``tol`` emits sklearn's ``ConvergenceWarning``.
    n_samples : int or None
        Fit on this many rows drawn at random without replacement (all rows if None or
        at least ``len(X)``). The default, :data:`FASTICA_SAMPLES`, keeps one fit of 48
        components to 6-8 s on 2 cores.

    Returns
    -------
    ndarray, shape (n_components, d)
        Unmixing filters :math:`W_m K`; the responses :math:`W_m K (x - \bar x)` have
        unit variance on the fitted rows (as with ``whiten="unit-variance"``).

    Notes
    -----
    The same algorithm as ``FastICA(n_components, algorithm="parallel",
    fun="logcosh", whiten="unit-variance")``, but faster and safe on rank-deficient
    data: the data are projected on their signal subspace as described in the module
    docstring (as in :func:`infomax_ica`), and FastICA runs there with
    ``whiten=False`` in single precision.
    Measured here (2 cores, 48 components, 8x8 restricted-ZCA patches):

    - float64 ``tanh`` costs ~36 ns per value, float32 ~7 ns: one iteration on 100k
      rows takes ~0.26 s in float64 and ~0.07 s in float32, and the filters agree to
      :math:`|r| > 0.99999`. A fit needs 60-110 iterations at ``tol=1e-4``.
    - asking sklearn for 64 components of rank-48 data makes it whiten 16 directions of
      pure rounding noise; it never converges (200 iterations, ``ConvergenceWarning``,
      295 s on 100k rows). That, and float64, explain fits of minutes. Here such a
      request is refused.
    """
    X = _data(X)
    n_components = _positive_int(n_components, "n_components")
    max_iter = _positive_int(max_iter, "max_iter")
    tol = _positive_float(tol, "tol")
    rng = np.random.default_rng(seed)
    if n_samples is not None:
        n_samples = _positive_int(n_samples, "n_samples", minimum=2)
        if n_samples < len(X):
            X = X[np.sort(rng.choice(len(X), n_samples, replace=False))]

    from sklearn.decomposition import FastICA  # import costs ~1 s; only when needed

    mean, K = _signal_subspace(X, n_components, "n_components")
    Z = ((X - mean) @ K.T).astype(np.float32)
    ica = FastICA(
        algorithm="parallel",
        fun="logcosh",
        whiten=False,
        max_iter=max_iter,
        tol=tol,
        random_state=int(rng.integers(2**31)),
    )
    ica.fit(Z)
    return ica.components_.astype(float) @ K


def pca_filters(X: np.ndarray, n_components: int) -> np.ndarray:
    """Principal axes of X, by decreasing variance.

    Parameters
    ----------
    X : ndarray, shape (n_samples, d)
        Data, one sample per row.
    n_components : int
        Number of axes, at most ``d`` (zero-variance axes included when asked for).

    Returns
    -------
    ndarray, shape (n_components, d)
        Orthonormal rows; each row's largest-magnitude entry is positive. Axes of equal
        variance (all signal axes of restricted-ZCA data) span the right subspace, but
        the basis within it is arbitrary.
    """
    X = _data(X)
    n_components = _positive_int(n_components, "n_components")
    if n_components > X.shape[1]:
        raise ValidationError("n_components", f"at most d = {X.shape[1]}", n_components)
    Xc = X - X.mean(axis=0)
    lam, E = np.linalg.eigh(Xc.T @ Xc / len(X))
    axes = E[:, ::-1][:, :n_components].T
    signs = np.sign(axes[np.arange(n_components), np.argmax(np.abs(axes), axis=1)])
    return axes * signs[:, None]


def random_filters(n_filters: int, d: int, seed: int = 0) -> np.ndarray:
    """Filters with independent standard normal entries.

    Parameters
    ----------
    n_filters, d : int
        Shape of the set.
    seed : int
        Seed of the generator.

    Returns
    -------
    ndarray, shape (n_filters, d)
    """
    n_filters = _positive_int(n_filters, "n_filters")
    d = _positive_int(d, "d")
    return np.random.default_rng(seed).standard_normal((n_filters, d))


# ------------------------------------------------------------------------- matching


def abs_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Absolute Pearson correlation between every row of ``a`` and every row of ``b``.

    Parameters
    ----------
    a : ndarray, shape (n_a, d)
    b : ndarray, shape (n_b, d)

    Returns
    -------
    ndarray, shape (n_a, n_b)
        :math:`|r(a_i, b_j)|` in [0, 1]. A constant row (zero variance, e.g. a silent
        unit's all-zero weights) correlates with nothing: its entries are 0.
    """
    a = _filters(a, "a")
    b = _filters(b, "b", d=a.shape[1])

    def unit_rows(m: np.ndarray) -> np.ndarray:
        m = m - m.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(m, axis=1, keepdims=True)
        return np.divide(m, norm, out=np.zeros_like(m), where=norm > 0)

    return np.clip(np.abs(unit_rows(a) @ unit_rows(b).T), 0.0, 1.0)


def match(reference: np.ndarray, candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair every reference filter with a distinct candidate filter, maximising sum ``|r|``.

    Parameters
    ----------
    reference : ndarray, shape (n_ref, d)
    candidate : ndarray, shape (n_cand, d), with ``n_cand >= n_ref``

    Returns
    -------
    r : ndarray, shape (n_ref,)
        :math:`|r|` of each reference filter with its partner, in reference order.
    index : ndarray of int, shape (n_ref,)
        Row of ``candidate`` matched to each reference filter.

    Notes
    -----
    The Hungarian method (Kuhn 1955) via :func:`scipy.optimize.linear_sum_assignment`.
    """
    reference = _filters(reference, "reference")
    candidate = _filters(candidate, "candidate", d=reference.shape[1])
    if len(candidate) < len(reference):
        raise ValidationError(
            "candidate",
            f"at least as many filters as the reference ({len(reference)})",
            f"{len(candidate)} filters",
        )
    r = abs_corr(reference, candidate)
    rows, cols = linear_sum_assignment(r, maximize=True)
    return r[rows, cols], cols


def matched_median(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Median :math:`|r|` of :func:`match` (see there for parameters)."""
    return float(np.median(match(reference, candidate)[0]))


def pool(filter_sets: Sequence[np.ndarray], size: int, seed: int = 0) -> np.ndarray:
    """Exactly ``size`` filters taken from several sets, in order.

    Parameters
    ----------
    filter_sets : sequence of ndarray, each (n_i, d)
        The sets. The first ``min(size, n_0)`` rows of the first set are taken in
        order (so a PCA set contributes its leading axes); the remainder comes from the
        following sets in turn, as rows drawn at random without replacement.
    size : int
        Number of filters in the pool.
    seed : int
        Seeds the random draws.

    Returns
    -------
    ndarray, shape (size, d)

    Raises
    ------
    ValidationError
        When the sets hold fewer than ``size`` filters together, or differ in ``d``.

    Examples
    --------
    A ceiling for 64 spiking units against 48 FastICA components of seed 0:
    ``pool([ica_seed1, ica_seed2], 64)`` holds the 48 filters of seed 1 and 16 random
    ones of seed 2.
    """
    size = _positive_int(size, "size")
    if isinstance(filter_sets, np.ndarray) or len(filter_sets) == 0:
        raise ValidationError("filter_sets", "a non-empty sequence of filter arrays", filter_sets)
    sets = [_filters(filter_sets[0], "filter_sets[0]")]
    d = sets[0].shape[1]
    sets += [_filters(s, f"filter_sets[{i}]", d=d) for i, s in enumerate(filter_sets[1:], 1)]
    total = sum(len(s) for s in sets)
    if total < size:
        raise ValidationError("filter_sets", f"at least size = {size} filters in all", total)
    rng = np.random.default_rng(seed)
    parts = [sets[0][:size]]
    missing = size - len(parts[0])
    for s in sets[1:]:
        if missing == 0:
            break
        take = min(missing, len(s))
        parts.append(s[rng.choice(len(s), take, replace=False)])
        missing -= take
    return np.concatenate(parts)


@dataclass(frozen=True)
class MatchScores:
    """A candidate filter set matched into a reference, with its ceiling and floors.

    Every score is the median :math:`|r|` of :func:`match` of the reference into a set
    of exactly ``len(candidate)`` filters; per-filter arrays are in reference order.

    Attributes
    ----------
    matched_median : float
        Candidate (e.g. the spiking filters).
    ica_ceiling_median : float
        Pool of other ICA solutions (:func:`pool` of ``ceiling_sets``).
    pca_floor_median : float
        Pool of principal axes (topped up with random filters if too few).
    random_floor_median : float
        Gaussian random filters.
    ceiling_ratio : float
        ``matched_median / ica_ceiling_median``.
    matched_r, ica_ceiling_r, pca_floor_r, random_floor_r : ndarray, shape (n_ref,)
        Per-reference-filter :math:`|r|`.
    matched_index : ndarray of int, shape (n_ref,)
        Candidate row matched to each reference filter.
    """

    matched_median: float
    ica_ceiling_median: float
    pca_floor_median: float
    random_floor_median: float
    ceiling_ratio: float
    matched_r: np.ndarray
    ica_ceiling_r: np.ndarray
    pca_floor_r: np.ndarray
    random_floor_r: np.ndarray
    matched_index: np.ndarray


def match_scores(
    candidate: np.ndarray,
    reference: np.ndarray,
    ceiling_sets: Sequence[np.ndarray],
    pca: np.ndarray,
    seed: int = 0,
) -> MatchScores:
    """Match a candidate set into a reference, and a ceiling and floors the same way.

    Parameters
    ----------
    candidate : ndarray, shape (n, d)
        Filters to score (e.g. spiking receptive fields), ``n >= len(reference)``.
    reference : ndarray, shape (n_ref, d)
        Reference filters (e.g. FastICA, seed 0).
    ceiling_sets : sequence of ndarray
        Other solutions of the reference method (e.g. FastICA seeds 1 and 2), holding
        at least ``n`` filters together.
    pca : ndarray, shape (n_pca, d)
        Principal axes by decreasing variance. Pass all ``d`` axes
        (``pca_filters(X, d)``): when the candidate set is larger than the rank of the
        data (64 units, 48 signal axes), the pool then includes zero-variance axes, as
        PCA itself would when asked for 64 components. If ``n_pca < n`` the pool is
        topped up with random filters.
    seed : int
        Seeds the random filters and the pools' draws.

    Returns
    -------
    MatchScores
    """
    candidate = _filters(candidate, "candidate")
    d = candidate.shape[1]
    reference = _filters(reference, "reference", d=d)
    pca = _filters(pca, "pca", d=d)
    n = len(candidate)
    matched_r, matched_index = match(reference, candidate)
    ceiling_r, _ = match(reference, pool(ceiling_sets, n, seed))
    rand = random_filters(n, d, seed)
    pca_r, _ = match(reference, pool([pca, rand], n, seed))
    random_r, _ = match(reference, rand)
    matched, ceiling = float(np.median(matched_r)), float(np.median(ceiling_r))
    return MatchScores(
        matched_median=matched,
        ica_ceiling_median=ceiling,
        pca_floor_median=float(np.median(pca_r)),
        random_floor_median=float(np.median(random_r)),
        ceiling_ratio=matched / ceiling if ceiling > 0 else float("nan"),
        matched_r=matched_r,
        ica_ceiling_r=ceiling_r,
        pca_floor_r=pca_r,
        random_floor_r=random_r,
        matched_index=matched_index,
    )


# ------------------------------------------------------------------ separation quality


def amari_index(W: np.ndarray, A: np.ndarray) -> float:
    r"""Amari performance index of :math:`P = W A`, normalised to [0, 1].

    Parameters
    ----------
    W : ndarray, shape (n, d)
        Unmixing filters.
    A : ndarray, shape (d, n)
        True mixing matrix (sources to data), so that ``P`` is square.

    Returns
    -------
    float
        .. math::

            \frac{1}{2 n (n - 1)} \left[\sum_i \left(\frac{\sum_j |p_{ij}|}
            {\max_k |p_{ik}|} - 1\right) + \sum_j \left(\frac{\sum_i |p_{ij}|}
            {\max_k |p_{kj}|} - 1\right)\right]

        0 when P is a scaled permutation (perfect separation), 1 when every entry of P
        has the same magnitude.
    """
    W = np.asarray(W, dtype=float)
    A = np.asarray(A, dtype=float)
    if W.ndim != 2 or A.ndim != 2 or W.shape[1] != A.shape[0] or W.shape[0] != A.shape[1]:
        raise ValidationError(
            "W, A", "shapes (n, d) and (d, n) so that W @ A is square", f"{W.shape}, {A.shape}"
        )
    if W.shape[0] < 2:
        raise ValidationError("W", "at least 2 filters", W.shape[0])
    P = np.abs(W @ A)
    if not np.all(np.isfinite(P)) or np.any(P.max(axis=0) == 0) or np.any(P.max(axis=1) == 0):
        raise ValidationError("W @ A", "finite, without an all-zero row or column", "otherwise")
    n = len(P)
    rows = np.sum(P.sum(axis=1) / P.max(axis=1) - 1)
    cols = np.sum(P.sum(axis=0) / P.max(axis=0) - 1)
    return float((rows + cols) / (2 * n * (n - 1)))


def excess_kurtosis(u: np.ndarray, axis: int = 0) -> np.ndarray:
    """Excess (Fisher) kurtosis along ``axis``: 0 for a Gaussian, 3 for a Laplacian.

    Parameters
    ----------
    u : ndarray
        Responses, e.g. (n_samples, n_filters).
    axis : int
        Axis of the samples.

    Returns
    -------
    ndarray
        :func:`scipy.stats.kurtosis` with ``fisher=True`` (biased estimator).
    """
    return np.asarray(scipy.stats.kurtosis(np.asarray(u, dtype=float), axis=axis, fisher=True))


# ---------------------------------------------------------------------- Gabor fits


@dataclass(frozen=True)
class GaborFit:
    """Parameters of a 2-D Gabor fitted to a receptive field (see the module docstring).

    Attributes
    ----------
    r2 : float
        :math:`1 - SSE / SST` over pixels.
    theta : float
        Direction of the wave vector in [0, pi) radians, from the +x (column) axis
        towards +y (row); the stripes run at ``theta + pi / 2``.
    frequency : float
        Carrier frequency, cycles per pixel.
    sigma_x, sigma_y : float
        Envelope widths (pixels) across and along the stripes.
    x0, y0 : float
        Envelope centre (column, row), pixels.
    phase : float
        Carrier phase in [-pi, pi).
    amplitude : float
        :math:`A \\ge 0`.
    offset : float
        Constant :math:`c`.
    """

    r2: float
    theta: float
    frequency: float
    sigma_x: float
    sigma_y: float
    x0: float
    y0: float
    phase: float
    amplitude: float
    offset: float = 0.0

    def image(self, shape: tuple[int, int]) -> np.ndarray:
        """The fitted Gabor on a pixel grid of ``shape`` (rows, columns)."""
        return gabor_image(
            shape,
            self.theta,
            self.frequency,
            self.sigma_x,
            self.sigma_y,
            self.x0,
            self.y0,
            self.phase,
            self.amplitude,
            self.offset,
        )


def gabor_image(
    shape: tuple[int, int],
    theta: float,
    frequency: float,
    sigma_x: float,
    sigma_y: float,
    x0: float,
    y0: float,
    phase: float,
    amplitude: float = 1.0,
    offset: float = 0.0,
) -> np.ndarray:
    """A 2-D Gabor on a pixel grid (parameters as in :class:`GaborFit`).

    Parameters
    ----------
    shape : (int, int)
        (rows, columns); pixel ``[row, col]`` sits at ``(x, y) = (col, row)``.
    theta, frequency, sigma_x, sigma_y, x0, y0, phase, amplitude, offset : float
        See :class:`GaborFit`.

    Returns
    -------
    ndarray, shape ``shape``
    """
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    p = np.array([amplitude, theta, frequency, sigma_x, sigma_y, x0, y0, phase, offset])
    return _gabor(p, x.ravel(), y.ravel()).reshape(shape)


def _gabor(p: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    amp, theta, f, sx, sy, x0, y0, phase, c = p
    dx, dy = x - x0, y - y0
    ct, st = np.cos(theta), np.sin(theta)
    xr, yr = dx * ct + dy * st, -dx * st + dy * ct
    env = np.exp(-0.5 * ((xr / sx) ** 2 + (yr / sy) ** 2))
    return amp * env * np.cos(2 * np.pi * f * xr + phase) + c


class _GaborResidual:
    """Residual of the Gabor model and its analytic Jacobian, sharing the work.

    ``least_squares`` asks for the Jacobian at the point whose residual it has just
    computed, so the terms of the last point are kept.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, target: np.ndarray) -> None:
        self.x, self.y, self.target = x, y, target
        self._p: np.ndarray | None = None

    def _terms(self, p: np.ndarray) -> None:
        if self._p is not None and np.array_equal(p, self._p):
            return
        amp, theta, f, sx, sy, x0, y0, phase, c = p
        dx, dy = self.x - x0, self.y - y0
        ct, st = np.cos(theta), np.sin(theta)
        xr, yr = dx * ct + dy * st, dy * ct - dx * st
        env = np.exp(-0.5 * ((xr / sx) ** 2 + (yr / sy) ** 2))
        arg = (2 * np.pi * f) * xr + phase
        self.ec, self.es = env * np.cos(arg), env * np.sin(arg)
        self.xr, self.yr = xr, yr
        self._p = p.copy()

    def __call__(self, p: np.ndarray) -> np.ndarray:
        self._terms(p)
        return p[0] * self.ec + p[8] - self.target

    def jacobian(self, p: np.ndarray) -> np.ndarray:
        self._terms(p)
        amp, theta, f, sx, sy = p[:5]
        ec, es, xr, yr = self.ec, self.es, self.xr, self.yr
        ct, st = np.cos(theta), np.sin(theta)
        aes = amp * es
        aec = amp * ec
        g_xr = -aec * xr / sx**2 - (2 * np.pi * f) * aes  # dG/dx'
        g_yr = -aec * yr / sy**2  # dG/dy'
        J = np.empty((len(xr), 9))
        J[:, 0] = ec
        J[:, 1] = g_xr * yr - g_yr * xr  # dx'/dtheta = y', dy'/dtheta = -x'
        J[:, 2] = -2 * np.pi * aes * xr
        J[:, 3] = aec * xr**2 / sx**3
        J[:, 4] = aec * yr**2 / sy**3
        J[:, 5] = g_yr * st - g_xr * ct
        J[:, 6] = -g_xr * st - g_yr * ct
        J[:, 7] = -aes
        J[:, 8] = 1.0
        return J


# Measured on 64 FastICA receptive fields of 8x8 natural-image patches, 64 synthetic
# noisy Gabors and 64 white-noise fields: the best FFT start refined with 40 evaluations
# reaches, within 0.01, the R^2 of 3 starts x 200 evaluations except for fields whose
# R^2 is in [0.58, 0.91] (8 of 128 ICA filters and basis functions gained 0.02-0.07). A
# second start is therefore tried only in that range (widened to [0.5, 0.9)).
#: FFT peaks considered as starting carriers.
_GABOR_PEAKS = 3
#: Most starts refined by least squares, best initial SSE first.
_GABOR_STARTS = 2
#: Cap on residual evaluations per least-squares run (the Jacobian is analytic).
_GABOR_MAX_NFEV = 40
#: R^2 range of the best fit so far in which a further start is tried.
_GABOR_RETRY_R2 = (0.5, 0.9)


def _gabor_starts(rf: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Initial parameter vectors, best (lowest SSE) first, from the FFT and moments."""
    h, w = rf.shape
    z = rf - rf.mean()
    # envelope: centre of mass and second moments of the energy rf^2
    e = (z**2).ravel()
    e = e / e.sum()
    cx, cy = e @ x, e @ y
    cov = np.array(
        [
            [e @ (x - cx) ** 2, e @ ((x - cx) * (y - cy))],
            [e @ ((x - cx) * (y - cy)), e @ (y - cy) ** 2],
        ]
    )
    # carrier: peaks of the zero-padded FFT amplitude, on the half-plane of wave vectors
    # with direction in [0, pi)
    n_fft = 4 * int(2 ** np.ceil(np.log2(max(h, w))))
    amp = np.abs(np.fft.fft2(z, s=(n_fft, n_fft)))
    fy = np.fft.fftfreq(n_fft)[:, None] * np.ones((1, n_fft))
    fx = np.fft.fftfreq(n_fft)[None, :] * np.ones((n_fft, 1))
    half = (fy > 0) | ((fy == 0) & (fx > 0))
    amp = np.where(half, amp, -1.0)
    local_max = np.ones_like(half)
    for sy_ in (-1, 0, 1):
        for sx_ in (-1, 0, 1):
            if sx_ or sy_:
                local_max &= amp >= np.roll(np.roll(amp, sy_, axis=0), sx_, axis=1)
    candidates = np.flatnonzero((local_max & half).ravel())
    candidates = candidates[np.argsort(amp.ravel()[candidates])[::-1]][:_GABOR_PEAKS]
    if len(candidates) == 0:
        candidates = np.array([np.argmax(amp)])

    starts = []
    for idx in candidates:
        f_x, f_y = fx.ravel()[idx], fy.ravel()[idx]
        theta, f = np.arctan2(f_y, f_x), np.hypot(f_x, f_y)
        ct, st = np.cos(theta), np.sin(theta)
        rot = np.array([[ct, st], [-st, ct]])
        var = np.diag(rot @ cov @ rot.T)
        # rf^2 of a Gabor has a Gaussian envelope of variance sigma^2 / 2
        sx, sy = np.clip(np.sqrt(2 * var), 0.5, max(h, w))
        # amplitude, phase and offset by linear least squares for this carrier
        xr = (x - cx) * ct + (y - cy) * st
        yr = -(x - cx) * st + (y - cy) * ct
        env = np.exp(-0.5 * ((xr / sx) ** 2 + (yr / sy) ** 2))
        basis = np.stack(
            [env * np.cos(2 * np.pi * f * xr), env * np.sin(2 * np.pi * f * xr), np.ones_like(x)],
            axis=1,
        )
        (a, b, c), *_ = np.linalg.lstsq(basis, rf.ravel(), rcond=None)
        p = np.array([np.hypot(a, b), theta, f, sx, sy, cx, cy, np.arctan2(-b, a), c])
        sse = np.sum((basis @ np.array([a, b, c]) - rf.ravel()) ** 2)
        starts.append((sse, p))
    starts.sort(key=lambda s: s[0])
    return [p for _, p in starts]


def fit_gabor(rf: np.ndarray) -> GaborFit:
    """Fit a 2-D Gabor (Jones & Palmer 1987) to a receptive field by least squares.

    Parameters
    ----------
    rf : ndarray, shape (p, q)
        Receptive field in pixel space, ``rf[row, col]`` (at least 3x3, not constant).

    Returns
    -------
    GaborFit
        The best of the refined starts; ``theta`` wrapped to [0, pi) and ``phase`` to
        [-pi, pi).

    Notes
    -----
    Initial guesses: carrier frequency and direction from the largest local maxima of
    the amplitude of the zero-padded 2-D FFT; envelope centre and widths from the first
    and second moments of :math:`rf^2` (whose envelope has variance
    :math:`\\sigma^2 / 2`); amplitude, phase and offset from a linear least-squares fit
    given those, so no phase grid is needed. The start with the lowest initial error
    is refined by :func:`scipy.optimize.least_squares` (trust-region reflective,
    analytic Jacobian, at most 40 evaluations), and the second one too when the
    resulting :math:`R^2` is in [0.5, 0.9), where a better local minimum can move a
    field across the usual 0.8 criterion. Bounds: :math:`A \\ge 0`,
    :math:`0 \\le f \\le 1/\\sqrt{2}`, widths in [0.25, 2 max(p, q)] pixels and the
    centre at most ``max(1, size / 4)`` pixels outside the grid.
    """
    rf = np.asarray(rf, dtype=float)
    if rf.ndim != 2 or min(rf.shape) < 3:
        raise ValidationError("rf", "a 2-D receptive field of at least 3x3 pixels", rf.shape)
    if not np.all(np.isfinite(rf)):
        raise ValidationError("rf", "finite values", "NaN or infinite entries")
    sst = float(np.sum((rf - rf.mean()) ** 2))
    if sst <= 0:
        raise ValidationError("rf", "a receptive field that is not constant", "a constant array")
    h, w = rf.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    x, y, target = xx.ravel(), yy.ravel(), rf.ravel()
    scale = np.sqrt(sst / target.size)  # work on unit-scale data so tolerances are relative

    mx, my = max(1.0, w / 4), max(1.0, h / 4)
    big = 2.0 * max(h, w)
    lower = np.array([0.0, -np.inf, 0.0, 0.25, 0.25, -mx, -my, -np.inf, -np.inf])
    upper = np.array(
        [np.inf, np.inf, 1 / np.sqrt(2), big, big, w - 1 + mx, h - 1 + my] + [np.inf] * 2
    )
    residual = _GaborResidual(x, y, target / scale)
    best_cost, best_p = np.inf, None
    for p0 in _gabor_starts(rf / scale, x, y)[:_GABOR_STARTS]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # exp underflow far from centre
            sol = least_squares(
                residual,
                np.clip(p0, lower + 1e-9, upper - 1e-9),
                jac=residual.jacobian,
                bounds=(lower, upper),
                method="trf",
                x_scale="jac",
                max_nfev=_GABOR_MAX_NFEV,
            )
        if sol.cost < best_cost:
            best_cost, best_p = sol.cost, sol.x
        r2 = 1 - 2 * best_cost / target.size
        if not _GABOR_RETRY_R2[0] <= r2 < _GABOR_RETRY_R2[1]:
            break  # clearly a Gabor, or clearly not: another start changes little
    amp, theta, f, sx, sy, x0, y0, phase, c = best_p
    # theta + pi describes the same Gabor with the phase negated
    turns = np.floor(theta / np.pi)
    theta -= turns * np.pi
    if int(turns) % 2:
        phase = -phase
    phase = (phase + np.pi) % (2 * np.pi) - np.pi
    sse = 2 * best_cost * scale**2
    return GaborFit(
        r2=float(1 - sse / sst),
        theta=float(theta % np.pi),
        frequency=float(f),
        sigma_x=float(sx),
        sigma_y=float(sy),
        x0=float(x0),
        y0=float(y0),
        phase=float(phase),
        amplitude=float(amp * scale),
        offset=float(c * scale),
    )


def gabor_fits(rfs: np.ndarray) -> list[GaborFit]:
    """:func:`fit_gabor` for each of a stack of receptive fields.

    Parameters
    ----------
    rfs : ndarray, shape (k, p, q)
        Receptive fields in pixel space.

    Returns
    -------
    list of GaborFit
        One per receptive field, in order.
    """
    rfs = np.asarray(rfs, dtype=float)
    if rfs.ndim != 3:
        raise ValidationError("rfs", "an array (k, p, q) of receptive fields", rfs.shape)
    return [fit_gabor(rf) for rf in rfs]


def gabor_fraction(fits: Sequence[GaborFit], threshold: float = 0.8) -> float:
    """Fraction of fits with :math:`R^2 \\ge` ``threshold``.

    Parameters
    ----------
    fits : sequence of GaborFit
        From :func:`gabor_fits`.
    threshold : float
        Minimum :math:`R^2` for a receptive field to count as Gabor-like.

    Returns
    -------
    float
        In [0, 1].
    """
    if len(fits) == 0:
        raise ValidationError("fits", "at least one GaborFit", fits)
    if not 0 < threshold <= 1:
        raise ValidationError("threshold", "a number in (0, 1]", threshold)
    return float(np.mean([fit.r2 >= threshold for fit in fits]))
