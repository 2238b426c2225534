"""Parallel efficiency of ``spikingml sweep``: the same 20-run sweep on 1 and on N workers.

Efficiency = T_1 / (N * T_N), where T_k is the wall time of the whole sweep command with k
worker processes (cluster start, every run, table and summary figure included). Target
(issue 6): >= 0.8 with 2 workers on 2 cores for a 20-run sweep. Before timing, one run
warms the Brian2 cache, so neither timing pays for compilation (each worker starts from
the shared cache). The machine should be otherwise idle: a second job on the same cores
takes them from the workers and lowers the efficiency.

The speed of the shared machines drifts by 20-30% over minutes, which moves a single
T_1 / T_N pair by as much. So each circuit is measured ``--repeats`` times, the order of
the two commands alternating (1 then N, N then 1, ...) so that a drift does not favour
one of them; the verdict uses the median efficiency, and every pair is listed.

Where the time goes, from each sweep's own table (``wall_seconds`` of every run, measured
inside the worker):

* *task*: the mean wall time of one run inside a worker;
* *slowdown*: the task time with N workers over that with 1 (both cores busy at once);
* *overhead*: T_k minus the runs' total over k, i.e. what does not run in parallel:
  starting Python, the cluster and its workers, the summary figure and shutting down.

Usage::

    python benchmarks/bench_sweep.py [--circuits bayesian-neuron wta-em] [--runs 20]
                                     [--workers 2] [--repeats 3]

Writes ``benchmarks/results/sweep.md`` and ``sweep.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, machine  # noqa: E402

TARGET = 0.8


def timed_sweep(circuit: str, seeds: str, workers: int, out: Path) -> tuple[float, list[float]]:
    """Wall seconds of one ``spikingml sweep`` command (quick preset) and of its runs."""
    cmd = [sys.executable, "-m", "spikingml", "sweep", circuit, "--quick", "--seeds", seeds]
    cmd += ["--workers", str(workers), "--out", str(out), "--force", "--no-progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    with (out / "runs.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    failed = [r["error"] for r in rows if r["status"] != "ok"]
    if failed:
        raise RuntimeError(f"{circuit}: {len(failed)} runs failed, e.g. {failed[0]}")
    return wall, [float(r["wall_seconds"]) for r in rows]


def measure(circuit: str, runs: int, workers: int, repeats: int, tmp: Path) -> list[dict]:
    """``repeats`` pairs of timings (1 and ``workers`` workers), in alternating order."""
    seeds = f"0-{runs - 1}"
    # warm the shared Brian2 cache (and the workers' private ones)
    timed_sweep(circuit, "0", 1, tmp / "warm")
    pairs = []
    for r in range(repeats):
        order = (1, workers) if r % 2 == 0 else (workers, 1)
        timed = {}
        for k in order:
            timed[k] = timed_sweep(circuit, seeds, k, tmp / f"sweep-{k}")
            print(f"  {circuit} repeat {r + 1}: {k} worker(s) {timed[k][0]:.1f} s", flush=True)
        (t1, tasks1), (tn, tasksn) = timed[1], timed[workers]
        pairs.append(
            {
                "circuit": circuit,
                "repeat": r + 1,
                "order": "1 then N" if order[0] == 1 else "N then 1",
                "t1": t1,
                "tn": tn,
                "efficiency": t1 / (workers * tn),
                "task1": statistics.fmean(tasks1),
                "taskn": statistics.fmean(tasksn),
                "overhead1": t1 - sum(tasks1),
                "overheadn": tn - sum(tasksn) / workers,
            }
        )
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", nargs="+", default=["bayesian-neuron", "wta-em"])
    parser.add_argument("--runs", type=int, default=20, help="runs (seeds) per sweep")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="pairs of timings per circuit")
    args = parser.parse_args()
    if args.runs < 1 or args.workers < 2 or args.repeats < 1:
        parser.error("--runs and --repeats must be >= 1 and --workers >= 2")
    pairs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for circuit in args.circuits:
            pairs += measure(circuit, args.runs, args.workers, args.repeats, Path(tmp) / circuit)
    load = os.getloadavg()[0]
    n = args.workers
    RESULTS.mkdir(exist_ok=True)
    fields = ["circuit", "repeat", "order", "t1", "tn", "efficiency", "task1", "taskn"]
    fields += ["overhead1", "overheadn"]
    with (RESULTS / "sweep.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*fields[:3], "workers", *fields[3:]])
        for p in pairs:
            cells = [f"{p[f]:.3f}" if isinstance(p[f], float) else p[f] for f in fields]
            writer.writerow([*cells[:3], n, *cells[3:]])
    command = (
        f"python benchmarks/bench_sweep.py --circuits {' '.join(args.circuits)} "
        f"--runs {args.runs} --workers {n} --repeats {args.repeats}"
    )
    lines = [
        "# Parallel efficiency of `spikingml sweep`",
        "",
        f"Machine: {machine()}; load average after the runs: {load:.2f}.",
        f"Command: `{command}`",
        "",
        f"Each circuit's quick preset, {args.runs} runs (seeds) per sweep. T_k: wall time of "
        f"the whole command with k workers. Efficiency: T_1 / ({n} T_{n}). The two commands "
        "alternate in order between repeats, because the machine's speed drifts.",
        "",
        f"| circuit | repeat | order | T_1 (s) | T_{n} (s) | efficiency | task, 1 worker (s) "
        f"| task, {n} workers (s) | overhead T_1 (s) | overhead T_{n} (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {p['circuit']} | {p['repeat']} | {p['order']} | {p['t1']:.1f} | {p['tn']:.1f} | "
        f"{p['efficiency']:.3f} | {p['task1']:.2f} | {p['taskn']:.2f} | {p['overhead1']:.1f} | "
        f"{p['overheadn']:.1f} |"
        for p in pairs
    ]
    lines += [
        "",
        f"| circuit | median efficiency | lowest | highest | task slowdown with {n} workers "
        f"| median overhead T_1 / T_{n} (s) | verdict (median >= {TARGET}) |",
        "|---|---|---|---|---|---|---|",
    ]
    for circuit in args.circuits:
        mine = [p for p in pairs if p["circuit"] == circuit]
        eff = [p["efficiency"] for p in mine]
        slowdown = statistics.median(p["taskn"] / p["task1"] for p in mine)
        verdict = "met" if statistics.median(eff) >= TARGET else "NOT met"
        lines.append(
            f"| {circuit} | {statistics.median(eff):.3f} | {min(eff):.3f} | {max(eff):.3f} | "
            f"{slowdown:.3f} | {statistics.median(p['overhead1'] for p in mine):.1f} / "
            f"{statistics.median(p['overheadn'] for p in mine):.1f} | **{verdict}** |"
        )
    lines += [
        "",
        f"Target (issue 6): efficiency >= {TARGET} with {n} workers on {n} cores for a "
        f"{args.runs}-run sweep.",
        "",
        "Earlier measurements, where a sweep's time goes and what changed: "
        "`sweep_notes.md` (written by hand).",
        "",
    ]
    (RESULTS / "sweep.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
