"""The figure of the Bayesian-neuron circuit: chain, inputs, log-odds and output spikes.

:func:`figures` draws it from a run, its twin and its metrics;
:func:`spikingml.circuits.bayesian_neuron.figures` is the entry point of the circuit
contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.analysis.hmm import readout
from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure"]


def figures(
    result: Result,
    twin_output: Any,
    metrics: dict[str, float],
    window: tuple[float, float],
    outdir: Path,
) -> list[Path]:
    """Write ``comparison.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A Bayesian-neuron run.
    twin_output
        Its twin (:class:`spikingml.circuits.bayesian_neuron.Twin`: ``logodds``,
        ``state``).
    metrics : dict of str to float
        Its metrics (:func:`spikingml.circuits.bayesian_neuron.compare`).
    window : (float, float)
        The stretch of the run shown, in seconds.
    outdir : path
        Existing directory the figure is written into.

    Returns
    -------
    list of Path
        The one file.
    """
    from spikingml.plotting import save_figure

    fig = comparison_figure(result, twin_output, metrics, window)
    return [save_figure(fig, Path(outdir) / "comparison.png")]


def comparison_figure(
    result: Result, twin_output: Any, metrics: dict[str, float], window: tuple[float, float]
) -> Figure:
    """Panels on one time axis: the hidden state; the inputs (sorted by ``w``); log-odds.

    The log-odds panel shows the exact filter, the neuron's ``L`` and the log-odds ``G``
    decoded from the output spikes, with the fitted decoder threshold; the last panel
    the output spikes (on and off neurons).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    t0, t1 = window
    r = readout(result, twin_output.logodds, twin_output.state)
    sel = (r["t"] >= t0) & (r["t"] < t1)
    fig = Figure(figsize=(9.0, 7.0), layout="constrained")
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [0.6, 2.0, 2.4, 0.8]})
    ax_state, ax_in, ax_l, ax_out = axes
    t = r["t"][sel]
    ax_state.fill_between(t, 0, r["state"][sel], step="pre", color="0.55", lw=0)
    ax_state.set_yticks([0, 1], ["off", "on"])
    ax_state.set_ylim(-0.1, 1.1)
    ax_state.set_ylabel("hidden\nstate", fontsize=FONT_SIZE + 1)

    inp = result.populations["inputs"]
    w = result.weights["w"]
    rank = np.empty(len(w), dtype=int)
    rank[np.argsort(w)] = np.arange(len(w))
    keep = (inp.times >= t0) & (inp.times < t1)
    colors = np.where(w[inp.indices[keep]] > 0, POPULATION_COLORS[0], POPULATION_COLORS[1])
    ax_in.scatter(inp.times[keep], rank[inp.indices[keep]], s=4, c=colors, marker="|", lw=0.8)
    ax_in.set_ylim(-0.5, len(w) - 0.5)
    ax_in.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_in.set_ylabel("input neuron\n(sorted by w)", fontsize=FONT_SIZE + 1)
    ax_in.text(
        1.005,
        1.0,
        "w > 0",
        color=POPULATION_COLORS[0],
        transform=ax_in.transAxes,
        va="top",
        fontsize=FONT_SIZE,
    )
    ax_in.text(
        1.005,
        0.0,
        "w < 0",
        color=POPULATION_COLORS[1],
        transform=ax_in.transAxes,
        va="bottom",
        fontsize=FONT_SIZE,
    )

    ax_l.plot(t, r["exact"][sel], color="k", lw=1.6, label="exact filter (twin)")
    ax_l.plot(t, r["L"][sel], color=POPULATION_COLORS[3], lw=0.9, ls="--", label="neuron's L")
    ax_l.plot(
        t, r["G"][sel], color=POPULATION_COLORS[1], lw=1.0, label="G, decoded from output spikes"
    )
    ax_l.axhline(
        metrics["decoder_threshold"], color="0.5", lw=0.8, ls=":", label="decoder threshold"
    )
    ax_l.set_ylabel("log-odds of 'on'", fontsize=FONT_SIZE + 1)
    ax_l.legend(fontsize=FONT_SIZE, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax_l.text(
        0.01,
        0.03,
        f"r(G, exact) = {metrics['logodds_correlation']:.3f}   "
        f"r(L, exact) = {metrics['internal_logodds_correlation']:.4f}   (whole run)",
        transform=ax_l.transAxes,
        fontsize=FONT_SIZE,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
    )

    out = result.populations["output"]
    keep = (out.times >= t0) & (out.times < t1)
    names = ["on (+)", "off (-)"] if out.size == 2 else ["output"]
    for j in range(out.size):
        sel_j = keep & (out.indices == j)
        ax_out.scatter(
            out.times[sel_j],
            np.full(sel_j.sum(), j),
            s=30,
            marker="|",
            lw=0.8,
            color=POPULATION_COLORS[j],
        )
    ax_out.set_yticks(range(out.size), names)
    ax_out.set_ylim(-0.6, out.size - 0.4)
    ax_out.set_ylabel("output\nneuron", fontsize=FONT_SIZE + 1)
    ax_out.set_xlabel("time (s)", fontsize=FONT_SIZE + 1)
    ax_out.set_xlim(t0, t1)
    for ax in axes:
        ax.tick_params(labelsize=FONT_SIZE)
    fig.suptitle(
        f"Bayesian neuron ({result.params['output_code']} output code, seed {result.seed}): "
        f"output {metrics['output_rate_hz']:.0f} Hz per neuron, decoding "
        f"{metrics['decoding_accuracy']:.3f} vs exact MAP {metrics['map_accuracy']:.3f}",
        fontsize=FONT_SIZE + 2,
    )
    return fig
