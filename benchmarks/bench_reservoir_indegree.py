"""Memory capacity against in-degree: the reservoir circuit swept with ``spikingml sweep``.

Schrauwen, Büsing & Legenstein (2008) found that reservoirs of binary-like (spiking)
units depend on their in-degree far more than analog ones. This script sweeps the
reservoir circuit's ``connectivity_scale`` (a factor on every connection probability,
hence on the mean in-degree) with ``spikingml sweep`` and draws every model's memory
capacity against the column's mean recurrent in-degree in one figure: the column, its
copies (static synapses, no slow input currents), the rate twin (analog tanh units on
the same wiring) and the tanh ESN (reservoirpy's own wiring: a reference that does not
change with the column's). Writes ``benchmarks/results/reservoir_indegree.md``, ``.csv``
and ``docs/lessons/reservoir_indegree.png``.

Usage::

    python benchmarks/bench_reservoir_indegree.py [--scales 0.25,0.5,1,2,4] [--seeds 0-2]
                                                  [--workers 1] [--default]
                                                  [--from-sweep DIR] [--plot-only]

The figure shows every model's mean over the seeds at each in-degree, with a bar from the
lowest to the highest seed. ``--from-sweep DIR`` tabulates a sweep already run into DIR
(the same command, e.g. run in the background); ``--plot-only`` redraws from the .csv.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIGURE = ROOT / "docs" / "lessons" / "reservoir_indegree.png"
MODELS = {
    "mc_total_lsm": "LSM (the circuit)",
    "mc_static_synapses": "LSM, static synapses",
    "mc_fast_inputs": "LSM, no slow input currents",
    "mc_total_rate_twin": "rate twin (tanh units, same wiring)",
    "mc_total_esn": "tanh ESN (own wiring; reference)",
}


def in_degree(scale: float, seed: int, quick: bool) -> float:
    """Mean recurrent in-degree of the column drawn for ``scale`` and ``seed``."""
    from spikingml.circuits import reservoir as res

    params = (res.Params.quick() if quick else res.Params()).replace(connectivity_scale=scale)
    return len(res.prepare_inputs(params, seed).rec["pre"]) / params.n_neurons


def summary(table: list[dict]) -> list[dict]:
    """Per ``connectivity_scale``: mean in-degree and every model's mean, min and max."""
    out = []
    for scale in sorted({float(r["connectivity_scale"]) for r in table}):
        rows = [r for r in table if float(r["connectivity_scale"]) == scale]
        row: dict = {"connectivity_scale": scale, "seeds": len(rows)}
        row["in_degree"] = float(np.mean([float(r["in_degree"]) for r in rows]))
        for key in (*MODELS, "rate_exc_hz"):
            values = np.array([float(r[key]) for r in rows])
            row[key] = (float(values.mean()), float(values.min()), float(values.max()))
        out.append(row)
    return out


def plot(table: list[dict], preset: str) -> None:
    """Every model's memory capacity against the mean in-degree, in FIGURE.

    A marker is the mean over the seeds, its bar the range from the lowest to the
    highest seed.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    rows = summary(table)
    seeds = sorted({int(r["seed"]) for r in table})
    fig = Figure(figsize=(6.5, 5.0), layout="constrained")
    ax = fig.subplots()
    degrees = np.array([r["in_degree"] for r in rows])
    for key, label in MODELS.items():
        mean, low, high = (np.array([r[key][i] for r in rows]) for i in range(3))
        ax.errorbar(
            degrees, mean, yerr=[mean - low, high - mean], fmt="o-", capsize=3, label=label
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xticks([1, 2, 5, 10, 20])
    ax.set_yticks([0.5, 1, 2, 5, 10, 20])
    ax.set_xlabel("mean recurrent in-degree of the column (synapses per neuron)")
    ax.set_ylabel("memory capacity (sum of r² over delays 1..2N)")
    span = f"seeds {seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"
    ax.set_title(f"reservoir, {preset} preset, {span}: memory against in-degree", fontsize=10)
    fig.legend(
        loc="outside lower center",
        ncols=2,
        fontsize=8,
        frameon=False,
        title="markers: mean over the seeds; bars: lowest to highest seed",
        title_fontsize=8,
    )
    fig.savefig(FIGURE, dpi=120)
    print("wrote", FIGURE)


def read_sweep(directory: Path, quick: bool) -> list[dict]:
    """The rows of a finished ``spikingml sweep`` in ``directory`` with their in-degree."""
    with open(directory / "runs.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("status", "ok") in ("ok", "")]
    table = []
    for r in rows:
        scale, seed = float(r["connectivity_scale"]), int(r["seed"])
        row = {
            "connectivity_scale": scale,
            "seed": seed,
            "in_degree": in_degree(scale, seed, quick),
        }
        row.update({k: float(r[k]) for k in (*MODELS, "rate_exc_hz", "wall_seconds")})
        table.append(row)
    table.sort(key=lambda r: (r["connectivity_scale"], r["seed"]))
    return table


def write_tables(table: list[dict], preset: str, command: str, seeds: str) -> None:
    """``reservoir_indegree.csv`` (one row per run) and ``.md`` (summary, then the runs)."""
    RESULTS.mkdir(exist_ok=True)
    columns = list(table[0])
    with open(RESULTS / "reservoir_indegree.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)
    keys = (*MODELS, "rate_exc_hz")
    flag = " --default" if preset == "default" else ""
    lines = [
        f"# reservoir: memory capacity against in-degree ({preset} preset)",
        "",
        f"`{command}`; figure: `docs/lessons/reservoir_indegree.png`. Reproduce: "
        f"`python benchmarks/bench_reservoir_indegree.py{flag} --seeds {seeds}`. "
        "`wall_seconds`: the run's wall time inside the sweep (one "
        "worker, on a 2-core machine shared with other jobs: not a timing benchmark).",
        "",
        "Mean over the seeds (lowest-highest seed):",
        "",
        "| connectivity_scale | seeds | in_degree | " + " | ".join(keys) + " |",
        "|" + "---|" * (3 + len(keys)),
    ]
    for row in summary(table):
        cells = [f"{row['connectivity_scale']:.3g}", str(row["seeds"]), f"{row['in_degree']:.3g}"]
        cells += [f"{m:.3g} ({lo:.3g}-{hi:.3g})" for m, lo, hi in (row[k] for k in keys)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Every run:", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        lines.append("| " + " | ".join(f"{float(row[c]):.3g}" for c in columns) + " |")
    (RESULTS / "reservoir_indegree.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.25,0.5,1,2,4")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--default", action="store_true", help="default preset (not quick)")
    parser.add_argument("--plot-only", action="store_true", help="redraw from the .csv")
    parser.add_argument(
        "--from-sweep", type=Path, help="tabulate a finished sweep in this directory"
    )
    args = parser.parse_args(argv)
    quick = not args.default
    preset = "quick" if quick else "default"
    if args.plot_only:
        with open(RESULTS / "reservoir_indegree.csv", newline="") as f:
            plot(list(csv.DictReader(f)), preset)
        return 0
    command = (
        f"spikingml sweep reservoir --grid connectivity_scale={args.scales} --seeds "
        f"{args.seeds}{' --quick' if quick else ''}"
    )
    if args.from_sweep is not None:
        table = read_sweep(args.from_sweep, quick)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "spikingml", "sweep", "reservoir", "--grid"]
            cmd += [f"connectivity_scale={args.scales}", "--seeds", args.seeds, "--out", tmp]
            cmd += ["--workers", args.workers, "--no-progress", "--force"]
            cmd += ["--quick"] if quick else []
            subprocess.run(cmd, check=True)
            table = read_sweep(Path(tmp), quick)
    write_tables(table, preset, command, args.seeds)
    plot(table, preset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
