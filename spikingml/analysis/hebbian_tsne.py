"""Data, Kenyon-cell drive and map scores of the Hebbian t-SNE circuit.

Pure NumPy / scikit-learn, nothing here imports Brian2.

Contents
--------
:func:`digits_subset`
    A class-balanced random subset of scikit-learn's 8 x 8 digits, pixels / 16.
:func:`kenyon_drive`
    The standardised input of every Kenyon cell: the summed intensity of a few random
    pixels, as the few claw inputs of a fly Kenyon cell.
:func:`opponent_coordinates`
    Two coordinates from the spike counts of opponent output pools.
:func:`embedding_scores`
    Trustworthiness (k = 10) and 10-nearest-neighbour accuracy of any 2-D map of the
    data, computed exactly as :func:`spikingml.analysis.representations.tsne_map` scores
    its own t-SNE map (same kNN folds for the same seed), so circuit, t-SNE and PCA are
    compared on equal terms.
:func:`learning_curve`
    Trustworthiness of the coordinates given to the samples during each training pass.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "EmbeddingScores",
    "digits_subset",
    "embedding_scores",
    "kenyon_drive",
    "learning_curve",
    "opponent_coordinates",
]


class EmbeddingScores(NamedTuple):
    """How well a 2-D map keeps the data's neighbourhoods and classes."""

    trustworthiness: float
    knn_accuracy: float
    knn_accuracy_std: float


def digits_subset(n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` digits, ``n_samples // 10`` of each class and the rest at random.

    Parameters
    ----------
    n_samples : int
        How many (10 to 1797).
    rng : numpy.random.Generator
        Source of the draw.

    Returns
    -------
    data : ndarray, shape (n_samples, 64)
        Pixels / 16, in [0, 1].
    labels : ndarray of int, shape (n_samples,)
    """
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    if not 10 <= n_samples <= len(x):
        raise ValidationError("n_samples", f"an integer in [10, {len(x)}]", n_samples)
    per_class = n_samples // 10
    chosen = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    rest = np.setdiff1d(np.arange(len(x)), np.concatenate(chosen))
    chosen.append(rng.choice(rest, n_samples - 10 * per_class, replace=False))
    idx = rng.permutation(np.concatenate(chosen))
    return x[idx] / 16.0, y[idx].astype(int)


def kenyon_drive(data: np.ndarray, n_kc: int, fan_in: int, rng: np.random.Generator) -> np.ndarray:
    """Standardised drive of ``n_kc`` Kenyon cells, each summing ``fan_in`` random pixels.

    ``h_j = sum of the pixels of cell j``, standardised twice: each cell over the samples,
    ``u_j = (h_j - mean_j) / std_j`` (its threshold adapted to its input; 0 for a cell
    whose pixels never vary, such as the digits' blank border), then each sample over
    the cells, ``drive = (u - mean(u)) / std(u)`` (the input layer's divisive gain
    control, as the fly's projection neurons normalise odour intensity: Olsen,
    Bhandawat & Wilson 2010), so that about as many cells cross a fixed threshold for a
    faint digit as for a bold one.

    Returns
    -------
    ndarray, shape (n_samples, n_kc)
    """
    data = np.asarray(data, dtype=float)
    n_in = data.shape[1]
    if not 1 <= fan_in <= n_in:
        raise ValidationError("fan_in", f"an integer in [1, {n_in}]", fan_in)
    conn = np.zeros((n_kc, n_in))
    for j in range(n_kc):
        conn[j, rng.choice(n_in, fan_in, replace=False)] = 1.0
    h = data @ conn.T
    std = h.std(axis=0)
    u = np.where(std > 1e-12, (h - h.mean(axis=0)) / np.where(std > 1e-12, std, 1.0), 0.0)
    u = u - u.mean(axis=1, keepdims=True)
    return u / np.maximum(u.std(axis=1, keepdims=True), 1e-12)


def opponent_coordinates(
    counts: np.ndarray, n_per_side: int, spikes_per_unit: float
) -> np.ndarray:
    """Coordinates from the counts of opponent pools (axis-major: +0, -0, +1, -1 pools).

    ``y_a = (counts of the + pool of a - counts of its - pool) / (n_per_side *
    spikes_per_unit)``; ``counts`` has one row per sample and ``4 n_per_side`` columns.
    """
    counts = np.asarray(counts, dtype=float)
    pools = counts.reshape(len(counts), 2, 2, n_per_side).sum(axis=3)  # (n, axis, side)
    return (pools[:, :, 0] - pools[:, :, 1]) / (n_per_side * spikes_per_unit)


def embedding_scores(
    data: np.ndarray,
    embedding: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    n_neighbors: int = 10,
    knn_k: int = 10,
    cv: int = 5,
) -> EmbeddingScores:
    """Trustworthiness and kNN accuracy of a map of ``data`` (as ``tsne_map`` scores its own).

    Parameters
    ----------
    data : ndarray, shape (n, d)
        The samples in their own space (Euclidean distances).
    embedding : ndarray, shape (n, 2)
        Their map.
    labels : ndarray, shape (n,)
        Their classes (used by the kNN score only).
    seed : int
        Seed of the stratified, shuffled kNN folds.
    n_neighbors : int
        ``k`` of the trustworthiness (10 in issue 22).
    knn_k, cv : int
        Neighbours of the classifier and number of folds.

    Returns
    -------
    EmbeddingScores
    """
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    data, emb = np.asarray(data, dtype=float), np.asarray(embedding, dtype=float)
    if emb.shape != (len(data), 2):
        raise ValidationError("embedding", f"an array of shape ({len(data)}, 2)", emb.shape)
    if not np.all(np.isfinite(emb)):
        raise ValidationError("embedding", "finite coordinates", "nan or inf")
    trust = float(trustworthiness(data, emb, n_neighbors=n_neighbors))
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=knn_k), emb, labels, cv=folds)
    return EmbeddingScores(trust, float(scores.mean()), float(scores.std()))


def learning_curve(
    data: np.ndarray, coords: np.ndarray, order: np.ndarray, n_samples: int, points: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Trustworthiness (k = 10) of the map made by each of up to ``points`` training passes.

    Parameters
    ----------
    data : ndarray, shape (n_samples, d)
        The samples.
    coords : ndarray, shape (n_windows, 2)
        The output's coordinates in every training window.
    order : ndarray of int, shape (n_windows,)
        The sample shown in every window (whole passes of ``n_samples`` windows).
    n_samples : int
        Windows per pass.
    points : int
        Passes evaluated, evenly spaced, the last one included.

    Returns
    -------
    passes : ndarray of int
        1-based pass numbers.
    trust : ndarray of float
        Trustworthiness of each pass's coordinates.
    """
    from sklearn.manifold import trustworthiness

    n_passes = len(order) // n_samples
    passes = np.unique(np.linspace(1, n_passes, min(points, n_passes)).round().astype(int))
    trust = []
    for p in passes:
        span = slice((p - 1) * n_samples, p * n_samples)
        emb = np.zeros((n_samples, 2))
        emb[order[span]] = coords[span]
        trust.append(trustworthiness(data, emb, n_neighbors=10))
    return passes, np.asarray(trust)
