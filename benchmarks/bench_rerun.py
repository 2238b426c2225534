"""Benchmark: a sweep of 8 values of one run-time field, compiled once (issue 23).

For each circuit that declares run-time fields (``Params.runtime_fields()``), a sweep of
8 values of one of them, default preset, seed 0, under ``cpp_standalone``, as
:func:`spikingml.pipeline.variant_records` makes it for ``spikingml sweep`` (per value: the
simulation on the program compiled once; the twin, computed again only where it reads
the swept field; the comparison). Each circuit runs in a fresh process with an empty
build cache (``$SPIKINGML_CACHE`` a new temporary directory), so the first value really
builds and compiles the program.

Targets: the sweep costs at most the first run plus 8 x 15% of it (wall), i.e. the mean
wall time of the 7 values after the first is at most 15% of the first's (compilation
included); and one compilation per sweep (one structure). Writes
``benchmarks/results/rerun.md`` and ``.csv``; exits 1 if a target is missed.

Usage::

    python benchmarks/bench_rerun.py [--circuits td-conditioning,...]
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

#: circuit -> (run-time field, its 8 values as --set text)
SWEEPS: dict[str, tuple[str, list[str]]] = {
    "td-conditioning": ("A_plus", ["0.8", "1.0", "1.2", "1.4", "1.6", "1.8", "2.0", "2.2"]),
    "three-factor-synapse": (
        "tau_c",
        ["0.25 s", "0.5 s", "0.75 s", "1 s", "1.5 s", "2 s", "3 s", "4 s"],
    ),
    "rescorla-wagner": ("eta", ["0.025", "0.05", "0.075", "0.1", "0.125", "0.15", "0.2", "0.25"]),
    "bayesian-neuron": ("eta", ["0.5", "1", "1.5", "2", "2.5", "3", "4", "5"]),
    "wta-em": ("eta", ["0.006", "0.008", "0.01", "0.0125", "0.015", "0.02", "0.025", "0.03"]),
    "tempotron": (
        "learning_rate",
        ["0.0025", "0.005", "0.0075", "0.01", "0.015", "0.02", "0.03", "0.04"],
    ),
    # swept up to beta 0.03 (3x the default), a run's Oja weights diverged (NaN filters)
    "v1-ica": ("beta", ["0.004", "0.005", "0.006", "0.007", "0.008", "0.009", "0.01", "0.012"]),
    "actor-critic": (
        "eta_actor",
        ["0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.08", "0.1"],
    ),
    "attractor": (
        "sigma",
        ["0.05", "0.075", "0.1", "0.125", "0.15", "0.175", "0.2", "0.25"],
    ),
    "eprop-memory": ("beta", ["0.6", "0.9", "1.2", "1.5", "1.8", "2.1", "2.4", "3.0"]),
    "hebbian-tsne": (
        "learning_rate",
        ["0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5"],
    ),
    "hierarchy": ("eta_top", ["0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.08", "0.1"]),
    "neural-sampling": (
        "weight_std",
        ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "1.0"],
    ),
    "reservoir": (
        "adaptation_jump",
        ["0.25 mV", "0.5 mV", "0.75 mV", "1 mV", "1.25 mV", "1.5 mV", "2 mV", "3 mV"],
    ),
    "stochastic-synapses": (
        "learning_rate",
        ["0.005", "0.01", "0.015", "0.02", "0.025", "0.03", "0.04", "0.05"],
    ),
}

#: Largest mean wall time of a value after the first, as a fraction of the first's.
RERUN_FRACTION = 0.15


def _one(circuit: str, field: str, values: list[str]) -> dict:
    """The sweep of one circuit in this process; its timings as a row."""
    t0 = time.perf_counter()
    from spikingml import pipeline
    from spikingml.simulation import record_device_times

    circ = pipeline.load(circuit)
    twins = []  # the twins computed (pipeline.TwinCache reuses one where it can)
    compute_twin = pipeline._twin_of
    pipeline._twin_of = lambda *args: twins.append(1) or compute_twin(*args)
    base = circ.Params()
    runs = [(base.replace_from_strings({field: v}), 0) for v in values]
    walls, sims = [], []
    with record_device_times() as times:
        for record in pipeline.variant_records(circ, runs, device="cpp_standalone"):
            walls.append(record.timings["wall_seconds"])
            sims.append(record.timings["simulate_wall_seconds"])
    total = time.perf_counter() - t0
    first = walls[0]
    rerun = sum(walls[1:]) / len(walls[1:])
    return {
        "circuit": circuit,
        "field": field,
        "values": len(values),
        "first_s": round(first, 2),
        "rerun_mean_s": round(rerun, 2),
        "rerun_fraction": round(rerun / first, 3),
        "sweep_s": round(sum(walls), 2),
        "budget_s": round(first * (1 + len(values) * RERUN_FRACTION), 2),
        "sim_first_s": round(sims[0], 2),
        "sim_rerun_mean_s": round(sum(sims[1:]) / len(sims[1:]), 2),
        "compilations": times.compilations,
        "twins": len(twins),
        "compile_s": round(times.compile_seconds, 2),
        "process_s": round(total, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", default=",".join(SWEEPS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        field, values = SWEEPS[args.one]
        print(json.dumps(_one(args.one, field, values)))
        return 0
    rows, failed = [], []
    for circuit in args.circuits.split(","):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "SPIKINGML_CACHE": cache}
            done = subprocess.run(
                [sys.executable, __file__, "--one", circuit],
                env=env,
                capture_output=True,
                text=True,
            )
        if done.returncode:  # say why, and go on with the other circuits
            print(f"{circuit}: the sweep failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            failed.append(circuit)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["met"] = row["rerun_fraction"] <= RERUN_FRACTION and row["compilations"] == 1
        rows.append(row)
        print(json.dumps(row), flush=True)
    if not rows:
        return 1
    write_rows(
        RESULTS / "rerun",
        merged_rows(RESULTS / "rerun", rows),
        title="Sweeps of a run-time field under cpp_standalone, compiled once",
        preamble=(
            f"Machine: {machine()}. Default preset, seed 0; each circuit in a fresh process "
            "with an empty build cache. Per value: simulation, twin and comparison "
            "(`pipeline.variant_records`, what `spikingml sweep` runs). `first_s` the first "
            "value (building and compiling the program included), `rerun_mean_s` the mean "
            "of the others, `sweep_s` all 8, `budget_s` the target (first + 8 x 15% of "
            "it), `sim_*` the simulations alone (the rest is the twin and the comparison), "
            "`compilations` programs compiled (target 1), `twins` twins computed (a twin "
            "that does not read the swept field is computed once: `pipeline.TwinCache`), "
            "`process_s` the whole process with its imports.\n\n"
            "Reproduce: `python benchmarks/bench_rerun.py`."
        ),
    )
    return 0 if rows and not failed and all(row["met"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
