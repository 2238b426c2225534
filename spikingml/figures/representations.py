"""Figures of the representations of a circuit's layers (issue 22).

:func:`representation_figure` draws, for an input layer and a circuit layer, the per-layer
metrics over seeds (one bar per layer at the mean, one dot per seed), the pair of RDMs of
one run, and optionally a t-SNE map of the circuit layer with its labels coloured. The
numbers come from :mod:`spikingml.analysis.representations`; this module only draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["representation_figure", "save_representation_figure"]

#: bar colours: the input layer ("pixels") grey, a circuit layer blue
_COLOURS = ("0.55", "tab:blue")


def _metric_panel(ax, name: str, values: Mapping[str, Sequence[float]]) -> None:
    """One bar per layer at the mean over seeds, with every seed's value as a dot."""
    layers = list(values)
    for i, layer in enumerate(layers):
        v = np.asarray(values[layer], dtype=float)
        colour = _COLOURS[0] if layer == "pixels" else _COLOURS[1]
        ax.bar(i, v.mean(), color=colour, width=0.6, alpha=0.8)
        ax.plot(np.full(v.size, i) + np.linspace(-0.12, 0.12, v.size), v, "k.", ms=6)
        ax.annotate(
            f"{v.mean():.3g}",
            (i, v.mean()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_xticks(range(len(layers)), layers)
    ax.set_title(name, fontsize=10)
    top = max(float(np.max(values[layer])) for layer in layers)
    ax.set_ylim(0, 1.2 * top if top > 0 else 1)


def _rdm_panel(
    fig, ax, square: np.ndarray, title: str, boundaries: np.ndarray | None, label: str
) -> None:
    """A square RDM as an image with a colour bar (and class boundaries, if given)."""
    im = ax.imshow(square, cmap="viridis", interpolation="nearest")
    if boundaries is not None:
        for b in boundaries:
            ax.axhline(b - 0.5, color="w", lw=0.5)
            ax.axvline(b - 0.5, color="w", lw=0.5)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("stimulus")
    ax.set_ylabel("stimulus")
    fig.colorbar(im, ax=ax, shrink=0.8, label=label, pad=0.02)


def representation_figure(
    metrics: Mapping[str, Mapping[str, Sequence[float]]],
    rdm_input: np.ndarray,
    rdm_layer: np.ndarray,
    layer_names: tuple[str, str],
    title: str,
    embedding: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    embedding_title: str = "",
    rdm_boundaries: np.ndarray | None = None,
    rdm_label: str = "1 - Pearson r",
) -> Figure:
    """The per-layer metrics, the RDM pair and optionally a t-SNE map.

    Parameters
    ----------
    metrics : mapping of str to mapping of str to sequence of float
        ``metrics[name][layer]`` holds one value per seed; one panel per name.
    rdm_input, rdm_layer : ndarray, shape (n, n)
        Square RDMs of the same stimuli (in the order drawn) for the two layers.
    layer_names : tuple of str
        Names of the input layer and the circuit layer (the RDM titles).
    title : str
        Figure title (circuit, preset, seed of the RDMs).
    embedding : ndarray, shape (n_stimuli, 2), optional
        A t-SNE map of the circuit layer; drawn as a scatter coloured by ``labels``.
    labels : ndarray of int, optional
        Class of every embedded stimulus.
    embedding_title : str
        Title of the t-SNE panel (its scores).
    rdm_boundaries : ndarray of int, optional
        Stimulus indices where a new class starts (drawn as lines on the RDMs).
    rdm_label : str
        Colour-bar label of the RDMs (their dissimilarity).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    n_metrics = len(metrics)
    n_bottom = 3 if embedding is not None else 2
    fig = Figure(figsize=(max(3.0 * n_metrics, 4.6 * n_bottom), 8.0), layout="constrained")
    fig.suptitle(title, fontsize=11)
    top, bottom = fig.subfigures(2, 1, height_ratios=(1, 1.5))
    top_axes = top.subplots(1, n_metrics, squeeze=False)[0]
    for ax, (name, values) in zip(top_axes, metrics.items(), strict=True):
        _metric_panel(ax, name, values)
    axes = bottom.subplots(1, n_bottom, squeeze=False)[0]
    _rdm_panel(bottom, axes[0], rdm_input, f"RDM: {layer_names[0]}", rdm_boundaries, rdm_label)
    _rdm_panel(bottom, axes[1], rdm_layer, f"RDM: {layer_names[1]}", rdm_boundaries, rdm_label)
    if embedding is not None:
        ax = axes[2]
        lab = np.zeros(len(embedding), dtype=int) if labels is None else np.asarray(labels)
        sc = ax.scatter(
            embedding[:, 0], embedding[:, 1], c=lab, cmap="tab10", s=12, vmin=-0.5, vmax=9.5
        )
        bottom.colorbar(sc, ax=ax, ticks=range(10), label="digit", shrink=0.8)
        ax.set_title(embedding_title, fontsize=10)
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
        ax.set_aspect("equal", adjustable="datalim")
    return fig


def save_representation_figure(fig: Figure, path: Path, dpi: int = 110) -> Path:
    """Write the figure as PNG and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
