"""Parallel efficiency of ``spikingml sweep``: the same 20-run sweep on 1 and on N workers.

Efficiency = T_1 / (N * T_N), where T_k is the wall time of the whole sweep command with k
worker processes (cluster start, every run, table and summary figure included). Target
(issue 6): >= 0.8 with 2 workers on 2 cores for a 20-run sweep. Before timing, one run
warms the Brian2 cache, so neither timing pays for compilation (each worker starts from
the shared cache). The machine should be otherwise idle: a second job on the same cores
takes them from the workers and lowers the efficiency.

Usage::

    python benchmarks/bench_sweep.py [--circuit bayesian-neuron] [--runs 20] [--workers 2]

Writes ``benchmarks/results/sweep.md`` and ``sweep.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, machine  # noqa: E402

TARGET = 0.8


def timed_sweep(circuit: str, seeds: str, workers: int, out: Path) -> float:
    """Wall seconds of one ``spikingml sweep`` command (quick preset)."""
    cmd = [sys.executable, "-m", "spikingml", "sweep", circuit, "--quick", "--seeds", seeds]
    cmd += ["--workers", str(workers), "--out", str(out), "--force", "--no-progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuit", default="bayesian-neuron")
    parser.add_argument("--runs", type=int, default=20, help="runs (seeds) per sweep")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = f"0-{args.runs - 1}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # warm the shared Brian2 cache (and the workers' private ones)
        timed_sweep(args.circuit, "0", 1, tmp / "warm")
        t1 = timed_sweep(args.circuit, seeds, 1, tmp / "one")
        tn = timed_sweep(args.circuit, seeds, args.workers, tmp / "many")
    efficiency = t1 / (args.workers * tn)
    load = os.getloadavg()[0]
    verdict = "met" if efficiency >= TARGET else "NOT met"
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "sweep.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["circuit", "runs", "workers", "t1_seconds", "tn_seconds", "efficiency"])
        writer.writerow(
            [args.circuit, args.runs, args.workers, f"{t1:.2f}", f"{tn:.2f}", f"{efficiency:.3f}"]
        )
    lines = [
        "# Parallel efficiency of `spikingml sweep`",
        "",
        f"Machine: {machine()}; load average after the runs: {load:.2f}.",
        f"Command: `python benchmarks/bench_sweep.py --circuit {args.circuit} "
        f"--runs {args.runs} --workers {args.workers}`",
        "",
        "| circuit (quick) | runs | T_1 (s) | workers | T_N (s) | efficiency T_1/(N T_N) |",
        "|---|---|---|---|---|---|",
        f"| {args.circuit} | {args.runs} | {t1:.1f} | {args.workers} | {tn:.1f} | "
        f"{efficiency:.3f} |",
        "",
        f"Target: efficiency >= {TARGET} with 2 workers on 2 cores: **{verdict}**.",
        "",
    ]
    (RESULTS / "sweep.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
