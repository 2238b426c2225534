"""The figures of the stochastic-synapses circuit: accuracy, gap and deletion vs p.

:func:`figures` draws ``comparison.png`` (circuit and DropConnect twin on the same axes)
and ``weights.png`` (learned weights as images);
:func:`spikingml.circuits.stochastic_synapses.figures` is the contract's entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.analysis import dropconnect as dc
from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_figure", "figures", "weights_figure"]


def _curves(preds: dict[str, np.ndarray], inputs: Any, fractions: list[float]) -> dict:
    labels = inputs.labels
    out = {
        name: np.array([dc.accuracy(p, labels[getattr(inputs, name)]) for p in preds[name]])
        for name in ("train", "validation", "test")
    }
    out["deleted"] = np.array(
        [[dc.accuracy(p, labels[inputs.test]) for p in preds[f"deleted_{f}"]] for f in fractions]
    ).T  # copies x fractions
    return out


def figures(
    result: Result, twin_output: Any, metrics: dict[str, float], outdir: Path
) -> list[Path]:
    """Write ``comparison.png`` and ``weights.png`` into ``outdir``; return their paths."""
    from spikingml.plotting import save_figure

    outdir = Path(outdir)
    return [
        save_figure(comparison_figure(result, twin_output, metrics), outdir / "comparison.png"),
        save_figure(weights_figure(result, metrics), outdir / "weights.png"),
    ]


def comparison_figure(result: Result, twin_output: Any, metrics: dict[str, float]) -> Figure:
    """Three panels: accuracy vs p, gap vs p, test accuracy vs deleted fraction.

    Circuit (filled markers, solid lines) and twin (open markers, dashed) share axes.
    """
    from matplotlib.figure import Figure

    from spikingml.circuits import stochastic_synapses as ss

    params = ss.Params.from_dict(result.params)
    inputs = twin_output.inputs
    copies = np.array(params.copies)
    fractions = params.fractions
    circuit = _curves(ss.circuit_predictions(result, inputs), inputs, fractions)
    twin = _curves(twin_output.predictions, inputs, fractions)
    fig = Figure(figsize=(12.0, 3.8), layout="constrained")
    ax_acc, ax_gap, ax_del = fig.subplots(1, 3)
    for curves, style, who in ((circuit, "-o", "circuit"), (twin, "--s", "twin")):
        fill = None if who == "circuit" else "none"
        for name, color in (("train", "C0"), ("test", "C3")):
            ax_acc.plot(copies, curves[name], style, color=color, mfc=fill, label=f"{who}: {name}")
        ax_gap.plot(
            copies, curves["train"] - curves["test"], style, color="k", mfc=fill, label=who
        )
    labels = inputs.labels
    control_gap = [
        dc.accuracy(tr, labels[inputs.train]) - dc.accuracy(te, labels[inputs.test])
        for tr, te in zip(twin_output.control["train"], twin_output.control["test"], strict=True)
    ]
    ax_gap.plot(
        copies, control_gap, ":^", color="0.5", mfc="none", label="no noise, learning x p^2"
    )
    ax_acc.set(xlabel="release probability p", ylabel="accuracy", ylim=(0, 1.02))
    ax_acc.set_title("train and test accuracy")
    ax_acc.legend(fontsize=7, loc="lower right")
    ax_gap.set(xlabel="release probability p", ylabel="train - test accuracy")
    ax_gap.set_title(
        f"generalisation gap (best p {metrics['best_p']:.2f}: "
        f"{100 * metrics['gap_reduction']:.0f}% smaller, "
        f"{100 * metrics['noise_gap_reduction']:.0f}% below its control; r = "
        f"{metrics['gap_curve_correlation']:.2f})",
        fontsize=9,
    )
    ax_gap.legend(fontsize=7)
    one = int(np.flatnonzero(copies == 1.0)[0])
    best = int(np.flatnonzero(np.isclose(copies, metrics["best_p"]))[0])
    xs = [0.0, *fractions]
    for k, color in ((one, "C7"), (best, "C2")):
        for curves, style, who in ((circuit, "-o", "circuit"), (twin, "--s", "twin")):
            ys = [curves["test"][k], *curves["deleted"][k]]
            fill = None if who == "circuit" else "none"
            ax_del.plot(xs, ys, style, color=color, mfc=fill, label=f"{who}, p = {copies[k]:.2f}")
    ax_del.set(xlabel="fraction of synapses deleted after training", ylabel="test accuracy")
    ax_del.set_ylim(0, 1.02)
    ax_del.set_title(
        f"deletion (loss at {params.deletion_fraction:.0%}: ratio "
        f"{metrics['deletion_loss_ratio']:.2f})",
        fontsize=9,
    )
    ax_del.legend(fontsize=7)
    for ax in (ax_acc, ax_gap):
        ax.invert_xaxis()
    fig.suptitle(
        f"stochastic synapses, seed {result.seed}: {len(inputs.train)} training digits, "
        f"{params.n_epochs} epochs, {metrics['spikes_per_synapse_per_example']:.2f} spikes "
        "per synapse per example",
        fontsize=10,
    )
    return fig


def weights_figure(result: Result, metrics: dict[str, float]) -> Figure:
    """The weights of every class (8 x 8 images) at p = 1 (top) and at the best p."""
    from matplotlib.figure import Figure

    copies = np.asarray(result.extra["copies"])
    w = result.weights["w"]  # inputs x copies x classes
    fig = Figure(figsize=(10.0, 2.6), layout="constrained")
    axes = fig.subplots(2, 10)
    for row, p in enumerate((1.0, metrics["best_p"])):
        k = int(np.flatnonzero(np.isclose(copies, p))[0])
        scaled = p * w[:, k, :]  # the weights as they act at test
        lim = float(np.max(np.abs(scaled))) or 1.0
        for c in range(10):
            ax = axes[row, c]
            ax.imshow(scaled[:, c].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(str(c), fontsize=9)
        axes[row, 0].set_ylabel(f"p = {p:.2f}", fontsize=9)
    fig.suptitle("p x w at test: each digit's weights from the 8 x 8 pixels", fontsize=10)
    return fig
