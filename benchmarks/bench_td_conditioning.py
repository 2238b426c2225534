"""Benchmark and target check of the td-conditioning circuit (issue targets, 5 seeds).

Runs ``spikingml run td-conditioning`` as a user does (a subprocess per run: simulation,
twin, comparison, NIX file and figures included), for the default and the quick preset,
seeds 0-4, on the runtime device with a warm Cython cache (one untimed warm-up run
first). Writes ``benchmarks/results/td_conditioning.md`` and ``.csv`` with the machine it
ran on, and exits with status 1 if a target is missed.

Usage::

    python benchmarks/bench_td_conditioning.py [--seeds 0-4] [--presets default,quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (metric, test, description) per preset; a test takes the metrics dict.
TARGETS = {
    "default": [
        ("baseline_hz", lambda m: 3 <= m["baseline_hz"] <= 8, "3-8 Hz"),
        (
            "cs_response_late_hz",
            lambda m: m["cs_response_late_hz"] >= m["baseline_hz"],
            ">= baseline",
        ),
        ("transfer_ratio", lambda m: m["transfer_ratio"] <= 0.3, "<= 0.3"),
        ("omission_dip_fraction", lambda m: m["omission_dip_fraction"] >= 0.5, ">= 0.5"),
        ("delta_correlation", lambda m: m["delta_correlation"] >= 0.85, ">= 0.85"),
        ("value_correlation", lambda m: m["value_correlation"] >= 0.8, ">= 0.8"),
        ("extinction_drop", lambda m: m["extinction_drop"] >= 0.5, ">= 0.5"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 60, "<= 60 s"),
    ],
    "quick": [
        ("delta_correlation", lambda m: m["delta_correlation"] >= 0.8, ">= 0.8"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 15, "<= 15 s"),
    ],
}
COLUMNS = [
    "preset",
    "seed",
    "baseline_hz",
    "cs_response_late_hz",
    "us_response_early_hz",
    "us_response_late_hz",
    "transfer_ratio",
    "omission_dip_fraction",
    "delta_correlation",
    "value_correlation",
    "extinction_drop",
    "twin_extinction_drop",
    "simulate_wall_seconds",
    "wall_seconds",
    "simulated_seconds",
]


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def run_once(preset: str, seed: int, outdir: Path) -> dict:
    """Run the CLI once and return metrics.json plus the command's own wall time."""
    cmd = [
        sys.executable,
        "-m",
        "spikingml",
        "run",
        "td-conditioning",
        "--seed",
        str(seed),
        "--out",
        str(outdir),
        "--force",
        "--no-progress",
    ]
    if preset == "quick":
        cmd.append("--quick")
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    command_wall = time.perf_counter() - t0
    metrics = json.loads((outdir / "metrics.json").read_text())
    metrics["command_wall_seconds"] = command_wall
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--presets", default="default,quick")
    args = parser.parse_args(argv)
    rows, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        print("warm-up run (compiles Brian2 code if the cache is cold) ...", flush=True)
        run_once("quick", 0, Path(tmp) / "warmup")
        for preset in args.presets.split(","):
            for seed in _seeds(args.seeds):
                m = run_once(preset, seed, Path(tmp) / f"{preset}-{seed}")
                row = {"preset": preset, "seed": seed}
                row.update({c: m.get(c) for c in COLUMNS[2:]})
                row["wall_seconds"] = m["command_wall_seconds"]
                rows.append(row)
                for name, test, desc in TARGETS[preset]:
                    if not test(row):
                        failures.append(
                            f"{preset} seed {seed}: {name} = {row[name]:.3f} (target {desc})"
                        )
                print(
                    f"{preset:7s} seed {seed}: "
                    + ", ".join(
                        f"{c}={row[c]:.3f}" for c in COLUMNS[2:] if row.get(c) is not None
                    ),
                    flush=True,
                )
    outdir = HERE / "results"
    outdir.mkdir(exist_ok=True)
    with open(outdir / "td_conditioning.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# td-conditioning: issue targets over seeds",
        "",
        f"Machine: {machine()}. Runtime device (Cython, warm cache). `wall_seconds` is the",
        "whole `spikingml run` command (simulation, twin, metrics, data.nix, figures).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Targets missed: " + ("none" if not failures else "; ".join(failures)), ""]
    (outdir / "td_conditioning.md").write_text("\n".join(lines))
    print("\n".join(lines[-2:]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
