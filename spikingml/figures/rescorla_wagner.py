"""The figure of the Rescorla-Wagner circuit: learning curves of every paradigm.

:func:`figures` draws it from a run, its twin and the values read from the probes;
:func:`spikingml.circuits.rescorla_wagner.figures` is the entry point of the circuit
contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.result import Result
from spikingml.stimuli.paradigms import N_STAGES, PARADIGMS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figures", "comparison_figure"]

#: Colour of each cue's curves.
CUE_COLORS = {"A": "#0072B2", "X": "#D55E00", "B": "#E69F00"}

#: The stages of each paradigm, as written in its panel.
STAGE_SCHEDULE = {
    "acquisition": "A+ | A+ | A+ | A+",
    "extinction": "A+ | A+ | A- | A-",
    "blocking": "A+ | A+ | AX+ | AX+   (control: - | - | AX+ | AX+)",
    "overshadowing": "AB+ throughout, A salient",
    "conditioned_inhibition": "A+ | A+, AX- | A+, AX- | A+, AX-",
    "overexpectation": "A+, B+ | A+, B+ | AB+ | AB+",
}


def figures(
    result: Result,
    twin_output: Any,
    params: Any,
    spiking: dict[str, np.ndarray],
    outdir: Path,
) -> list[Path]:
    """Write ``comparison.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A Rescorla-Wagner run.
    twin_output
        Its twin (:class:`spikingml.circuits.rescorla_wagner.Twin`).
    params
        The run's :class:`spikingml.circuits.rescorla_wagner.Params`.
    spiking : dict of str to ndarray
        Per group, its cues' values after every trial, read from the probes
        (:func:`spikingml.circuits.rescorla_wagner.probe_values`).
    outdir : path
        Existing directory the figure is written into.

    Returns
    -------
    list of Path
        The one file.
    """
    from spikingml.plotting import save_figure

    fig = comparison_figure(result, twin_output, params, spiking)
    return [save_figure(fig, Path(outdir) / "comparison.png")]


def comparison_figure(
    result: Result, twin_output: Any, params: Any, spiking: dict[str, np.ndarray]
) -> Figure:
    """One row per paradigm: the spiking circuit's curves on the left, the twin's right.

    Every cue's value (divided by lambda) after every trial, on the same axes; stage
    boundaries marked; the cues of a blocking control dashed.
    """
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE

    groups = {g["name"]: g for g in result.extra["groups"]}
    paradigms = [p for p in PARADIGMS if PARADIGMS[p][0] in groups]
    lam = float(params.lam)
    all_values = (
        np.concatenate(
            [np.ravel(v) for v in spiking.values()]
            + [np.ravel(c.after) for c in twin_output.curves.values()]
        )
        / lam
    )
    # room above the curves for each panel's label
    lo, hi = min(-0.1, float(all_values.min())), max(1.1, float(all_values.max())) + 0.35
    pad = 0.05 * (hi - lo)
    fig = Figure(figsize=(10.0, 1.9 * len(paradigms) + 0.8), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(paradigms), 2, sharex=True, sharey=True))
    trials = np.arange(1, params.n_trials + 1)
    for row, paradigm in enumerate(paradigms):
        for col, (source, title) in enumerate(
            (("spiking", "spiking circuit (value neurons, probes)"), ("twin", "Rescorla-Wagner"))
        ):
            ax = axes[row, col]
            for name in PARADIGMS[paradigm]:
                control = name.endswith("_control")
                values = spiking[name] if source == "spiking" else twin_output.curves[name].after
                for c, cue in enumerate(groups[name]["cues"]):
                    if control and cue == "A":
                        continue  # A and X of the control are trained together only
                    ax.plot(
                        trials,
                        values[:, c] / lam,
                        color=CUE_COLORS.get(cue, "k"),
                        ls="--" if control else "-",
                        lw=1.4,
                        label=f"{'control ' if control else ''}{cue}",
                    )
            for k in range(1, N_STAGES):
                ax.axvline(k * params.n_stage + 0.5, color="0.6", lw=0.8, zorder=0)
            ax.axhline(0, color="0.8", lw=0.6, zorder=0)
            ax.set_ylim(lo - pad, hi + pad)
            ax.tick_params(labelsize=FONT_SIZE)
            if row == 0:
                ax.set_title(title, fontsize=FONT_SIZE + 2)
            if col == 0:
                ax.set_ylabel("V / lambda", fontsize=FONT_SIZE + 1)
            ax.text(
                0.01,
                0.97,
                f"{paradigm.replace('_', ' ')}: {STAGE_SCHEDULE[paradigm]}",
                transform=ax.transAxes,
                va="top",
                fontsize=FONT_SIZE,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
            )
        axes[row, 1].legend(
            fontsize=FONT_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
        )
    for ax in axes[-1]:
        ax.set_xlabel("trial (stages 1-4 separated by grey lines)", fontsize=FONT_SIZE + 1)
    fig.suptitle(
        "Spiking circuit vs Rescorla-Wagner: cue values after every trial",
        fontsize=FONT_SIZE + 3,
    )
    return fig
