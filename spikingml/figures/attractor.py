"""The figure of the attractor circuit: recall vs cue noise, vs load, and one trial.

:func:`figures` draws it from the curves that
:func:`spikingml.circuits.attractor.figures` computes from a run, its twins and its
metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spikingml.plotting import save_figure

__all__ = ["figures", "comparison_figure"]


def comparison_figure(curves: dict[str, Any], metrics: dict[str, float]):
    """Three panels: overlap vs cue noise, overlap vs load, the spikes of one recall trial.

    Parameters
    ----------
    curves : dict
        ``noise``, ``noise_circuit``, ``noise_twin`` (mean overlap per cue-noise level);
        ``load``, ``load_circuit`` (circuit, per load tested); ``sparse_load``,
        ``sparse_overlap``; ``dense_load``, ``dense_overlap`` (the twins' capacity
        curves); ``trial_times``, ``trial_rank`` (spikes of one trial, neurons ranked
        with the cued pattern's at the bottom), ``trial_pattern_size``, ``trial_cue``
        (cue on and off times, s), ``trial_length`` and ``trial_readout`` (s).
    metrics : dict
        The run's metrics (quoted in the titles).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0), constrained_layout=True)
    ax = axes[0]
    ax.plot(curves["noise"], curves["noise_circuit"], "o-", color="C3", label="spiking circuit")
    ax.plot(curves["noise"], curves["noise_twin"], "s--", color="k", label="sparse Hopfield twin")
    ax.axhline(0.9, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("cue noise q (fraction of the pattern's active neurons moved)")
    ax.set_ylabel("final overlap m with the cued pattern")
    ax.set_ylim(-0.1, 1.05)
    ax.set_title(f"recall vs cue noise (r = {metrics['noise_curve_correlation']:.2f})")
    ax.legend(loc="lower left", fontsize=8)

    ax = axes[1]
    ax.plot(curves["load"], curves["load_circuit"], "o-", color="C3", label="spiking circuit")
    ax.plot(curves["sparse_load"], curves["sparse_overlap"], "s--", color="k", label="sparse twin")
    ax.plot(
        curves["dense_load"], curves["dense_overlap"], "^:", color="C0", label="dense Hopfield"
    )
    ax.axhline(0.9, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("load alpha = P / N")
    ax.set_ylabel("mean final overlap (20% noise cues)")
    ax.set_ylim(-0.1, 1.05)
    ax.set_title(
        f"alpha_c: circuit {metrics['alpha_c_circuit']:.3f}, sparse twin "
        f"{metrics['alpha_c_twin_sparse']:.3f}, dense {metrics['alpha_c_twin_dense']:.3f}",
        fontsize=9,
    )
    ax.legend(loc="lower left", fontsize=8)

    ax = axes[2]
    t = np.asarray(curves["trial_times"]) * 1e3
    ax.scatter(t, curves["trial_rank"], s=1, color="k", rasterized=True)
    k = curves["trial_pattern_size"]
    ax.axhline(k - 0.5, color="C3", lw=0.8)
    on, off = (x * 1e3 for x in curves["trial_cue"])
    ax.axvspan(on, off, color="C1", alpha=0.15, label="cue")
    length = curves["trial_length"] * 1e3
    ax.axvspan(
        length - curves["trial_readout"] * 1e3, length, color="C2", alpha=0.1, label="readout"
    )
    ax.set_xlim(0, length)
    ax.set_xlabel("time in the trial (ms; quench, cue, settle)")
    ax.set_ylabel("excitatory neuron (cued pattern's below the line)")
    ax.set_title(
        f"one recall trial; background {metrics['background_rate_hz']:.1f} Hz, "
        f"pattern {metrics['pattern_rate_hz']:.0f} Hz",
        fontsize=9,
    )
    ax.legend(loc="upper right", fontsize=8)
    return fig


def figures(curves: dict[str, Any], metrics: dict[str, float], outdir: Path) -> list[Path]:
    """Write ``comparison.png`` into ``outdir`` and return its path in a list."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return [save_figure(comparison_figure(curves, metrics), outdir / "comparison.png")]
