"""Side by side with NEST: the same plastic LIF network, its learning and run times.

The network of :mod:`spikingml.peers.nest_network` (1000 ``iaf_psc_exp`` neurons, 800
excitatory with dopamine-modulated STDP, 200 inhibitory static, 100 outgoing synapses
each, Poisson drive, a 1 Hz dopamine source; 60 s at dt = 0.1 ms, one thread) runs for
several seeds in

- ``nest-di1000``: NEST, ``stdp_dopamine_synapse`` + ``volume_transmitter`` with
  ``deliver_interval`` 1000 (every plastic synapse advanced every 1.5 s);
- ``nest``: the same with NEST's default ``deliver_interval`` 1 (every ``min_delay`` =
  1.5 ms: ten times slower; the dynamics are the same up to rounding, which this
  chaotic network amplifies). Not run unless asked for (``--kinds``);
- ``runtime``: spikingml/Brian2, Cython (warm cache; ``compile`` is the first step:
  code generation and loading compiled code);
- ``cpp_standalone``: spikingml/Brian2, one C++ program generated, compiled from
  scratch in a fresh directory (``compile``) and run (``run``), every run.

A seed fixes the connectivity and the dopamine spike train, the same in both
simulators; the Poisson drive is each simulator's own. Each run is a subprocess of its
own, so its CPU seconds are its own.

Learning: the mean change of the plastic weights (``dw = w_mean_end - w_mean_start``)
of each kind, mean and standard deviation over the seeds; spikingml's mean must be
within ``--dw-tol`` (5%) of NEST's. Speed: NEST's ``total`` (build, simulate, read back)
over spikingml's ``total`` (build, generate code, compile, run, read back): one fresh run
including compilation, per seed, in wall and in CPU seconds; cpp_standalone must reach 2
in both. Firing rates of each Brian2 run must agree with NEST's of the same seed within
``--rate-tol`` (5%).

Usage: ``python benchmarks/bench_nest_network.py`` (``make bench-nest-network``; needs
NEST; about 7 minutes of CPU for 5 seeds of the three default kinds). ``--seeds`` picks
the seeds, ``--kinds`` a subset of kinds; ``--keep`` keeps the rows already in the CSV
(of other kinds) and ``--merge`` adds those of other CSVs, so that the runs can be made
in parts (``--kinds ""`` only rewrites the tables). Writes
``benchmarks/results/nest_network.md`` / ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, seeds  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("nest", "nest-di1000", "runtime", "cpp_standalone")
DEFAULT_KINDS = "nest-di1000,runtime,cpp_standalone"
#: The NEST configuration the learning and the run times are compared with.
REFERENCE = "nest-di1000"
#: Lowest ratio NEST total / spikingml total (one fresh run, compilation included).
SPEED_TARGETS = {"runtime": 1.0, "cpp_standalone": 2.0}
COLUMNS = [
    "kind",
    "seed",
    "rate_E",
    "rate_I",
    "w_mean_start",
    "w_mean_end",
    "dw",
    "n_spikes",
    "n_dopamine",
    "build_wall",
    "build_cpu",
    "compile_wall",
    "compile_cpu",
    "make_wall",
    "run_wall",
    "run_cpu",
    "network_run",
    "total_wall",
    "total_cpu",
    "process_wall",
    "process_cpu",
    "load_before",
    "load_after",
]


def worker(kind: str, seed: int, out: str, duration: float | None) -> None:
    """Run one simulation in this process and write its numbers as JSON."""
    from brian2 import second

    from spikingml.peers.nest_network import NetworkParams, simulate_brian2, simulate_nest

    params = NetworkParams()
    if duration is not None:
        params = dataclasses.replace(params, duration=duration * second)
    if kind.startswith("profile-"):
        run = simulate_brian2(params, seed=seed, device=kind[len("profile-") :], profile=True)
    elif kind == "nest":
        run = simulate_nest(params, seed=seed)
    elif kind == "nest-di1000":
        run = simulate_nest(params, seed=seed, deliver_interval=1000)
    else:
        run = simulate_brian2(params, seed=seed, device=kind)
    row = {k: v for k, v in run._asdict().items() if k != "seconds"}
    row["dw"] = run.w_mean_end - run.w_mean_start
    row.update(run.seconds)
    # CPU seconds of the whole call: Python, the compiler (both cores) and the program
    row["total_cpu"] = sum(
        run.seconds.get(k, 0.0) for k in ("build_cpu", "compile_cpu", "run_cpu")
    )
    Path(out).write_text(json.dumps(row))


def run_kind(kind: str, seed: int, duration: float | None) -> dict:
    """Run ``kind`` in a subprocess; its numbers plus the process's own wall and CPU."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, __file__, "--worker", kind, "--seed", str(seed)]
        cmd += ["--out", str(out)]
        if duration is not None:
            cmd += ["--duration", str(duration)]
        load_before = os.getloadavg()[0]
        u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t0
        u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        row = json.loads(out.read_text())
    row["process_wall"] = wall
    row["process_cpu"] = (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)
    row["load_before"] = load_before
    row["load_after"] = os.getloadavg()[0]
    return row


def read_rows(path: Path) -> list[dict]:
    """Rows of a CSV written by this script, numbers as floats (``seed`` an int)."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for k, v in list(row.items()):
            if k == "seed":
                row[k] = int(v)
            elif k != "kind" and isinstance(v, str) and v:
                row[k] = float(v)
    return rows


def _values(rows: list[dict], kind: str, key: str) -> list[float]:
    return [float(r[key]) for r in rows if r["kind"] == kind and r.get(key) not in ("", None)]


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, sd


def learning_lines(rows: list[dict], dw_tol: float) -> tuple[list[str], list[str]]:
    """The weight-change table (per seed and per kind) and the missed learning target."""
    missed: list[str] = []
    kinds = [k for k in KINDS if _values(rows, k, "dw")]
    seeds_ = sorted({int(r["seed"]) for r in rows})
    lines = [
        "## Learning: mean weight change per seed",
        "",
        "`dw = w_mean_end - w_mean_start` (pA; start 40 pA), and the number of dopamine "
        "spikes of the seed (the same train in both simulators).",
        "",
        "| seed | dopamine spikes | " + " | ".join(kinds) + " |",
        "|---|---|" + "---|" * len(kinds),
    ]
    for seed in seeds_:
        by_kind = {r["kind"]: r for r in rows if int(r["seed"]) == seed}
        n_dopa = next((int(r["n_dopamine"]) for r in by_kind.values()), "")
        cells = [f"{float(by_kind[k]['dw']):+.4f}" if k in by_kind else "" for k in kinds]
        lines.append(f"| {seed} | {n_dopa} | " + " | ".join(cells) + " |")
    lines += ["", "| kind | seeds | mean dw | SD | SEM | / NEST's mean | target | met |"]
    lines += ["|---|---|---|---|---|---|---|---|"]
    ref = _values(rows, REFERENCE, "dw")
    ref_mean = mean_sd(ref)[0] if ref else None
    for kind in kinds:
        values = _values(rows, kind, "dw")
        mean, sd = mean_sd(values)
        ratio = mean / ref_mean if ref_mean else float("nan")
        brian = kind in SPEED_TARGETS
        met = ""
        if brian and ref_mean is not None:
            ok = abs(ratio - 1) <= dw_tol and len(values) >= 5 and len(ref) >= 5
            met = "yes" if ok else "no"
            if not ok:
                missed.append(f"{kind}: mean weight change {ratio:.3f} x NEST's")
        lines.append(
            f"| {kind} | {len(values)} | {mean:+.4f} | {sd:.4f} | "
            f"{sd / math.sqrt(len(values)):.4f} | {ratio:.3f} | "
            f"{f'within {dw_tol:.0%}, >= 5 seeds' if brian else ''} | {met} |"
        )
    # paired by seed: the same connectivity and dopamine, each simulator's own drive
    for kind in (k for k in kinds if k in SPEED_TARGETS):
        diffs = []
        for seed in seeds_:
            a = [r for r in rows if r["kind"] == kind and int(r["seed"]) == seed]
            b = [r for r in rows if r["kind"] == REFERENCE and int(r["seed"]) == seed]
            if a and b and float(b[0]["dw"]) != 0:
                diffs.append(float(a[0]["dw"]) / float(b[0]["dw"]) - 1)
        if diffs:
            mean, sd = mean_sd(diffs)
            lines.append(
                f"\n{kind} against {REFERENCE}, seed by seed: dw differs by "
                + ", ".join(f"{d:+.1%}" for d in diffs)
                + f" (mean {mean:+.1%}, SD {sd:.1%})."
            )
    return lines, missed


def write_tables(
    rows: list[dict], rate_tol: float, dw_tol: float, profiles: dict | None = None
) -> list[str]:
    """Write the CSV and the Markdown; return the missed targets (or failed checks)."""
    import brian2

    from spikingml.peers.nest_three_factor import import_nest

    nest = import_nest()
    with open(RESULTS / "nest_network.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    missed: list[str] = []
    lines = [
        "# Side by side with NEST: a plastic LIF network",
        "",
        f"Machine: {machine()}. NEST {nest.__version__}, Brian2 {brian2.__version__}, "
        "one thread each, every run a process of its own.",
        "Network (`spikingml.peers.nest_network`): 800 + 200 `iaf_psc_exp` neurons, 100 "
        "outgoing synapses each, excitatory ones dopamine-modulated STDP "
        "(`stdp_dopamine_synapse` / `DopamineSTDP`), inhibitory static, Poisson drive, "
        "1 Hz Poisson dopamine; 60 s, dt = 0.1 ms. A seed fixes the connectivity and the "
        "dopamine train, the same in both simulators; the drive is each simulator's own.",
        "",
        "Seconds: `build` creates the network (Python), `compile` is code generation and "
        "compilation (runtime: the first step, loading the cached Cython modules; "
        "cpp_standalone: the whole program from scratch; `make`: the compiler alone), "
        "`run` the simulation (cpp_standalone: the program's process; `network_run`: its "
        "simulation loop), `total` the whole simulate call (build, compile, run, results "
        "read back: one fresh run), `process` the whole subprocess (Python's start and "
        "imports too). Load: the machine's load average (1 min) before and after the run "
        "(2 cores; above 2 the run shared them, and its wall seconds grew).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = []
        for c in COLUMNS:
            v = row.get(c, "")
            if c in ("n_spikes", "n_dopamine", "seed") and v != "":
                cells.append(str(int(v)))
            elif c == "dw" and v != "":
                cells.append(f"{float(v):+.4f}")
            else:
                cells.append(f"{float(v):.3f}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    learning, learning_missed = learning_lines(rows, dw_tol)
    lines += learning
    missed += learning_missed
    # Rates: each Brian2 run against NEST's run of the same seed (the same connectivity,
    # which sets the rates to a few percent), and the means over the seeds
    lines += ["", "## Firing rates", ""]
    ref_kind = REFERENCE if _values(rows, REFERENCE, "rate_E") else "nest"
    rates_ok = True
    ref_e, ref_i = _values(rows, ref_kind, "rate_E"), _values(rows, ref_kind, "rate_I")
    if ref_e:
        (me, se), (mi, si) = mean_sd(ref_e), mean_sd(ref_i)
        lines.append(
            f"- {ref_kind}: exc {me:.3f} Hz (SD over seeds {se:.3f}), inh {mi:.3f} Hz "
            f"(SD {si:.3f}), {len(ref_e)} seeds"
        )
    for kind in (k for k in KINDS if k in SPEED_TARGETS):
        diffs = []
        for row in (r for r in rows if r["kind"] == kind):
            ref = [r for r in rows if r["kind"] == ref_kind and r["seed"] == row["seed"]]
            if ref:
                diffs.append(
                    (
                        float(row["rate_E"]) / float(ref[0]["rate_E"]) - 1,
                        float(row["rate_I"]) / float(ref[0]["rate_I"]) - 1,
                    )
                )
        if not diffs:
            continue
        worst = max(max(abs(a), abs(b)) for a, b in diffs)
        ok = worst <= rate_tol
        rates_ok &= ok
        be = mean_sd(_values(rows, kind, "rate_E"))[0]
        bi = mean_sd(_values(rows, kind, "rate_I"))[0]
        lines.append(
            f"- {kind}: exc {be:.3f} Hz, inh {bi:.3f} Hz; seed by seed against {ref_kind} "
            f"(exc / inh): "
            + ", ".join(f"{a:+.2%} / {b:+.2%}" for a, b in diffs)
            + f"; mean {mean_sd([a for a, _ in diffs])[0]:+.2%} / "
            f"{mean_sd([b for _, b in diffs])[0]:+.2%}; largest {worst:.2%} (tolerance "
            f"{rate_tol:.0%}): {'agree' if ok else 'DIFFER'}"
        )
        if not ok:
            missed.append(f"{kind}: rates differ from NEST's")
    lines += [
        "",
        "## One fresh run, compilation included: NEST total / spikingml total",
        "",
        "| NEST | spikingml | seed | NEST total s | spikingml total s | ratio (total) | "
        "ratio (total CPU) | ratio (process) | load | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for nest_kind in ("nest-di1000", "nest"):
        for row in rows:
            kind = row["kind"]
            if kind not in SPEED_TARGETS:
                continue
            ref = [r for r in rows if r["kind"] == nest_kind and r["seed"] == row["seed"]]
            if not ref or row.get("total_wall") in ("", None):
                continue
            ratio = float(ref[0]["total_wall"]) / float(row["total_wall"])
            ratio_cpu = float(ref[0]["total_cpu"]) / float(row["total_cpu"])
            ratio_process = float(ref[0]["process_wall"]) / float(row["process_wall"])
            loads = [float(r["load_before"]) for r in (ref[0], row)]
            target = SPEED_TARGETS[kind]
            met = rates_ok and min(ratio, ratio_cpu) >= target
            lines.append(
                f"| {nest_kind} | {kind} | {row['seed']} | {float(ref[0]['total_wall']):.1f} "
                f"| {float(row['total_wall']):.1f} | {ratio:.2f} | {ratio_cpu:.2f} | "
                f"{ratio_process:.2f} | {loads[0]:.1f} / {loads[1]:.1f} | >= {target:g} | "
                f"{'yes' if met else 'no'} |"
            )
            if not met and nest_kind == REFERENCE:
                missed.append(f"{kind} seed {row['seed']} vs {nest_kind}: {ratio:.2f}")
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
        "A speed target counts as met when the ratios of the `total` wall seconds and of "
        "the `total` CPU seconds (NEST and spikingml runs of the same seed, one after the "
        "other) both reach it and the rates agree. The CPU ratio holds under load, where "
        "the wall ratio moves with the other processes; it counts both cores of "
        "cpp_standalone's compilation, which the wall ratio of an idle machine does not. "
        "`ratio (process)`: wall seconds of the whole processes, Python's start and "
        "imports included.",
        "",
        "Missed: " + ("none" if not missed else "; ".join(missed)),
        "",
        "Reproduce: `make bench-nest-network` (or `python benchmarks/bench_nest_network.py "
        "--seeds 0-4`).",
        "",
    ]
    (RESULTS / "nest_network.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=DEFAULT_KINDS, help=f"of {', '.join(KINDS)}")
    parser.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,3,7")
    parser.add_argument("--rate-tol", type=float, default=0.05)
    parser.add_argument("--dw-tol", type=float, default=0.05)
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
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.seed, args.out, args.duration)
        return 0
    global RESULTS
    RESULTS = Path(args.results) if args.results else RESULTS
    RESULTS.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
    rows: list[dict] = []
    if args.keep and (RESULTS / "nest_network.csv").exists():
        rows = [r for r in read_rows(RESULTS / "nest_network.csv") if r["kind"] not in kinds]
    for path in filter(None, args.merge.split(",")):
        rows += read_rows(Path(path))
    if "runtime" in kinds:
        print("warm-up: runtime for 0.1 s (fills Brian2's Cython cache)", flush=True)
        run_kind("runtime", 0, 0.1)
    # seed by seed, the kinds one after the other: runs compared with each other are
    # made minutes apart, under similar load
    for seed in seeds(args.seeds) if kinds else []:
        for kind in kinds:
            print(f"{kind} (seed {seed}) ...", flush=True)
            row = run_kind(kind, seed, args.duration)
            row.update(kind=kind, seed=seed)
            rows.append(row)
            print({k: row.get(k) for k in COLUMNS}, flush=True)
    profiles = {}
    if args.profile > 0:
        for device in ("runtime", "cpp_standalone"):
            print(f"profile: {device}, {args.profile} s", flush=True)
            run = run_kind(f"profile-{device}", 0, args.profile)
            profiles[f"{device}, {args.profile:g} s simulated"] = (
                f"{run['profile']}\nrun: {run['run_wall']:.2f} s wall, "
                f"{run['run_cpu']:.2f} s CPU (profiling included)"
            )
    order = {k: i for i, k in enumerate(KINDS)}
    rows.sort(key=lambda r: (order.get(r["kind"], 99), int(r["seed"])))
    missed = write_tables(rows, args.rate_tol, args.dw_tol, profiles)
    if args.notes:
        md = RESULTS / "nest_network.md"
        md.write_text(md.read_text() + "\n" + Path(args.notes).read_text())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
