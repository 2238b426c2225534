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

    python benchmarks/bench_reservoir_indegree.py [--scales 0.25,0.5,1,2,4] [--seeds 0]
                                                  [--workers 1] [--default]
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


def plot(table: list[dict], preset: str) -> None:
    """Every model's memory capacity against the mean in-degree, in FIGURE."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    degrees = np.array([float(r["in_degree"]) for r in table])
    for key, label in MODELS.items():
        values = np.array([float(r[key]) for r in table])
        ax.plot(degrees, values, "o-", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ax.set_xticks([1, 2, 5, 10, 20])
    ax.set_yticks([0.5, 1, 2, 5, 10])
    ax.set_xlabel("mean recurrent in-degree of the column")
    ax.set_ylabel("memory capacity (delays 1..2N)")
    ax.set_title(f"reservoir, {preset} preset: memory against in-degree")
    ax.legend(fontsize=8, frameon=False)
    fig.savefig(FIGURE, dpi=120)
    print("wrote", FIGURE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.25,0.5,1,2,4")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--default", action="store_true", help="default preset (not quick)")
    parser.add_argument("--plot-only", action="store_true", help="redraw from the .csv")
    args = parser.parse_args(argv)
    quick = not args.default
    if args.plot_only:
        with open(RESULTS / "reservoir_indegree.csv", newline="") as f:
            plot(list(csv.DictReader(f)), "quick" if quick else "default")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "spikingml", "sweep", "reservoir", "--grid"]
        cmd += [f"connectivity_scale={args.scales}", "--seeds", args.seeds, "--out", tmp]
        cmd += ["--workers", args.workers, "--no-progress", "--force"]
        cmd += ["--quick"] if quick else []
        subprocess.run(cmd, check=True)
        with open(Path(tmp) / "runs.csv", newline="") as f:
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
    RESULTS.mkdir(exist_ok=True)
    columns = list(table[0])
    with open(RESULTS / "reservoir_indegree.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)
    preset = "quick" if quick else "default"
    lines = [
        f"# reservoir: memory capacity against in-degree ({preset} preset)",
        "",
        f"`spikingml sweep reservoir --grid connectivity_scale={args.scales} --seeds "
        f"{args.seeds}`{' --quick' if quick else ''}; figure: "
        "`docs/lessons/reservoir_indegree.png`.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in table:
        lines.append("| " + " | ".join(f"{row[c]:.3g}" for c in columns) + " |")
    (RESULTS / "reservoir_indegree.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    plot(table, preset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
