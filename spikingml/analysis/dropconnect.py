r"""DropConnect on a delta-rule classifier: the twin of the stochastic-synapses circuit.

A linear classifier with one output per class is trained by the delta rule (Widrow &
Hoff 1960; least mean squares on one-hot targets) while every weight transmits with
probability ``p``, a fresh random mask for every training example: DropConnect (Wan et
al. 2013), the weight-level form of dropout (Srivastava et al. 2014). At test every
weight transmits, scaled by ``p`` (as dropout scales its weights at test), so that an
output receives at test the drive it received on average during training.

Equations (in the symbols of the code)
--------------------------------------
For a training example ``x`` (binary inputs, shape ``(n_inputs,)``) with label ``y``::

    c[i, j] = x[i] * B[i, j] / n        B[i, j] ~ Binomial(n, p)   (n = spikes_per_input)
    v[j]    = sum_i w[i, j] * c[i, j]
    w[i, j] += eta * (target[j] - v[j]) * c[i, j]      target = one-hot(y)

With ``n = 1``, ``B`` is the Bernoulli mask of DropConnect. With ``n > 1`` a synapse
carries ``n`` spikes per example, each released with probability ``p``: the mask
becomes the released fraction ``B / n``, whose variance ``p (1 - p) / n`` falls with
``n`` (the spiking circuit's release noise averages out over spikes). At test::

    v[j] = p * sum_i w[i, j] * alive[i, j] * x[i]        predicted class = argmax_j v[j]

(``alive``: 1, or 0 for a synapse deleted after training). Dropping weights at random
in the gradient step is, on average, a penalty on ``p (1 - p) sum w^2 x^2``
(Wager, Wang & Liang 2013): a data-dependent ridge that shrinks the weights of the
inputs that are often active.

Metrics
-------
:func:`accuracy` (fraction of examples whose predicted class is the label);
:func:`generalisation_gap` (train accuracy minus test accuracy, both measured after
training with every synapse transmitting); :func:`best_probability` (the ``p`` with the
highest accuracy on a validation set, never the test set).

References
----------
Widrow, B. & Hoff, M. E. (1960). Adaptive switching circuits. IRE WESCON Convention
Record 4, 96-104.

Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. & Salakhutdinov, R. (2014).
Dropout: a simple way to prevent neural networks from overfitting. Journal of Machine
Learning Research 15, 1929-1958.

Wan, L., Zeiler, M., Zhang, S., LeCun, Y. & Fergus, R. (2013). Regularization of neural
networks using DropConnect. Proceedings of ICML 2013, PMLR 28(3), 1058-1066.

Wager, S., Wang, S. & Liang, P. (2013). Dropout training as adaptive regularization.
Advances in Neural Information Processing Systems 26.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "accuracy",
    "best_probability",
    "deletion_mask",
    "gap_reduction",
    "generalisation_gap",
    "predict",
    "train_delta_rule",
    "train_delta_rules",
]


def _check_probability(p: float) -> float:
    p = float(p)
    if not 0 < p <= 1:
        raise ValidationError("p", "a release probability in (0, 1]", p)
    return p


def _training_inputs(
    x: np.ndarray, labels: np.ndarray, n_classes: int, spikes_per_input: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked inputs of the delta rule: ``x`` as floats, one-hot targets, ``n``."""
    x = np.asarray(x, dtype=float)
    labels = np.asarray(labels, dtype=int)
    if x.ndim != 2 or len(labels) != len(x):
        raise ValidationError("x, labels", "x (examples, inputs) and one label each", x.shape)
    n = int(spikes_per_input)
    if n < 1:
        raise ValidationError("spikes_per_input", "an integer >= 1", spikes_per_input)
    return x, np.eye(n_classes)[labels], n


def train_delta_rule(
    x: np.ndarray,
    labels: np.ndarray,
    order: np.ndarray,
    p: float,
    learning_rate: float,
    rng: np.random.Generator,
    n_classes: int = 10,
    spikes_per_input: int = 1,
) -> np.ndarray:
    """Train the delta rule with DropConnect masks (module docstring).

    Parameters
    ----------
    x : ndarray, shape (n_examples, n_inputs)
        Binary inputs of the training examples.
    labels : ndarray of int, shape (n_examples,)
        Their classes, in ``0 .. n_classes - 1``.
    order : ndarray of int, shape (n_epochs, n_examples) or (n_presentations,)
        The examples in the order they are presented (indices into ``x``).
    p : float
        Probability that a weight transmits (a spike is released), in ``(0, 1]``.
    learning_rate : float
        ``eta``.
    rng : numpy.random.Generator
        Source of the masks (none is drawn when ``p = 1``).
    n_classes : int
        Number of outputs.
    spikes_per_input : int
        ``n``: spikes an active input sends per example, each released independently.

    Returns
    -------
    ndarray, shape (n_inputs, n_classes)
        The weights after training, starting from 0.
    """
    p = _check_probability(p)
    x, targets, n = _training_inputs(x, labels, n_classes, spikes_per_input)
    w = np.zeros((x.shape[1], n_classes))
    for k in np.asarray(order, dtype=int).ravel():
        if p == 1:
            c = np.repeat(x[k][:, None], n_classes, axis=1)
        else:
            c = x[k][:, None] * rng.binomial(n, p, size=w.shape) / n
        v = np.sum(w * c, axis=0)
        w += learning_rate * (targets[k] - v)[None, :] * c
    return w


def train_delta_rules(
    x: np.ndarray,
    labels: np.ndarray,
    order: np.ndarray,
    ps: Sequence[float],
    learning_rates: Sequence[float],
    rngs: Sequence[np.random.Generator],
    n_classes: int = 10,
    spikes_per_input: int = 1,
    chunk: int = 256,
) -> np.ndarray:
    """:func:`train_delta_rule` for several ``(p, learning_rate, rng)`` at once.

    The copies see the examples in the same ``order`` and are trained side by side, one
    presentation for all of them at a time, which costs about as much as training one.
    Each copy's result equals ``train_delta_rule`` with its own ``p``, learning rate and
    ``rng`` exactly: its masks are drawn from its ``rng`` in the same order (``chunk``
    presentations at a time), and each sum adds the same terms in the same order.

    Parameters
    ----------
    x, labels, order, n_classes, spikes_per_input
        As for :func:`train_delta_rule`.
    ps : sequence of float
        Each copy's probability that a weight transmits, in ``(0, 1]``.
    learning_rates : sequence of float
        Each copy's ``eta``.
    rngs : sequence of numpy.random.Generator
        Each copy's source of masks (none is drawn for a copy with ``p = 1``).
    chunk : int
        Presentations whose masks are drawn at once (memory: ``copies x chunk x inputs x
        n_classes`` floats).

    Returns
    -------
    ndarray, shape (copies, n_inputs, n_classes)
        Each copy's weights after training, starting from 0.
    """
    ps = [_check_probability(p) for p in ps]
    if not (len(ps) == len(learning_rates) == len(rngs)) or not ps:
        raise ValidationError(
            "ps, learning_rates, rngs",
            "one value each per copy, at least one copy",
            f"{len(ps)}, {len(learning_rates)}, {len(rngs)}",
        )
    x, targets, n = _training_inputs(x, labels, n_classes, spikes_per_input)
    eta = np.asarray(learning_rates, dtype=float)[:, None]
    order = np.asarray(order, dtype=int).ravel()
    shape = (x.shape[1], n_classes)
    w = np.zeros((len(ps), *shape))
    product = np.empty_like(w)
    noisy = [k for k, p in enumerate(ps) if p != 1]
    for start in range(0, len(order), chunk):
        ks = order[start : start + chunk]
        # c of every presentation of the chunk: (presentations, copies, inputs, classes)
        c = np.ones((len(ks), len(ps), *shape))
        for k in noisy:
            c[:, k] = rngs[k].binomial(n, ps[k], size=(len(ks), *shape)) / n
        c *= x[ks][:, None, :, None]
        for t, example in enumerate(ks):
            np.multiply(w, c[t], out=product)
            v = product.sum(axis=1)
            np.multiply((eta * (targets[example] - v))[:, None, :], c[t], out=product)
            w += product
    return w


def predict(w: np.ndarray, x: np.ndarray, p: float, alive: np.ndarray | None = None) -> np.ndarray:
    """Predicted class of every example: ``argmax_j p sum_i w[i, j] alive[i, j] x[i]``.

    Ties go to the lowest class index (as ``numpy.argmax``; the circuit reads its
    output potentials the same way).
    """
    w_eff = _check_probability(p) * np.asarray(w, dtype=float)
    if alive is not None:
        w_eff = w_eff * alive
    return np.argmax(np.asarray(x, dtype=float) @ w_eff, axis=1)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of examples whose predicted class is the label (NaN for none)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if predicted.shape != labels.shape:
        raise ValidationError("predicted", f"the shape of labels {labels.shape}", predicted.shape)
    return float(np.mean(predicted == labels)) if len(labels) else float("nan")


def generalisation_gap(train_accuracy: float, test_accuracy: float) -> float:
    """Train accuracy minus held-out test accuracy (lower: less overfitting)."""
    return float(train_accuracy) - float(test_accuracy)


def gap_reduction(gap_deterministic: float, gap_best: float) -> float:
    """``1 - gap_best / gap_deterministic``: the fraction of the gap at ``p = 1`` removed.

    NaN when the gap at ``p = 1`` is not positive (nothing to reduce).
    """
    if not gap_deterministic > 0:
        return float("nan")
    return 1.0 - float(gap_best) / float(gap_deterministic)


def best_probability(probabilities: Sequence[float], validation_accuracy: Sequence[float]) -> int:
    """Index of the ``p`` with the highest validation accuracy (ties: the larger ``p``).

    Chosen on the validation examples, never on the test examples whose gap it reports.
    """
    ps = np.asarray(probabilities, dtype=float)
    acc = np.asarray(validation_accuracy, dtype=float)
    if ps.shape != acc.shape or ps.size == 0:
        raise ValidationError("validation_accuracy", f"one value per p ({ps.size})", acc.shape)
    best = np.flatnonzero(acc == np.nanmax(acc))
    return int(best[np.argmax(ps[best])])


def deletion_mask(rank: np.ndarray, fraction: float) -> np.ndarray:
    """Which synapses survive the deletion of ``fraction`` of them: ``rank >= fraction``.

    ``rank`` holds one uniform number in ``[0, 1)`` per synapse, drawn once, so the
    synapses deleted at 20% are also deleted at 40% and every network loses the same ones.
    """
    if not 0 <= fraction <= 1:
        raise ValidationError("fraction", "a fraction in [0, 1]", fraction)
    return (np.asarray(rank) >= fraction).astype(float)
