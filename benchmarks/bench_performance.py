"""Performance of every registered circuit: time, memory and synaptic events per second.

For each circuit of the registry, its default and quick presets, on the runtime device
(Cython, warm cache) and on ``cpp_standalone``, this runs ``spikingml run NAME`` in a
subprocess, as a user does, and records:

``simulated_s``
    Biological time simulated.
``command_s``
    Wall seconds of the whole command (simulation, twin, metrics, data.nix, figures).
``simulate_s``
    Wall seconds of ``simulate`` alone (``simulate_wall_seconds`` of metrics.json).
``compile_s``
    ``cpp_standalone`` only: seconds spent compiling the generated C++ (``make``).
``run_s``
    Seconds of simulation without compilation: ``simulate_s - compile_s`` (code
    generation, the compiled program and reading results back for ``cpp_standalone``).
``realtime_factor``
    ``run_s / simulated_s``: wall seconds per simulated second (below 1: faster than
    real time).
``events_per_s``
    Synaptic events (spikes delivered through every synapse pathway, pre and post;
    ``synaptic_events`` of metrics.json) per second of ``run_s``.
``peak_rss_mb``
    Largest resident memory of any process of the command (Python, its forked twin and
    NIX writer, the compiler, the standalone program), from ``wait4``.
``cpu_s``
    User + system CPU seconds of the command and its children; a loaded machine
    inflates it less than wall time.

The runtime rows are the second of two runs (``--repeats``), so Brian2's Cython cache is
warm; a ``cpp_standalone`` run compiles into a fresh directory every time (circuits with
a persistent build directory, such as v1-ica, reuse it), so ``compile_s`` is the cost a
user pays per run. Writes ``benchmarks/results/performance.md`` and ``.csv`` with the
machine and the load average.

Usage::

    python benchmarks/bench_performance.py [--circuits td-conditioning,wta-em]
        [--presets quick,default] [--devices runtime,cpp_standalone] [--repeats 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import RESULTS, machine

from spikingml.circuits import REGISTRY
from spikingml.simulation import versions

COLUMNS = [
    "circuit",
    "preset",
    "device",
    "simulated_s",
    "command_s",
    "simulate_s",
    "compile_s",
    "run_s",
    "realtime_factor",
    "synaptic_events",
    "events_per_s",
    "peak_rss_mb",
    "cpu_s",
    "load",
]


def run_command(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; return wall seconds, CPU seconds and peak RSS (MB) of its process tree.

    ``os.wait4`` reports the child's usage together with that of its own waited-for
    descendants, so the compiler and the standalone program are included.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(name: str, preset: str, device: str, seed: int, outdir: Path) -> dict:
    """One ``spikingml run``; return its row of the table."""
    cmd = [sys.executable, "-m", "spikingml", "run", name, "--seed", str(seed)]
    cmd += ["--out", str(outdir), "--force", "--no-progress", "--device", device]
    if preset == "quick":
        cmd.append("--quick")
    wall, cpu, rss = run_command(cmd)
    m = json.loads((outdir / "metrics.json").read_text())
    compile_s = float(m.get("compile_seconds", 0.0))
    run_s = float(m["simulate_wall_seconds"]) - compile_s
    simulated = float(m["simulated_seconds"])
    events = int(m.get("synaptic_events", 0))
    return {
        "circuit": name,
        "preset": preset,
        "device": device,
        "simulated_s": simulated,
        "command_s": wall,
        "simulate_s": float(m["simulate_wall_seconds"]),
        "compile_s": compile_s if device == "cpp_standalone" else float("nan"),
        "run_s": run_s,
        "realtime_factor": run_s / simulated if simulated > 0 else float("nan"),
        "synaptic_events": events,
        "events_per_s": events / run_s if run_s > 0 else float("nan"),
        "peak_rss_mb": rss,
        "cpu_s": cpu,
    }


def _typed(row: dict[str, str]) -> dict:
    """A row read back from performance.csv, numbers as numbers."""
    out: dict = {}
    for key, text in row.items():
        try:
            out[key] = int(text) if key == "synaptic_events" else float(text)
        except ValueError:
            out[key] = text
    return out


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 1e5:
            return f"{value:.2e}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def write_tables(
    rows: list[dict], loads: list[float], elapsed: float, repeats: int, fresh: int
) -> None:
    """Write ``performance.csv`` and ``performance.md`` into ``benchmarks/results``."""
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "performance.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    v = versions()
    lines = [
        "# Performance of every circuit",
        "",
        f"Machine: {machine()}; Brian2 {v['brian2']}, NumPy {v['numpy']}, "
        f"spikingml {v['spikingml']}. {fresh} of the {len(rows)} rows measured by this "
        f"invocation ({elapsed / 60:.0f} min, load average (1 min) "
        f"{min(loads):.1f}-{max(loads):.1f}; a load above the number of cores slows every "
        "run); each row's `load` is the load after it (blank: an earlier measurement, "
        "before the column existed, on a shared machine at load 1-4). Seed 0. Runtime rows "
        "are the last of "
        f"{repeats} runs (warm Cython cache); cpp_standalone compiles every run "
        "(`compile_s`, apart from `run_s`).",
        "",
        "Columns: `simulated_s` biological seconds; `command_s` the whole `spikingml run` "
        "(simulation, twin, figures, data.nix); `simulate_s` the simulation; `run_s` the "
        "simulation without compilation; `realtime_factor` = `run_s / simulated_s` (below "
        "1: faster than real time); `events_per_s` synaptic events (every pathway, pre and "
        "post) per second of `run_s`; `peak_rss_mb` the largest process of the command "
        "(compiler and standalone program included); `cpu_s` CPU seconds of all its "
        "processes; `load` the machine's load average (1 min) after the run.",
        "",
        "Reproduce: `make bench` (or `python benchmarks/bench_performance.py`).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in COLUMNS) + " |" for row in rows]
    lines.append("")
    (RESULTS / "performance.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", default=",".join(REGISTRY), help="comma-separated names")
    parser.add_argument("--presets", default="quick,default")
    parser.add_argument("--devices", default="runtime,cpp_standalone")
    parser.add_argument(
        "--repeats", type=int, default=2, help="runtime runs per row; the last is kept"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep the rows of the existing performance.csv and add these (a row measured "
        "again replaces the old one of the same circuit, preset and device)",
    )
    args = parser.parse_args(argv)
    names = args.circuits.split(",")
    unknown = sorted(set(names) - set(REGISTRY))
    if unknown:
        parser.error(f"--circuits: unknown circuit(s) {', '.join(unknown)}")
    if args.repeats < 1:
        parser.error(f"--repeats: expected an integer >= 1, got {args.repeats}")
    rows, loads = [], [os.getloadavg()[0]]
    if args.append and (RESULTS / "performance.csv").exists():
        rows = [_typed(row) for row in csv.DictReader(open(RESULTS / "performance.csv"))]
    t0, fresh = time.perf_counter(), 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for preset in args.presets.split(","):
                for device in args.devices.split(","):
                    repeats = args.repeats if device == "runtime" else 1
                    for _ in range(repeats):
                        row = measure(name, preset, device, args.seed, Path(tmp) / "run")
                    row["load"] = os.getloadavg()[0]
                    key = (row["circuit"], row["preset"], row["device"])
                    rows = [r for r in rows if (r["circuit"], r["preset"], r["device"]) != key]
                    rows.append(row)
                    loads.append(os.getloadavg()[0])
                    print(
                        f"{name:16s} {preset:7s} {device:14s} "
                        + ", ".join(f"{c}={_cell(row[c])}" for c in COLUMNS[3:]),
                        flush=True,
                    )
                    # written after every row, so an interrupted suite keeps what it measured
                    fresh += 1
                    write_tables(rows, loads, time.perf_counter() - t0, args.repeats, fresh)
    print(f"wrote {RESULTS / 'performance.md'} and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
