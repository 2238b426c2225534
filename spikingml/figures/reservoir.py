"""The figure of the reservoir circuit: memory, NARMA-10, XOR and separation of every model.

:func:`figures` draws it from a run's analysis
(:func:`spikingml.circuits.reservoir.analyse`) and its metrics;
:func:`spikingml.circuits.reservoir.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure"]

#: Label and colour index (spikingml.plotting.POPULATION_COLORS) of every model.
MODELS = {
    "lsm": ("LSM (dynamic synapses)", 0),
    "static": ("LSM, static synapses", 1),
    "fast": ("LSM, no slow input currents", 4),
    "rate_twin": ("rate twin (leaky ESN, same structure)", 2),
    "esn": ("tanh ESN", 3),
}

#: Delays shown in the memory panel.
SHOWN_DELAYS = 20


def figures(
    result: Result, analysis: dict[str, Any], metrics: dict[str, float], outdir: Path
) -> list[Path]:
    """Write ``comparison.png`` into ``outdir`` and return its path in a list."""
    from spikingml.plotting import save_figure

    fig = comparison_figure(result, analysis, metrics)
    return [save_figure(fig, Path(outdir) / "comparison.png")]


def comparison_figure(
    result: Result, analysis: dict[str, Any], metrics: dict[str, float]
) -> Figure:
    """Four panels: r^2 per delay; MC and NARMA-10 error; XOR accuracy; separation."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FormatStrFormatter

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    scores, sep = analysis["scores"], analysis["separation"]
    fig = Figure(figsize=(10.0, 7.0), layout="constrained")
    (ax_mc, ax_bar), (ax_xor, ax_sep) = fig.subplots(2, 2)
    names = list(MODELS)
    colors = [POPULATION_COLORS[MODELS[m][1] % len(POPULATION_COLORS)] for m in names]

    for model, color in zip(names, colors, strict=True):
        mc = scores[model]["mc"]
        k = mc.delays[:SHOWN_DELAYS]
        ax_mc.plot(
            k,
            mc.r2[:SHOWN_DELAYS],
            "o-",
            ms=3,
            color=color,
            label=f"{MODELS[model][0]}: MC {mc.total:.2f}",
        )
    ax_mc.axhline(
        scores["lsm"]["mc"].threshold,
        color="0.5",
        lw=0.8,
        ls=":",
        label="chance level (not counted)",
    )
    ax_mc.set_xlabel("delay k (bins)")
    ax_mc.set_ylabel("held-out r² of u(t - k)")
    ax_mc.set_ylim(0, 1.02)
    ax_mc.legend(fontsize=FONT_SIZE - 1, frameon=False)
    ax_mc.set_title("memory per delay", fontsize=FONT_SIZE + 1)

    x = np.arange(len(names))
    totals = [scores[m]["mc"].total for m in names]
    ax_bar.bar(x, totals, color=colors)
    ax_bar.set_yscale("log")
    ax_bar.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax_bar.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax_bar.set_ylabel("memory capacity (delays 1..2N)")
    ax_bar.set_xticks(x, ["LSM", "static", "fast", "rate twin", "ESN"])
    for xi, value in zip(x, totals, strict=True):
        ax_bar.text(
            xi, max(value, 1e-2), f"{value:.2f}", ha="center", va="bottom", fontsize=FONT_SIZE
        )
    ax_bar.set_title(
        f"capacity (linear ESN check: MC/N = {metrics['linear_esn_mc_over_n']:.3f})",
        fontsize=FONT_SIZE + 1,
    )

    xor_names = names
    acc = [scores[m]["xor"] for m in xor_names]
    nrmse = [scores[m]["nrmse"] for m in xor_names]
    width = 0.38
    trials = analysis["params"].n_xor_trials
    se = [np.sqrt(a * (1 - a) / trials) for a in acc]  # binomial standard error
    ax_xor.bar(
        x - width / 2,
        acc,
        width,
        yerr=se,
        capsize=2,
        color=colors,
        label=f"XOR accuracy ({trials} trials held out)",
    )
    ax_xor.bar(
        x + width / 2, nrmse, width, color=colors, alpha=0.45, hatch="//", label="NARMA-10 NRMSE"
    )
    ax_xor.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax_xor.set_xticks(x, ["LSM", "static", "fast", "rate twin", "ESN"])
    ax_xor.set_ylim(0, 1.3)
    ax_xor.set_yticks(np.linspace(0, 1, 6))
    ax_xor.set_ylabel("held-out accuracy / NRMSE")
    ax_xor.legend(fontsize=FONT_SIZE - 1, frameon=False, loc="upper center", ncols=2)
    ax_xor.set_title(
        "delayed XOR (solid, ±1 s.e.; chance 0.5) and NARMA-10 (hatched)",
        fontsize=FONT_SIZE + 1,
    )

    ax_sep.plot(sep.input_distance, sep.state_distance, "o-", color=colors[0])
    ax_sep.set_xlabel("input distance (last 3 bins, RMS of u)")
    ax_sep.set_ylabel("state distance (RMS, filtered spikes)")
    ax_sep.set_title("separation of the LSM", fontsize=FONT_SIZE + 1)
    for ax in (ax_mc, ax_bar, ax_xor, ax_sep):
        ax.tick_params(labelsize=FONT_SIZE)
    p = analysis["params"]
    fig.suptitle(
        f"Reservoir, seed {result.seed}: N = {p.n_neurons}, bins of "
        f"{metrics['bin_width_ms']:.0f} ms, state filter {metrics['state_tau_ms']:.0f} ms; "
        f"E {metrics['rate_exc_hz']:.1f} Hz, I {metrics['rate_inh_hz']:.1f} Hz",
        fontsize=FONT_SIZE + 2,
    )
    return fig
