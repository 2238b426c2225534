"""Small statistics shared by the circuits' comparisons with their twins."""

from __future__ import annotations

import numpy as np

__all__ = ["pearson"]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two arrays (flattened); NaN if either is constant."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
