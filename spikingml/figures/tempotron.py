"""The figures of the tempotron circuit: capacity, learning curves, timing task, voltage.

:func:`figures` draws them from a run, its twin and its metrics;
:func:`spikingml.circuits.tempotron.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import ms

from spikingml.analysis.tempotron import accuracy_curves, alpha_key
from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure", "voltage_figure"]


def figures(
    result: Result, twin_output: Any, params: Any, metrics: dict[str, float], outdir: Path
) -> list[Path]:
    """Write ``comparison.png`` and ``voltage_traces.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A tempotron run.
    twin_output
        Its twin (:class:`spikingml.circuits.tempotron.Twin`).
    params
        The run's :class:`spikingml.circuits.tempotron.Params`.
    metrics : dict of str to float
        Its metrics (:func:`spikingml.circuits.tempotron.compare`).
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
            comparison_figure(result, twin_output, params, metrics), outdir / "comparison.png"
        ),
        save_figure(voltage_figure(result, params), outdir / "voltage_traces.png"),
    ]


def comparison_figure(
    result: Result, twin_output: Any, params: Any, metrics: dict[str, float]
) -> Figure:
    """Capacity against load, learning curves, and the timing task's accuracies."""
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE

    curves = accuracy_curves(result)
    alphas = params.alphas
    m = metrics

    fig = Figure(figsize=(12.0, 4.2), layout="constrained")
    ax_cap, ax_learn, ax_timing = fig.subplots(1, 3)
    temp_final = [curves[f"alpha_{alpha_key(a)}"][-1] for a in alphas]
    temp_best = [np.max(curves[f"alpha_{alpha_key(a)}"][:-1]) for a in alphas]
    ax_cap.plot(
        alphas, temp_final, "o-", color="#0072B2", label="tempotron (end: mean weights, frozen)"
    )
    ax_cap.plot(
        alphas,
        temp_best,
        "o:",
        color="#0072B2",
        alpha=0.6,
        label="tempotron (best training epoch)",
    )
    ax_cap.plot(
        alphas,
        twin_output.perceptron_curves[:, -1],
        "s-",
        color="#D55E00",
        label="perceptron on spike times (end)",
    )
    ax_cap.plot(
        alphas,
        twin_output.perceptron_curves.max(axis=1),
        "s:",
        color="#D55E00",
        alpha=0.6,
        label="perceptron (best epoch)",
    )
    ax_cap.axhline(params.criterion, color="0.5", lw=0.8, ls="--")
    ax_cap.set_xlabel("load alpha (patterns per synapse)", fontsize=FONT_SIZE + 1)
    ax_cap.set_ylabel("fraction of patterns correct", fontsize=FONT_SIZE + 1)
    ax_cap.set_title(
        f"capacity (N = {params.n_afferents}, budget {params.n_epochs} epochs):\n"
        f"tempotron {m['capacity_alpha']:g}, perceptron {m['perceptron_capacity_alpha']:g}"
        f" (criterion {params.criterion:g})",
        fontsize=FONT_SIZE,
    )
    ax_cap.legend(fontsize=FONT_SIZE - 1, loc="lower left")
    ax_cap.set_ylim(0.45, 1.02)

    epochs = np.arange(1, params.n_epochs + 1)
    colors = ["#0072B2", "#56B4E9", "#E69F00", "#D55E00", "#000000", "#999999", "#B8A100"]
    for k, a in enumerate(alphas):
        ax_learn.plot(
            epochs,
            curves[f"alpha_{alpha_key(a)}"][:-1],
            lw=1,
            color=colors[k % len(colors)],
            label=f"alpha {a:g}",
        )
    ax_learn.plot(
        epochs, curves["timing_test"][:-1], lw=1.2, color="#009E73", label="timing task, held out"
    )
    ax_learn.axhline(params.criterion, color="0.5", lw=0.8, ls="--")
    ax_learn.set_xlabel("training epoch", fontsize=FONT_SIZE + 1)
    ax_learn.set_ylabel("fraction correct in the epoch", fontsize=FONT_SIZE + 1)
    ax_learn.set_title(
        f"tempotron learning curves (Brian2 circuit,\n{params.in_flight} copies in flight,"
        " online weights)",
        fontsize=FONT_SIZE,
    )
    ax_learn.legend(fontsize=FONT_SIZE - 1, loc="lower right")
    ax_learn.set_ylim(0.45, 1.02)

    names = [
        "tempotron",
        "LDA\ncounts",
        "LDA\nbinned",
        "percep-\ntron\ncounts",
        "percep-\ntron\nbinned",
    ]
    values = [
        m["timing_task_accuracy"],
        m["lda_counts_accuracy"],
        m["lda_binned_accuracy"],
        m["perceptron_counts_accuracy"],
        m["perceptron_binned_accuracy"],
    ]
    bars = ax_timing.bar(
        names, values, color=["#0072B2", "#D55E00", "#E69F00", "#D55E00", "#E69F00"]
    )
    for bar, value in zip(bars, values, strict=True):
        ax_timing.text(
            bar.get_x() + bar.get_width() / 2,
            value + 0.01,
            f"{value:.2f}",
            ha="center",
            fontsize=FONT_SIZE,
        )
    ax_timing.axhline(0.5, color="0.5", lw=0.8, ls="--")
    ax_timing.set_ylim(0, 1.1)
    ax_timing.set_ylabel("held-out accuracy", fontsize=FONT_SIZE + 1)
    ax_timing.set_title(
        f"timing task, identical counts: {params.n_templates} templates per class,\n"
        f"jitter {float(params.jitter / ms):g} ms; bins of {float(params.bin_width / ms):g} ms",
        fontsize=FONT_SIZE,
    )
    for ax in (ax_cap, ax_learn, ax_timing):
        ax.tick_params(labelsize=FONT_SIZE)
    return fig


def voltage_figure(result: Result, params: Any) -> Figure:
    """V of a + and a - training sample of the timing task, before and after learning."""
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE

    fig = Figure(figsize=(10.0, 5.5), layout="constrained")
    axes = fig.subplots(2, 2, sharey=True)
    for row, sign in enumerate(("plus", "minus")):
        for col, when in enumerate(("before", "after")):
            ax = axes[row, col]
            sig = result.signals[f"V_{sign}_{when}"]
            t = (1 + np.arange(sig.values.shape[0])) * sig.dt * 1e3  # from step 1
            ax.plot(t, sig.values[:, 0], color="#0072B2" if sign == "plus" else "#D55E00", lw=1)
            ax.axhline(params.theta, color="0.3", lw=0.8, ls="--", label="threshold")
            spikes = result.populations["output"]
            ch = sig.channels[0]
            hit = (
                (spikes.indices == ch)
                & (spikes.times >= sig.t_start)
                & (spikes.times < sig.t_start + sig.values.shape[0] * sig.dt)
            )
            for ts in spikes.times[hit]:
                ax.axvline(
                    (ts - sig.t_start + sig.dt) * 1e3, color="k", lw=1.5, label="output spike"
                )
            label = "+ pattern (should fire)" if sign == "plus" else "- pattern (should not)"
            phase = "first epoch" if when == "before" else "after learning (frozen)"
            ax.set_title(f"{label}, {phase}", fontsize=FONT_SIZE + 1)
            ax.set_xlabel("time in the pattern (ms)", fontsize=FONT_SIZE + 1)
            if col == 0:
                ax.set_ylabel("V (threshold = 1)", fontsize=FONT_SIZE + 1)
            ax.tick_params(labelsize=FONT_SIZE)
            handles, labels = ax.get_legend_handles_labels()
            uniq = dict(zip(labels, handles, strict=True))
            ax.legend(uniq.values(), uniq.keys(), fontsize=FONT_SIZE - 1, loc="lower left")
    fig.suptitle(
        "Tempotron (timing task): membrane potential before and after learning",
        fontsize=FONT_SIZE + 2,
    )
    return fig
