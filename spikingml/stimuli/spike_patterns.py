"""Spatio-temporal spike patterns for classification tasks (the tempotron's tasks).

Every pattern here has ``n_afferents`` input neurons that each fire exactly one spike,
at a time on a grid of ``n_steps`` time steps of one pattern (steps ``1 .. n_steps - 1``;
step 0, the pattern's onset, is left free). A pattern is therefore an integer array of
spike steps, one per afferent, and a set of patterns an array of shape
``(n_patterns, n_afferents)``. Labels are +1 and -1.

Contents
--------
:func:`latency_patterns`
    Random latency patterns with balanced random labels (the capacity task of Gutig &
    Sompolinsky 2006).
:func:`timing_task`
    A few templates per class and jittered samples of them: every afferent fires once in
    every sample of both classes, so the classes have identical spike counts and differ
    only in timing.
:func:`spike_counts`, :func:`binned_counts`
    Count features of patterns, for the non-temporal twins (perceptron, LDA).

References
----------
Gutig, R. & Sompolinsky, H. (2006). The tempotron: a neuron that learns spike
timing-based decisions. Nat. Neurosci. 9, 420-428.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "TimingTask",
    "latency_patterns",
    "timing_task",
    "spike_counts",
    "binned_counts",
]


def _positive_int(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValidationError(name, f"an integer >= {low}", value)
    return int(value)


def _balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels, half +1 and half -1 (one more -1 if ``n`` is odd), in random order."""
    return rng.permutation(np.r_[np.ones(n // 2), -np.ones(n - n // 2)]).astype(int)


def latency_patterns(
    n_patterns: int, n_afferents: int, n_steps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random latency patterns: each afferent fires once, at a uniform random step.

    Parameters
    ----------
    n_patterns, n_afferents : int
        Number of patterns and of input neurons.
    n_steps : int
        Time steps in one pattern (>= 2); spikes fall on steps ``1 .. n_steps - 1``.
    rng : numpy.random.Generator
        Source of every random draw.

    Returns
    -------
    steps : ndarray of int, shape (n_patterns, n_afferents)
        Spike step of every afferent in every pattern.
    labels : ndarray of int, shape (n_patterns,)
        Balanced random labels +1 / -1.
    """
    n_patterns = _positive_int("n_patterns", n_patterns)
    n_afferents = _positive_int("n_afferents", n_afferents)
    n_steps = _positive_int("n_steps", n_steps, low=2)
    steps = rng.integers(1, n_steps, size=(n_patterns, n_afferents))
    return steps, _balanced_labels(n_patterns, rng)


@dataclass(frozen=True)
class TimingTask:
    """Jittered samples of a few templates per class, for training and held-out testing.

    Attributes
    ----------
    templates : ndarray of int, shape (2 * n_templates, n_afferents)
        Spike steps of the templates; the first ``n_templates`` are class +1.
    template_labels : ndarray of int, shape (2 * n_templates,)
    train_steps, test_steps : ndarray of int, shape (n_samples, n_afferents)
        Spike steps of the training and held-out samples.
    train_labels, test_labels : ndarray of int, shape (n_samples,)
    train_template, test_template : ndarray of int, shape (n_samples,)
        Template each sample was drawn from.
    """

    templates: np.ndarray
    template_labels: np.ndarray
    train_steps: np.ndarray
    train_labels: np.ndarray
    train_template: np.ndarray
    test_steps: np.ndarray
    test_labels: np.ndarray
    test_template: np.ndarray


def timing_task(
    n_afferents: int,
    n_templates: int,
    n_train: int,
    n_test: int,
    n_steps: int,
    jitter_steps: float,
    rng: np.random.Generator,
) -> TimingTask:
    """Two classes of ``n_templates`` latency templates each; samples jitter every spike.

    A sample moves every spike of its template by Gaussian jitter of standard deviation
    ``jitter_steps`` (rounded to the grid and kept in ``1 .. n_steps - 1``). Every
    afferent fires exactly once in every sample of both classes, so spike counts carry no
    information about the class.

    Parameters
    ----------
    n_afferents : int
        Input neurons.
    n_templates : int
        Templates per class.
    n_train, n_test : int
        Training and held-out samples per template.
    n_steps : int
        Time steps in one pattern.
    jitter_steps : float
        Standard deviation of the jitter, in time steps (>= 0).
    rng : numpy.random.Generator
        Source of every random draw.
    """
    n_templates = _positive_int("n_templates", n_templates)
    n_train = _positive_int("n_train", n_train)
    n_test = _positive_int("n_test", n_test)
    if not np.isfinite(jitter_steps) or jitter_steps < 0:
        raise ValidationError("jitter_steps", "a number >= 0", jitter_steps)
    templates, _ = latency_patterns(2 * n_templates, n_afferents, n_steps, rng)
    template_labels = np.r_[np.ones(n_templates), -np.ones(n_templates)].astype(int)

    def samples(per_template: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        which = np.repeat(np.arange(2 * n_templates), per_template)
        jitter = np.rint(rng.normal(0.0, jitter_steps, size=(len(which), n_afferents)))
        steps = np.clip(templates[which] + jitter.astype(int), 1, n_steps - 1)
        order = rng.permutation(len(which))
        return steps[order], template_labels[which][order], which[order]

    train = samples(n_train)
    test = samples(n_test)
    return TimingTask(templates, template_labels, *train, *test)


def spike_counts(steps: np.ndarray) -> np.ndarray:
    """Spike count of every afferent in every pattern, shape (n_patterns, n_afferents)."""
    steps = np.asarray(steps)
    return np.ones(steps.shape, dtype=float)


def binned_counts(steps: np.ndarray, n_steps: int, bin_steps: int) -> np.ndarray:
    """Spike counts of every afferent in consecutive bins of ``bin_steps`` time steps.

    Returns
    -------
    ndarray, shape (n_patterns, n_afferents * n_bins)
        Afferent-major: the bins of afferent 0, then those of afferent 1, ...
    """
    steps = np.asarray(steps)
    bin_steps = _positive_int("bin_steps", bin_steps)
    n_bins = int(np.ceil(n_steps / bin_steps))
    n_patterns, n_afferents = steps.shape
    out = np.zeros((n_patterns, n_afferents * n_bins))
    col = np.arange(n_afferents)[None, :] * n_bins + steps // bin_steps
    np.add.at(out, (np.repeat(np.arange(n_patterns), n_afferents), col.ravel()), 1.0)
    return out
