"""The figures of the v1-ica circuit: receptive fields, their tuning and the learning curve.

:func:`figures` draws them from a run's weights, its twin's filters and the
:class:`~spikingml.analysis.receptive_fields.FilterComparison` computed from both;
:func:`spikingml.circuits.v1_ica.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spikingml.analysis.receptive_fields import FilterComparison, as_images
from spikingml.result import Result

__all__ = ["figures"]

_SPIKING_COLOR = "#0072B2"
_ICA_COLOR = "#D55E00"


def figures(
    result: Result, twin_output: Any, comparison: FilterComparison, outdir: Path
) -> list[Path]:
    """Write ``comparison.png``, ``tuning.png`` and ``learning_curve.png`` into ``outdir``.

    ``comparison.png``: receptive-field mosaics of the spiking units (in the order of the
    FastICA filters they match), FastICA, infomax and PCA, side by side.
    ``tuning.png``: orientation and spatial-frequency histograms of the Gabor fits
    (R^2 >= 0.8) of the units and of FastICA. ``learning_curve.png``: ceiling_ratio
    against training patches seen.

    Parameters
    ----------
    result : Result
        A v1-ica run (weights ``Q``, params ``patch_size``).
    twin_output
        Its twin: ``reference``, ``infomax`` and ``pca`` filters.
    comparison : FilterComparison
        The metrics, matching and fits of the two.
    outdir : path
        Existing directory the figures are written into.

    Returns
    -------
    list of Path
        The three files, in the order above.
    """
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, filter_mosaic, save_figure

    patch_size = int(result.params["patch_size"])
    outdir = Path(outdir)
    a = comparison
    m = a.metrics
    Q = result.weights["Q"]

    fig = Figure(figsize=(12.0, 3.6), layout="constrained")
    axes = fig.subplots(1, 4)
    panels = [
        (
            Q[a.order],
            f"spiking V1 units (matched order)\nmedian |r| {m['matched_abs_corr_median']:.2f}",
        ),
        (twin_output.reference, "FastICA (reference)"),
        (
            twin_output.infomax,
            f"infomax twin\nmedian |r| {m['infomax_matched_abs_corr_median']:.2f}",
        ),
        (twin_output.pca[: len(Q)], f"PCA (floor)\nmedian |r| {m['pca_floor_median']:.2f}"),
    ]
    for ax, (filters, title) in zip(axes, panels, strict=True):
        filter_mosaic(ax, as_images(filters, patch_size), title=title)
    fig.suptitle(
        f"Receptive fields on whitened {patch_size}x{patch_size} patches: "
        f"ceiling ratio {m['ceiling_ratio']:.2f}, Gabor fraction {m['gabor_fraction']:.2f}",
        fontsize=FONT_SIZE + 2,
    )
    comparison_png = save_figure(fig, outdir / "comparison.png")

    fig = Figure(figsize=(8.0, 3.2), layout="constrained")
    ax_o, ax_f = fig.subplots(1, 2)
    for fits, label, color in (
        (a.unit_fits, "spiking", _SPIKING_COLOR),
        (a.ica_fits, "FastICA", _ICA_COLOR),
    ):
        good = [f for f in fits if f.r2 >= 0.8]
        ax_o.hist(
            [np.degrees(f.theta) for f in good],
            bins=np.linspace(0, 180, 13),
            histtype="step",
            lw=1.5,
            color=color,
            label=f"{label} ({len(good)} of {len(fits)})",
        )
        ax_f.hist(
            [f.frequency for f in good],
            bins=np.linspace(0, 0.5, 11),
            histtype="step",
            lw=1.5,
            color=color,
            label=label,
        )
    ax_o.set_xlabel("orientation (degrees)", fontsize=FONT_SIZE + 1)
    ax_f.set_xlabel("spatial frequency (cycles / pixel)", fontsize=FONT_SIZE + 1)
    for ax in (ax_o, ax_f):
        ax.set_ylabel("filters (Gabor R^2 >= 0.8)", fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
    ax_o.legend(fontsize=FONT_SIZE)
    fig.suptitle("Tuning of the learned receptive fields", fontsize=FONT_SIZE + 2)
    tuning = save_figure(fig, outdir / "tuning.png")

    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(a.curve_patches, a.curve_ratio, "o-", color=_SPIKING_COLOR, label="spiking V1")
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="ceiling (FastICA, other seeds)")
    ax.axhline(0.9, color="0.5", lw=0.8, ls=":", label="target 0.9")
    floor = m["pca_floor_median"] / m["ica_ceiling_median"]
    ax.axhline(floor, color=_ICA_COLOR, lw=0.8, ls="--", label="PCA floor")
    ax.set_xlabel("training patches seen", fontsize=FONT_SIZE + 1)
    ax.set_ylabel("ceiling ratio (matched |r| / ceiling)", fontsize=FONT_SIZE + 1)
    ax.set_ylim(0, 1.1)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.legend(fontsize=FONT_SIZE, loc="lower right")
    ax.set_title("Learning curve", fontsize=FONT_SIZE + 2)
    curve = save_figure(fig, outdir / "learning_curve.png")
    return [comparison_png, tuning, curve]
