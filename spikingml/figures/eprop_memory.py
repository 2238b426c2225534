"""The figure of the eprop-memory circuit: learning curves and recall accuracy per delay.

:func:`comparison_figure` draws it from a run, its twin and its metrics;
:func:`spikingml.circuits.eprop_memory.figures` saves it as ``comparison.png``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_figure"]

_LABELS = {"alif": "LIF + ALIF (e-prop)", "lif": "LIF only (e-prop)", "lstm": "LSTM (BPTT)"}


def comparison_figure(result: Result, twin_output: Any, metrics: dict[str, float]) -> Figure:
    """Batch error during training, and test accuracy per delay, for the three models.

    Parameters
    ----------
    result : Result
        An eprop-memory run.
    twin_output
        Its twin (:class:`spikingml.circuits.eprop_memory.Twin`).
    metrics : dict of str to float
        The run's metrics.

    Returns
    -------
    Figure
        Left: the error of every training batch (thin) and its running mean over 10
        batches (thick) against the trials seen (log scale). Right: the fraction of test trials
        recalled at every delay, chance (0.5) and the 95% target marked.
    """
    from matplotlib.figure import Figure

    from spikingml.circuits.eprop_memory import learning_curves
    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    label = {"fontsize": FONT_SIZE + 1}
    colors = {"alif": POPULATION_COLORS[0], "lif": POPULATION_COLORS[1], "lstm": "0.25"}
    copies = result.extra["labels"].shape[1]
    fig = Figure(figsize=(10.0, 4.8), layout="constrained")
    ax_lc, ax_acc = fig.subplots(1, 2, width_ratios=[1.4, 1])
    for model, curve in learning_curves(result, twin_output).items():
        trials = (np.arange(len(curve)) + 1) * copies
        ax_lc.plot(trials, curve, color=colors[model], lw=0.5, alpha=0.4)
        k = min(10, len(curve))
        smooth = np.convolve(curve, np.ones(k) / k, mode="valid")
        ax_lc.plot(trials[k - 1 :], smooth, color=colors[model], lw=2, label=_LABELS[model])
    ax_lc.axhline(0.5, color="0.6", lw=0.8, ls=":", label="chance")
    ax_lc.axhline(0.05, color="0.6", lw=0.8, ls="--", label="5% error")
    # the LSTM goes over the same batches for several epochs: a log axis shows its long
    # plateau and the spiking networks' single pass side by side
    ax_lc.set_xscale("log")
    ax_lc.set_xlabel("training trials (log scale; the LSTM repeats the batches)", **label)
    ax_lc.set_ylabel("batch error (fraction of trials)", **label)
    ax_lc.set_ylim(-0.02, 0.95)
    ax_lc.legend(fontsize=FONT_SIZE, frameon=False, loc="upper right", ncol=2)
    ax_lc.set_title("learning curves", **label)
    prefix = {"alif": "", "lif": "lif_", "lstm": "lstm_"}
    for model in ("alif", "lif", "lstm"):
        head = f"{prefix[model]}recall_accuracy_"
        pts = sorted(
            (int(k[len(head) : -2]), v)
            for k, v in metrics.items()
            if k.startswith(head) and k.endswith("ms")
        )
        if pts:
            d, acc = zip(*pts, strict=True)
            ax_acc.plot(np.array(d) / 1000, acc, "o-", color=colors[model], label=_LABELS[model])
    ax_acc.axhline(0.95, color="0.6", lw=0.8, ls="--", label="95%")
    ax_acc.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax_acc.set_ylim(0.3, 1.03)
    ax_acc.set_xlabel("delay, store to recall (s)", **label)
    ax_acc.set_ylabel("recall accuracy (test trials)", **label)
    ax_acc.legend(
        fontsize=FONT_SIZE, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2
    )
    ax_acc.set_title("memory over the delay", **label)
    return fig
