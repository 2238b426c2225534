r"""Reservoir computing: the tasks, the readout and the echo state networks.

A reservoir is a fixed recurrent network driven by an input ``u(t)``; only a linear
readout of its state ``x(t)`` is trained. This module scores any state sequence on the
classic reservoir tasks (the liquid state machine of :mod:`spikingml.circuits.reservoir`
and the echo state networks alike) and builds the echo state networks with reservoirpy.
Nothing here imports Brian2.

Contents
--------
:func:`filtered_spike_states`
    The state of a spiking reservoir: its spikes filtered with a fixed time constant,
    read at the end of every bin.
:func:`fit_ridge`, :data:`ALPHAS`
    The readout: ridge regression with its regularisation chosen by efficient
    leave-one-out cross-validation on the training half (scikit-learn's ``RidgeCV``),
    features standardised on the training half.
:func:`memory_capacity`
    Jaeger's (2001) memory capacity, with a held-out test half.
:func:`narma10`, :func:`narma_nrmse`
    The NARMA-10 series and the normalised error of its one-step prediction.
:func:`xor_accuracy`, :func:`binomial_standard_error`
    Cross-validated accuracy of a ridge classifier (delayed temporal XOR: every trial
    held out once) and its standard error.
:func:`separation_curve`
    Distance of states against distance of the inputs that produced them.
:func:`linear_esn_states`, :func:`tanh_esn_states`, :func:`leaky_esn_states`
    Echo state networks run by reservoirpy (extra ``reservoir``).

Memory capacity
---------------
For i.i.d. input ``u(t)`` and a readout ``y_k(t) = w_k . x(t) + b_k`` trained to give
``u(t - k)``,

.. math:: MC = \sum_{k=1}^{k_{max}} r^2\big(u(t - k), y_k(t)\big),

with :math:`r^2` the squared correlation on held-out samples (Jaeger 2001; ``x(t)`` has
seen ``u(t)``, so delay 0 is not memory and is left out of the sum). For ``N`` units
:math:`MC \le N`, reached only by linear units with a well-conditioned reservoir (a
random orthogonal matrix scaled to spectral radius 0.95 reaches about 0.95 N; a random
Gaussian one only 0.7 N). On a finite test set a readout without any memory still has
:math:`r^2 \approx 1 / n_{test}` by chance, which over ``k_max = 2N`` delays adds up
(0.2 for 400 delays and 2000 test samples); as Dambre et al. (2012) do, a delay's
:math:`r^2` enters the sum only above the level that chance exceeds with probability
``significance`` (under the null, :math:`(n_{test} - 2) r^2 / (1 - r^2)` follows
Fisher's F(1, n_test - 2)); the per-delay curve keeps every value.

NARMA-10
--------
The variant of Atiya & Parlos (2000), as used by Jaeger (2003) and most reservoir
papers, with ``s(t)`` i.i.d. uniform in [0, 0.5]:

.. math:: y(t+1) = 0.3\,y(t) + 0.05\,y(t) \sum_{i=0}^{9} y(t-i)
          + 1.5\,s(t-9)\,s(t) + 0.1 .

The readout of ``x(t)`` predicts ``y(t + 1)``; :math:`NRMSE = \sqrt{\langle (\hat y -
y)^2 \rangle / \mathrm{var}(y)}` on the test half (1: no better than the mean; about 0.4
for a good 100-unit tanh ESN).

Separation
----------
Maass et al. (2002): a reservoir separates when different input histories give
different states, more so the more the histories differ. From one long run, pairs of
time points ``(t1, t2)``: input distance :math:`\lVert u_{t1-w+1..t1} - u_{t2-w+1..t2}
\rVert / \sqrt{w}` over the last ``w`` steps, state distance :math:`\lVert x(t1) - x(t2)
\rVert / \sqrt{N}`; the curve is the mean state distance in quantile bins of the input
distance.

References
----------
Jaeger, H. (2001). Short term memory in echo state networks. GMD Report 152.

Jaeger, H. (2003). Adaptive nonlinear system identification with echo state networks.
Advances in Neural Information Processing Systems 15, 609-616.

Atiya, A. F. & Parlos, A. G. (2000). New results on recurrent network training. IEEE
Transactions on Neural Networks 11, 697-709.

Maass, W., Natschläger, T. & Markram, H. (2002). Real-time computing without stable
states. Neural Computation 14, 2531-2560.

Dambre, J., Verstraeten, D., Schrauwen, B. & Massar, S. (2012). Information processing
capacity of dynamical systems. Scientific Reports 2, 514.

Trouvain, N., Pedrelli, L., Dinh, T. T. & Hinaut, X. (2020). ReservoirPy: an efficient
and user-friendly library to design echo state networks. ICANN 2020, 494-505.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "ALPHAS",
    "RESERVOIR_HINT",
    "SCALE_FLOOR",
    "MemoryCapacity",
    "Separation",
    "binomial_standard_error",
    "chance_r2",
    "filtered_spike_states",
    "fit_ridge",
    "import_reservoirpy",
    "leaky_esn_states",
    "linear_esn_states",
    "memory_capacity",
    "narma10",
    "narma_nrmse",
    "random_orthogonal",
    "separation_curve",
    "split_halves",
    "tanh_esn_states",
    "xor_accuracy",
]

#: Ridge penalties the readout chooses from (features standardised: 1e-6 is almost
#: least squares, 1e3 a strong shrinkage).
ALPHAS: np.ndarray = np.logspace(-6, 3, 19)

#: Smallest feature scale of the readout, relative to the features' median standard
#: deviation (:func:`fit_ridge`).
SCALE_FLOOR = 0.01

RESERVOIR_HINT = "install the extra: pip install 'spikingml[reservoir]'"


# ------------------------------------------------------------------------------ states
def filtered_spike_states(
    indices: Any, times: Any, n: int, t_start: float, bin_width: float, n_bins: int, tau: float
) -> np.ndarray:
    """Spikes filtered with ``exp(-t / tau)``, read at the end of every bin.

    Parameters
    ----------
    indices, times : array_like
        Neuron index and time (s) of every spike.
    n : int
        Number of neurons.
    t_start : float
        Start of the first bin (s); spikes before it are ignored.
    bin_width : float
        Bin width (s).
    n_bins : int
        Number of bins.
    tau : float
        Time constant of the filter (s).

    Returns
    -------
    ndarray, shape (n_bins, n)
        Row ``k``: :math:`\\sum_{s < t_k} e^{-(t_k - s) / \\tau}` over each neuron's spikes
        ``s`` since ``t_start``, at the end of bin ``k``, :math:`t_k = t_{start} + (k + 1)
        \\Delta`. A spike exactly on a bin's end counts in the next bin.
    """
    indices = np.asarray(indices, dtype=np.int64)
    rel = np.asarray(times, dtype=float) - float(t_start)
    if indices.shape != rel.shape:
        raise ValidationError("indices, times", "arrays of the same length", rel.shape)
    if not (bin_width > 0 and tau > 0):
        raise ValidationError("bin_width, tau", "durations > 0 s", (bin_width, tau))
    keep = (rel >= 0) & (rel < n_bins * bin_width)
    indices, rel = indices[keep], rel[keep]
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        raise ValidationError("indices", f"neuron indices in [0, {n})", indices.max())
    which = np.minimum((rel // bin_width).astype(np.int64), n_bins - 1)
    inflow = np.zeros((n_bins, int(n)))
    np.add.at(inflow, (which, indices), np.exp(-((which + 1) * bin_width - rel) / tau))
    decay = np.exp(-bin_width / tau)
    states = np.empty_like(inflow)
    current = np.zeros(int(n))
    for k in range(n_bins):
        current = current * decay + inflow[k]
        states[k] = current
    return states


# ------------------------------------------------------------------------------ readout
def _as_states(states: Any, name: str = "states") -> np.ndarray:
    x = np.asarray(states, dtype=float)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValidationError(name, "a finite 2-D array (samples, units)", getattr(x, "shape", x))
    return x


def split_halves(n: int, start: int) -> tuple[slice, slice]:
    """Training and test rows: the samples from ``start`` on, cut in two halves."""
    if not 0 <= start < n - 3:
        raise ValidationError("start", f"an index in [0, {n - 4}] (n = {n})", start)
    middle = start + (n - start) // 2
    return slice(start, middle), slice(middle, n)


class _Readout:
    """A fitted ridge readout on standardised features."""

    def __init__(self, model: Any, mean: np.ndarray, scale: np.ndarray) -> None:
        self.model, self.mean, self.scale = model, mean, scale

    @property
    def alpha(self) -> np.ndarray:
        return np.atleast_1d(self.model.alpha_)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict((x - self.mean) / self.scale)


def fit_ridge(x: np.ndarray, y: np.ndarray, alphas: Any = ALPHAS) -> _Readout:
    """Ridge readout of ``y`` (one column per target) from ``x``, penalty by LOO CV.

    Features are standardised with the mean and standard deviation of ``x``, the
    standard deviation floored at :data:`SCALE_FLOOR` times the features' median one
    (scale 1 if every feature is constant): a neuron that was (almost) silent in
    training, e.g. only the exponential tail of one earlier spike, keeps a tiny scale
    otherwise, and its first spikes in the test set would reach the prediction
    multiplied by up to 1e50. Every target chooses its own penalty from ``alphas`` by the
    efficient leave-one-out error of scikit-learn's ``RidgeCV``.

    Returns
    -------
    object
        ``predict(x)`` and ``alpha`` (the chosen penalty of every target).
    """
    from sklearn.linear_model import RidgeCV

    x = _as_states(x, "x")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    typical = np.median(scale[scale > 0]) if np.any(scale > 0) else 1.0
    scale = np.maximum(scale, SCALE_FLOOR * typical)
    y = np.asarray(y, dtype=float)
    model = RidgeCV(alphas=np.asarray(alphas, float), alpha_per_target=y.ndim == 2)
    model.fit((x - mean) / scale, y)
    return _Readout(model, mean, scale)


def _r2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared correlation of the columns of ``a`` and ``b`` (0 where one is constant)."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    num = np.sum(a * b, axis=0) ** 2
    den = np.sum(a * a, axis=0) * np.sum(b * b, axis=0)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


# ---------------------------------------------------------------------- memory capacity
@dataclasses.dataclass(frozen=True)
class MemoryCapacity:
    """Memory capacity of a state sequence.

    Attributes
    ----------
    total : float
        :math:`\\sum_k r^2_k` over the delays whose ``r2`` is above ``threshold``.
    r2 : ndarray, shape (max_delay,)
        Held-out squared correlation for delays ``k = 1 .. max_delay``.
    threshold : float
        The chance level below which a delay does not count.
    """

    total: float
    r2: np.ndarray
    threshold: float

    @property
    def delays(self) -> np.ndarray:
        """The delays ``1 .. max_delay`` of :attr:`r2`."""
        return np.arange(1, len(self.r2) + 1)


def chance_r2(n_test: int, significance: float) -> float:
    """The ``r^2`` that a readout without memory exceeds with probability ``significance``."""
    from scipy.stats import f

    q = f.isf(significance, 1, n_test - 2)
    return float(q / (q + n_test - 2))


def memory_capacity(
    states: Any,
    u: Any,
    max_delay: int,
    washout: int = 0,
    alphas: Any = ALPHAS,
    significance: float = 1e-3,
) -> MemoryCapacity:
    """Jaeger's memory capacity of ``states`` driven by i.i.d. ``u`` (module docstring).

    Parameters
    ----------
    states : array_like, shape (T, N)
        State after each input step (row ``t`` has seen ``u[t]``).
    u : array_like, shape (T,)
        The input, i.i.d. over steps.
    max_delay : int
        Largest delay ``k`` (Jaeger: ``2 N``).
    washout : int
        Rows left out at the start (transient); the rows used start at
        ``max(washout, max_delay)`` so that every delay has its target.
    alphas : array_like
        Ridge penalties (:func:`fit_ridge`).
    significance : float
        Chance level of a delay's ``r^2`` that still counts (:func:`chance_r2`).

    Returns
    -------
    MemoryCapacity
    """
    x = _as_states(states)
    u = np.asarray(u, dtype=float)
    if u.shape != (len(x),):
        raise ValidationError("u", f"one input per state row ({len(x)})", u.shape)
    if not (isinstance(max_delay, (int, np.integer)) and max_delay >= 1):
        raise ValidationError("max_delay", "an integer >= 1", max_delay)
    train, test = split_halves(len(x), max(int(washout), int(max_delay)))
    rows = np.arange(len(x))
    delays = np.arange(1, max_delay + 1)
    targets = u[rows[:, None] - delays[None, :]]  # wraps for t < k: those rows are unused
    readout = fit_ridge(x[train], targets[train], alphas)
    r2 = _r2(readout.predict(x[test]), targets[test])
    threshold = chance_r2(test.stop - test.start, significance)
    return MemoryCapacity(float(np.sum(r2[r2 > threshold])), r2, threshold)


# ------------------------------------------------------------------------------ NARMA
def narma10(s: Any) -> np.ndarray:
    """The NARMA-10 series driven by ``s`` (uniform in [0, 0.5]; module docstring).

    Returns
    -------
    ndarray, shape (T,)
        ``y[t]``, with ``y[t] = 0`` for ``t < 10``; ``y[t + 1]`` is what a readout of
        the state at ``t`` predicts.
    """
    s = np.asarray(s, dtype=float)
    if s.ndim != 1 or np.any(s < 0) or np.any(s > 0.5):
        raise ValidationError("s", "a 1-D input in [0, 0.5]", getattr(s, "shape", s))
    y = np.zeros(len(s))
    for t in range(9, len(s) - 1):
        y[t + 1] = (
            0.3 * y[t] + 0.05 * y[t] * np.sum(y[t - 9 : t + 1]) + 1.5 * s[t - 9] * s[t] + 0.1
        )
    if not np.all(np.isfinite(y)) or np.max(np.abs(y)) > 10:
        raise ValidationError("s", "an input for which NARMA-10 stays bounded", "a diverging y")
    return y


def narma_nrmse(states: Any, y: Any, washout: int = 0, alphas: Any = ALPHAS) -> float:
    """Held-out NRMSE of the one-step prediction of NARMA-10 (``x(t)`` -> ``y(t + 1)``)."""
    x = _as_states(states)
    y = np.asarray(y, dtype=float)
    if y.shape != (len(x),):
        raise ValidationError("y", f"one value per state row ({len(x)})", y.shape)
    train, test = split_halves(len(x) - 1, max(int(washout), 10))
    target = y[1:]
    readout = fit_ridge(x[:-1][train], target[train], alphas)
    error = readout.predict(x[:-1][test]) - target[test]
    return float(np.sqrt(np.mean(error**2) / np.var(target[test])))


# --------------------------------------------------------------------------------- XOR
def xor_accuracy(features: Any, labels: Any, alphas: Any = ALPHAS, folds: int = 10) -> float:
    """Cross-validated accuracy of a ridge classifier (targets +-1, decision by sign).

    The trials are cut into ``folds`` contiguous blocks; each block is classified by a
    readout fitted on all the others, so that every trial is held out once and the
    accuracy counts all of them (its binomial standard error:
    :func:`binomial_standard_error`).

    Parameters
    ----------
    features : array_like, shape (trials, N)
        The state read out at the end of each trial.
    labels : array_like of {0, 1}
        The XOR of the trial's two bits.
    alphas : array_like
        Ridge penalties (:func:`fit_ridge`).
    folds : int
        Blocks of trials (at least 2; at most one per trial: fewer trials than ``folds``
        leave one out).

    Returns
    -------
    float
        Fraction of all trials classified correctly by a readout that did not see them.
    """
    x = _as_states(features, "features")
    labels = np.asarray(labels)
    if labels.shape != (len(x),) or not np.all(np.isin(labels, (0, 1))):
        raise ValidationError("labels", f"{len(x)} labels in {{0, 1}}", labels)
    if not (isinstance(folds, (int, np.integer)) and folds >= 2 and len(x) >= 4):
        raise ValidationError("folds, features", "folds >= 2 and >= 4 trials", (folds, len(x)))
    target = 2.0 * labels - 1
    correct = np.zeros(len(x), dtype=bool)
    for test in np.array_split(np.arange(len(x)), min(int(folds), len(x))):
        train = np.setdiff1d(np.arange(len(x)), test)
        readout = fit_ridge(x[train], target[train], alphas)
        correct[test] = (readout.predict(x[test]) > 0) == (labels[test] == 1)
    return float(np.mean(correct))


def binomial_standard_error(accuracy: float, n: int) -> float:
    """Standard error ``sqrt(p (1 - p) / n)`` of an accuracy ``p`` measured on ``n`` trials."""
    if not (0 <= accuracy <= 1 and n >= 1):
        raise ValidationError("accuracy, n", "p in [0, 1] and n >= 1", (accuracy, n))
    return float(np.sqrt(accuracy * (1 - accuracy) / n))


# -------------------------------------------------------------------------- separation
@dataclasses.dataclass(frozen=True)
class Separation:
    """Mean state distance in quantile bins of the input distance."""

    input_distance: np.ndarray
    state_distance: np.ndarray

    @property
    def monotonic(self) -> bool:
        """Whether the state distance rises from every bin to the next."""
        return bool(np.all(np.diff(self.state_distance) > 0))


def separation_curve(
    states: Any,
    u: Any,
    window: int,
    start: int = 0,
    n_pairs: int = 20000,
    n_bins: int = 8,
    seed: int = 0,
) -> Separation:
    """State distance against the distance of the last ``window`` inputs (module docstring).

    Parameters
    ----------
    states : array_like, shape (T, N)
    u : array_like, shape (T,)
    window : int
        Input steps compared (the last ``window`` up to and including ``t``).
    start : int
        First row used (after the transient).
    n_pairs : int
        Random pairs of rows.
    n_bins : int
        Quantile bins of the input distance.
    seed : int
        Seed of the pairs.
    """
    x = _as_states(states)
    u = np.asarray(u, dtype=float)
    first = max(int(start), int(window) - 1)
    if u.shape != (len(x),) or first >= len(x) - 1:
        raise ValidationError("u", f"one input per state row, > {first + 1} rows", u.shape)
    rng = np.random.default_rng([seed, 0x5E9A])
    a = rng.integers(first, len(x), n_pairs)
    b = rng.integers(first, len(x), n_pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    lags = np.arange(window)
    d_in = np.linalg.norm(u[a[:, None] - lags] - u[b[:, None] - lags], axis=1) / np.sqrt(window)
    d_state = np.linalg.norm(x[a] - x[b], axis=1) / np.sqrt(x.shape[1])
    edges = np.quantile(d_in, np.linspace(0, 1, n_bins + 1))
    which = np.clip(np.searchsorted(edges, d_in, side="right") - 1, 0, n_bins - 1)
    centre = np.array([d_in[which == k].mean() for k in range(n_bins)])
    mean_state = np.array([d_state[which == k].mean() for k in range(n_bins)])
    return Separation(centre, mean_state)


# ------------------------------------------------------------------ echo state networks
def import_reservoirpy() -> Any:
    """Import reservoirpy, or raise an ``ImportError`` naming the extra to install."""
    try:
        module = importlib.import_module("reservoirpy")
    except ImportError as exc:
        raise ImportError(f"the echo state networks need reservoirpy: {RESERVOIR_HINT}") from exc
    return module


def _input(u: Any) -> np.ndarray:
    u = np.asarray(u, dtype=float)
    if u.ndim != 1 or not np.all(np.isfinite(u)):
        raise ValidationError("u", "a finite 1-D input sequence", getattr(u, "shape", u))
    return u[:, None]


def _run_reservoir(u: Any, W: np.ndarray, Win: np.ndarray, leak: float, activation: str):
    _reservoirpy = import_reservoirpy()
    from reservoirpy.nodes import Reservoir

    node = Reservoir(W=W, Win=Win, bias=0.0, lr=float(leak), activation=activation)
    return np.asarray(node.run(_input(u)))


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal ``n x n`` matrix (Haar measure: QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def linear_esn_states(u: Any, n: int, spectral_radius: float = 0.95, seed: int = 0) -> np.ndarray:
    """States of a linear ESN with a random orthogonal reservoir: the estimator's check.

    ``x(t) = W x(t-1) + w_in u(t)``, ``W`` orthogonal times ``spectral_radius`` (all its
    eigenvalues on that circle: the best-conditioned reservoir), ``w_in`` Gaussian. Its
    memory capacity is close to ``n`` (0.95-0.975 n measured at 0.95).
    """
    rng = np.random.default_rng([seed, 0x11EA])
    W = spectral_radius * random_orthogonal(int(n), rng)
    Win = rng.standard_normal((int(n), 1))
    return _run_reservoir(u, W, Win, 1.0, "identity")


def tanh_esn_states(
    u: Any,
    n: int,
    spectral_radius: float = 0.9,
    input_scaling: float = 1.0,
    connectivity: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """States of a standard tanh ESN drawn by reservoirpy (``lr = 1``, no bias)."""
    _reservoirpy = import_reservoirpy()
    from reservoirpy.nodes import Reservoir

    node = Reservoir(
        units=int(n),
        sr=float(spectral_radius),
        input_scaling=float(input_scaling),
        rc_connectivity=float(connectivity),
        input_connectivity=1.0,
        lr=1.0,
        activation="tanh",
        seed=int(seed),
    )
    return np.asarray(node.run(_input(u)))


def leaky_esn_states(
    u: Any, W: np.ndarray, Win: np.ndarray, leak: float, spectral_radius: float
) -> np.ndarray:
    """States of a leaky tanh ESN with a given structure (the circuit's rate twin).

    ``x(t) = (1 - leak) x(t-1) + leak tanh(W' x(t-1) + Win u(t))``, ``W'`` the given
    (signed) matrix scaled to ``spectral_radius``.
    """
    W = np.asarray(W, dtype=float)
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    if not radius > 0:
        raise ValidationError("W", "a matrix with a spectral radius > 0", radius)
    if not 0 < leak <= 1:
        raise ValidationError("leak", "a value in (0, 1]", leak)
    Win = np.asarray(Win, dtype=float).reshape(len(W), 1)
    return _run_reservoir(u, W * (spectral_radius / radius), Win, leak, "tanh")
