"""Binary patterns for the winner-take-all / EM circuit: digits and Bernoulli mixtures.

Both data sets are 8 x 8 binary images with a true class label, so that learned
components can be shown as images and clusters scored against the labels.

Contents
--------
:func:`binary_digits`
    scikit-learn's 8 x 8 handwritten digits (bundled with scikit-learn, no download),
    binarised at a grey level.
:func:`bernoulli_mixture`
    Samples of a synthetic mixture of Bernoulli distributions over 8 x 8 pixels.
:func:`on_off_code`
    The population code of the inputs: one "on" neuron per pixel that fires when the
    pixel is 1, one "off" neuron that fires when it is 0.
:func:`train_test_split`
    A seeded split into training and test samples.

References
----------
Alpaydin, E. & Kaynak, C. (1998). Optical recognition of handwritten digits. UCI
Machine Learning Repository (the data behind ``sklearn.datasets.load_digits``).

Nessler, B., Pfeiffer, M., Buesing, L. & Maass, W. (2013). Bayesian computation emerges
in generic cortical microcircuits through spike-timing-dependent plasticity. PLoS
Comput. Biol. 9, e1003037.
"""

from __future__ import annotations

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "IMAGE_SIDE",
    "binary_digits",
    "bernoulli_mixture",
    "mixture_prototypes",
    "on_off_code",
    "train_test_split",
]

#: Side of every image (8 x 8 pixels).
IMAGE_SIDE = 8


def binary_digits(threshold: float = 7.0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits (grey levels 0-16) binarised: pixel > ``threshold``.

    Returns
    -------
    x : ndarray of uint8, shape (1797, 64)
        Binary images, row by row.
    labels : ndarray of int, shape (1797,)
        The digit (0-9).
    """
    if not 0 <= threshold < 16:
        raise ValidationError("threshold", "a grey level in [0, 16)", threshold)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data > threshold).astype(np.uint8), digits.target.astype(int)


def mixture_prototypes(
    n_components: int, rng: np.random.Generator, p_high: float = 0.8, p_low: float = 0.2
) -> np.ndarray:
    """Pixel probabilities of ``n_components`` Bernoulli components over 8 x 8 pixels.

    Each component is a random blob image: pixels inside it are 1 with probability
    ``p_high``, the others with ``p_low``. A blob is a random union of 2 x 2 squares
    (about 40% of the image), so components overlap partly, as digits do.

    Returns
    -------
    ndarray, shape (n_components, 64)
    """
    if not 0 < p_low < p_high < 1:
        raise ValidationError("p_low, p_high", "0 < p_low < p_high < 1", (p_low, p_high))
    half = IMAGE_SIDE // 2
    coarse = rng.random((n_components, half, half)) < 0.4
    masks = coarse.repeat(2, axis=1).repeat(2, axis=2).reshape(n_components, -1)
    return np.where(masks, p_high, p_low)


def bernoulli_mixture(
    n_samples: int,
    prototypes: np.ndarray,
    weights: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_samples`` binary vectors from a Bernoulli mixture.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    prototypes : ndarray, shape (k, d)
        Probability that each pixel is 1, per component.
    weights : ndarray, shape (k,)
        Mixing weights (normalised here).
    rng : numpy.random.Generator
        Source of every draw.

    Returns
    -------
    x : ndarray of uint8, shape (n_samples, d)
    labels : ndarray of int, shape (n_samples,)
        The component of each sample.
    """
    weights = np.asarray(weights, float)
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValidationError("weights", "non-negative mixing weights, not all 0", weights)
    labels = rng.choice(len(weights), size=n_samples, p=weights / weights.sum())
    x = (rng.random((n_samples, prototypes.shape[1])) < prototypes[labels]).astype(np.uint8)
    return x, labels


def on_off_code(x: np.ndarray) -> np.ndarray:
    """Activity of the input neurons: ``[x, 1 - x]`` (on neurons, then off neurons).

    Every pixel drives exactly one of its two neurons, so every image activates the
    same number of inputs (Nessler et al. 2013).
    """
    x = np.asarray(x)
    return np.concatenate([x, 1 - x], axis=1).astype(np.uint8)


def train_test_split(
    n_samples: int, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random split: ``n_samples - n_test`` training, ``n_test`` test samples."""
    if not 0 < n_test < n_samples:
        raise ValidationError("n_test", f"an integer in (0, {n_samples})", n_test)
    order = rng.permutation(n_samples)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
