"""Shared machinery of the circuit benchmarks: run the CLI, check targets, write tables.

Each ``bench_<circuit>.py`` declares its targets and columns and calls :func:`main`.
A run is ``python -m spikingml run NAME`` in a subprocess, as a user runs it: simulation,
twin, comparison, NIX file and figures included; ``wall_seconds`` in the tables is the
whole command's wall time, measured from outside.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from spikingml._checks import parse_seeds

RESULTS = Path(__file__).resolve().parent / "results"

#: (metric, test, description); a test takes the row of metrics.
Target = tuple[str, Callable[[dict], bool], str]


def seeds(text: str) -> list[int]:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"0,2,5-7"`` -> [0, 2, 5, 6, 7] (as ``--seeds``)."""
    return parse_seeds(text)


def run_once(
    circuit: str, preset: str, seed: int, outdir: Path, extra: Sequence[str] = ()
) -> dict:
    """Run the CLI once; return metrics.json plus the command's own wall time."""
    cmd = [sys.executable, "-m", "spikingml", "run", circuit, "--seed", str(seed)]
    cmd += ["--out", str(outdir), "--force", "--no-progress", *extra]
    if preset == "quick":
        cmd.append("--quick")
    t0 = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    metrics = json.loads((outdir / "metrics.json").read_text())
    metrics["command_wall_seconds"] = wall
    # user + system CPU of the command and its children (a circuit lists "cpu_seconds")
    metrics["cpu_seconds"] = (usage1.ru_utime + usage1.ru_stime) - (
        usage0.ru_utime + usage0.ru_stime
    )
    return metrics


def machine() -> str:
    """A one-line description of the machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _number(value: float) -> str:
    """Three decimals, or three significant digits for a small non-zero value (an error
    of 3e-15 is not "0.000")."""
    if value != 0 and abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.3f}"


def main(
    circuit: str,
    targets: dict[str, list[Target]],
    columns: list[str],
    *,
    default_seeds: str,
    device_note: str,
    argv: list[str] | None = None,
) -> int:
    """Run every preset and seed, write ``results/<circuit>.md`` and ``.csv``.

    Returns 1 if a target is missed, else 0.
    """
    parser = argparse.ArgumentParser(description=f"Benchmark and target check of {circuit}")
    parser.add_argument("--seeds", default=default_seeds)
    parser.add_argument("--presets", default=",".join(targets))
    args = parser.parse_args(argv)
    columns = ["preset", "seed", *columns]
    rows, failures = [], []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        print("warm-up run (compiles Brian2 code if the cache is cold) ...", flush=True)
        run_once(circuit, "quick", 0, Path(tmp) / "warmup")
        for preset in args.presets.split(","):
            for seed in seeds(args.seeds):
                m = run_once(circuit, preset, seed, Path(tmp) / f"{preset}-{seed}")
                row = {"preset": preset, "seed": seed}
                row.update({c: m.get(c) for c in columns[2:]})
                row["wall_seconds"] = m["command_wall_seconds"]
                rows.append(row)
                loads.append(os.getloadavg()[0])
                for name, test, desc in targets[preset]:
                    if not test(row):
                        failures.append(
                            f"{preset} seed {seed}: {name} = {_number(row[name])} (target {desc})"
                        )
                shown = [c for c in columns[2:] if isinstance(row.get(c), (int, float))]
                values = ", ".join(f"{c}={_number(row[c])}" for c in shown)
                print(f"{preset:7s} seed {seed}: {values}")
    RESULTS.mkdir(exist_ok=True)
    stem = circuit.replace("-", "_")
    with open(RESULTS / f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# {circuit}: issue targets over seeds",
        "",
        f"Machine: {machine()}. {device_note} `wall_seconds` is the whole `spikingml run`",
        "command (simulation, twin, metrics, data.nix, figures). Load average (1 min) during",
        f"the runs: {min(loads):.1f}-{max(loads):.1f} (the machine is shared; a load above the",
        "number of cores slows every run).",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        cells = [_number(row[c]) if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Targets missed: " + ("none" if not failures else "; ".join(failures)), ""]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines))
    print("\n".join(lines[-2:]))
    return 1 if failures else 0


def write_rows(stem: Path, rows: Sequence[dict], title: str, preamble: str) -> None:
    """Write ``rows`` (dicts with the same keys) as ``stem.csv`` and a Markdown ``stem.md``.

    The Markdown file has ``title`` as its heading, ``preamble`` (what was measured, how
    to reproduce it) and a table with one column per key, in the first row's order.
    """
    if not rows:
        raise ValueError("write_rows: no rows to write")
    columns = list(rows[0])
    stem.parent.mkdir(parents=True, exist_ok=True)
    with open(stem.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    def cell(value: object) -> str:
        return _number(value) if isinstance(value, float) else str(value)

    lines = [f"# {title}", "", preamble, ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")


def merged_rows(stem: Path, rows: Sequence[dict], key: str = "circuit") -> list[dict]:
    """``rows`` merged into those already in ``stem.csv``: a partial run updates its rows.

    A row of ``stem.csv`` whose ``key`` a new row has is replaced in place by it; the
    other old rows are kept (as the CSV has them: text); new rows of new keys come last.
    Without ``stem.csv``, or where its columns are not the new rows', ``rows`` as given.
    """
    path = stem.with_suffix(".csv")
    if not rows or not path.exists():
        return list(rows)
    with open(path, newline="") as f:
        old = list(csv.DictReader(f))
    if not old or list(old[0]) != list(rows[0]):
        return list(rows)
    new = {row[key]: row for row in rows}
    merged = [new.pop(row[key], row) for row in old]
    return merged + list(new.values())
