r"""Learned receptive fields against ICA: the metrics of a layer trained on image patches.

A layer of units learns filters ``Q`` (one row per unit, on whitened patches) and is
then shown test patches, one every ``patch_duration``. This module turns its spikes and
weights into the numbers that say how close it came to independent component analysis,
with the tools of :mod:`spikingml.analysis.ica`. It works on arrays only (no simulator).

Contents
--------
:func:`spike_counts`
    Spikes of every unit for every test patch.
:func:`as_images`
    Filters on whitened patches as square images (the restricted ZCA space is pixel
    space).
:func:`compare_filters`
    Every metric (matching with FastICA against a ceiling and floors,
    spike-triggered averages, Gabor fits, kurtosis of the drive, the learning curve),
    returned as a :class:`FilterComparison`.

Measures
--------
With ``counts`` the spike counts (test patches x units) and ``test`` the test patches:

- spike-triggered averages ``sta = counts.T @ test / (spikes of each unit)``;
- the units' drive ``test @ Q.T`` and its median excess kurtosis over units, beside that
  of the projections on the first ``n_components`` principal axes (``kurtosis_ratio``:
  heavier tails than PCA, the signature of sparse, independent components);
- the learning curve: the matched median of every ``Q`` in the history, over the
  ceiling (:func:`spikingml.analysis.ica.match_scores`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from spikingml.analysis import ica

__all__ = ["FilterComparison", "as_images", "compare_filters", "spike_counts"]


def spike_counts(
    indices: np.ndarray,
    times: np.ndarray,
    n_units: int,
    n_patches: int,
    patch_duration: float,
    tol: float = 1e-9,
) -> np.ndarray:
    """Spike counts of every unit for every patch, shape ``(n_patches, n_units)``.

    Parameters
    ----------
    indices, times : ndarray
        The spikes: unit index and time (s) from the first patch's onset.
    n_units, n_patches : int
        Units and patches shown.
    patch_duration : float
        Time each patch is shown (s).
    tol : float
        Seconds added to every spike time before binning. A spike at the time step of
        a patch onset belongs to that patch, even where its time ``step * dt`` rounds
        just below ``k * patch_duration`` (without it, a few spikes per ten thousand
        were counted in the previous patch); far below any time step.
    """
    patch = np.floor((np.asarray(times) + tol) / float(patch_duration)).astype(np.int64)
    counts = np.zeros((n_patches, n_units))
    np.add.at(counts, (patch, np.asarray(indices)), 1.0)
    return counts


def as_images(filters: np.ndarray, patch_size: int) -> np.ndarray:
    """Filters on whitened patches as square images, shape ``(n, patch_size, patch_size)``."""
    return np.asarray(filters).reshape(len(filters), patch_size, patch_size)


@dataclasses.dataclass
class FilterComparison:
    """What :func:`compare_filters` computes.

    Attributes
    ----------
    metrics : dict of str to float
        The measures, by name (see :func:`compare_filters`).
    order : ndarray
        Units in the order of the reference filters they match, then the rest.
    unit_fits, ica_fits : list of GaborFit
        Gabor fits of the units' filters and of the reference filters.
    curve_patches, curve_ratio : ndarray
        The learning curve: patches seen and ceiling ratio after each.
    counts : ndarray, shape (n_test, n_units)
        Spike counts per test patch.
    """

    metrics: dict[str, float]
    order: np.ndarray
    unit_fits: list[Any]
    ica_fits: list[Any]
    curve_patches: np.ndarray
    curve_ratio: np.ndarray
    counts: np.ndarray


def compare_filters(
    Q: np.ndarray,
    counts: np.ndarray,
    test: np.ndarray,
    *,
    reference: np.ndarray,
    ceiling_sets: Sequence[np.ndarray],
    infomax: np.ndarray,
    pca: np.ndarray,
    reference_fits: Sequence[Any],
    pca_fits: Sequence[Any],
    history_Q: Sequence[np.ndarray],
    history_patches: np.ndarray,
    patch_size: int,
    n_components: int,
    seed: int = 0,
) -> FilterComparison:
    """Compare a layer's learned filters and test responses with ICA and its controls.

    Parameters
    ----------
    Q : ndarray, shape (n_units, d)
        The units' feedforward filters.
    counts : ndarray, shape (n_test, n_units)
        Spike counts per test patch (:func:`spike_counts`).
    test : ndarray, shape (n_test, d)
        The test patches.
    reference : ndarray
        FastICA filters, the reference the units are matched to.
    ceiling_sets : sequence of ndarray
        FastICA filters with other seeds (the ceiling pool).
    infomax : ndarray
        Infomax filters.
    pca : ndarray, shape (d, d)
        Principal axes, largest variance first.
    reference_fits, pca_fits : sequence of GaborFit
        Gabor fits of the reference filters and of the first principal axes.
    history_Q : sequence of ndarray
        ``Q`` during training; ``history_patches`` the patches seen at each.
    patch_size : int
        Side of a patch (``d = patch_size**2``).
    n_components : int
        Principal axes kept by the whitening (the PCA kurtosis control uses as many).
    seed : int
        Seeds the random floor and the pools (:func:`spikingml.analysis.ica.match_scores`).

    Returns
    -------
    FilterComparison
        ``metrics`` holds ``matched_abs_corr_median``, ``ica_ceiling_median``,
        ``pca_floor_median``, ``random_floor_median``, ``ceiling_ratio``,
        ``matched_minus_pca_floor``, ``sta_matched_abs_corr_median``,
        ``infomax_matched_abs_corr_median``, ``gabor_fraction``, ``ica_gabor_fraction``,
        ``pca_gabor_fraction``, ``kurtosis_ratio``, ``drive_kurtosis_median``,
        ``pca_kurtosis_median``, ``spike_count_kurtosis_median`` and
        ``test_spikes_per_patch``, in this order.
    """
    scores = ica.match_scores(Q, reference, ceiling_sets, pca, seed=seed)
    _, matched_units = ica.match(reference, Q)
    rest = np.setdiff1d(np.arange(len(Q)), matched_units)
    order = np.concatenate([matched_units, rest])

    fired = counts.sum(axis=0)
    sta = (counts.T @ test) / np.where(fired > 0, fired, 1.0)[:, None]
    sta_median = ica.matched_median(reference, sta)
    infomax_median = ica.matched_median(reference, infomax)

    unit_fits = ica.gabor_fits(as_images(Q, patch_size))
    ica_fits = list(reference_fits)

    drive = test @ Q.T
    pca_proj = test @ pca[:n_components].T
    drive_kurt = float(np.median(ica.excess_kurtosis(drive, axis=0)))
    pca_kurt = float(np.median(ica.excess_kurtosis(pca_proj, axis=0)))
    active = fired > 0
    count_kurt = (
        float(np.median(ica.excess_kurtosis(counts[:, active], axis=0)))
        if active.any()
        else float("nan")
    )

    curve_patches = np.asarray(history_patches)
    curve_ratio = np.array(
        [ica.matched_median(reference, q) / scores.ica_ceiling_median for q in history_Q]
    )
    metrics = {
        "matched_abs_corr_median": scores.matched_median,
        "ica_ceiling_median": scores.ica_ceiling_median,
        "pca_floor_median": scores.pca_floor_median,
        "random_floor_median": scores.random_floor_median,
        "ceiling_ratio": scores.ceiling_ratio,
        "matched_minus_pca_floor": scores.matched_median - scores.pca_floor_median,
        "sta_matched_abs_corr_median": sta_median,
        "infomax_matched_abs_corr_median": infomax_median,
        "gabor_fraction": ica.gabor_fraction(unit_fits),
        "ica_gabor_fraction": ica.gabor_fraction(ica_fits),
        "pca_gabor_fraction": ica.gabor_fraction(pca_fits),
        "kurtosis_ratio": drive_kurt / pca_kurt if pca_kurt > 0 else float("nan"),
        "drive_kurtosis_median": drive_kurt,
        "pca_kurtosis_median": pca_kurt,
        "spike_count_kurtosis_median": count_kurt,
        "test_spikes_per_patch": float(counts.mean()),
    }
    return FilterComparison(
        {k: float(v) for k, v in metrics.items()},
        order,
        unit_fits,
        ica_fits,
        curve_patches,
        curve_ratio,
        counts,
    )
