"""The figures of the hierarchy circuit: three models' decorrelation profiles, and RSA.

:func:`figures` draws them from a run, its twins and its metrics;
:func:`spikingml.circuits.hierarchy.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "profile_figure", "rsa_figure"]

_LAYERS = ("l1", "l2", "top")
_MODELS = {
    "spiking": "spiking circuit (local rules)",
    "backprop": "backprop twin (labels only)",
    "cascade": "unsupervised cascade (ICA, k-means)",
}
_PANELS = (
    ("mean_abs_correlation", "mean |pairwise correlation|"),
    ("participation_ratio", "participation ratio (units)"),
    ("probe_accuracy", "linear-SVM probe accuracy"),
)


def figures(
    result: Result, twin_output: Any, metrics: dict[str, float], outdir: Path
) -> list[Path]:
    """Write ``comparison.png`` (the profiles) and ``rsa.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A hierarchy run.
    twin_output
        Its twins (:class:`spikingml.circuits.hierarchy.Twin`).
    metrics : dict of str to float
        Its metrics (:func:`spikingml.circuits.hierarchy.compare`).
    outdir : path
        Existing directory the figures are written into.

    Returns
    -------
    list of Path
        The two files.
    """
    from spikingml.plotting import save_figure

    outdir = Path(outdir)
    paths = [save_figure(profile_figure(result, metrics), outdir / "comparison.png")]
    paths.append(save_figure(rsa_figure(result, twin_output, metrics), outdir / "rsa.png"))
    return paths


def profile_figure(result: Result, metrics: dict[str, float]) -> Figure:
    """Mean abs r, participation ratio and probe accuracy per layer, for the three models.

    Depth runs from the pixels (``input``) to the top layer on the x axis of every
    panel; the three models share each panel's y axis.
    """
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    fig = Figure(figsize=(12.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 3)
    depth = np.arange(4)
    for ax, (key, label) in zip(axes, _PANELS, strict=True):
        for (model, name), color, marker in zip(
            _MODELS.items(), POPULATION_COLORS, "os^", strict=False
        ):
            values = [metrics[f"pixels_{key}"]] + [
                metrics[f"{model}_{layer}_{key}"] for layer in _LAYERS
            ]
            ax.plot(depth, values, marker=marker, color=color, label=name)
        ax.set_xticks(depth, ["pixels", "l1", "l2", "top"])
        ax.set_xlabel("layer (depth)", fontsize=FONT_SIZE + 1)
        ax.set_ylabel(label, fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
        ax.grid(alpha=0.3)
    # a one-hot code of 10 equally frequent classes: every pair correlates at -1/9
    axes[0].axhline(1 / 9, color="0.5", ls=":", label="one-hot code of 10 digits (1/9)")
    axes[0].legend(fontsize=FONT_SIZE, loc="best")
    m = metrics
    fig.suptitle(
        f"{len(result.extra['labels_test'])} held-out digits, seed {result.seed}: circuit "
        f"readout {m['top_accuracy']:.3f} correct, backprop {m['backprop_accuracy']:.3f}; "
        f"circuit mean |r| {m['spiking_l1_mean_abs_correlation']:.3f} > "
        f"{m['spiking_l2_mean_abs_correlation']:.3f} > "
        f"{m['spiking_top_mean_abs_correlation']:.3f}"
        if m["decorrelation_monotone"]
        else f"{len(result.extra['labels_test'])} held-out digits, seed {result.seed}: "
        f"circuit readout {m['top_accuracy']:.3f}, backprop {m['backprop_accuracy']:.3f}; "
        "circuit mean |r| not monotone",
        fontsize=FONT_SIZE + 2,
    )
    return fig


def rsa_figure(result: Result, twin_output: Any, metrics: dict[str, float]) -> Figure:
    """RSA of every circuit layer with every layer of the backprop twin and the cascade."""
    from matplotlib.figure import Figure

    from spikingml.circuits.hierarchy import _rdm, _rsa, layer_responses
    from spikingml.plotting import FONT_SIZE

    ours = {k: _rdm(v) for k, v in layer_responses(result).items()}
    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, model in zip(axes, ("backprop", "cascade"), strict=True):
        theirs = {k: _rdm(v) for k, v in getattr(twin_output, model).items()}
        table = np.array([[_rsa(ours[a], theirs[b]) for b in _LAYERS] for a in _LAYERS])
        image = ax.imshow(table, vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(table):  # NaN: a silent digit, no RDM
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=FONT_SIZE + 1,
                    color="w" if value < 0.6 else "k")  # fmt: skip
        ax.set_xticks(range(3), _LAYERS)
        ax.set_yticks(range(3), _LAYERS)
        ax.set_xlabel(f"{_MODELS[model]} layer", fontsize=FONT_SIZE + 1)
        ax.set_ylabel("spiking circuit layer", fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
    cbar = fig.colorbar(image, ax=axes, shrink=0.85)
    cbar.set_label("RSA (Spearman rho of RDMs)", fontsize=FONT_SIZE)
    fig.suptitle(
        f"seed {result.seed}: matched layers {metrics['rsa_matched_l1']:.2f} / "
        f"{metrics['rsa_matched_l2']:.2f} / {metrics['rsa_matched_top']:.2f}, best "
        f"mismatched {metrics['rsa_mismatched_max']:.2f} (backprop twin)",
        fontsize=FONT_SIZE + 2,
    )
    return fig
