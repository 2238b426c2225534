"""The figures of the neural-sampling circuit: state probabilities, KL over time, fill-in.

:func:`figures` draws them from a run, its twin, what the circuit sampled and the metrics;
:func:`spikingml.circuits.neural_sampling.figures` is the entry point of the circuit
contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.analysis import boltzmann as bm
from spikingml.params import CircuitParams
from spikingml.result import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["comparison_figure", "figures", "fill_in_figure", "kl_over_time"]

#: Test digits shown in ``fill_in.png``.
SHOWN_DIGITS = 8
#: States shown in the probability panels (the most probable ones).
SHOWN_STATES = 48


def figures(
    result: Result,
    twin_output: Any,
    sampled: dict[str, np.ndarray],
    metrics: dict[str, float],
    outdir: Path,
) -> list[Path]:
    """Write ``comparison.png`` and ``fill_in.png`` into ``outdir``.

    Parameters
    ----------
    result : Result
        A neural-sampling run.
    twin_output
        Its twin (:class:`spikingml.circuits.neural_sampling.Twin`).
    sampled : dict
        What the circuit sampled (:func:`spikingml.circuits.neural_sampling.sampled`).
    metrics : dict of str to float
        Its metrics (:func:`spikingml.circuits.neural_sampling.compare`).
    outdir : path
        Existing directory the figures are written into.

    Returns
    -------
    list of Path
    """
    from spikingml.plotting import save_figure

    outdir = Path(outdir)
    return [
        save_figure(
            comparison_figure(result, twin_output, sampled, metrics), outdir / "comparison.png"
        ),
        save_figure(fill_in_figure(result, twin_output, sampled, metrics), outdir / "fill_in.png"),
    ]


def _params(result: Result) -> CircuitParams:
    from spikingml.circuits.neural_sampling import Params

    return Params.from_dict(result.params)


def kl_over_time(result: Result, twin_output: Any, n_points: int = 16) -> dict[str, np.ndarray]:
    """KL of the spiking and Gibbs samples collected up to each of ``n_points`` times.

    Returns
    -------
    dict
        ``samples`` (samples at one per ``tau``, log-spaced from 10), ``spiking`` and
        ``gibbs`` (KL from the exact joint distribution, nats), ``iid`` (the formula
        :math:`(K - 1) / (2 n)`).
    """
    p = _params(result)
    dt, tau_steps, n = float(p.dt), p.steps("tau"), p.n_units
    spikes = result.populations["boltzmann"]
    free = spikes.indices < n
    steps = np.rint(spikes.times[free] / dt).astype(np.int64)
    idx = spikes.indices[free]
    total = len(twin_output.gibbs_joint_codes)
    samples = np.unique(np.geomspace(min(10, total), total, n_points).astype(int))
    start = p.steps("burn_in")
    spiking, gibbs = [], []
    for m in samples:
        counts = bm.state_step_counts(idx, steps, n, tau_steps, start, start + m * tau_steps)
        spiking.append(bm.kl_divergence(counts, twin_output.p_joint))
        codes = twin_output.gibbs_joint_codes[:m]
        gibbs.append(bm.kl_divergence(np.bincount(codes, minlength=2**n), twin_output.p_joint))
    iid = np.array([bm.kl_bias_formula(2**n, m) for m in samples])
    return {"samples": samples, "spiking": np.array(spiking), "gibbs": np.array(gibbs), "iid": iid}


def _probabilities(
    ax: Axes, exact: np.ndarray, spiking: np.ndarray, gibbs: np.ndarray, title: str
) -> None:
    order = np.argsort(exact)[::-1][:SHOWN_STATES]
    x = np.arange(len(order))
    ax.bar(x, exact[order], color="0.8", width=0.9, label="exact (enumeration)")
    ax.plot(x, spiking[order] / spiking.sum(), "o", ms=3.5, color="C3", label="spiking")
    ax.plot(x, gibbs[order] / gibbs.sum(), "x", ms=3.5, color="C0", label="Gibbs")
    ax.set_yscale("log")
    ax.set_xlabel(f"state (the {len(order)} most probable, by exact p)")
    ax.set_ylabel("probability")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(frameon=False, loc="upper right")


def comparison_figure(
    result: Result, twin_output: Any, sampled: dict[str, np.ndarray], metrics: dict[str, float]
) -> Figure:
    """State probabilities (joint and clamped), KL against sample count, a raster of z.

    Panels: (a) the joint distribution of the free copy, exact vs spiking vs Gibbs; (b)
    the conditional distribution of the clamped copy's free units; (c) KL from the exact
    joint distribution against samples, spiking (one sample per ``tau``) and Gibbs (one
    per sweep), beside the i.i.d. bias formula; (d) the free copy's spikes and "on"
    states over 300 ms.
    """
    from matplotlib.figure import Figure

    p = _params(result)
    fig = Figure(figsize=(11.0, 8.0), layout="constrained")
    (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
    _probabilities(
        ax_a,
        twin_output.p_joint,
        sampled["joint"],
        twin_output.gibbs_joint,
        f"(a) joint p(z) of {p.n_units} units\nKL(sampled || exact): spiking "
        f"{metrics['kl_joint_nats']:.4f}, Gibbs {metrics['kl_joint_gibbs_nats']:.4f} nats",
    )
    _probabilities(
        ax_b,
        twin_output.p_conditional,
        sampled["conditional"],
        twin_output.gibbs_conditional,
        f"(b) p(z_F | z_C), {p.n_clamped} of {p.n_units} units clamped\nKL: spiking "
        f"{metrics['kl_conditional_nats']:.4f}, Gibbs "
        f"{metrics['kl_conditional_gibbs_nats']:.4f} nats",
    )
    kl = kl_over_time(result, twin_output)
    tau = float(p.tau)
    ax_c.loglog(kl["samples"], kl["spiking"], "o-", color="C3", ms=4, label="spiking")
    ax_c.loglog(kl["samples"], kl["gibbs"], "x-", color="C0", ms=4, label="Gibbs (1 sweep / tau)")
    ax_c.loglog(kl["samples"], kl["iid"], "--", color="0.4", label="(K - 1) / (2 n), i.i.d.")
    ax_c.axhline(0.05, color="0.6", lw=0.8, ls=":", label="target after 100 s")
    ax_c.set_xlabel(f"samples n (one per tau = {tau * 1e3:g} ms of spiking time)")
    ax_c.set_ylabel("KL(sampled || exact) (nats)")
    secondary = ax_c.secondary_xaxis("top", functions=(lambda n: n * tau, lambda t: t / tau))
    secondary.set_xlabel("simulated time (s)")
    ax_c.set_title("(c) KL of the joint distribution vs sample count", loc="left", fontsize=10)
    ax_c.legend(frameon=False)
    _on_states(ax_d, result, p)
    return fig


def _on_states(ax: Axes, result: Result, p: Any) -> None:
    """Spikes of the free copy and the tau-long on state that each spike starts."""
    n, tau = p.n_units, float(p.tau)
    t0 = float(p.burn_in)
    t1 = min(t0 + 0.3, result.t_stop)
    spikes = result.populations["boltzmann"]
    sel = (spikes.indices < n) & (spikes.times >= t0 - tau) & (spikes.times < t1)
    dt = float(p.dt)
    for i, t in zip(spikes.indices[sel], spikes.times[sel], strict=True):
        ax.broken_barh([(t + dt, tau)], (i - 0.35, 0.7), color="C3", alpha=0.35, lw=0)
        ax.plot([t, t], [i - 0.4, i + 0.4], color="k", lw=0.8)
    ax.set_xlim(t0, t1)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(range(n))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit k")
    ax.set_title(
        f"(d) free copy: spikes (lines) and z_k = 1 (bars, tau = {tau * 1e3:g} ms)",
        loc="left",
        fontsize=10,
    )


def fill_in_figure(
    result: Result, twin_output: Any, sampled: dict[str, np.ndarray], metrics: dict[str, float]
) -> Figure:
    """Test digits: the truth, what is seen, and the spiking and Gibbs marginals."""
    from matplotlib.figure import Figure

    images = twin_output.images
    shown = min(SHOWN_DIGITS, len(images))
    side = int(np.sqrt(images.shape[1]))
    observed = twin_output.observed
    seen = np.where(observed, images, 0.5)
    rows = [
        ("digit", images),
        ("clamped\n(upper half)", seen),
        ("spiking\nP(pixel on)", sampled["fill_in"]),
        ("Gibbs\nP(pixel on)", twin_output.gibbs_marginals),
    ]
    fig = Figure(figsize=(1.2 * shown + 1.4, 5.8), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(rows), shown, squeeze=False))
    for r, (label, data) in enumerate(rows):
        for c in range(shown):
            ax = axes[r, c]
            ax.imshow(data[c].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.axhline(side / 2 - 0.5, color="C3", lw=0.8)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label)
    fig.suptitle(
        f"Lower half filled in: accuracy spiking {metrics['fill_in_accuracy']:.3f}, Gibbs "
        f"{metrics['fill_in_accuracy_gibbs']:.3f}, pixel means "
        f"{metrics['fill_in_accuracy_pixel_mean']:.3f}\n({len(images)} test digits, "
        f"{_rbm_samples(result)} samples each, one per tau)"
    )
    return fig


def _rbm_samples(result: Result) -> int:
    return _params(result).rbm_sweeps[1]
