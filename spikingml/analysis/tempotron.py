r"""The tempotron's voltage evaluated event by event, and its non-temporal twins.

Companion of :mod:`spikingml.circuits.tempotron` (Gutig & Sompolinsky 2006). The
tempotron's membrane potential, in units of the distance from rest to threshold, is a sum
of postsynaptic potentials

.. math::

    V(t) = \sum_i w_i \sum_{t_i} K(t - t_i), \qquad
    K(s) = V_0 \left(e^{-s/\tau} - e^{-s/\tau_s}\right) \; (s > 0),

with :math:`V_0` normalising the peak of :math:`K` to 1. The neuron fires if :math:`V`
crosses the threshold :math:`\theta`. :func:`evaluate` computes :math:`V` on the circuit's
time grid from the spike steps alone (a cross-check of the Brian2 circuit, not the twin).

The twins are the classifiers that ignore spike timing, fitted with scikit-learn on the
same patterns: a perceptron (Rosenblatt 1958) trained epoch by epoch
(:func:`perceptron_curve`) and linear discriminant analysis (Fisher 1936;
:func:`lda_accuracy`), on spike counts or on counts in time bins. :func:`capacity`
reads the capacity (patterns per synapse learnt to a criterion) off accuracy curves.

The metrics of a run: :func:`accuracy_curves` (fraction correct per epoch of every
problem, from the circuit's recorded errors), :func:`load_metrics` (accuracy, best epoch
and epochs to criterion of every load, the capacities) and :func:`crosscheck` (the
circuit's frozen decisions against :func:`evaluate`).

References
----------
Gutig, R. & Sompolinsky, H. (2006). The tempotron: a neuron that learns spike
timing-based decisions. Nat. Neurosci. 9, 420-428.

Rosenblatt, F. (1958). The perceptron: a probabilistic model for information storage and
organization in the brain. Psychol. Rev. 65, 386-408.

Fisher, R. A. (1936). The use of multiple measurements in taxonomic problems. Ann.
Eugenics 7, 179-188.

Cover, T. M. (1965). Geometrical and statistical properties of systems of linear
inequalities with applications in pattern recognition. IEEE Trans. Electron. Comput.
EC-14, 326-334.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spikingml.errors import ValidationError

if TYPE_CHECKING:
    from spikingml.result import Result

__all__ = [
    "Evaluation",
    "kernel_norm",
    "psp_kernel",
    "evaluate",
    "perceptron_curve",
    "perceptron_accuracy",
    "lda_accuracy",
    "capacity",
    "alpha_key",
    "accuracy_curves",
    "load_metrics",
    "crosscheck",
]


def kernel_norm(tau: float, tau_s: float) -> float:
    """:math:`V_0`: the factor that makes the peak of :math:`K` equal to 1 (times in s)."""
    if not (tau > 0 and tau_s > 0 and tau != tau_s):
        raise ValidationError("tau, tau_s", "two different positive time constants", (tau, tau_s))
    t_peak = tau * tau_s / (tau - tau_s) * np.log(tau / tau_s)
    return float(1.0 / (np.exp(-t_peak / tau) - np.exp(-t_peak / tau_s)))


def psp_kernel(s: np.ndarray, tau: float, tau_s: float) -> np.ndarray:
    """:math:`K(s)` for delays ``s`` in seconds (0 for ``s <= 0``); peak 1."""
    s = np.asarray(s, dtype=float)
    k = kernel_norm(tau, tau_s) * (np.exp(-s / tau) - np.exp(-s / tau_s))
    return np.where(s > 0, k, 0.0)


@dataclass(frozen=True)
class Evaluation:
    """The tempotron's response to patterns with fixed weights.

    Attributes
    ----------
    voltage : ndarray, shape (n_patterns, n_steps)
        :math:`V` at every step of every pattern (step 0, the onset, is 0).
    fired : ndarray of bool, shape (n_patterns,)
        Whether :math:`V` crossed :math:`\\theta` at a step ``1 .. n_steps - 1``.
    t_max : ndarray of int, shape (n_patterns,)
        Step of the first crossing if it fired, else the step of the maximum of ``V``.
    v_max : ndarray, shape (n_patterns,)
        ``V`` at ``t_max``.
    """

    voltage: np.ndarray
    fired: np.ndarray
    t_max: np.ndarray
    v_max: np.ndarray


def evaluate(
    weights: np.ndarray,
    steps: np.ndarray,
    n_steps: int,
    dt: float,
    tau: float,
    tau_s: float,
    theta: float = 1.0,
) -> Evaluation:
    """Evaluate the tempotron on patterns, event by event, on the circuit's time grid.

    A spike at step ``s`` contributes :math:`w_i K((k - s)\\,dt)` to :math:`V` at step
    ``k`` (zero at ``k <= s``), which is what the circuit's exact integration of the two
    exponentials gives on its grid. After the first crossing the circuit shunts its
    inputs; that changes ``V`` only after ``t_max``, not ``fired``, ``t_max`` or ``v_max``,
    and ``voltage`` here is unshunted.

    Parameters
    ----------
    weights : ndarray, shape (n_afferents,)
    steps : ndarray of int, shape (n_patterns, n_afferents)
        Spike step of every afferent in every pattern, in ``1 .. n_steps - 1``.
    n_steps : int
        Steps in one pattern.
    dt : float
        Time step in seconds.
    tau, tau_s : float
        Membrane and synaptic time constants in seconds.
    theta : float
        Threshold (in units of the distance from rest to threshold: 1).
    """
    weights = np.asarray(weights, dtype=float)
    steps = np.asarray(steps)
    if steps.ndim != 2 or steps.shape[1] != weights.shape[0]:
        raise ValidationError(
            "steps", f"an array (n_patterns, {weights.shape[0]})", np.shape(steps)
        )
    if steps.size and (steps.min() < 0 or steps.max() >= n_steps):
        raise ValidationError("steps", f"steps in 0 .. {n_steps - 1}", (steps.min(), steps.max()))
    n_patterns = steps.shape[0]
    # input of every pattern summed per step, then convolved with K on the grid (FFT)
    drive = np.zeros((n_patterns, n_steps))
    np.add.at(
        drive,
        (np.repeat(np.arange(n_patterns), steps.shape[1]), steps.ravel()),
        np.tile(weights, n_patterns),
    )
    kernel = psp_kernel(np.arange(n_steps) * dt, tau, tau_s)
    size = 1 << int(np.ceil(np.log2(2 * n_steps)))
    voltage = np.fft.irfft(
        np.fft.rfft(drive, size, axis=1) * np.fft.rfft(kernel, size)[None, :], size, axis=1
    )[:, :n_steps]
    voltage[:, 0] = 0.0
    inside = voltage[:, 1:]
    above = inside > theta
    fired = above.any(axis=1)
    first = np.argmax(above, axis=1)
    t_max = 1 + np.where(fired, first, np.argmax(inside, axis=1))
    v_max = voltage[np.arange(n_patterns), t_max]
    return Evaluation(voltage, fired, t_max, v_max)


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if not np.all(np.isin(y, (-1, 1))):
        raise ValidationError("labels", "labels +1 and -1", np.unique(y))
    return y


def _train_perceptron(
    features: np.ndarray, labels: np.ndarray, n_epochs: int, seed: int, curve: bool
):
    from sklearn.linear_model import Perceptron
    from sklearn.preprocessing import StandardScaler

    labels = _labels(labels)
    scaler = StandardScaler().fit(np.asarray(features, dtype=float))
    x = scaler.transform(np.asarray(features, dtype=float))
    rng = np.random.default_rng(seed)
    model = Perceptron(shuffle=False, random_state=seed)
    accuracy = np.zeros(n_epochs)
    if not curve:  # one call: scikit-learn's own epoch loop, same rule and order source
        model = Perceptron(shuffle=True, random_state=seed, max_iter=n_epochs, tol=None)
        model.fit(x, labels)
        accuracy[-1] = model.score(x, labels)
        return scaler, model, accuracy
    classes = np.array([-1, 1])
    for epoch in range(n_epochs):
        order = rng.permutation(len(labels))
        model.partial_fit(x[order], labels[order], classes=classes)
        # the decision rule of Perceptron.predict, without its input checks (fast)
        predicted = np.where(x @ model.coef_[0] + model.intercept_[0] > 0, 1, -1)
        accuracy[epoch] = np.mean(predicted == labels)
    return scaler, model, accuracy


def perceptron_curve(
    features: np.ndarray, labels: np.ndarray, n_epochs: int, seed: int = 0
) -> np.ndarray:
    """Training accuracy of a perceptron after each epoch on ``features``.

    scikit-learn's :class:`~sklearn.linear_model.Perceptron` (Rosenblatt's rule with a
    bias, step 1, no regularisation), one ``partial_fit`` pass over the patterns in a
    fresh random order per epoch; features are standardised first.

    Returns
    -------
    ndarray, shape (n_epochs,)
        Fraction of the patterns classified correctly after each epoch.
    """
    return _train_perceptron(features, labels, n_epochs, seed, curve=True)[2]


def perceptron_accuracy(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    n_epochs: int,
    seed: int = 0,
) -> float:
    """Held-out accuracy of a perceptron trained for ``n_epochs`` epochs.

    The same rule as :func:`perceptron_curve` (standardised features, Rosenblatt's rule
    with a bias), fitted in one call (``Perceptron.fit``, shuffled epochs, no early stop).
    """
    scaler, model, _ = _train_perceptron(train_x, train_y, n_epochs, seed, curve=False)
    x = scaler.transform(np.asarray(test_x, dtype=float))
    return float(model.score(x, _labels(test_y)))


def lda_accuracy(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    seed: int = 0,
    noise: float = 1e-6,
) -> float:
    """Held-out accuracy of linear discriminant analysis (scikit-learn, ``svd`` solver).

    Features that are constant over the training set (spike counts of patterns in which
    every afferent fires once) leave the within-class scatter singular; a tiny Gaussian
    noise of standard deviation ``noise`` (seeded) is added to train and test features so
    that the fit exists. It carries no class information, so LDA on such features is at
    chance, as it should be. The ``svd`` solver keeps memory low for many features.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(seed)
    train_x = np.asarray(train_x, dtype=float)
    test_x = np.asarray(test_x, dtype=float)
    train_x = train_x + rng.normal(0.0, noise, train_x.shape)
    test_x = test_x + rng.normal(0.0, noise, test_x.shape)
    model = LinearDiscriminantAnalysis(solver="svd")
    model.fit(train_x, _labels(train_y))
    return float(model.score(test_x, _labels(test_y)))


def capacity(alphas: np.ndarray, accuracies: np.ndarray, level: float = 0.95) -> float:
    """The largest load ``alpha`` up to which every tested load reached ``level``.

    Parameters
    ----------
    alphas : ndarray, shape (n_loads,)
        Patterns per synapse of each tested load, increasing.
    accuracies : ndarray, shape (n_loads,)
        The accuracy each load reached (for example the best epoch within the budget).
    level : float
        Criterion (0.95: 95 % of the patterns correct).

    Returns
    -------
    float
        0 if even the smallest load missed the criterion.
    """
    alphas = np.asarray(alphas, dtype=float)
    accuracies = np.asarray(accuracies, dtype=float)
    if alphas.shape != accuracies.shape or np.any(np.diff(alphas) <= 0):
        raise ValidationError("alphas", "increasing loads, one accuracy each", alphas)
    reached = accuracies >= level
    if not reached[0]:
        return 0.0
    last = len(reached) if reached.all() else int(np.argmin(reached))
    return float(alphas[last - 1])


# ------------------------------------------------------------------- metrics of a run
def alpha_key(alpha: float) -> str:
    """Metric suffix of a load: 2.5 -> ``"2_5"``."""
    return f"{alpha:g}".replace(".", "_")


def accuracy_curves(result: Result) -> dict[str, np.ndarray]:
    """Fraction correct per epoch for every problem (last entry: the frozen window).

    Read from the errors the circuit recorded (``weights["err_<problem>"]``, epochs x
    patterns, 0 where correct). For ``timing`` the training samples only (the first
    ``extra["n_train_timing"]``); ``timing_test`` the held-out samples.
    """
    out = {}
    n_train = result.extra["n_train_timing"]
    for name in result.extra["problems"]:
        err = result.weights[f"err_{name}"]
        if name == "timing":
            out["timing"] = np.mean(err[:, :n_train] == 0, axis=1)
            out["timing_test"] = np.mean(err[:, n_train:] == 0, axis=1)
        else:
            out[name] = np.mean(err == 0, axis=1)
    return out


def load_metrics(
    alphas: np.ndarray,
    curves: dict[str, np.ndarray],
    perceptron_final: np.ndarray,
    criterion: float,
) -> dict[str, float]:
    """The capacity task's metrics, per load and over the loads.

    Parameters
    ----------
    alphas : ndarray, shape (n_loads,)
        The loads, increasing.
    curves : dict of str to ndarray
        :func:`accuracy_curves`: ``alpha_<key>`` per load (:func:`alpha_key`), training
        epochs then the frozen window.
    perceptron_final : ndarray, shape (n_loads,)
        The perceptron's training accuracy after its last epoch, per load.
    criterion : float
        Fraction correct that counts as learnt.

    Returns
    -------
    dict of str to float
        Per load ``tempotron_accuracy_alpha_<a>`` (frozen window),
        ``tempotron_best_accuracy_alpha_<a>`` (best training epoch),
        ``epochs_to_criterion_alpha_<a>`` (1-based, NaN if never) and
        ``perceptron_accuracy_alpha_<a>``; then ``capacity_alpha`` and
        ``perceptron_capacity_alpha`` (:func:`capacity`).
    """
    m: dict[str, float] = {}
    final = []
    for alpha in alphas:
        key = alpha_key(alpha)
        curve = curves[f"alpha_{key}"]
        final.append(curve[-1])
        m[f"tempotron_accuracy_alpha_{key}"] = float(curve[-1])
        m[f"tempotron_best_accuracy_alpha_{key}"] = float(np.max(curve[:-1]))
        hit = np.flatnonzero(curve[:-1] >= criterion)
        m[f"epochs_to_criterion_alpha_{key}"] = float(hit[0] + 1) if len(hit) else float("nan")
    for alpha, acc in zip(alphas, perceptron_final, strict=True):
        m[f"perceptron_accuracy_alpha_{alpha_key(alpha)}"] = float(acc)
    m["capacity_alpha"] = capacity(alphas, np.array(final), criterion)
    m["perceptron_capacity_alpha"] = capacity(alphas, perceptron_final, criterion)
    return m


def crosscheck(
    problems: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    n_steps: int,
    dt: float,
    tau: float,
    tau_s: float,
    theta: float = 1.0,
) -> tuple[float, float]:
    """The circuit's frozen window against :func:`evaluate`, problem by problem.

    Parameters
    ----------
    problems : iterable of tuples
        ``(weights, steps, labels, v_max, err)`` per problem: its final weights, the
        spike steps of its patterns (n_patterns, n_afferents), their labels (+1 / -1),
        and the circuit's ``Vmax`` and ``err`` of every pattern in the frozen window.
    n_steps, dt, tau, tau_s, theta
        As for :func:`evaluate` (times in s).

    Returns
    -------
    max_error, agreement : float
        Largest ``|Vmax|`` difference over every pattern and the fraction of equal
        fire / no-fire decisions.
    """
    worst, agree, total = 0.0, 0, 0
    for weights, steps, labels, v_max, err in problems:
        ev = evaluate(weights, steps, n_steps, dt, tau, tau_s, theta)
        fired = err != 0
        fired = np.where(labels > 0, ~fired, fired)  # err 0 on a + pattern: it fired
        worst = max(worst, float(np.max(np.abs(v_max - ev.v_max))))
        agree += int(np.sum(fired == ev.fired))
        total += len(fired)
    return worst, agree / total
