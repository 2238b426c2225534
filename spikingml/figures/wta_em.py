"""The figure of the WTA-EM circuit: learned weights as images beside EM's components.

:func:`figures` draws it from a run and its twin;
:func:`spikingml.circuits.wta_em.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.analysis.bernoulli_em import matched_correlations
from spikingml.result import Result
from spikingml.stimuli import binary_patterns as bp

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure"]


def figures(
    result: Result, twin_output: Any, params: Any, datasets: Sequence[str], outdir: Path
) -> list[Path]:
    """Write ``comparison.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A WTA-EM run.
    twin_output
        Its twin (:class:`spikingml.circuits.wta_em.Twin`).
    params
        The run's :class:`spikingml.circuits.wta_em.Params`.
    datasets : sequence of str
        The data sets shown, one pair of rows each.
    outdir : path
        Existing directory the figure is written into.

    Returns
    -------
    list of Path
        The one file.
    """
    from spikingml.plotting import save_figure

    fig = comparison_figure(result, twin_output, params, datasets)
    return [save_figure(fig, Path(outdir) / "comparison.png")]


def comparison_figure(
    result: Result, twin_output: Any, params: Any, datasets: Sequence[str]
) -> Figure:
    """Per data set, the weights of every output neuron above the matched EM component.

    Upper row: the pixel probability each output neuron's weights encode,
    :math:`\\sigma(w_{on} - w_{off})`, with the correlation ``r`` of its weights with the
    matched component's log-probabilities; lower row: batch EM's :math:`p_k` of that
    component and its mixing weight (same grey scale, 0 to 1).
    """
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE

    side = bp.IMAGE_SIDE
    n_pix = side * side
    k = params.n_components
    fig = Figure(figsize=(1.0 + 0.75 * k, 1.2 + 1.6 * len(datasets)), layout="constrained")
    axes = fig.subplots(2 * len(datasets), k, squeeze=False)
    for s, name in enumerate(datasets):
        w = result.weights[f"{name}.w"]
        em_params = twin_output.batch[name].params
        match, r = matched_correlations(w, em_params.log_p_on_off)
        implied = 1 / (1 + np.exp(-(w[:, :n_pix] - w[:, n_pix:])))
        order = np.argsort(match)
        for col, unit in enumerate(order):
            for row, (img, label) in enumerate(
                (
                    (implied[unit], f"r={r[unit]:.2f}"),
                    (em_params.p[match[unit]], f"pi={np.exp(em_params.log_pi[match[unit]]):.2f}"),
                )
            ):
                ax = axes[2 * s + row, col]
                ax.imshow(img.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(label, fontsize=FONT_SIZE - 1, pad=2)
            if col == 0:
                axes[2 * s, 0].set_ylabel(f"{name}\nspiking", fontsize=FONT_SIZE)
                axes[2 * s + 1, 0].set_ylabel(f"{name}\nbatch EM", fontsize=FONT_SIZE)
    fig.suptitle(
        "Spiking: P(pixel on) = sigmoid(w_on - w_off), r = corr(weights, EM log-probabilities)"
        "\nbatch EM: the matched component's p and mixing weight pi",
        fontsize=FONT_SIZE + 1,
    )
    return fig
