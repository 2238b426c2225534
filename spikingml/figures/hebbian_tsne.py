"""The figures of the Hebbian t-SNE circuit: the maps side by side, and the learning curve.

:func:`figures` draws them from a run, its map, its twin and its metrics;
:func:`spikingml.circuits.hebbian_tsne.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure", "learning_figure"]


def figures(
    result: Result,
    embedding: np.ndarray,
    twin_output: Any,
    metrics: dict[str, float],
    curve: tuple[np.ndarray, np.ndarray],
    outdir: Path,
) -> list[Path]:
    """Write ``comparison.png`` and ``learning.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A Hebbian t-SNE run.
    embedding : ndarray, shape (n_samples, 2)
        The circuit's map (:func:`spikingml.circuits.hebbian_tsne.embedding`).
    twin_output
        Its twin (:class:`spikingml.circuits.hebbian_tsne.Twin`: ``tsne``, ``pca``).
    metrics : dict of str to float
        Its metrics (:func:`spikingml.circuits.hebbian_tsne.compare`).
    curve : (ndarray, ndarray)
        Training passes and the trustworthiness of each pass's coordinates.
    outdir : path
        Existing directory the figures are written into.

    Returns
    -------
    list of Path
        The two files.
    """
    from spikingml.plotting import save_figure

    outdir = Path(outdir)
    fig = comparison_figure(result, embedding, twin_output, metrics)
    paths = [save_figure(fig, outdir / "comparison.png")]
    fig = learning_figure(result, curve, metrics)
    paths.append(save_figure(fig, outdir / "learning.png"))
    return paths


def _scatter(ax: Any, emb: np.ndarray, labels: np.ndarray, title: str) -> Any:
    from spikingml.plotting import FONT_SIZE

    sc = ax.scatter(emb[:, 0], emb[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=9, lw=0)
    ax.set_title(title, fontsize=FONT_SIZE + 1)
    ax.set_aspect("equal", adjustable="datalim")
    ax.tick_params(labelsize=FONT_SIZE)
    return sc


def comparison_figure(
    result: Result, embedding: np.ndarray, twin_output: Any, metrics: dict[str, float]
) -> Figure:
    """Three maps of the same samples coloured by digit: circuit, t-SNE, PCA."""
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE

    labels = result.extra["labels"]
    fig = Figure(figsize=(12.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    m = metrics
    _scatter(
        axes[0],
        embedding,
        labels,
        f"circuit (Hebbian t-SNE)\ntrustworthiness {m['trustworthiness_circuit']:.3f}, "
        f"10-NN {m['knn_accuracy_circuit']:.2f}",
    )
    axes[0].set_xlabel("y0 (opponent rate difference / spikes per unit)", fontsize=FONT_SIZE)
    axes[0].set_ylabel("y1", fontsize=FONT_SIZE)
    _scatter(
        axes[1],
        twin_output.tsne,
        labels,
        f"twin: scikit-learn t-SNE\ntrustworthiness {m['trustworthiness_tsne']:.3f}, "
        f"10-NN {m['knn_accuracy_tsne']:.2f}",
    )
    sc = _scatter(
        axes[2],
        twin_output.pca,
        labels,
        f"baseline: PCA\ntrustworthiness {m['trustworthiness_pca']:.3f}, "
        f"10-NN {m['knn_accuracy_pca']:.2f}",
    )
    for ax in axes[1:]:
        ax.set_xlabel("component 1 (arbitrary units)", fontsize=FONT_SIZE)
    cbar = fig.colorbar(sc, ax=axes, ticks=range(10), shrink=0.8)
    cbar.set_label("digit", fontsize=FONT_SIZE)
    fig.suptitle(
        f"{len(labels)} digits, seed {result.seed}: trustworthiness ratio circuit / t-SNE "
        f"= {m['trustworthiness_ratio']:.3f} (stretch target 0.9)",
        fontsize=FONT_SIZE + 2,
    )
    return fig


def learning_figure(
    result: Result, curve: tuple[np.ndarray, np.ndarray], metrics: dict[str, float]
) -> Figure:
    """Trustworthiness of each training pass's coordinates, with t-SNE's and PCA's."""
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    passes, trust = curve
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(passes, trust, "o-", color=POPULATION_COLORS[0], label="circuit, during training")
    ax.axhline(
        metrics["trustworthiness_circuit"],
        color=POPULATION_COLORS[0],
        ls=":",
        label="circuit, test",
    )
    ax.axhline(metrics["trustworthiness_tsne"], color="k", ls="--", label="t-SNE")
    ax.axhline(
        0.9 * metrics["trustworthiness_tsne"], color="0.5", ls="-.", label="0.9 x t-SNE (target)"
    )
    ax.axhline(metrics["trustworthiness_pca"], color=POPULATION_COLORS[1], ls="--", label="PCA")
    n_exag = round(float(result.params["exaggeration_fraction"]) * int(result.params["n_passes"]))
    if n_exag > 0:
        ax.axvspan(0.5, n_exag + 0.5, color="0.92", zorder=0, label="early exaggeration")
    ax.set_xlabel("training pass", fontsize=FONT_SIZE + 1)
    ax.set_ylabel("trustworthiness (k = 10)", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=FONT_SIZE, loc="lower right")
    ax.tick_params(labelsize=FONT_SIZE)
    return fig
