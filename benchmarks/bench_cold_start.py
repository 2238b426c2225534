"""Benchmark: each circuit's first run on a fresh machine, and its second (issue 23).

For every registered circuit, ``spikingml run NAME --out DIR`` (default preset, seed 0,
the circuit's default device) twice in a row, as a user on a fresh machine runs it: the
first with empty caches (``$SPIKINGML_CACHE`` and the Cython cache
``$SPIKINGML_CYTHON_CACHE`` new temporary directories: every program and code object is
compiled), the second with the caches the first left (nothing to compile). Wall time of
the whole command (imports, simulation, twin, figures, data.nix), measured from outside.

Target: every first run at most 2 minutes. Writes ``benchmarks/results/cold_start.md``
and ``.csv``; exits 1 if a target is missed.

Usage::

    python benchmarks/bench_cold_start.py [--circuits td-conditioning,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import RESULTS, machine, merged_rows, write_rows  # noqa: E402

#: Longest first run allowed (seconds).
FIRST_RUN_TARGET = 120.0


def _run(circuit: str, out: Path, env: dict[str, str]) -> tuple[float, dict]:
    """One ``spikingml run``: its wall seconds and its metrics.json."""
    cmd = [sys.executable, "-m", "spikingml", "run", circuit, "--out", str(out), "--force"]
    t0 = time.perf_counter()
    subprocess.run(cmd + ["--no-progress"], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    return wall, json.loads((out / "metrics.json").read_text())


def main() -> int:
    from spikingml.circuits import REGISTRY, get_circuit

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", default=",".join(sorted(REGISTRY)))
    args = parser.parse_args()
    rows = []
    for circuit in args.circuits.split(","):
        device = getattr(get_circuit(circuit), "DEFAULT_DEVICE", "runtime")
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "SPIKINGML_CACHE": str(Path(tmp) / "cache"),
                "SPIKINGML_CYTHON_CACHE": str(Path(tmp) / "cython"),
                "MPLBACKEND": "Agg",
            }
            env.pop("SPIKINGML_FAST_COMPILE", None)
            load = os.getloadavg()[0]
            cold, m_cold = _run(circuit, Path(tmp) / "first", env)
            warm, m_warm = _run(circuit, Path(tmp) / "second", env)
        row = {
            "circuit": circuit,
            "device": device,
            "first_run_s": round(cold, 1),
            "second_run_s": round(warm, 1),
            "first_compile_s": round(m_cold.get("compile_seconds", float("nan")), 1),
            "second_compile_s": round(m_warm.get("compile_seconds", float("nan")), 1),
            "simulated_s": round(m_cold["simulated_seconds"], 1),
            "load_before": round(load, 2),
            "met": cold <= FIRST_RUN_TARGET,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_rows(
        RESULTS / "cold_start",
        merged_rows(RESULTS / "cold_start", rows),
        title="First and second run of every circuit (empty caches, then warm)",
        preamble=(
            f"Machine: {machine()}. `spikingml run NAME` (default preset, seed 0, the "
            "circuit's default device), the whole command timed from outside: "
            "`first_run_s` with empty Brian2 caches (`$SPIKINGML_CACHE`, "
            "`$SPIKINGML_CYTHON_CACHE`: everything compiled), `second_run_s` right after "
            "with the caches the first left. `*_compile_s`: compilation of the "
            "cpp_standalone program (blank under runtime, whose Cython compilation is "
            "inside the simulation). `load_before`: load average (1 min) before the first "
            f"run. Target: first run <= {FIRST_RUN_TARGET:.0f} s.\n\n"
            "Reproduce: `python benchmarks/bench_cold_start.py`."
        ),
    )
    return 0 if all(row["met"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
