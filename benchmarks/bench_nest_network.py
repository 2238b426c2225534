"""Side by side with NEST: the same plastic LIF network, firing rates and run times.

The network of :mod:`spikingml.peers.nest_network` (1000 ``iaf_psc_exp`` neurons, 800
excitatory with dopamine-modulated STDP, 200 inhibitory static, 100 outgoing synapses
each, Poisson drive, a 1 Hz dopamine source; 60 s at dt = 0.1 ms, one thread) runs in

- ``nest``: NEST, ``stdp_dopamine_synapse`` + ``volume_transmitter`` with NEST's default
  ``deliver_interval`` 1 (every plastic synapse advanced every ``min_delay`` = 1.5 ms);
- ``nest-di1000``: the same with ``deliver_interval`` 1000 (every 1.5 s), far fewer
  synapse updates. The dynamics are the same (the interval only matters when a weight
  meets a bound) up to rounding, which this chaotic network amplifies: other spikes,
  the same rates;
- ``runtime``: spikingml/Brian2, Cython (warm cache; ``compile`` is the first step:
  code generation and loading compiled code);
- ``cpp_standalone``: spikingml/Brian2, one C++ program compiled from scratch
  (``compile``) and run (``run``: the program, start to end).

Each run is a subprocess of its own, so its CPU seconds are its own (the machine may
be shared: CPU seconds are the steadier measure; wall seconds are reported too). The
firing rates of NEST and Brian2 must agree (``--rate-tol``, relative) before times are
compared. Ratios are NEST's run time over spikingml's: above 1, spikingml is faster.

Usage: ``python benchmarks/bench_nest_network.py`` (``make bench-nest-network``; needs
NEST, about 25 minutes of CPU, most of it NEST with its default ``deliver_interval``).
``--kinds`` runs a subset; ``--keep`` keeps the rows already in the CSV and ``--merge``
adds those of other CSVs, so that the runs can be made in parts (``--kinds ""`` only
rewrites the tables). Writes ``benchmarks/results/nest_network.md`` / ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("nest", "nest-di1000", "runtime", "cpp_standalone")
COLUMNS = [
    "kind",
    "repeat",
    "rate_E",
    "rate_I",
    "w_mean_start",
    "w_mean_end",
    "n_spikes",
    "build_wall",
    "compile_wall",
    "compile_cpu",
    "run_wall",
    "run_cpu",
    "network_run",
    "process_wall",
    "process_cpu",
    "load",
]


def worker(kind: str, out: str, duration: float | None) -> None:
    """Run one simulation in this process and write its numbers as JSON."""
    from brian2 import second

    from spikingml.peers.nest_network import NetworkParams, simulate_brian2, simulate_nest

    params = NetworkParams()
    if duration is not None:
        params = dataclasses.replace(params, duration=duration * second)
    if kind.startswith("profile-"):
        run = simulate_brian2(params, seed=0, device=kind[len("profile-") :], profile=True)
    elif kind == "nest":
        run = simulate_nest(params, seed=0)
    elif kind == "nest-di1000":
        run = simulate_nest(params, seed=0, deliver_interval=1000)
    else:
        run = simulate_brian2(params, seed=0, device=kind)
    row = {k: v for k, v in run._asdict().items() if k != "seconds"}
    row.update(run.seconds)
    Path(out).write_text(json.dumps(row))


def run_kind(kind: str, duration: float | None) -> dict:
    """Run ``kind`` in a subprocess; its numbers plus the process's own wall and CPU."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, __file__, "--worker", kind, "--out", str(out)]
        if duration is not None:
            cmd += ["--duration", str(duration)]
        u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t0
        u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        row = json.loads(out.read_text())
    row["process_wall"] = wall
    row["process_cpu"] = (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)
    row["load"] = os.getloadavg()[0]
    return row


def _mean(rows: list[dict], kind: str, key: str) -> float | None:
    values = [float(r[key]) for r in rows if r["kind"] == kind and r.get(key) not in ("", None)]
    return sum(values) / len(values) if values else None


def read_rows(path: Path) -> list[dict]:
    """Rows of a CSV written by this script, numbers as floats."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for k, v in list(row.items()):
            if k not in ("kind", "repeat") and isinstance(v, str) and v:
                row[k] = float(v)
    return rows


def write_tables(rows: list[dict], rate_tol: float, profiles: dict | None = None) -> list[str]:
    """Write the CSV and the Markdown; return the missed targets (or failed checks)."""
    import brian2

    from spikingml.peers.nest_three_factor import import_nest

    nest = import_nest()
    with open(RESULTS / "nest_network.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    missed = []
    lines = [
        "# Side by side with NEST: a plastic LIF network",
        "",
        f"Machine: {machine()}. NEST {nest.__version__}, Brian2 {brian2.__version__}, "
        "one thread each, every run a process of its own.",
        "Network (`spikingml.peers.nest_network`): 800 + 200 `iaf_psc_exp` neurons, 100 "
        "outgoing synapses each (the same random targets in both), excitatory ones "
        "dopamine-modulated STDP (`stdp_dopamine_synapse` / `DopamineSTDP`), inhibitory "
        "static, Poisson drive, 1 Hz Poisson dopamine; 60 s, dt = 0.1 ms.",
        "",
        "Seconds: `build` creates the network (Python), `compile` is code generation and "
        "compilation (runtime: the first step, loading the cached Cython modules; "
        "cpp_standalone: the whole program from scratch), `run` is the simulation "
        "(cpp_standalone: the program's process; `network_run`: its simulation loop, as "
        "the program reports it), `process` the whole subprocess. Load: the machine's "
        "load average (1 min) after the run; the machine is shared, so CPU seconds are "
        "the steadier measure.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = []
        for c in COLUMNS:
            v = row.get(c, "")
            if c == "n_spikes" and v != "":
                cells.append(str(int(v)))
            else:
                cells.append(f"{float(v):.3f}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    # Rates first: NEST's mean over its runs against each Brian2 run.
    lines += ["", "## Firing rates", ""]
    ref_e, ref_i = _mean(rows, "nest", "rate_E"), _mean(rows, "nest", "rate_I")
    if ref_e is None:
        ref_e, ref_i = _mean(rows, "nest-di1000", "rate_E"), _mean(rows, "nest-di1000", "rate_I")
    for row in rows:
        if row["kind"].startswith("nest"):
            lines.append(
                f"- {row['kind']} (repeat {row['repeat']}): exc {float(row['rate_E']):.3f} Hz, "
                f"inh {float(row['rate_I']):.3f} Hz, mean plastic weight "
                f"{float(row['w_mean_start']):.3f} -> {float(row['w_mean_end']):.4f} pA"
            )
    rates_ok = True
    for row in rows:
        if row["kind"] not in ("runtime", "cpp_standalone") or ref_e is None:
            continue
        de = abs(float(row["rate_E"]) / ref_e - 1)
        di = abs(float(row["rate_I"]) / ref_i - 1)
        ok = de <= rate_tol and di <= rate_tol
        rates_ok &= ok
        lines.append(
            f"- {row['kind']} (repeat {row['repeat']}): exc {float(row['rate_E']):.3f} Hz, "
            f"inh {float(row['rate_I']):.3f} Hz; NEST {ref_e:.3f} / {ref_i:.3f} Hz; "
            f"relative difference {de:.1%} / {di:.1%} (tolerance {rate_tol:.0%}): "
            f"{'agree' if ok else 'DIFFER'}; mean plastic weight "
            f"{float(row['w_mean_start']):.3f} -> {float(row['w_mean_end']):.4f} pA"
        )
        if not ok:
            missed.append(f"{row['kind']} repeat {row['repeat']}: rates differ from NEST")
    lines += ["", "## Ratios NEST run time / spikingml run time (above 1: spikingml faster)", ""]
    lines += ["| NEST | spikingml | repeat | wall ratio | CPU ratio | target | met |"]
    lines += ["|---|---|---|---|---|---|---|"]
    targets = {"runtime": 1.0, "cpp_standalone": 2.0}
    for nest_kind in ("nest", "nest-di1000"):
        nest_wall = _mean(rows, nest_kind, "run_wall")
        nest_cpu = _mean(rows, nest_kind, "run_cpu")
        if nest_wall is None:
            continue
        for row in rows:
            kind = row["kind"]
            if kind not in targets:
                continue
            wall_ratio = nest_wall / float(row["run_wall"])
            cpu_ratio = nest_cpu / float(row["run_cpu"])
            met = rates_ok and min(wall_ratio, cpu_ratio) >= targets[kind]
            lines.append(
                f"| {nest_kind} | {kind} | {row['repeat']} | {wall_ratio:.2f} | "
                f"{cpu_ratio:.2f} | >= {targets[kind]:g} | {'yes' if met else 'no'} |"
            )
            if not met:
                missed.append(f"{kind} repeat {row['repeat']} vs {nest_kind}")
    for kind, text in (profiles or {}).items():
        lines += [
            "",
            f"## Where spikingml's time goes: Brian2 profile, {kind} (shorter run)",
            "",
            "```",
            text.strip(),
            "```",
        ]
    lines += [
        "",
        "NEST's time is the mean of its runs; a target counts as met when both the wall "
        "and the CPU ratio reach it and the rates agree.",
        "",
        "Missed: " + ("none" if not missed else "; ".join(missed)),
        "",
        "Reproduce: `make bench-nest-network` (or `python benchmarks/bench_nest_network.py`).",
        "",
    ]
    (RESULTS / "nest_network.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rate-tol", type=float, default=0.10)
    parser.add_argument("--duration", type=float, default=None, help="seconds (default 60)")
    parser.add_argument("--keep", action="store_true", help="keep the rows already in the CSV")
    parser.add_argument(
        "--merge",
        default="",
        help="comma-separated CSVs of earlier runs (parts of the benchmark) to table with",
    )
    parser.add_argument("--results", default=None, help="directory of the tables")
    parser.add_argument("--notes", default="", help="a Markdown file appended to the table")
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        help="also profile runtime and cpp_standalone for this many simulated seconds",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.out, args.duration)
        return 0
    global RESULTS
    RESULTS = Path(args.results) if args.results else RESULTS
    RESULTS.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in args.kinds.split(",") if k]
    rows: list[dict] = []
    if args.keep and (RESULTS / "nest_network.csv").exists():
        rows = [r for r in read_rows(RESULTS / "nest_network.csv") if r["kind"] not in kinds]
    for path in filter(None, args.merge.split(",")):
        rows += read_rows(Path(path))
    if "runtime" in kinds:
        print("warm-up: runtime for 0.1 s (fills Brian2's Cython cache)", flush=True)
        run_kind("runtime", 0.1)
    for repeat in range(1, args.repeats + 1):
        for kind in kinds:
            print(f"{kind} (repeat {repeat}) ...", flush=True)
            row = run_kind(kind, args.duration)
            row.update(kind=kind, repeat=repeat)
            rows.append(row)
            print({k: row.get(k) for k in COLUMNS}, flush=True)
    profiles = {}
    if args.profile > 0:
        for device in ("runtime", "cpp_standalone"):
            print(f"profile: {device}, {args.profile} s", flush=True)
            run = run_kind(f"profile-{device}", args.profile)
            profiles[f"{device}, {args.profile:g} s simulated"] = (
                f"{run['profile']}\nrun: {run['run_wall']:.2f} s wall, "
                f"{run['run_cpu']:.2f} s CPU (profiling included)"
            )
    order = {k: i for i, k in enumerate(KINDS)}
    rows.sort(key=lambda r: (order.get(r["kind"], 99), int(r["repeat"])))
    missed = write_tables(rows, args.rate_tol, profiles)
    if args.notes:
        md = RESULTS / "nest_network.md"
        md.write_text(md.read_text() + "\n" + Path(args.notes).read_text())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
