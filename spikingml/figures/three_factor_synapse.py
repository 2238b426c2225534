"""The figure of the three-factor-synapse circuit: circuit beside closed form.

:func:`comparison_figure` draws it from a run, its twin and its metrics;
:func:`spikingml.circuits.three_factor_synapse.figures` (the entry point of the circuit
contract) saves it as ``comparison.png``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import second

from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_figure"]


def comparison_figure(result: Result, twin_output: Any, metrics: dict[str, float]) -> Figure:
    """Weight changes of circuit vs closed form, and one synapse's weight over time.

    Parameters
    ----------
    result : Result
        A three-factor-synapse run.
    twin_output
        Its twin (:class:`spikingml.circuits.three_factor_synapse.Twin`: ``w_end``,
        ``recorded``).
    metrics : dict of str to float
        The run's metrics (``weight_max_abs_error``, ``trajectory_max_abs_error``).

    Returns
    -------
    Figure
        Left: every synapse's weight change, circuit against closed form, with the
        identity line. Right: the stored weight of the recorded synapse that changed
        most, from the circuit (line) and the closed form (dots, just after each of its
        events), above the pre, post and dopamine spikes it saw.
    """
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    label = {"fontsize": FONT_SIZE + 1}
    w0 = result.weights["w0"]
    dw, dw_twin = result.weights["w"] - w0, twin_output.w_end - w0
    fig = Figure(figsize=(10.0, 4.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.5], height_ratios=[3, 1])
    ax_dw = fig.add_subplot(grid[:, 0])
    ax_dw.scatter(dw_twin, dw, s=14, color=POPULATION_COLORS[0], label="one synapse")
    lim = [min(dw.min(), dw_twin.min()), max(dw.max(), dw_twin.max())]
    ax_dw.plot(lim, lim, color="0.4", lw=0.8, ls="--", label="identity")
    ax_dw.set_xlabel("weight change, closed form (dimensionless)", **label)
    ax_dw.set_ylabel("weight change, circuit (dimensionless)", **label)
    ax_dw.legend(fontsize=FONT_SIZE, loc="upper left", frameon=False)
    ax_dw.set_title(
        f"{len(dw)} synapses at t = {result.t_stop:g} s\n"
        f"max |circuit - closed form| = {metrics['weight_max_abs_error']:.1e}",
        **label,
    )

    k = int(np.argmax(np.abs(dw[: len(twin_output.recorded)])))
    trace, trajectory = result.signals["w"], twin_output.recorded[k]
    ax_w = fig.add_subplot(grid[0, 1])
    ax_w.plot(trace.times, trace.values[:, k], color=POPULATION_COLORS[0], lw=1.0, label="circuit")
    t_events = np.asarray(trajectory.t[:-1] / second)
    ax_w.plot(
        t_events, trajectory.w[:-1], "o", ms=2.5, color=POPULATION_COLORS[1], label="closed form"
    )
    ax_w.set_ylabel(f"w of synapse {k} (dimensionless)", **label)
    ax_w.legend(fontsize=FONT_SIZE, loc="best", frameon=False)
    ax_w.set_title(
        f"stored weight; max |circuit - closed form| over the run = "
        f"{metrics['trajectory_max_abs_error']:.1e}",
        **label,
    )
    ax_w.tick_params(labelbottom=False)
    ax_s = fig.add_subplot(grid[1, 1], sharex=ax_w)
    for row, name in enumerate(("pre", "post", "dopamine")):
        spikes = result.populations[name]
        t = spikes.times[spikes.indices == (0 if name == "dopamine" else k)]
        ax_s.scatter(t, np.full(len(t), row), marker="|", s=40, color=POPULATION_COLORS[row])
    ax_s.set_yticks([0, 1, 2], ["pre", "post", "dopamine"])
    ax_s.set_ylim(-0.6, 2.6)
    ax_s.set_xlabel("time (s)", **label)
    ax_s.set_xlim(0, result.t_stop)
    for ax in (ax_dw, ax_w, ax_s):
        ax.tick_params(labelsize=FONT_SIZE)
    fig.suptitle(
        f"Three-factor synapses beside their closed form (seed {result.seed})",
        fontsize=FONT_SIZE + 2,
    )
    return fig
