"""Benchmark: seeds of td-conditioning under cpp_standalone, compiled once (issue 6).

Target: in a batch of seeds, the 2nd to 10th seed each cost at most 10% of the first run's
wall time, the first run including the compilation. The later seeds' work overlaps (two
programs at a time, one per core; a seed's figures drawn while the previous seed's data
files are written), so the check is on their total over their number: wall time per seed
and CPU time per seed. Two measurements, each in a fresh process with an empty build cache
(``$SPIKINGML_CACHE`` a new temporary directory), so the first seed really builds and
compiles the program:

``simulation``
    ``td_conditioning.simulate_seeds(params, seeds, "cpp_standalone")``: simulations
    only (build, compile, then one ``brian2.device.run(run_args=...)`` per seed and the
    reading of its results into a ``Result``).
``whole``
    ``spikingml run td-conditioning --device cpp_standalone --seeds ... --out DIR``, as a
    user runs it: per seed also the twin, metrics, ``data.nix`` and the figures. The
    first seed's time counts from the start of the process (imports included).

A seed's wall time is the interval between the end of the previous seed and its own end;
its CPU time the user + system CPU of the process and its children (the compiled program,
the compiler, forked writers; those still running too, read from ``/proc``) over the
same interval. Writes
``benchmarks/results/standalone_reuse.md`` and ``.csv``; exits 1 if the target is missed.

Usage::

    python benchmarks/bench_standalone_reuse.py [--seeds 0-9] [--quick]
"""

from __future__ import annotations

import time

T_START = time.perf_counter()  # before the imports: the first run counts them

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from spikingml._checks import parse_seeds  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 0.10


def _live_children_cpu(pid: int) -> float:
    """CPU seconds of the running descendants of ``pid`` (Linux ``/proc``; else 0).

    A child that has ended is in ``RUSAGE_CHILDREN``; one still running (the worker that
    writes every seed's data files, the compiled programs) only here.
    """
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            continue
        for child in children:
            try:
                with open(f"/proc/{child}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                # utime and stime: fields 14 and 15 of stat, 12 and 13 after the name
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                continue
            total += _live_children_cpu(child)
    return total


def _cpu() -> float:
    """CPU seconds of this process and all its children, ended or still running."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ended = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return ended + _live_children_cpu(os.getpid())


def _part(part: str, seeds: list[int], quick: bool, out: Path) -> list[dict]:
    """Run one measurement in this process; return one row per seed."""
    marks = []  # (wall, cpu) at the end of each seed

    def mark() -> None:
        marks.append((time.perf_counter(), _cpu()))

    if part == "simulation":
        from spikingml.circuits import td_conditioning as td

        params = td.Params.quick() if quick else td.Params()
        sim = []
        for result in td.simulate_seeds(params, seeds, "cpp_standalone", progress=False):
            mark()
            sim.append(result.wall_seconds)
    else:
        from spikingml import cli

        seed_written = cli._seed_written
        sim = []

        def timed(name, seed, metrics, out):  # called when a seed's files are in place
            mark()
            sim.append(metrics["simulate_wall_seconds"])
            seed_written(name, seed, metrics, out)

        cli._seed_written = timed
        argv = ["run", "td-conditioning", "--device", "cpp_standalone", "--no-progress"]
        argv += ["--seeds", ",".join(map(str, seeds)), "--out", str(out)]
        if quick:
            argv.append("--quick")
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                status = cli.main(argv)
            finally:
                sys.stdout = stdout
        if status != 0:
            raise SystemExit(f"spikingml run failed with status {status}")
    rows = []
    previous = (T_START, 0.0)
    for seed, (wall, cpu), sim_wall in zip(seeds, marks, sim, strict=True):
        rows.append(
            {
                "part": part,
                "seed": seed,
                "wall_seconds": wall - previous[0],
                "cpu_seconds": cpu - previous[1],
                "simulate_wall_seconds": sim_wall,
            }
        )
        previous = (wall, cpu)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--quick", action="store_true", help="the quick preset")
    parser.add_argument("--part", choices=("simulation", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if args.part:  # a measurement, in the fresh process the parent started
        with tempfile.TemporaryDirectory(prefix="bench-reuse-out-") as out:
            rows = _part(args.part, seeds, args.quick, Path(out) / "runs")
        Path(args.json).write_text(json.dumps(rows))
        return 0

    from _harness import machine

    rows = []
    load_before = os.getloadavg()
    for part in ("simulation", "whole"):
        with tempfile.TemporaryDirectory(prefix="bench-reuse-") as tmp:
            env = dict(os.environ, SPIKINGML_CACHE=tmp, MPLBACKEND="Agg")
            env.pop("SPIKINGML_FAST_COMPILE", None)  # optimised code, as users run it
            report = Path(tmp) / "rows.json"
            cmd = [sys.executable, __file__, "--part", part, "--seeds", args.seeds]
            cmd += ["--json", str(report)] + (["--quick"] if args.quick else [])
            print(f"[bench] {part}: seeds {args.seeds}, empty build cache", file=sys.stderr)
            subprocess.run(cmd, check=True, env=env)
            rows += json.loads(report.read_text())
    load_after = os.getloadavg()

    # After the first seed the work of neighbouring seeds overlaps: two programs run at
    # once (a pair ends together: one long interval, one near zero), and in `whole` a
    # seed's figures are drawn while the previous seed's data files are written. One
    # seed's interval is therefore not its own cost; what each later seed costs is the
    # total of the later seeds over their number, in wall and in CPU time. A part meets
    # the target when both are <= TARGET of the first seed's.
    verdict = {}
    for part in ("simulation", "whole"):
        part_rows = [r for r in rows if r["part"] == part]
        first = part_rows[0]
        for r in part_rows:
            r["wall_ratio"] = r["wall_seconds"] / first["wall_seconds"]
            r["cpu_ratio"] = r["cpu_seconds"] / first["cpu_seconds"]
        later = part_rows[1:]
        n = max(len(later), 1)
        verdict[part] = (
            sum(r["wall_seconds"] for r in later) / n / first["wall_seconds"],
            sum(r["cpu_seconds"] for r in later) / n / first["cpu_seconds"],
            max((r["cpu_ratio"] for r in later), default=0.0),
        )
    met = {part: max(v[:2]) <= TARGET for part, v in verdict.items()}

    RESULTS.mkdir(exist_ok=True)
    stem = "standalone_reuse"
    columns = ["part", "seed", "wall_seconds", "cpu_seconds", "simulate_wall_seconds"]
    columns += ["wall_ratio", "cpu_ratio"]
    with open(RESULTS / f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
    preset = "quick" if args.quick else "default"
    lines = [
        "# td-conditioning: seeds under cpp_standalone, compiled once",
        "",
        f"Machine: {machine()}. Load average (1 min) {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (other work shared the cores: compare the CPU columns).",
        "",
        f"Preset {preset}, seeds {args.seeds}; each part in a fresh process with an empty "
        "build cache, so the first seed builds and compiles the program (optimised code). "
        "`simulation`: `td_conditioning.simulate_seeds` only. `whole`: `spikingml run "
        "td-conditioning --device cpp_standalone --seeds ...` (twin, metrics, data.nix and "
        "figures per seed; the next seeds simulate while one is written). After the "
        "first, the compiled program runs for two seeds at a time (one per core), and in "
        "`whole` a seed's figures are drawn while a worker process writes the previous "
        "seed's data files. A seed's wall and CPU seconds run from the end of the "
        "previous seed (its files in place) to its own end (the first from the start of "
        "the process); `simulate_wall_seconds` is the simulation alone. As the work of "
        "neighbouring seeds overlaps (two programs end together: one long interval, one "
        "near zero), one seed's interval is not its own cost: the target is checked on "
        "the later seeds' total over their number, in wall and in CPU time (what each "
        "later seed adds to the series).",
        "",
        f"Target: every seed after the first <= {TARGET:.0%} of the first's wall time.",
        "",
        *(
            f"- {part}: each later seed {verdict[part][0]:.1%} of the first's wall time "
            f"and {verdict[part][1]:.1%} of its CPU time (their total over their number; "
            f"the largest single interval {verdict[part][2]:.1%} of its CPU): "
            f"{'met' if met[part] else 'NOT met'}."
            for part in ("simulation", "whole")
        ),
        "",
        "| part | seed | wall s | CPU s | simulation wall s | wall / first | CPU / first |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['part']} | {r['seed']} | {r['wall_seconds']:.2f} | {r['cpu_seconds']:.2f} | "
            f"{r['simulate_wall_seconds']:.2f} | {r['wall_ratio']:.3f} | {r['cpu_ratio']:.3f} |"
        )
    for part in ("simulation", "whole"):
        later = [r for r in rows if r["part"] == part][1:]
        if later:
            mean_wall = sum(r["wall_seconds"] for r in later) / len(later)
            mean_cpu = sum(r["cpu_seconds"] for r in later) / len(later)
            worst = max(r["wall_ratio"] for r in later)
            lines.append("")
            lines.append(
                f"{part}: seeds 2-{len(later) + 1} mean {mean_wall:.2f} s wall, "
                f"{mean_cpu:.2f} s CPU; worst ratio {worst:.3f}."
            )
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
