"""The figures of the TD-conditioning circuit: dopamine response vs TD error, learning curves.

:func:`figures` draws them from a run, its twin and the dopamine response on the trial
grid; :func:`spikingml.circuits.td_conditioning.figures` is the entry point of the
circuit contract. The axes are placed by hand, in inches: these figures are drawn once
per seed of a series, and a layout engine doubled their cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure", "learning_curves_figure"]


def figures(
    result: Result,
    twin_output: Any,
    params: Any,
    response: np.ndarray,
    grid: tuple[int, int, int],
    outdir: Path,
) -> list[Path]:
    """Write ``comparison.png`` and ``learning_curves.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A TD-conditioning run.
    twin_output : TDResult
        Its twin (:func:`spikingml.circuits.td_conditioning.twin`).
    params
        The run's :class:`spikingml.circuits.td_conditioning.Params`.
    response : ndarray, shape (n_trials, n_cols)
        The dopamine rate minus its baseline on the trial grid (Hz).
    grid : (int, int, int)
        The trial grid: bins per trial row, the bin of the CS, of the US.
    outdir : path
        Existing directory the figures are written into.

    Returns
    -------
    list of Path
        The two files, in the order above.
    """
    from spikingml.plotting import save_figure

    outdir = Path(outdir)
    return [
        save_figure(
            comparison_figure(result, twin_output, params, response, grid),
            outdir / "comparison.png",
        ),
        save_figure(
            learning_curves_figure(result, twin_output, params, response, grid),
            outdir / "learning_curves.png",
        ),
    ]


def _margins(fig: Any, left: float, right: float, bottom: float, top: float) -> dict[str, float]:
    """Grid-spec keywords placing the axes ``left``, ``right``, ... inches from the edges."""
    width, height = fig.get_size_inches()
    return {
        "left": left / width,
        "right": 1 - right / width,
        "bottom": bottom / height,
        "top": 1 - top / height,
    }


def _heat_map_axes(fig: Any) -> tuple[list[Any], list[Any]]:
    """Two heat-map panels, each with its colour bar, placed in inches.

    Left to right: the y tick labels and label, a panel, room for the omission marks, its
    colour bar with tick labels and label, and the same again for the second panel.
    """
    width, height = fig.get_size_inches()
    left, bottom, top = 0.6, 0.5, 0.78  # y label, x label, titles and suptitle
    marks, bar, bar_labels, gap = 0.12, 0.15, 0.8, 0.3
    panel = (width - left - 2 * (marks + bar + bar_labels) - gap) / 2
    panels, bars = [], []
    x = left
    for _ in range(2):
        rect = (x / width, bottom / height, panel / width, (height - bottom - top) / height)
        share = panels[0] if panels else None
        panels.append(fig.add_axes(rect, sharex=share, sharey=share))
        x += panel + marks
        bars.append(fig.add_axes((x / width, rect[1], bar / width, rect[3])))
        x += bar + bar_labels + gap
    panels[1].tick_params(labelleft=False)
    return panels, bars


def comparison_figure(
    result: Result,
    twin_output: Any,
    params: Any,
    response: np.ndarray,
    grid: tuple[int, int, int],
) -> Figure:
    """The dopamine response and the twin's delta as trial x time heat maps, side by side.

    CS and US marked, omission trials ticked, the start of extinction ruled.
    """
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, side_by_side

    kind = np.asarray(result.extra["trial_kind"])
    n_cols, first, us_col = grid
    width = float(params.bin_width)
    edges = (np.arange(n_cols + 1) - first) * width
    # Fixed margins (inches, for these labels at FONT_SIZE) rather than a layout engine:
    # constrained layout measures every label and tick before drawing, which doubled
    # the cost of these figures, drawn once per seed of a series.
    fig = Figure(figsize=(10.0, 4.8))
    panels, bars = _heat_map_axes(fig)
    ax_left, _ = side_by_side(
        response,
        twin_output.deltas,
        x_edges=edges,
        titles=("spiking: dopamine rate - baseline", "twin: TD error delta"),
        colorbar_labels=("rate change (Hz)", "delta (reward units)"),
        xlabel="time from CS (s)",
        ylabel="trial",
        markers={"CS": 0.0, "US": float(params.us_delay)},
        row_marks={"omission": np.flatnonzero(kind == "omission")},
        axes=panels,
        colorbar_axes=bars,
    )
    n_acq = params.n_acquisition
    if params.n_extinction:
        for ax in ax_left.figure.axes[:2]:
            ax.axhline(n_acq - 0.5, color="k", lw=0.8)
        ax_left.text(edges[0], n_acq - 0.5, " extinction", va="top", fontsize=FONT_SIZE)
    ax_left.figure.suptitle(
        "Dopamine neurons vs TD(lambda): the response moves from the reward to the cue",
        fontsize=FONT_SIZE + 2,
    )
    return ax_left.figure


def learning_curves_figure(
    result: Result,
    twin_output: Any,
    params: Any,
    response: np.ndarray,
    grid: tuple[int, int, int],
) -> Figure:
    """CS- and US-bin responses trial by trial, spiking and twin, on one scale."""
    from matplotlib.figure import Figure

    from spikingml.plotting import EVENT_COLORS, FONT_SIZE

    kind = np.asarray(result.extra["trial_kind"])
    _, first, us_col = grid
    n_acq = params.n_acquisition
    fig = Figure(figsize=(8.0, 4.0))
    ax = fig.subplots(gridspec_kw=_margins(fig, 0.75, 0.75, 0.85, 0.35))
    twin_ax = ax.twinx()
    trials = np.arange(len(kind))
    for col, name, color in ((first, "CS", EVENT_COLORS["CS"]), (us_col, "US", "#6A3D9A")):
        ax.plot(trials, response[:, col], color=color, lw=1.2, label=f"spiking, {name} bin")
        twin_ax.plot(
            trials,
            twin_output.deltas[:, col],
            color=color,
            lw=1.2,
            ls="--",
            label=f"twin, {name} bin",
        )
    ax.set_xlabel("trial", fontsize=FONT_SIZE + 1)
    ax.set_ylabel("dopamine rate - baseline (Hz)", fontsize=FONT_SIZE + 1)
    twin_ax.set_ylabel("twin delta (reward units)", fontsize=FONT_SIZE + 1)
    # one scale for both axes: the least-squares factor between response and delta
    deltas = twin_output.deltas
    scale = float((response * deltas).sum() / max((deltas * deltas).sum(), 1e-12))
    lo = min(response[:, [first, us_col]].min(), scale * deltas[:, [first, us_col]].min())
    hi = max(response[:, [first, us_col]].max(), scale * deltas[:, [first, us_col]].max())
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    ax.set_ylim(lo, hi)
    twin_ax.set_ylim(lo / scale, hi / scale)
    if params.n_extinction:
        ax.axvspan(n_acq - 0.5, len(kind) - 0.5, color="0.9", zorder=0)
        ax.text(n_acq, hi, " extinction", va="top", fontsize=FONT_SIZE)
    lines = ax.get_legend_handles_labels()
    lines2 = twin_ax.get_legend_handles_labels()
    ax.legend(
        lines[0] + lines2[0],
        lines[1] + lines2[1],
        fontsize=FONT_SIZE,
        ncol=4,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
    )
    ax.tick_params(labelsize=FONT_SIZE)
    twin_ax.tick_params(labelsize=FONT_SIZE)
    ax.set_title(  # y given: no search for decorations above the axes (there are none)
        "Response at the CS grows, at the US fades (omissions: dips)",
        fontsize=FONT_SIZE + 2,
        y=1.0,
    )
    return fig
